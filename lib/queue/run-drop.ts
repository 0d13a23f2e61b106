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
import { renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { attemptDelivery } from './attempt.js';
import { claimDrop, dropHeader, queueDrop, queuedAlready, readDrop, type ReadDrop } from './drop.js';
import { lockMessage } from './lock.js';
import { settle, type ProcessOptions, type ProcessResult } from './process.js';
import type { QueueDeps } from './deps.js';
import type { SpoolLayout } from './spool.js';

/** Deliver drop file `name` if it is due (or forced). */
export async function processDrop(name: string, deps: QueueDeps, opts: Pick<ProcessOptions, 'forced'>): Promise<ProcessResult> {
  const l = deps.spool;
  const claim = claimDrop(l, name, deps.lock);
  if (!claim) return { status: 'locked' };
  try {
    let drop: ReadDrop | undefined;
    try {
      drop = readDrop(join(l.incoming, name));
    } catch (err) {
      deps.say(`drop file refused: ${err instanceof Error ? err.message : String(err)}`);
      return { status: 'gone' };
    }
    if (!drop) return { status: 'gone' }; // moved by another process meanwhile
    try {
      return await processRead(name, drop, deps, opts);
    } finally {
      drop.close();
    }
  } finally {
    // in a queue run the claim goes in the background (later.ts): the drop file is gone or moved already
    if (deps.later) deps.later.unlink(claim.path);
    else claim.release();
  }
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
    removeDropFile(l, name, deps);
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

/** Remove a delivered drop file: renamed into tmp/ and unlinked in the background during a run (later.ts), else at once. */
function removeDropFile(l: SpoolLayout, name: string, deps: QueueDeps): void {
  const path = join(l.incoming, name);
  if (!deps.later) {
    unlinkSync(path);
    return;
  }
  const done = join(l.tmp, `${name}-drop.done`);
  renameSync(path, done);
  deps.later.unlink(done);
}
