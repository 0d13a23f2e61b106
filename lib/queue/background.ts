/**
 * Background delivery (-odb, delivery_mode = background), Exim's model: the
 * caller's process only makes the message safe on disk and starts a
 * detached deliverer; the caller gets exit 0 as soon as the message is
 * spooled, as with -odq.
 *
 * The caller writes ONE file, a drop file in incoming/ (drop.ts; one
 * fsync of the file and one of the directory: half the cost of input/'s -D
 * and -H), whoever it is, and starts `send-smarthost --deliver-drop <id>`.
 * That child ({@link deliverDrop}) claims the drop (`incoming/<id>-L`, the
 * lock queue runners take too, so one process at a time has it) and then:
 *  - as the spool owner (root): moves it into input/ and delivers it as a
 *    queue run would (-M): deferrals stay queued, failures are bounced;
 *  - as anyone else (it cannot write input/): delivers from the drop file;
 *    then removes it (done), or rewrites it with the pending recipients and
 *    their retry state for the next queue run (which moves it into input/).
 *    Failures are bounced (the bounce is a drop file too, delivered next by
 *    the same child).
 * Should the child never start, or die, the drop file stays, and the next
 * queue run moves and delivers it: nothing is lost.
 */
import { join } from 'node:path';
import { existsSync, unlinkSync } from 'node:fs';
import { SmarthostError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { attemptDelivery } from './attempt.js';
import { claimDrop, queueDrop, readDrop, serializeDrop, writeDrop } from './drop.js';
import { reportFailures } from './failures.js';
import { processMessage } from './process.js';
import { initSpool, spoolAccess, type SpoolLayout } from './spool.js';
import type { QueueDeps } from './deps.js';
import type { SpoolHeader } from './header.js';

/**
 * Spool `h` with `data` as a drop file for a background deliverer; the id in
 * `h` is updated when it was taken. Root creates a missing spool, as for -odq.
 * @throws SmarthostError E_IO kind 'temp' saying why the spool cannot be written.
 */
export function spoolForBackground(l: SpoolLayout, h: SpoolHeader, data: Buffer, newId: () => string): void {
  if (process.getuid?.() === 0 && !existsSync(l.root)) {
    try {
      initSpool(l);
    } catch (err) {
      throw new SmarthostError('E_IO', 'temp', `${err instanceof Error ? err.message : String(err)}; message not queued`, { cause: err });
    }
  }
  const access = spoolAccess(l);
  if (access.how === 'none') throw new SmarthostError('E_IO', 'temp', `${access.reason}; message not queued`);
  for (let i = 0; i < 5; i++) {
    try {
      writeDrop(l, h, data);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        h.id = newId();
        continue;
      }
      throw new SmarthostError('E_IO', 'temp', `cannot write the spool ${l.root}: ${code ?? String(err)}; message not queued`, { cause: err });
    }
  }
  throw new SmarthostError('E_IO', 'temp', `cannot write the spool ${l.root}: no free message id; message not queued`);
}

export type DropDelivery = 'completed' | 'deferred' | 'queued' | 'locked' | 'gone' | 'refused';

/**
 * The background deliverer: deliver drop file `id` (see the module comment).
 * Never throws for delivery problems; what happened goes to the main log.
 */
export async function deliverDrop(id: string, deps: QueueDeps, by: string): Promise<DropDelivery> {
  const l = deps.spool;
  const claim = claimDrop(l, id, deps.lock);
  if (!claim) return 'locked';
  let moved: SpoolHeader | undefined;
  try {
    const path = join(l.incoming, id);
    let drop;
    try {
      drop = readDrop(path);
    } catch (err) {
      deps.say(err instanceof Error ? err.message : String(err));
      return 'refused';
    }
    if (!drop) return 'gone'; // a queue run took it first
    const me = process.getuid?.() ?? drop.uid;
    if (drop.uid !== me && me !== 0) {
      deps.say(`${path}: owned by uid ${drop.uid}, not by this user: left for the queue runner`);
      return 'refused';
    }
    if (spoolAccess(l).how === 'direct') {
      moved = queueDrop(l, id, drop, { now: deps.now(), userName: deps.userName, newId: deps.newId });
      if (!moved) return 'gone';
    } else {
      return await deliverFromDrop(l, path, drop.header, drop.data, deps);
    }
  } finally {
    claim.release();
  }
  // in input/ now: deliver it as -M would (its lock there, settle, bounces)
  const r = await processMessage(moved.id, deps, { forced: true, thaw: false, by });
  if ('bounces' in r) for (const b of r.bounces) await processMessage(b, deps, { forced: true, thaw: false, by });
  return r.status === 'completed' ? 'completed' : r.status === 'locked' ? 'locked' : 'deferred';
}

/** A submitter who cannot write input/: deliver straight from the drop file, then remove or rewrite it. */
async function deliverFromDrop(l: SpoolLayout, path: string, h: SpoolHeader, data: Buffer, deps: QueueDeps): Promise<DropDelivery> {
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
    unlinkSync(path);
    deps.log.completed(h.id);
    return 'completed';
  }
  writeFileAtomic(path, serializeDrop(next, data), { tmpDir: l.incoming, what: 'drop' });
  deps.log.note(h.id, `queued: ${res.reason ?? 'temporary failure'}`);
  return 'queued';
}
