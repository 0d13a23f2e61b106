/**
 * Start a detached process (the -odb deliverer): its own session (setsid),
 * no standard input or output (a caller that waits for EOF on its pipes, as
 * cron and `$(…)` do, is not held up), working directory `/`. Thin I/O;
 * node:child_process is loaded here, at the moment of spawning, not at
 * start-up.
 */

/** @throws when the process cannot be created; a failure to exec is reported through `onError`. */
export function spawnDetached(file: string, args: string[], env: NodeJS.ProcessEnv, onError: (err: Error) => void): void {
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(file, args, { detached: true, stdio: 'ignore', cwd: '/', env });
  child.on('error', onError);
  child.unref();
}
