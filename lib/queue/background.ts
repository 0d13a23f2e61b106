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
 * lock queue runners take too, so one process at a time has it) and then:
 *  - as the spool owner (root): delivers it as a queue run would
 *    (run-drop.ts): from the file; deferrals are moved into input/,
 *    failures are bounced;
 *  - as anyone else (it cannot write input/): delivers from the drop file;
 *    then removes it (done), or rewrites it with the pending recipients and
 *    their retry state for the next queue run (which moves it into input/).
 *    Failures are bounced (the bounce is a drop file too, delivered next by
 *    the same child).
 * Should the child never start, or die, the drop file stays, and the next
 * queue run moves and delivers it: nothing is lost.
 */
import type { MessageData } from '../data.js';
import { join } from 'node:path';
import { unlinkSync } from 'node:fs';
import { attemptDelivery } from './attempt.js';
import { withDrop, writeDrop } from '../store/drop.js';
import { processDrop } from './run-drop.js';
import { reportFailures } from './failures.js';
import { processMessage } from './process.js';
import { spoolAccess, type SpoolLayout } from '../store/spool.js';
import type { QueueDeps } from './deps.js';
import type { SpoolHeader } from '../store/header.js';

export type DropDelivery = 'completed' | 'deferred' | 'queued' | 'locked' | 'gone' | 'refused';

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
    return r.status === 'completed' || r.status === 'locked' || r.status === 'gone' ? r.status : 'deferred';
  }
  // not the spool owner: from the file, then remove or rewrite it (no later: not a queue run)
  return withDrop(l, id, { lock: deps.lock, say: deps.say }, async (drop) => {
    if (drop.uid !== process.getuid?.()) {
      deps.say(`${join(l.incoming, id)}: owned by uid ${drop.uid}, not by this user: left for the queue runner`);
      return 'refused';
    }
    return deliverFromDrop(l, id, drop.header, drop.data, deps);
  });
}

/** A submitter who cannot write input/: deliver straight from the drop file, then remove or rewrite it. */
async function deliverFromDrop(l: SpoolLayout, id: string, h: SpoolHeader, data: MessageData, deps: QueueDeps): Promise<DropDelivery> {
  const res = await attemptDelivery(h, data, deps, true);
  let next = res.header;
  if (res.failed.length > 0) {
    const action = await reportFailures(next, res.failed, data, deps);
    if (action.kind === 'freeze') {
      // only the spool owner can freeze: leave the failed recipients pending for the queue runner, which will
      deps.log.note(h.id, `left for the queue runner: ${action.reason}`);
      next = { ...next, recipients: [...next.recipients, ...res.failed.map((f) => f.recipient)] };
    } else if (action.kind === 'bounce' && action.placement === 'drop') {
      await deliverDrop(action.id, deps, h.submitter.user);
    }
  }
  if (next.recipients.length === 0) {
    unlinkSync(join(l.incoming, id));
    deps.log.completed(h.id);
    return 'completed';
  }
  writeDrop(l, { ...next, id }, data, { replace: true });
  deps.log.note(h.id, `queued: ${res.reason ?? 'temporary failure'}`);
  return 'queued';
}
