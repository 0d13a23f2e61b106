/**
 * The entry point. Compiled by build.mjs into dist/send-smarthost.cjs, which
 * bin/send-smarthost loads. The only place that ends the process.
 *
 * Two bundles: this one holds the fast submission path (lib/fast.ts); the
 * rest of the program is dist/modes.cjs (bin/modes.ts), loaded only when
 * needed, through the loader bin/send-smarthost provides (with its V8 code
 * cache), or plain require() when this bundle is run directly.
 */
import { userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { fastMain, type FullMain, type OpsMain } from '../lib/fast.js';

type Loader = (name: string) => unknown;
const LOADER = Symbol.for('send-smarthost.load');

/** The exports of dist/<name>, through bin/send-smarthost's loader (with its code cache) when there is one. */
function bundle<T>(name: string): T {
  const load = (globalThis as Record<symbol, Loader | undefined>)[LOADER];
  // this file is bundled into dist/, next to the others; module.require keeps esbuild from bundling them
  return (load ? load(name) : module.require(join(__dirname, name))) as T;
}

/** lib/main.ts's main from dist/modes.cjs. */
const full = (): FullMain => bundle<{ main: FullMain }>('modes.cjs').main;

/** lib/ops/program.ts's operatorMain from dist/ops.cjs (commander). */
const ops = (): OpsMain => bundle<{ operatorMain: OpsMain }>('ops.cjs').operatorMain;

/** The submitter's login name (by uid, as sendmail does), for the default sender. */
function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.LOGNAME ?? process.env.USER ?? 'nobody';
  }
}

// If the event loop ever drained before main settled, nothing would have told
// the caller what happened to the message: say so and exit 75 so it is kept.
let settled = false;
process.on('exit', () => {
  if (!settled) {
    process.stderr.write('send-smarthost: internal error: delivery did not finish; message not delivered\n');
    process.exitCode = 75;
  }
});

// A reader that went away (a -bs client that closed its end, `mailq | head`) is
// not a crash: the replies have nowhere to go, the input side ends the session.
// Installed at the first write: touching process.stdout on a pipe loads node:net
// and the streams, start-up time for paths that print nothing (-odq).
let stdoutReady = false;
function stdout(): NodeJS.WriteStream {
  if (!stdoutReady) {
    stdoutReady = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
  return process.stdout;
}

fastMain(
  process.argv.slice(2),
  {
    // a getter: process.stdin on a pipe loads node:net and the streams, which -bp, -q… never read
    get stdin() {
      return process.stdin;
    },
    stdinFd: 0,
    stdout: (t) => void stdout().write(t),
    stdoutBytes: (b) => void stdout().write(b),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
    get stderrIsTTY() {
      return process.stderr.isTTY === true; // a getter for the same reason as stdin
    },
    get stdoutIsTTY() {
      return process.stdout.isTTY === true;
    },
    user: loginName(),
    invokedAs: basename(process.argv[1] ?? 'send-smarthost'),
    // bin/send-smarthost, which loaded this bundle: run again for the -odb deliverer
    ...(process.argv[1] ? { self: { node: process.execPath, script: process.argv[1] } } : {}),
  },
  full,
  ops,
).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(`send-smarthost: internal error: ${String(err)}\n`);
    process.exitCode = 70;
  },
);
