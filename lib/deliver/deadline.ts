/**
 * delivery_timeout: one deadline for the whole run — DNS and every attempt
 * together — on top of the per-command timeouts. When it expires the signal
 * aborts, the attempt in progress is cut (its connection closed) and the
 * message is deferred with the reason (exit 75: the caller keeps it).
 */
import { SmarthostError } from '../errors.js';

export interface Deadline {
  signal: AbortSignal;
  /** Stop the timer (call when the run is over). */
  cancel(): void;
}

/** Render a millisecond count as Exim-style time (`1m30s`, `2s`, `0.5s`). Pure. */
export function renderMs(ms: number): string {
  if (ms < 60_000) return `${ms / 1000}s`;
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join('');
}

/** The error a run's deadline aborts with (temporary). */
export function deadlineError(ms: number): SmarthostError {
  return new SmarthostError('E_TIMEOUT', 'temp', `delivery_timeout (${renderMs(ms)}) expired`);
}

/** Start the deadline; `setTimer` is injectable for tests. The timer does not keep the process alive. */
export function startDeadline(ms: number, setTimer: typeof setTimeout = setTimeout): Deadline {
  const ctrl = new AbortController();
  const timer = setTimer(() => ctrl.abort(deadlineError(ms)), ms);
  (timer as { unref?: () => void }).unref?.();
  return { signal: ctrl.signal, cancel: () => clearTimeout(timer) };
}

/**
 * Settle with `work`, or reject with the signal's reason as soon as it aborts
 * (the work itself is left to finish on its own bounded timers).
 */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
