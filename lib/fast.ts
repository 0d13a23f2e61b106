/**
 * The fast path of the commonest call, `sendmail [-t] [-f sender] rcpt…`
 * with the message on standard input, delivered in the background (-odb,
 * the default) or queued (-odq): parse argv and the configuration, read
 * and check the message, spool it, start the detached deliverer, exit.
 * This is all the entry bundle (dist/send-smarthost.cjs) holds, so that a
 * submission's start-up compiles and runs nothing else (README,
 * Performance); every other invocation, and a submission to be delivered
 * interactively, goes to lib/main.ts in the second bundle with what was
 * parsed here (argv, configuration, an accepted message), so nothing is
 * read or parsed twice.
 */
import { reportError } from './errors.js';
import { dataSize } from './data.js';
import { operatorCommand, parseArgs } from './submit/cli.js';
import { invocationConfig } from './route/config.js';
import { deliveryMode } from './submit/mode.js';
import { queueCommandOf } from './queue/command-of.js';
import { armCrashPoint, armNoSpace } from './store/crash.js';
import { localFqdn } from './submit/hostname.js';
import { acceptInput, acceptor, discard } from './submit/accept.js';
import { readInput } from './submit/stdin.js';
import { noTrace } from './report/trace.js';
import { newHeader } from './store/header.js';
import { IdAllocator } from './store/ids.js';
import { scratchDir, spoolLayout } from './store/spool.js';
import { spoolSubmission } from './queue/spool-submit.js';
import { clockOf } from './queue/clock.js';
import { startDropDeliverer } from './queue/detach.js';
import type { Io, Prepared } from './main.js';

/** lib/main.ts's main, from the second bundle. */
export type FullMain = (argv: string[], io: Io, pre?: Prepared) => Promise<number>;

/** lib/ops/program.ts's operatorMain, from the third bundle (commander). */
export type OpsMain = (argv: string[], io: Io) => Promise<number>;

/**
 * Run send-smarthost; `full` loads the rest of the program when this path
 * does not apply, `ops` the operator command line (--help, --version, the
 * subcommands).
 */
export async function fastMain(argv: string[], io: Io, full: () => FullMain, ops: () => OpsMain): Promise<number> {
  try {
    if (operatorCommand(argv, io.invokedAs)) return await ops()(argv, io);
    const inv = parseArgs(argv, io.invokedAs);
    // -v/-d (a trace), -bs, -bp, -q, -M, newaliases…: the full program
    if (inv.mode !== 'm' || inv.verbose || inv.debug || queueCommandOf(inv) !== undefined || io.stdinFd === undefined) return await full()(argv, io, { inv });
    armCrashPoint(io.env.SEND_SMARTHOST_TEST_CRASH); // test-only (lib/store/crash.ts)
    armNoSpace(io.env.SEND_SMARTHOST_TEST_ENOSPC);
    const config = await invocationConfig(inv.configFile ?? io.env.SEND_SMARTHOST_CONFIG, inv.configOverrides);
    const mode = deliveryMode(inv, config, io.self !== undefined);
    if (mode === 'i' || !config.route) return await full()(argv, io, { inv, config });

    const fqdn = localFqdn();
    const a = await acceptor(config, fqdn, noTrace, (w) => io.stderr(`send-smarthost: warning: ${w}\n`), io.user);
    const spool = spoolLayout(config.spoolDirectory);
    // where a large message is kept while it is prepared (decided only for one)
    const scratch = (): string => scratchDir(spool, { space: config.checkSpoolSpace, inodes: config.checkSpoolInodes });
    const raw = await readInput(io.stdinFd, async () => (await import('./submit/message.js')).readAll(io.stdin), { spillDir: scratch });
    const { envelope, data } = acceptInput(raw, inv, a, io.user, noTrace, scratch);

    const now = clockOf(io.env);
    const ids = new IdAllocator(process.pid, now);
    const h = newHeader(ids.next(), envelope.sender, envelope.recipients, dataSize(data), now(), { uid: process.getuid?.() ?? -1, user: io.user }, envelope.parents);
    if (envelope.dsn) h.dsn = envelope.dsn;
    const self = io.self;
    const code = await spoolSubmission(h, data, mode, false, {
      spool,
      newId: () => ids.next(),
      ...(self ? { startDeliverer: (id: string) => startDropDeliverer(self, inv.configFile ?? io.env.SEND_SMARTHOST_CONFIG, id, io.env, io.stderr) } : {}),
      say: (line) => io.stderr(`send-smarthost: ${line}\n`),
      trace: () => {},
      reserve: { space: config.checkSpoolSpace, inodes: config.checkSpoolInodes },
    });
    if (code !== undefined) {
      discard(data); // a large message's temporary file, now copied into the spool
      return code;
    }
    // not spooled for the background (no usable spool): deliver it now (lib/main.ts discards it then)
    return await full()(argv, io, { inv, config, accepted: { envelope, data } });
  } catch (err) {
    return reportError(err, io.stderr);
  }
}
