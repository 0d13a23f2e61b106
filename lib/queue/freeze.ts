/**
 * -Mf and -Mt (Exim's freeze and thaw): a frozen message stays in the queue,
 * is listed with `*** frozen ***`, and is passed over by -q and -qf; -M and
 * -qff deliver it all the same (process.ts: `Unfrozen by forced delivery`).
 * Each message is changed under its lock, so a delivery in progress is
 * never altered (Exim: "if any of the messages are active, their status is
 * not altered"); the main log says `frozen by <user>` / `unfrozen by
 * <user>`, as Exim's does, and the caller gets Exim's line on stdout:
 * `Message <id> is now frozen`, `is already frozen`, `is no longer frozen`,
 * `is not frozen`.
 *
 * A drop file still waiting in incoming/ (-odq, -odb, an unprivileged
 * submitter) is frozen by moving it into input/ with the freeze recorded,
 * under its claim; its arrival is logged then (it had not been: the first
 * process that claims a drop file logs it, run-drop.ts). A drop file is
 * never frozen, so thawing one says `is not frozen`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dropHeader, queueDrop, queuedAlready, withDrop } from '../store/drop.js';
import { lockMessage } from '../store/lock.js';
import { Refused } from '../store/open.js';
import { readHeader, writeHeader } from '../store/spool.js';
import { dropClaimDeps, isRefusal, refused } from './run-drop.js';
import { writeError } from './lifecycle.js';
import type { QueueDeps } from './deps.js';

/**
 * What became of one id: `changed` (now frozen, or thawed), `unchanged`
 * (frozen already, or not frozen), `missing` (not in the queue), `locked`
 * (being delivered now), `failed` (damaged, or the header could not be
 * written: `why`).
 */
export type FreezeResult = { result: 'changed' | 'unchanged' | 'missing' | 'locked' } | { result: 'failed'; why: string };

/** Exim's stdout line for a result (queue.c, queue_action); undefined for those said on stderr. */
export function freezeLine(id: string, thaw: boolean, r: FreezeResult): string | undefined {
  switch (r.result) {
    case 'changed':
      return `Message ${id} ${thaw ? 'is no longer frozen' : 'is now frozen'}`;
    case 'unchanged':
      return `Message ${id} ${thaw ? 'is not frozen' : 'is already frozen'}`;
    case 'failed':
      return `Message ${id} could not be ${thaw ? 'unfrozen' : 'frozen'}: ${r.why}`;
    default:
      return undefined;
  }
}

/** Freeze (`thaw` false) or thaw message `id` for user `by` (the spool owner; the caller checked). */
export async function freezeMessage(id: string, thaw: boolean, deps: QueueDeps, by: string): Promise<FreezeResult> {
  const l = deps.spool;
  if (!queuedAlready(l, id)) {
    if (!existsSync(join(l.incoming, id))) return { result: 'missing' };
    return thaw ? { result: 'unchanged' } : freezeDrop(id, deps, by);
  }
  const lock = lockMessage(l.input, id, deps.lock);
  if (!lock) return { result: 'locked' };
  try {
    let h;
    try {
      h = readHeader(l, id);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      return { result: 'failed', why: `${err.why}: the next queue run moves it to corrupt/` };
    }
    if (!h) return { result: 'missing' };
    if ((h.frozen !== undefined) !== thaw) return { result: 'unchanged' };
    try {
      writeHeader(l, thaw ? { ...h, frozen: undefined } : { ...h, frozen: `frozen by ${by}` });
    } catch (err) {
      return { result: 'failed', why: writeError(err) };
    }
    deps.log.note(id, `${thaw ? 'unfrozen' : 'frozen'} by ${by}`);
    return { result: 'changed' };
  } finally {
    lock.release();
  }
}

/** Freeze a drop file: into input/ with the freeze recorded (see the module comment). */
async function freezeDrop(name: string, deps: QueueDeps, by: string): Promise<FreezeResult> {
  const l = deps.spool;
  const r = await withDrop(l, name, dropClaimDeps(deps, true), async (drop): Promise<FreezeResult> => {
    const lock = lockMessage(l.input, name, deps.lock);
    if (!lock) return { result: 'locked' };
    try {
      const dropDeps = { now: deps.now(), userName: deps.userName, newId: deps.newId };
      const h = { ...dropHeader(name, drop, dropDeps), frozen: `frozen by ${by}` };
      const queued = queueDrop(l, name, drop, dropDeps, h);
      if (!queued) return { result: 'failed', why: 'it was queued meanwhile: try again' };
      if (queued.attempts === 0) deps.log.arrival(queued);
      deps.log.note(queued.id, `frozen by ${by}`);
      return { result: 'changed' };
    } catch (err) {
      return { result: 'failed', why: writeError(err) };
    } finally {
      lock.release();
    }
  });
  if (r === 'locked') return { result: 'locked' };
  if (r === 'gone') return { result: 'missing' };
  if (isRefusal(r)) {
    refused(name, r, deps);
    return { result: 'failed', why: r.why };
  }
  return r;
}
