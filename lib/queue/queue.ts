/**
 * Queue runs (-q, -qf, -M) and removals (-Mrm). A run first clears day-old
 * debris, then tries every due message in arrival order under its
 * per-message lock (so concurrent runners and submissions never deliver one
 * message twice), skipping frozen ones and, through the retry hints, hosts
 * that failed recently; then the drop files in incoming/, each under its
 * claim, delivered from the file (run-drop.ts). Bounces created on the way
 * are delivered in the same run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SmarthostError } from '../errors.js';
import { listDrops, queuedAlready, removeDrop, removeOwnDrop } from '../store/drop.js';
import { processDrop } from './run-drop.js';
import { renderJournals } from './journals.js';
import { isMessageId } from '../store/ids.js';
import { lockMessage, type LockDeps } from '../store/lock.js';
import { processMessage, type ProcessResult } from './process.js';
import { laterRemovals, type Later } from '../store/later.js';
import { runHintStore } from '../store/hints.js';
import { cleanOrphans, listMessages, removeMessage, spoolAccess } from '../store/spool.js';
import type { QueueDeps } from './deps.js';

export interface RunOptions {
  /** -qf / -M: ignore retry times and host hints. */
  force: boolean;
  /** -M: only these messages (forced, and thawed when frozen). */
  ids?: string[];
  /** -qff: frozen messages too (thawed: `Unfrozen by forced delivery`). */
  thaw?: boolean;
  /** Who runs it (for log lines). */
  by: string;
}

export interface RunSummary {
  /** Final status per message id tried (bounces included). */
  results: Record<string, ProcessResult['status']>;
  /** -M ids that are not in the queue. */
  missing: string[];
}

/**
 * Run the queue once.
 * @throws SmarthostError E_NOPERM (exit 77) when this process cannot write input/ (not root nor the spool owner).
 */
export async function runQueue(opts: RunOptions, deps: QueueDeps): Promise<RunSummary> {
  const l = deps.spool;
  if (!existsSync(l.input)) {
    // no spool (never made, or another spool_directory): nothing can be queued, nothing to run
    deps.trace(`${l.input} does not exist: the queue is empty`);
    return { results: {}, missing: opts.ids ? [...opts.ids] : [] };
  }
  if (spoolAccess(l).how !== 'direct') {
    throw new SmarthostError('E_NOPERM', 'noperm', `cannot run the queue: permission denied: only root or the spool owner may (${l.input} is not writable by this user)`);
  }
  const drops = listDrops(l, deps.now());
  for (const p of cleanOrphans(l, deps.now())) deps.trace(`removed stale ${p}`);

  const summary: RunSummary = { results: {}, missing: [] };
  // queued messages first (they are older), then the drop files (-odq, -odb, unprivileged submitters);
  // -M ids: the queued message of that id, else its drop file
  const todo: Todo[] = opts.ids
    ? opts.ids.map((id) => ({ id, drop: isMessageId(id) && !queuedAlready(l, id) && existsSync(join(l.incoming, id)) }))
    : [...listMessages(l).map((id) => ({ id, drop: false })), ...drops.map((id) => ({ id, drop: true }))];
  const single = opts.ids !== undefined;
  const flags = single ? '-M' : opts.thaw ? '-qff' : opts.force ? '-qf' : undefined;
  deps.log.queueRun('Start', flags);
  // what unprivileged processes could not write to the main log, before anything new happens
  const arrivals = renderJournals(deps);
  const later = laterRemovals();
  let endSharing: (() => Promise<void>) | undefined;
  try {
    // one connection per host for the whole run (each message still its own transaction and spool update)
    if (todo.length > 0) endSharing = await deps.shareConnections?.();
    const run = { ...runDeps(deps, runLockDeps(deps), later), arrivals };
    await runEach(todo.filter((m) => !m.drop), single, opts, run, summary);
    // the input/ locks released in the background are gone before a drop file of the same id is taken up
    await later.drain();
    await runEach(todo.filter((m) => m.drop), single, opts, run, summary);
  } finally {
    await later.drain();
    await endSharing?.();
    deps.log.queueRun('End', flags);
  }
  return summary;
}

/**
 * The dependencies for the messages of one run: the retry hints read once, not
 * per message; -D files and locks of finished messages removed in the
 * background; a full file system does not stop the run (locks, below).
 */
const runDeps = (deps: QueueDeps, lock: LockDeps, later: Later): QueueDeps => ({
  ...deps,
  lock,
  later,
  hints: deps.hints ?? runHintStore(deps.spool.db),
});

/**
 * A run's locks: when the spool's file system is full and no lock can be
 * made, the run goes on without lock files (said once): it must deliver and
 * remove messages on a full disk, and the worst a concurrent runner can then
 * do is deliver a message twice, never lose it.
 */
function runLockDeps(deps: QueueDeps): LockDeps {
  let told = false;
  return {
    ...deps.lock,
    noSpace: (path) => {
      if (!told) deps.say(`the spool's file system is full (cannot create ${path}): delivering without lock files`);
      told = true;
      return true;
    },
  };
}

/** A message of input/, or a drop file in incoming/ (delivered from there: run-drop.ts). */
interface Todo {
  id: string;
  drop: boolean;
}

async function runEach(todo: Todo[], single: boolean, opts: RunOptions, deps: QueueDeps, summary: RunSummary): Promise<void> {
  for (const { id, drop } of todo) {
    if (!isMessageId(id)) {
      summary.missing.push(id);
      continue;
    }
    let r: ProcessResult;
    const forced = opts.force || single;
    try {
      r = drop ? await processDrop(id, deps, { forced }) : await processMessage(id, deps, { forced, thaw: single || opts.thaw === true, by: opts.by });
    } catch (err) {
      // a message that cannot be handled (an unreadable file, a full disk) must not stop the run for the others
      if (!(err instanceof SmarthostError && err.code === 'E_IO') && typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
      deps.say(`${id}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    summary.results[id] = r.status;
    if (r.status === 'gone' && single) summary.missing.push(id);
    if (r.status === 'locked') (single ? deps.say : deps.trace)(`message ${id} is being delivered by another process: skipped`);
    if ('bounces' in r) {
      for (const b of r.bounces) {
        const br = await processMessage(b, deps, { forced: true, thaw: false, by: opts.by });
        summary.results[b] = br.status;
      }
    }
  }
}

/**
 * -Mrm: remove messages from the queue (logged `removed by <user>`, then
 * `Completed`). Returns the ids that were not in the queue, are locked by a
 * delivery in progress, or that this user may not remove: anyone but root
 * and the spool owner may only remove a drop file of their own that is still
 * waiting in incoming/ (as Exim lets a message's submitter remove it).
 */
export function removeMessages(ids: string[], deps: QueueDeps, by: string): { removed: string[]; missing: string[]; locked: string[]; denied: string[] } {
  const out = { removed: [] as string[], missing: [] as string[], locked: [] as string[], denied: [] as string[] };
  const owner = spoolAccess(deps.spool).how === 'direct';
  for (const id of ids) {
    if (!isMessageId(id)) {
      out.missing.push(id);
      continue;
    }
    if (!owner) {
      const r = removeOwnDrop(deps.spool, id, { lock: deps.lock, now: deps.now() });
      if (r === 'removed') {
        deps.log.note(id, `removed by ${by}`);
        deps.log.completed(id);
      }
      out[r].push(id);
      continue;
    }
    const lock = lockMessage(deps.spool.input, id, deps.lock);
    if (!lock) {
      out.locked.push(id);
      continue;
    }
    try {
      if (!queuedAlready(deps.spool, id)) {
        // submitted with -odq or -odb and not moved into input/ yet (-bp lists those too)
        const drop = removeDrop(deps.spool, id, { lock: deps.lock, owner: true, now: deps.now() });
        if (drop === 'removed') {
          deps.log.note(id, `removed by ${by}`);
          deps.log.completed(id);
          out.removed.push(id);
        } else out[drop].push(id);
        continue;
      }
      removeMessage(deps.spool, id);
      deps.log.note(id, `removed by ${by}`);
      deps.log.completed(id);
      out.removed.push(id);
    } finally {
      lock.release();
    }
  }
  return out;
}
