/**
 * Removals a queue run need not wait for. Once a delivered message's -H is
 * gone (synchronously: from then on it is not queued), its -D and its lock
 * are unlinked on libuv's thread pool while the run sends the next message:
 * the unlinks then cost the run nothing instead of a seventh of its time
 * (README, Performance). The run drains them before it ends. A removal that
 * fails leaves debris that cleanOrphans and the stale-lock check already
 * handle (a -D without -H, a lock of a dead process); nothing is lost.
 */
import { unlink } from 'node:fs';

export interface Later {
  /** Unlink `path` in the background (a missing file is not an error). */
  unlink(path: string): void;
  /** Resolves once every background removal has finished. */
  drain(): Promise<void>;
}

export function laterRemovals(): Later {
  let pending = 0;
  let waiters: (() => void)[] = [];
  const done = (): void => {
    if (--pending > 0) return;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  return {
    unlink(path) {
      pending++;
      unlink(path, done);
    },
    drain: () => (pending === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  };
}
