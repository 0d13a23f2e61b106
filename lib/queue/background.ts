/**
 * Background delivery (-odb, delivery_mode = background), Exim's model: the
 * caller's process only makes the message safe on disk and starts a
 * detached deliverer; the caller gets exit 0 as soon as the message is
 * spooled, as with -odq.
 *
 * The caller writes ONE file, a drop file in incoming/ (spool-submit.ts;
 * one fsync of the file and one of the directory: half the cost of input/'s
 * -D and -H), whoever it is, and starts `send-smarthost --deliver-drop <id>`.
 * That child ({@link deliverDrop}) claims the drop (`incoming/<id>-L`, the
 * lock queue runners take too, so one process at a time has it) and then
 * takes it through its life (lifecycle.ts):
 *  - as the spool owner (root): as a queue run would (run-drop.ts): from the
 *    file; deferrals are moved into input/, failures are bounced;
 *  - as anyone else (it cannot write input/): from the drop file; then
 *    removes it (done), or rewrites it with the pending recipients and their
 *    retry state for the next queue run (which moves it into input/).
 *    Failures are bounced (the bounce is a drop file too, delivered next by
 *    the same child). Its main-log lines go to the message's journal
 *    (report/journal-log.ts), which the next root queue run renders.
 * Should the child never start, or die, the drop file stays, and the next
 * queue run moves and delivers it: nothing is lost.
 */
import { join } from 'node:path';
import { attemptDelivery } from './attempt.js';
import { withDrop, type ReadDrop } from '../store/drop.js';
import { dropClaimDeps, isRefusal, processDrop, refused } from './run-drop.js';
import { ownDropPlace, settle } from './lifecycle.js';
import { processMessage } from './process.js';
import { spoolAccess } from '../store/spool.js';
import type { QueueDeps } from './deps.js';

export type DropDelivery = 'completed' | 'deferred' | 'queued' | 'locked' | 'gone' | 'refused' | 'corrupt';

/**
 * The background deliverer: deliver drop file `id` (see the module comment).
 * Never throws for delivery problems; what happened goes to the main log.
 */
export async function deliverDrop(id: string, deps: QueueDeps, by: string): Promise<DropDelivery> {
  const l = deps.spool;
  if (spoolAccess(l).how === 'direct') {
    // the spool owner: as a queue run would (run-drop.ts), then the bounces it made
    const r = await processDrop(id, deps, { forced: true });
    if ('bounces' in r) for (const b of r.bounces) await processMessage(b, deps, { forced: true, thaw: false, by });
    return r.status === 'completed' || r.status === 'locked' || r.status === 'gone' || r.status === 'corrupt' ? r.status : 'deferred';
  }
  // not the spool owner: from the file, then remove or rewrite it (no later: not a queue run)
  const r = await withDrop(l, id, dropClaimDeps(deps, false), async (drop) => {
    if (drop.uid !== process.getuid?.()) {
      deps.trace(`${join(l.incoming, id)}: owned by uid ${drop.uid}, not by this user: left for the queue runner`);
      return 'refused' as const;
    }
    return deliverOwnDrop(id, drop, deps);
  });
  if (isRefusal(r)) {
    refused(id, r, deps);
    return 'refused';
  }
  return r;
}

/** A submitter who cannot write input/: deliver straight from its own drop file, then settle it there. */
async function deliverOwnDrop(id: string, drop: ReadDrop, deps: QueueDeps): Promise<DropDelivery> {
  const h = { ...drop.header, id };
  if (h.attempts === 0) deps.log.arrival(h);
  const res = await attemptDelivery(h, drop.data, deps, true);
  const s = await settle(res, drop.data, ownDropPlace(deps, id, drop.data), deps, { report: true, noteQueued: true });
  if (s.failure?.kind === 'bounce' && s.failure.placement === 'drop') await deliverDrop(s.failure.id, deps, h.submitter.user);
  return s.state === 'deferred' ? ('notKept' in (s.kept ?? {}) ? 'deferred' : 'queued') : 'completed';
}
