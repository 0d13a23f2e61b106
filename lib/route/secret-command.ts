/**
 * Run auth_password_command / auth_oauth2_command (msmtp's passwordeval):
 * `/bin/sh -c <command>`, standard input closed (it must never read the
 * message), in its own process group so a timeout kills the whole pipeline.
 * The secret travels only through the pipe from its standard output: never
 * through argv or the environment. Its output and its standard error are
 * never echoed, not even in error messages.
 */
import { SmarthostError } from '../errors.js';

/** Default bound on a secret command: 30 seconds. */
export const SECRET_COMMAND_TIMEOUT = 30_000;
/** Output beyond this is not read (a password or a token is far shorter). */
const MAX_OUTPUT = 64 * 1024;

const fail = (option: string, why: string): SmarthostError => new SmarthostError('E_AUTH', 'temp', `${option}: the command ${why}; no credentials to send`);

/**
 * Run `command` with /bin/sh and resolve to the first line of its standard
 * output (without the line end).
 * @throws SmarthostError E_AUTH (temporary: the message is kept) when the
 *   command cannot start, exits non-zero, is killed, times out or prints an empty first line.
 */
export function runSecretCommand(command: string, option: string, timeoutMs = SECRET_COMMAND_TIMEOUT): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    // node:child_process only when a *_command option is used (it costs every delivery start-up time)
    const child = process.getBuiltinModule('node:child_process').spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      if (size < MAX_OUTPUT) chunks.push(d);
      size += d.length;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(fail(option, `could not be started (${e.code ?? 'error'})`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return reject(fail(option, `did not finish within ${timeoutMs / 1000}s and was killed`));
      if (signal) return reject(fail(option, `was killed by ${signal}`));
      if (code !== 0) return reject(fail(option, `exited with status ${code}`));
      const first = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]!;
      if (first === '') return reject(fail(option, 'printed an empty first line'));
      resolve(first);
    });
  });
}
