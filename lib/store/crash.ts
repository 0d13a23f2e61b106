/**
 * TEST-ONLY fault points, for the crash-safety tests and the fault suite
 * (test/faults.ts). Two environment variables, read by main.ts and fast.ts
 * only and handed here; unset, every call is a no-op:
 *
 * - SEND_SMARTHOST_TEST_CRASH names a point: the process kills itself with
 *   SIGKILL the first time it reaches it ({@link crashPoint}). Points are
 *   {@link CRASH_POINTS}: `<file>:<step>` for spool writes (`D`, `H`,
 *   `drop`, `hints`: `before-tmp`, `after-tmp`, `after-rename`), `claimed`
 *   (a message or drop file is under its lock, nothing attempted yet),
 *   `delivered` (the server answered 250 to the end of DATA; the spool is
 *   not updated yet) and `removed-H` (a message's -H is gone, its -D not yet).
 * - SEND_SMARTHOST_TEST_ENOSPC names points (comma-separated, `*` for all)
 *   where a write fails with ENOSPC as on a full disk ({@link noSpace}):
 *   {@link NOSPACE_POINTS}: `<file>:open` and `<file>:write` of the spool
 *   writes, `lock` (locks and claims), `journal`, `log` (the main log).
 *
 * Documented in send-smarthost(8), ENVIRONMENT.
 */

/** The named crash points (the fault suite kills a process at each). */
export const CRASH_POINTS = [
  ...['D', 'H', 'drop', 'hints'].flatMap((f) => [`${f}:before-tmp`, `${f}:after-tmp`, `${f}:after-rename`]),
  'claimed',
  'delivered',
  'removed-H',
] as const;

/** The named writes that can be made to fail with ENOSPC. */
export const NOSPACE_POINTS = [...['D', 'H', 'drop', 'hints'].flatMap((f) => [`${f}:open`, `${f}:write`]), 'lock', 'journal', 'log'] as const;

let armed: string | undefined;
let full: Set<string> | '*' | undefined;

/** Arm one crash point (or disarm with undefined/''). */
export function armCrashPoint(point: string | undefined): void {
  armed = point === '' ? undefined : point;
}

/** SIGKILL this process if `point` is the armed one. */
export function crashPoint(point: string): void {
  if (armed !== undefined && armed === point) process.kill(process.pid, 'SIGKILL');
}

/** Arm ENOSPC at the points of `spec` (comma-separated, `*`: every write), or disarm. */
export function armNoSpace(spec: string | undefined): void {
  full = spec === undefined || spec === '' ? undefined : spec === '*' ? '*' : new Set(spec.split(','));
}

/** Throw ENOSPC, as a full file system would, if `point` is armed. */
export function noSpace(point: string): void {
  if (full !== undefined && (full === '*' || full.has(point))) {
    throw Object.assign(new Error(`ENOSPC: no space left on device (test fault at ${point})`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  }
}
