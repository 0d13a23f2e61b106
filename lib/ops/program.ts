/**
 * The operator command line: `send-smarthost --help`, `--version` and the
 * subcommands, built with commander. Loaded only when lib/submit/cli.ts's
 * operatorCommand() says argv asks for it (the entry bundle hands it over
 * through its own bundle, dist/ops.cjs), so no submission pays for commander.
 * The sendmail flags are parsed by cli.ts; their help lines come from its
 * FLAGS table, so --help lists exactly what the parser accepts.
 */
import { realpathSync } from 'node:fs';
import { Command, CommanderError, Help } from 'commander';
import { EX } from '../errors.js';
import { FLAGS } from '../submit/cli.js';
import { VERSION } from '../version.js';
import type { Io } from '../main.js';

/** `send-smarthost 0.1.0 (Node.js v20.20.2)`. */
export const versionText = (): string => `send-smarthost ${VERSION} (Node.js ${process.version})\n`;

/** The sendmail flags section of --help, from cli.ts's table. */
function sendmailFlags(help: Help, width: number): string {
  const row = (flag: string, text: string): string => help.formatItem(flag, width, text, help);
  const used = FLAGS.filter((f) => !f.ignored).map((f) => row(f.flag, f.help));
  const ignored = FLAGS.filter((f) => f.ignored).map((f) => row(f.flag, f.help));
  return ['', 'Sendmail flags (any order, mixed with the recipients):', ...used, '', 'Accepted for sendmail compatibility and ignored:', ...ignored, ''].join('\n');
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The program; `out`/`err` receive what commander prints. */
export function operatorProgram(out: (text: string) => void, err: (text: string) => void): Command {
  const program = new Command('send-smarthost')
    .usage('[sendmail flags] [--] [recipient ...]')
    .description(
      'Reads a message on standard input and hands it to the configured smarthost,\n' +
        'verifying its TLS certificate against the name in route_data (also when that\n' +
        'name is a CNAME). Called as sendmail, mailq or newaliases it behaves as those.',
    )
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .helpOption('--help', 'print this help and exit')
    .version(versionText().trimEnd(), '--version', 'print the version and exit')
    .option('--install-links', 'make /usr/sbin/sendmail, /usr/lib/sendmail, mailq and newaliases point at send-smarthost')
    .option('--prefix <dir>', 'with --install-links: under this directory instead of /')
    .option('--force', 'with --install-links: replace another MTA\'s names, keeping them for --undo')
    .option('--undo', 'with --install-links: remove the links and put back what --force replaced');
  program.configureHelp({ sortSubcommands: false, helpWidth: 100 });
  program
    .command('check')
    .argument('[route]', "a route_data value (e.g. 'mail.example.com bydns ipv4_only'); default: the configuration's")
    .description(
      'Resolve the smarthost as a delivery would and open a session to each of its addresses, sending no mail:\n' +
        'names and CNAME chain, addresses in order, banner, EHLO, STARTTLS, TLS version and cipher, the\n' +
        "certificate, which name was verified and the verdict, AUTH; then QUIT. Exit 0 when delivery is\n" +
        'possible, else the code a delivery would have (69, 75; 78 for a configuration error).',
    )
    .option('--json', 'write one JSON document on standard output (schema/check.schema.json)')
    .option('-C <file>', 'use this configuration file')
    .option('-O <name=value>', 'a configuration option for this run (repeatable)', collect, [])
    .option('-d', 'debug trace (Exim style) on standard error')
    .option('-v', 'show the SMTP dialogue on standard error');
  program.addHelpText('after', ({ command }) => {
    const help = command.createHelp();
    return sendmailFlags(help, Math.max(help.padWidth(command, help), ...FLAGS.map((f) => f.flag.length)));
  });
  return program;
}

/** --install-links (lib/ops/install-links.ts): one line per name; 73 when one was refused or failed. */
async function links(io: Io, opts: { prefix: string | undefined; force: boolean; undo: boolean }): Promise<number> {
  const { installLinks, describe } = await import('./install-links.js');
  if (!io.self) {
    io.stderr('send-smarthost: --install-links: cannot tell where send-smarthost is installed\n');
    return EX.SOFTWARE;
  }
  const target = realpathSync(io.self.script);
  const results = installLinks(target, { ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}), force: opts.force, undo: opts.undo });
  for (const r of results) {
    if (r.error || r.action.do === 'refuse') io.stderr(`send-smarthost: ${describe(r, target)}\n`);
    else io.stdout(`${describe(r, target)}\n`);
  }
  return results.some((r) => r.error || r.action.do === 'refuse') ? EX.CANTCREAT : EX.OK;
}

/** Run an operator command line; resolves to the exit status. */
export async function operatorMain(argv: string[], io: Io): Promise<number> {
  const program = operatorProgram(io.stdout, io.stderr);
  // the first word (operatorCommand): --version and --help win over whatever follows
  if (argv[0] === '--version') {
    io.stdout(versionText());
    return EX.OK;
  }
  if (argv[0] === '--help') {
    program.outputHelp(); // with the sendmail flags (addHelpText) on io.stdout
    return EX.OK;
  }
  let code: number = EX.OK;
  program.commands
    .find((c) => c.name() === 'check')!
    .action(async (route: string | undefined, o: { json?: boolean; C?: string; O: string[]; d?: boolean; v?: boolean }) => {
      const { runCheck } = await import('./check.js');
      code = await runCheck(route, o, io);
    });
  program.action(async (o: { installLinks?: boolean; prefix?: string; force?: boolean; undo?: boolean }) => {
    if (!o.installLinks) program.error('nothing to do: see --help', { exitCode: EX.USAGE });
    code = await links(io, { prefix: o.prefix, force: o.force === true, undo: o.undo === true });
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EX.OK : EX.USAGE;
    throw e;
  }
}
