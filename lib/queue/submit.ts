/**
 * The spool-aware submission of one prepared message (mode -bm), as
 * sendmail and Exim do it:
 *  - `-odq`: queue it and exit 0, no delivery attempt;
 *  - `-odb`: spool it and start the background deliverer (spool-submit.ts);
 *  - otherwise (-odi) deliver now, from memory (lifecycle.ts: received →
 *    attempted → settled in a memory place); recipients still pending (a
 *    temporary failure) are queued with their retry time and the caller
 *    gets 0 (with `queue_deferred = false` or `--no-queue`: nothing is
 *    queued, exit 75);
 *  - recipients that failed for good follow the error mode (-oeX / -eX):
 *    `p` (default) print them and exit 69; `m` bounce to the sender and exit
 *    69; `e` bounce and exit 0 once the bounce is delivered or queued; `q`
 *    exit 69 silently.
 * The exit status always tells the truth: 0 only when every recipient is
 * delivered, safely queued, or (with -oee) bounced. The main log hears of
 * an -odi message only once its fate is settled: `<=` first, then its
 * deliveries; nothing when the caller keeps it (exit 75) or the process is
 * killed before.
 */
import { dataSize, type MessageData } from '../data.js';
import { EX } from '../errors.js';
import { summarize } from '../report/summary.js';
import { heldLog } from '../report/mainlog.js';
import { attemptDelivery } from './attempt.js';
import { spoolSubmission } from './spool-submit.js';
import { newHeader, type SpoolHeader, type Submitter } from '../store/header.js';
import { memoryPlace, settle } from './lifecycle.js';
import { processMessage } from './process.js';
import { claimDrop } from '../store/drop.js';
import { spoolAccess } from '../store/spool.js';
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
  const h: SpoolHeader = newHeader(deps.newId(), envelope.sender, envelope.recipients, dataSize(data), deps.now(), opts.submitter, envelope.parents);
  if (envelope.dsn) h.dsn = envelope.dsn;
  if (opts.queueOnly || opts.background) {
    const code = await spoolSubmission(h, data, opts.queueOnly ? 'q' : 'b', opts.verbose, deps);
    if (code !== undefined) return { code, id: h.id };
  }

  const held = heldLog(deps.log);
  const d: QueueDeps = { ...deps, log: held.log };
  const arrival = { ...h };
  const res = await attemptDelivery(h, data, d, false);
  const mode = opts.errorMode;
  const report = mode === 'm' || mode === 'e';
  const s = await settle(res, data, memoryPlace(d, h, data, opts.queueDeferred), d, { report, noteQueued: true });
  const pending = s.header.recipients;
  const kept = s.kept && 'where' in s.kept ? s.kept : undefined;
  if (pending.length > 0 && !kept) held.discard();
  else {
    // a process that writes a journal (not the spool owner) does so under the message's claim, as its deliverer would,
    // so that a queue run never reads it half-written (queue/journals.ts)
    const id = kept?.id ?? arrival.id;
    const owner = spoolAccess(deps.spool).how === 'direct';
    const claim = owner ? undefined : claimDrop(deps.spool, id, { lock: deps.lock, owner, now: deps.now() });
    try {
      held.flush({ ...arrival, id });
    } finally {
      claim?.release();
    }
  }

  // what the caller is told: failures per the error mode, deferrals unless safely queued; everything with -v
  const show = res.outcome.recipients.filter(
    (r) => opts.verbose || (r.result === 'failed' && (mode === 'p' || mode === 'w')) || (r.result === 'deferred' && kept === undefined),
  );
  if (pending.length > 0 && s.kept && 'notKept' in s.kept && opts.queueDeferred) deps.say(s.kept.notKept);
  if (show.length > 0) for (const line of summarize({ ...res.outcome, recipients: show }, opts.verbose)) deps.say(line);

  let code: number = EX.OK;
  if (res.failed.length > 0) {
    code = EX.UNAVAILABLE;
    const f = s.failure;
    if (f?.kind === 'bounce') {
      if (f.placement === 'input') await processMessage(f.id, deps, { forced: true, thaw: false, by: opts.submitter.user });
      if (mode === 'e') code = EX.OK;
    } else if (f?.kind === 'dead-letter') {
      deps.say(`message saved in ${f.path}`);
      if (mode === 'e') code = EX.OK;
    } else if (f?.kind === 'freeze') {
      deps.say(`cannot report the failure to the sender: ${f.reason}`);
    }
  }
  if (pending.length === 0) return { code, id: h.id };
  if (!kept) return { code: EX.TEMPFAIL, id: h.id };
  if (opts.verbose) deps.say(`message ${kept.id} queued${kept.where === 'drop' ? ' (drop directory)' : ''} for ${pending.map((r) => `<${r}>`).join(' ')}: ${res.reason ?? 'temporary failure'}`);
  return { code, id: kept.id };
}
