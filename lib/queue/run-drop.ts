/**
 * One drop file, as the spool owner handles it (queue runs, -M, and the
 * -odb deliverer of root's own submissions): delivered straight from the
 * file under its claim, and moved into input/ only when something is left
 * to keep. A message submitted with -odq or -odb that is delivered at the
 * first attempt thus costs no -D/-H writes (four fsyncs), only the drop
 * file's removal; one with pending recipients, a bounce to send or a
 * freeze is moved into input/ (under its lock there) and settled exactly
 * as a queued message (process.ts).
 *
 * A crash after the smarthost accepted the message but before the drop file
 * is removed delivers it again on the next run: a duplicate, never a loss,
 * as for queued messages.
 */
import { join } from 'node:path';
import { attemptDelivery } from './attempt.js';
import { dropHeader, queueDrop, queuedAlready, withDrop, type ReadDrop } from '../store/drop.js';
import { lockMessage } from '../store/lock.js';
import { settle, type ProcessOptions, type ProcessResult } from './process.js';
import type { QueueDeps } from './deps.js';
import { removeSpoolFile } from '../store/spool.js';

/** Deliver drop file `name` if it is due (or forced). */
export async function processDrop(name: string, deps: QueueDeps, opts: Pick<ProcessOptions, 'forced'>): Promise<ProcessResult> {
  const r = await withDrop(deps.spool, name, deps, (drop) => processRead(name, drop, deps, opts));
  return typeof r === 'string' ? { status: r === 'locked' ? 'locked' : 'gone' } : r;
}

const myUid = process.getuid?.() ?? -1;

/** processDrop once the drop file is read (its claim held). */
async function processRead(name: string, drop: ReadDrop, deps: QueueDeps, opts: Pick<ProcessOptions, 'forced'>): Promise<ProcessResult> {
  const l = deps.spool;
  const dropDeps = { now: deps.now(), userName: deps.userName, newId: deps.newId };
  const h = dropHeader(name, drop, dropDeps);
  // the submitter's own process wrote the arrival line, unless it could not write the log (another user)
  if (drop.uid !== myUid) deps.log.arrival(h);
  const notDue = !opts.forced && h.nextAttempt !== undefined && h.nextAttempt > deps.now();
  if (notDue || queuedAlready(l, name)) {
    // its retry time has not come (a deferral written by the submitter's deliverer), or it is half-moved: queue it
    const lock = lockMessage(l.input, name, deps.lock);
    if (!lock) return { status: 'locked' };
    try {
      queueDrop(l, name, drop, dropDeps);
    } finally {
      lock.release();
    }
    return { status: 'not-due' };
  }
  const res = await attemptDelivery(h, drop.data, deps, opts.forced);
  if (res.failed.length === 0 && res.header.recipients.length === 0) {
    removeSpoolFile(l, join(l.incoming, name), deps.later);
    deps.log.completed(h.id);
    return { status: 'completed', bounces: [] };
  }
  // pending recipients, failures to report: into input/, then settled as a queued message
  const lock = lockMessage(l.input, name, deps.lock);
  if (!lock) return { status: 'locked' }; // the drop stays; the next run tries again
  try {
    const moved = queueDrop(l, name, drop, dropDeps);
    if (!moved) return { status: 'gone' };
    return await settle({ ...res, header: { ...res.header, id: moved.id } }, drop.data, deps);
  } finally {
    lock.release();
  }
}
