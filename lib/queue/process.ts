/**
 * A queued message of input/ through its life (lifecycle.ts): claimed under
 * its lock, its -H and -D read under the store's rule and checked (the id
 * inside the header is its name's; the data has the recorded size and
 * CRC-32), attempted, settled. A damaged or misnamed message is `corrupt`:
 * its files are moved to corrupt/ and one main-log line says so; it is never
 * delivered as it is, and no other message's files are touched.
 */
import type { MessageData } from '../data.js';
import { attemptDelivery } from './attempt.js';
import { inputPlace, settle } from './lifecycle.js';
import { lockMessage } from '../store/lock.js';
import { crashPoint } from '../store/crash.js';
import { Refused } from '../store/open.js';
import { asideText, moveAside } from '../store/quarantine.js';
import { readData, readHeader } from '../store/spool.js';
import type { QueueDeps } from './deps.js';
import type { SpoolHeader } from '../store/header.js';
import { join } from 'node:path';

export type ProcessResult =
  | { status: 'completed' | 'deferred' | 'frozen'; bounces: string[] }
  | { status: 'locked' | 'gone' | 'skipped-frozen' | 'not-due' | 'corrupt' };

export interface ProcessOptions {
  /** Ignore the message's retry time and the host hints (-qf, -M). */
  forced: boolean;
  /** Thaw a frozen message first (-M, -qff), logged as Exim does: `Unfrozen by forced delivery`. */
  thaw: boolean;
  /** Who asked. */
  by: string;
}

/** Deliver queued message `id` now if it is due (or forced). */
export async function processMessage(id: string, deps: QueueDeps, opts: ProcessOptions): Promise<ProcessResult> {
  // Decide from the header before taking the lock: a queue run that finds
  // nothing to do must not write in input/ (the .path unit watches it and
  // would start another run), and must not contend with a delivering process.
  let pre: SpoolHeader | undefined;
  try {
    pre = readHeader(deps.spool, id);
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    pre = undefined; // damaged: handled under the lock below
  }
  if (pre) {
    if (pre.frozen !== undefined && !opts.thaw) return { status: 'skipped-frozen' };
    if (!opts.forced && pre.nextAttempt !== undefined && pre.nextAttempt > deps.now()) return { status: 'not-due' };
  }
  const lock = lockMessage(deps.spool.input, id, deps.lock);
  if (!lock) return { status: 'locked' };
  try {
    let h: SpoolHeader | undefined;
    let data: MessageData;
    try {
      h = readHeader(deps.spool, id);
      if (!h) return { status: 'gone' };
      if (h.frozen !== undefined) {
        if (!opts.thaw) return { status: 'skipped-frozen' };
        h = { ...h, frozen: undefined };
        deps.log.note(id, 'Unfrozen by forced delivery');
      }
      if (!opts.forced && h.nextAttempt !== undefined && h.nextAttempt > deps.now()) return { status: 'not-due' };
      data = readData(deps.spool, h);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      setAside(id, err, deps);
      return { status: 'corrupt' };
    }
    crashPoint('claimed');
    const res = await attemptDelivery(h, data, deps, opts.forced);
    const s = await settle(res, data, inputPlace(deps, id), deps);
    return { status: s.state === 'deferred' || s.state === 'frozen' ? s.state : 'completed', bounces: s.bounces };
  } finally {
    // in a queue run the lock goes in the background too: -H is already rewritten or gone
    if (deps.later && lock.path) deps.later.unlink(lock.path);
    else lock.release();
  }
}

/**
 * A message whose -H or -D was refused: both files go to corrupt/ (never
 * delivered as they are: a cut data file would be sent as complete, a
 * header copied under another name would act on that message), one
 * main-log line each.
 */
function setAside(id: string, err: Refused, deps: QueueDeps): void {
  const now = deps.now();
  const why = err.message.slice(err.path.length + 2);
  for (const suffix of ['-H', '-D']) {
    const path = join(deps.spool.input, `${id}${suffix}`);
    const aside = moveAside(deps.spool, path, now);
    if ('left' in aside && aside.left === 'ENOENT') continue;
    deps.log.spoolFile(`spool file ${id}${suffix} ${path === err.path ? `refused (${why})` : `set aside with it`}: frozen, ${asideText(aside)}`, id);
  }
  deps.say(`${id}: ${why}: moved to ${deps.spool.corrupt}`);
}
