/**
 * A message's life, with names (issue 9):
 *
 *     received ─► spooled ─► claimed ─► attempted ─┬─► delivered
 *        │                      │                  ├─► deferred  (kept for the next attempt)
 *        │                      │                  └─► failed ─┬─► bounced (the sender is told)
 *        │                      │                              └─► frozen  (nobody can be told)
 *        │                      └─► corrupt (a damaged or misnamed file, moved to corrupt/)
 *        └─► (-odi) attempted straight from memory, spooled only when something is kept
 *
 * - received: accepted from the caller (submit.ts, fast.ts), in memory;
 * - spooled: on disk, fsynced: a drop file in incoming/, or -D and -H in input/;
 * - claimed: under its lock (input/<id>-L) or claim (incoming/<id>-L), read
 *   under the store's rule and checked (process.ts, run-drop.ts, background.ts);
 * - attempted: one delivery attempt made (attempt.ts);
 * - settled by {@link settle}, the one place where the outcome is written
 *   back, for every caller: an interactive submission (the message is in
 *   memory), the background deliverer and queue runs (a drop file, as its
 *   spool owner or as its unprivileged submitter), and queue runs (input/).
 *   Where the message lives is a {@link Place}; settle only says what to do.
 *   A message left deferred may call for a delay warning to its sender
 *   (warnings.ts), counted in the header it keeps.
 *
 * Writing the outcome back may fail when the spool's file system is full:
 * removing never needs space; a deferral that cannot be recorded leaves the
 * message as it was (tried again by the next run, a note in the log), never
 * an internal error.
 */
import type { MessageData } from '../data.js';
import { reportFailures, freeze, type FailureAction } from './failures.js';
import type { AttemptResult } from './attempt.js';
import type { QueueDeps } from './deps.js';
import type { SpoolHeader } from '../store/header.js';
import { enqueue, type Placement } from './enqueue.js';
import { warnOfDelay } from './warnings.js';
import { join } from 'node:path';
import { unlinkSync } from 'node:fs';
import { SmarthostError } from '../errors.js';
import { queueDrop, writeDrop, type ReadDrop } from '../store/drop.js';
import { lockMessage } from '../store/lock.js';
import { removeMessage, removeSpoolFile, writeHeader } from '../store/spool.js';

/** The named states of a message (see the module comment). */
export type State = 'received' | 'spooled' | 'claimed' | 'attempted' | 'delivered' | 'deferred' | 'failed' | 'bounced' | 'frozen' | 'corrupt';

/** The states an attempt settles in. */
export type SettledState = Extract<State, 'delivered' | 'deferred' | 'failed' | 'bounced' | 'frozen'>;

/** What became of a kept message: where it is now and under which id (a drop moved into input/ may get a new one). */
export type Kept = { where: Placement; id: string } | { notKept: string };

/**
 * Where a claimed message lives, and how its new state is written back.
 * `canFreeze`: only the spool owner freezes (a frozen message waits in
 * input/ for the administrator).
 */
export interface Place {
  id: string;
  canFreeze: boolean;
  /** Whether the message is on disk already (false: an interactive submission, in memory until something is kept). */
  spooled: boolean;
  /** Take it out: nothing is left to deliver. Never needs free space. */
  remove(): void;
  /** Keep `h` (pending recipients, or frozen) for a later attempt. Never throws. */
  keep(h: SpoolHeader): Kept;
}

export interface Settled {
  state: SettledState;
  /** The header as settled (the pending recipients, `done`, retry times). */
  header: SpoolHeader;
  /** Bounces placed in input/ (the caller delivers them next). */
  bounces: string[];
  /** What was done about failed recipients, when some failed. */
  failure?: FailureAction;
  /** Where the rest is kept, when something is. */
  kept?: Kept;
}

export interface SettleOptions {
  /**
   * Tell the sender about failed recipients (bounce, dead.letter). False
   * for an interactive submission in error mode p or q: its caller is told
   * by the exit status instead.
   */
  report: boolean;
  /** Log `queued: <why>` when the message is kept (a submission or its background deliverer; a queue run's `==` lines say it). */
  noteQueued?: boolean;
}

/**
 * Settle one attempt (see the module comment): report the failures, then
 * remove the message (nothing pending), keep it (deferred), or freeze it
 * (failures nobody can be told about), logging what happened.
 */
export async function settle(res: AttemptResult, data: MessageData, place: Place, deps: QueueDeps, opts: SettleOptions = { report: true }): Promise<Settled> {
  let h = res.header;
  const bounces: string[] = [];
  let failure: FailureAction | undefined;
  let state: SettledState = 'delivered';
  if (res.failed.length > 0) {
    state = 'failed';
    if (opts.report) {
      failure = await reportFailures(h, res.failed, data, deps);
      if (failure.kind === 'bounce') {
        state = 'bounced';
        if (failure.placement === 'input') bounces.push(failure.id);
      } else if (failure.kind === 'dead-letter') {
        state = 'bounced';
      } else if (place.canFreeze) {
        h = freeze(h, res.failed, failure.reason);
        deps.log.note(place.id, `frozen: ${failure.reason}`);
        const kept = place.keep(h);
        if ('notKept' in kept) deps.log.note(place.id, `cannot record the freeze (${kept.notKept}): tried again by the next queue run`);
        return { state: 'frozen', header: h, bounces, failure, kept };
      } else if (place.spooled) {
        // only the spool owner can freeze: the failed recipients stay pending for the queue runner, which will
        deps.log.note(place.id, `left for the queue runner: ${failure.reason}`);
        h = { ...h, recipients: [...h.recipients, ...res.failed.map((f) => f.recipient)] };
      }
      // (in memory: the interactive caller is told by its exit status)
    }
  }
  if (h.recipients.length === 0) {
    place.remove();
    deps.log.completed(place.id);
    return { state, header: h, bounces, ...(failure ? { failure } : {}) };
  }
  // still deferred: a delay warning when one is due (warnings.ts); sent by the spool owner, whose runs retry it
  if (opts.report && place.canFreeze) {
    const warned = warnOfDelay(h, res, data, deps);
    if (warned) {
      h = { ...h, warnings: warned.count };
      if (warned.placement === 'input') bounces.push(warned.id);
    }
  }
  const kept = place.keep(h);
  if ('notKept' in kept) {
    if (place.spooled) deps.log.note(place.id, `cannot record the deferral (${kept.notKept}): tried again by the next queue run`);
  } else if (opts.noteQueued) deps.log.note(kept.id, `queued: ${res.reason ?? 'temporary failure'}`);
  return { state: 'deferred', header: h, bounces, kept, ...(failure ? { failure } : {}) };
}

/** The error code of a failed write, or its message (for a log note). */
export const writeError = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));

/** Run a removal; a failure (rare: removing needs no space) is noted, and the next run delivers the message again. */
function removing(deps: QueueDeps, id: string, what: string, remove: () => unknown): void {
  try {
    remove();
  } catch (err) {
    deps.log.note(id, `cannot remove ${what} (${writeError(err)}): delivered again by the next run`);
  }
}

/** A message in input/ (queue runs, -M, bounces): its -H rewritten when kept, -H then -D removed when done. */
export function inputPlace(deps: QueueDeps, id: string): Place {
  return {
    id,
    canFreeze: true,
    spooled: true,
    remove: () => removing(deps, id, 'it from the spool', () => removeMessage(deps.spool, id, deps.later)),
    keep: (h) => {
      try {
        writeHeader(deps.spool, { ...h, id });
        return { where: 'input', id };
      } catch (err) {
        return { notKept: writeError(err) };
      }
    },
  };
}

/**
 * A drop file claimed by the spool owner (queue runs, -M, root's -odb
 * deliverer): removed when done; when something is kept it moves into
 * input/ (under its lock there) with the settled header, in one placement.
 */
export function ownedDropPlace(deps: QueueDeps, name: string, drop: ReadDrop): Place {
  const l = deps.spool;
  return {
    id: name,
    canFreeze: true,
    spooled: true,
    remove: () => removing(deps, name, 'the drop file', () => removeSpoolFile(l, join(l.incoming, name), deps.later)),
    keep: (h) => {
      const lock = lockMessage(l.input, name, deps.lock);
      if (!lock) return { notKept: 'locked in input/' };
      try {
        const moved = queueDrop(l, name, drop, { now: deps.now(), userName: deps.userName, newId: deps.newId }, h);
        return { where: 'input', id: moved?.id ?? name };
      } catch (err) {
        return { notKept: writeError(err) };
      } finally {
        lock.release();
      }
    },
  };
}

/**
 * A drop file claimed by its own unprivileged submitter's background
 * deliverer (it cannot write input/): removed when done, rewritten with the
 * pending recipients and their retry state when something is kept (the
 * next queue run moves it into input/).
 */
export function ownDropPlace(deps: QueueDeps, name: string, data: MessageData): Place {
  const l = deps.spool;
  return {
    id: name,
    canFreeze: false,
    spooled: true,
    remove: () => removing(deps, name, 'the drop file', () => unlinkSync(join(l.incoming, name))),
    keep: (h) => {
      try {
        writeDrop(l, { ...h, id: name }, data, { replace: true });
        return { where: 'drop', id: name };
      } catch (err) {
        return { notKept: writeError(err) };
      }
    },
  };
}

/**
 * An interactive submission (-odi), delivered from memory: nothing to
 * remove; what is kept is queued the way this process can (input/ or a drop
 * file), unless `queueDeferred` is off (--no-queue: the caller gets 75).
 */
export function memoryPlace(deps: QueueDeps, h0: SpoolHeader, data: MessageData, queueDeferred: boolean): Place {
  return {
    id: h0.id,
    canFreeze: false,
    spooled: false,
    remove: () => {},
    keep: (h) => {
      if (!queueDeferred) return { notKept: 'not queued (queue_deferred = false or --no-queue)' };
      try {
        const where = enqueue(deps.spool, h, data, deps.newId, deps.reserve ? { reserve: deps.reserve } : {});
        return { where, id: h.id };
      } catch (err) {
        return { notKept: err instanceof SmarthostError ? err.message : `cannot queue the message: ${String(err)}` };
      }
    },
  };
}
