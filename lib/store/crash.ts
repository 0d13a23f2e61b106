/**
 * TEST-ONLY crash points. When the environment variable
 * SEND_SMARTHOST_TEST_CRASH names a point (main.ts passes it to
 * {@link armCrashPoint}; nothing else reads it), the process kills itself
 * with SIGKILL the first time it reaches that point, so the crash-safety tests
 * can prove that no step of a submission or queue run loses a message.
 * Points are named `<file>:<step>` for spool writes (`D:before-tmp`,
 * `D:after-tmp`, `D:after-rename`, the same for `H` and `drop`) and
 * `delivered` (the server answered 250 to the end of DATA; the spool is not
 * updated yet). Unset, every call is a no-op. Documented in
 * send-smarthost(8), ENVIRONMENT.
 */

let armed: string | undefined;

/** Arm one crash point (or disarm with undefined/''). */
export function armCrashPoint(point: string | undefined): void {
  armed = point === '' ? undefined : point;
}

/** SIGKILL this process if `point` is the armed one. */
export function crashPoint(point: string): void {
  if (armed !== undefined && armed === point) process.kill(process.pid, 'SIGKILL');
}
