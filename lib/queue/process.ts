/**
 * Deliver one queued message under its lock, then update the spool: remove
 * it when nothing is pending (-H first, then -D), otherwise write the new -H;
 * report failed recipients (failures.ts) and freeze what cannot be reported.
 */
import type { MessageData } from '../data.js';
import { attemptDelivery, type AttemptResult } from './attempt.js';
import { freeze, reportFailures } from './failures.js';
import { lockMessage } from '../store/lock.js';
import { readData, readHeader, removeMessage, writeHeader } from '../store/spool.js';
import type { QueueDeps } from './deps.js';
import type { SpoolHeader } from '../store/header.js';

export type ProcessResult =
  | { status: 'completed' | 'deferred' | 'frozen'; bounces: string[] }
  | { status: 'locked' | 'gone' | 'skipped-frozen' | 'not-due' };

export interface ProcessOptions {
  /** Ignore the message's retry time and the host hints (-qf, -M). */
  forced: boolean;
  /** Thaw a frozen message first (-M). */
  thaw: boolean;
  /** Who asked (for the log line of a thaw). */
  by: string;
}

/** Deliver queued message `id` now if it is due (or forced). */
export async function processMessage(id: string, deps: QueueDeps, opts: ProcessOptions): Promise<ProcessResult> {
  // Decide from the header before taking the lock: a queue run that finds
  // nothing to do must not write in input/ (the .path unit watches it and
  // would start another run), and must not contend with a delivering process.
  const pre = readHeader(deps.spool, id);
  if (!pre) return { status: 'gone' };
  if (pre.frozen !== undefined && !opts.thaw) return { status: 'skipped-frozen' };
  if (!opts.forced && pre.nextAttempt !== undefined && pre.nextAttempt > deps.now()) return { status: 'not-due' };
  const lock = lockMessage(deps.spool.input, id, deps.lock);
  if (!lock) return { status: 'locked' };
  try {
    let h = readHeader(deps.spool, id);
    if (!h) return { status: 'gone' };
    if (h.frozen !== undefined) {
      if (!opts.thaw) return { status: 'skipped-frozen' };
      h = { ...h, frozen: undefined };
      deps.log.note(id, `unfrozen by ${opts.by}`);
    }
    if (!opts.forced && h.nextAttempt !== undefined && h.nextAttempt > deps.now()) return { status: 'not-due' };
    let data: MessageData;
    try {
      data = readData(deps.spool, id);
    } catch (err) {
      const reason = `data file unreadable: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
      writeHeader(deps.spool, { ...h, frozen: reason });
      deps.log.note(id, `frozen: ${reason}`);
      return { status: 'frozen', bounces: [] };
    }
    const res = await attemptDelivery(h, data, deps, opts.forced);
    return await settle(res, data, deps);
  } finally {
    // in a queue run the lock goes in the background too: -H is already rewritten or gone
    if (deps.later) deps.later.unlink(lock.path);
    else lock.release();
  }
}

/** Write the outcome of an attempt on a queued message to the spool. */
export async function settle(res: AttemptResult, data: MessageData, deps: QueueDeps): Promise<ProcessResult & { status: 'completed' | 'deferred' | 'frozen' }> {
  let h: SpoolHeader = res.header;
  const bounces: string[] = [];
  if (res.failed.length > 0) {
    const action = await reportFailures(h, res.failed, data, deps);
    if (action.kind === 'bounce' && action.placement === 'input') bounces.push(action.id);
    if (action.kind === 'freeze') {
      h = freeze(h, res.failed, action.reason);
      writeHeader(deps.spool, h);
      deps.log.note(h.id, `frozen: ${action.reason}`);
      return { status: 'frozen', bounces };
    }
  }
  if (h.recipients.length === 0) {
    removeMessage(deps.spool, h.id, deps.later);
    deps.log.completed(h.id);
    return { status: 'completed', bounces };
  }
  writeHeader(deps.spool, h);
  return { status: 'deferred', bounces };
}
