/**
 * The spool-aware submission of one prepared message (mode -bm), as
 * sendmail and Exim do it:
 *  - `-odq`: queue it and exit 0, no delivery attempt;
 *  - otherwise deliver now; recipients still pending (a temporary failure)
 *    are queued with their retry time and the caller gets 0 (with
 *    `queue_deferred = false` or `--no-queue`: nothing is queued, exit 75);
 *  - recipients that failed for good follow the error mode (-oeX / -eX):
 *    `p` (default) print them and exit 69; `m` bounce to the sender and exit
 *    69; `e` bounce and exit 0 once the bounce is delivered or queued; `q`
 *    exit 69 silently.
 * The exit status always tells the truth: 0 only when every recipient is
 * delivered, safely queued, or (with -oee) bounced.
 */
import { dataSize, type MessageData } from '../data.js';
import { EX, SmarthostError } from '../errors.js';
import { summarize } from '../report/summary.js';
import { attemptDelivery } from './attempt.js';
import { enqueue } from './enqueue.js';
import { spoolSubmission } from './spool-submit.js';
import { reportFailures } from './failures.js';
import { newHeader, type SpoolHeader, type Submitter } from '../store/header.js';
import { processMessage } from './process.js';
import type { QueueDeps } from './deps.js';
import type { Envelope } from '../types.js';

/** sendmail's error modes (-oeX / -eX). */
export type ErrorMode = 'p' | 'm' | 'e' | 'q' | 'w';

export interface SubmitOptions {
  /** -odq: queue only. */
  queueOnly: boolean;
  /** -odb: spool as a drop file and start a detached deliverer (background.ts); needs deps.startDeliverer. */
  background?: boolean;
  /** Queue what could not be delivered (queue_deferred, not --no-queue). */
  queueDeferred: boolean;
  errorMode: ErrorMode;
  verbose: boolean;
  submitter: Submitter;
}

export interface SubmitResult {
  code: number;
  id: string;
}

/** Submit one message; resolves to the exit code for the caller. Never throws for delivery problems. */
export async function submitMessage(envelope: Envelope, data: MessageData, opts: SubmitOptions, deps: QueueDeps): Promise<SubmitResult> {
  const h: SpoolHeader = newHeader(deps.newId(), envelope.sender, envelope.recipients, dataSize(data), deps.now(), opts.submitter);
  if (envelope.dsn) h.dsn = envelope.dsn;
  if (opts.queueOnly || opts.background) {
    const code = await spoolSubmission(h, data, opts.queueOnly ? 'q' : 'b', opts.verbose, { ...deps, arrived: (a) => deps.log.arrival(a) });
    if (code !== undefined) return { code, id: h.id };
  }
  deps.log.arrival(h);

  const res = await attemptDelivery(h, data, deps, false);
  const mode = opts.errorMode;
  const pending = res.header.recipients;
  const queued = pending.length > 0 && opts.queueDeferred ? queue(res.header, data, deps) : undefined;
  // what the caller is told: failures per the error mode, deferrals unless safely queued; everything with -v
  const show = res.outcome.recipients.filter(
    (r) => opts.verbose || (r.result === 'failed' && (mode === 'p' || mode === 'w')) || (r.result === 'deferred' && queued === undefined),
  );
  if (show.length > 0) for (const line of summarize({ ...res.outcome, recipients: show }, opts.verbose)) deps.say(line);

  let code: number = EX.OK;
  if (res.failed.length > 0) {
    code = EX.UNAVAILABLE;
    if (mode === 'm' || mode === 'e') {
      const action = await reportFailures(res.header, res.failed, data, deps);
      if (action.kind === 'bounce') {
        if (action.placement === 'input') await processMessage(action.id, deps, { forced: true, thaw: false, by: opts.submitter.user });
        if (mode === 'e') code = EX.OK;
      } else if (action.kind === 'dead-letter') {
        deps.say(`message saved in ${action.path}`);
        if (mode === 'e') code = EX.OK;
      } else {
        deps.say(`cannot report the failure to the sender: ${action.reason}`);
      }
    }
  }

  if (pending.length === 0) {
    deps.log.completed(h.id);
    return { code, id: h.id };
  }
  if (queued === undefined) return { code: EX.TEMPFAIL, id: h.id };
  const why = res.reason ?? 'temporary failure';
  deps.log.note(res.header.id, `queued: ${why}`);
  if (opts.verbose) deps.say(`message ${res.header.id} queued${queued === 'drop' ? ' (drop directory)' : ''} for ${pending.map((r) => `<${r}>`).join(' ')}: ${why}`);
  return { code, id: res.header.id };
}

/** Queue `h`; on failure say why (the caller exits 75) and return undefined. */
function queue(h: SpoolHeader, data: MessageData, deps: QueueDeps): 'input' | 'drop' | undefined {
  try {
    return enqueue(deps.spool, h, data, deps.newId);
  } catch (err) {
    deps.say(err instanceof SmarthostError ? err.message : `cannot queue the message: ${String(err)}`);
    return undefined;
  }
}
