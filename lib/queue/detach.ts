/**
 * Start a detached process (the -odb deliverer): its own session (setsid),
 * no standard input or output (a caller that waits for EOF on its pipes, as
 * cron and `$(…)` do, is not held up), working directory `/`. Thin I/O.
 *
 * Loading node:child_process costs a submission ≈ 3.5 ms (it brings
 * node:net, dgram and the streams along), a fifth of Node's own start. So
 * the process is created with the binding node:child_process itself wraps
 * (`process_wrap`, the same uv_spawn with the same options), and
 * node:child_process is the fallback: where the binding is missing or
 * refuses, and under --pending-deprecation, where reaching for it would
 * print a deprecation warning (DEP0111).
 */

interface ProcessWrap {
  onexit: () => void;
  spawn(options: object): number;
  unref(): void;
}

/** The Process class of process_wrap, or undefined (then node:child_process). */
function processWrap(): (new () => ProcessWrap) | undefined {
  const pending = process.execArgv.includes('--pending-deprecation') || /--pending-deprecation\b/.test(process.env.NODE_OPTIONS ?? '');
  if (pending || typeof (process as { binding?: unknown }).binding !== 'function') return undefined;
  try {
    const { Process } = (process as unknown as { binding(name: string): { Process?: new () => ProcessWrap } }).binding('process_wrap');
    return typeof Process === 'function' ? Process : undefined;
  } catch {
    return undefined;
  }
}

/** Start `file args` detached. @throws when it cannot be created; a failure to exec goes to `onError`. */
export function spawnDetached(file: string, args: string[], env: NodeJS.ProcessEnv, onError: (err: Error) => void, opts: { lean?: boolean } = {}): void {
  const Process = opts.lean === false ? undefined : processWrap();
  if (Process) {
    const child = new Process();
    child.onexit = () => {};
    const envPairs = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    const ignore = { type: 'ignore' };
    const code = child.spawn({ file, args: [file, ...args], cwd: '/', envPairs, stdio: [ignore, ignore, ignore], detached: true, windowsHide: false, windowsVerbatimArguments: false });
    if (code === 0) {
      child.unref();
      return;
    }
    // refused (ENOENT, EAGAIN…): node:child_process below says why, as an Error
  }
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(file, args, { detached: true, stdio: 'ignore', cwd: '/', env });
  child.on('error', onError);
  child.unref();
}

/**
 * Start `send-smarthost --deliver-drop <id>` detached (the -odb deliverer):
 * the same node and entry script, the same configuration file (made
 * absolute: the child runs in /), the same environment. A failure to exec is
 * told on `stderr` (the drop file waits for the next queue run).
 */
export function startDropDeliverer(self: { node: string; script: string }, configFile: string | undefined, id: string, env: NodeJS.ProcessEnv, stderr: (text: string) => void): void {
  const { resolve } = process.getBuiltinModule('node:path');
  const args = [self.script, ...(configFile !== undefined ? ['-C', resolve(configFile)] : []), '--deliver-drop', id];
  spawnDetached(self.node, args, env, (err) => stderr(`send-smarthost: the background delivery of ${id} did not start (${err.message}): the next queue run delivers it\n`));
}
