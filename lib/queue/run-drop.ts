/**
 * One drop file through its life (lifecycle.ts), as the spool owner handles
 * it (queue runs, -M, and the -odb deliverer of root's own submissions):
 * claimed, read under the store's rule and checked (drop.ts), attempted
 * straight from the file, and settled: removed when done, moved into
 * input/ only when something is left to keep. A message submitted with
 * -odq or -odb that is delivered at the first attempt thus costs no -D/-H
 * writes (four fsyncs), only the drop file's removal.
 *
 * Its arrival (`<=`) is logged here, by the first process that claims it
 * (the submitter only writes the file): once the message is safe on disk,
 * whoever submitted it, even when the submitter was killed right after
 * placing it. A claimant killed between that line and the settlement makes
 * the next one log it again (at least once, as for deliveries).
 *
 * A crash after the smarthost accepted the message but before the drop file
 * is removed delivers it again on the next run: a duplicate, never a loss,
 * as for queued messages.
 */
import { attemptDelivery } from './attempt.js';
import { dropHeader, queueDrop, queuedAlready, withDrop, type DropRefusal, type Planted, type ReadDrop } from '../store/drop.js';
import { asideText } from '../store/quarantine.js';
import { lockMessage } from '../store/lock.js';
import { crashPoint } from '../store/crash.js';
import { ownedDropPlace, settle, writeError } from './lifecycle.js';
import type { ProcessOptions, ProcessResult } from './process.js';
import type { QueueDeps } from './deps.js';

/** Deliver drop file `name` if it is due (or forced). */
export async function processDrop(name: string, deps: QueueDeps, opts: Pick<ProcessOptions, 'forced'>): Promise<ProcessResult> {
  const r = await withDrop(deps.spool, name, dropClaimDeps(deps, true), (drop) => processRead(name, drop, deps, opts));
  if (r === 'locked' || r === 'gone') return { status: r };
  if (isRefusal(r)) {
    refused(name, r, deps);
    return { status: 'corrupt' };
  }
  return r;
}

/** What claiming a drop needs from QueueDeps; planted claim names are logged. */
export const dropClaimDeps = (deps: QueueDeps, owner: boolean) => ({
  lock: deps.lock,
  owner,
  now: deps.now(),
  ...(deps.later ? { later: deps.later } : {}),
  planted: (p: Planted) => deps.log.spoolFile(`planted ${p.what} at ${p.path}: ${asideText(p.aside)}`),
});

export const isRefusal = (r: unknown): r is DropRefusal => typeof r === 'object' && r !== null && 'why' in r && 'path' in r;

/** Log a refused drop file once (it is in corrupt/ from now on, or left when this process may not move it). */
export function refused(name: string, r: DropRefusal, deps: QueueDeps): void {
  const what = `drop file ${r.path} refused (${r.why})`;
  if (r.aside) {
    deps.log.spoolFile(`${what}: ${'moved' in r.aside ? 'frozen, ' : ''}${asideText(r.aside)}`, name);
    deps.say(`${what}: ${asideText(r.aside)}`);
  } else deps.trace(`${what}: left for the queue runner`);
}

/** processDrop once the drop file is read (its claim held). */
async function processRead(name: string, drop: ReadDrop, deps: QueueDeps, opts: Pick<ProcessOptions, 'forced'>): Promise<ProcessResult> {
  const l = deps.spool;
  const dropDeps = { now: deps.now(), userName: deps.userName, newId: deps.newId };
  const h = dropHeader(name, drop, dropDeps);
  crashPoint('claimed');
  // never attempted by anyone (its submitter only wrote it): it arrives now, as far as the log knows
  if (h.attempts === 0 && !deps.arrivals?.has(name)) deps.log.arrival(h);
  const notDue = !opts.forced && h.nextAttempt !== undefined && h.nextAttempt > deps.now();
  if (notDue || queuedAlready(l, name)) {
    // its retry time has not come (a deferral written by the submitter's deliverer), or it is half-moved: queue it
    const lock = lockMessage(l.input, name, deps.lock);
    if (!lock) return { status: 'locked' };
    try {
      queueDrop(l, name, drop, dropDeps);
    } catch (err) {
      // a full spool: it waits in incoming/ as it is
      deps.log.note(name, `cannot move it into the queue (${writeError(err)}): left in incoming/`);
    } finally {
      lock.release();
    }
    return { status: 'not-due' };
  }
  const res = await attemptDelivery(h, drop.data, deps, opts.forced);
  const s = await settle(res, drop.data, ownedDropPlace(deps, name, drop), deps);
  return { status: s.state === 'deferred' || s.state === 'frozen' ? s.state : 'completed', bounces: s.bounces };
}
