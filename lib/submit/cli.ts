/**
 * The sendmail command line → {@link Invocation}.
 *
 * Two passes, nothing printed and nothing exits here. A pre-pass rewrites
 * sendmail's argv into one token per option (deps.md §5): `-d` and `-q` take
 * attached values only (`-d a@y` is debugging plus a recipient), clusters
 * such as `-ti` or `-vd0.1` are split, the separate value of a value-taking
 * flag is passed through untouched (`-f ''`, `-f -x`), everything after `--`
 * is an operand, and unknown flags are rejected by name. A table-driven
 * reader then stores the tokens as commander 14 did (options anywhere among
 * the operands, the last value wins, -o/-O/-e/-A collect, `--no-queue` sets
 * `queue` false). Commander itself is no longer loaded: it cost ≈ 15 % of the
 * start-up (its 120 KB and node:child_process); test/submit/cli-commander.ts
 * checks this reader against commander on the same tokens.
 *
 * Untrusted input: argv comes from any local user or from software that
 * composes it; addresses are validated later (address.ts), the full name here.
 */
import { quote } from './address.js';
import { checkEnvid } from './dsn.js';
import { usageError } from '../errors.js';
import type { DeliveryMode, Invocation } from '../types.js';

/** sendmail's -b modes (sendmail 8). Only 'm' delivers; main decides what to say about the rest. */
export const MODES: Readonly<Record<string, string>> = {
  m: 'deliver mail (default)',
  s: 'SMTP on standard input/output',
  p: 'print the queue (mailq)',
  pc: 'print the number of queued messages',
  i: 'check the aliases file (newaliases; there is no database to rebuild)',
  v: 'verify addresses',
  t: 'address test mode',
  d: 'run as a daemon',
  D: 'run as a daemon in the foreground',
  h: 'print the host status database',
  H: 'purge the host status database',
  P: 'print the shared-memory queue counts',
  C: 'check the configuration',
  a: 'ARPANET mode',
};

/** Boolean flags that may be clustered (`-ti`). */
const BOOL = new Set(['t', 'i', 'v', 'G', 'U', 'm', 'n']);
/** Flags whose value is attached (`-fme@x`) or the next word (`-f me@x`), like getopt's `x:`. */
const VALUE = new Set(['f', 'r', 'F', 'N', 'B', 'o', 'b', 'O', 'e', 'R', 'V', 'h', 'L', 'C', 'X', 'A']);

/**
 * Rewrite sendmail argv into one token per option (read by readTokens). Exported for tests.
 * @throws SmarthostError E_USAGE naming an unknown flag or a flag missing its value.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '--help' || a === '--no-queue' || a === '--init-spool') {
      out.push(a);
      continue;
    }
    if (a === '-M' || a === '-Mrm' || a === '--deliver-drop') {
      // Exim: the operands are message ids (--deliver-drop: the background deliverer's, see -odb)
      out.push(a === '-M' ? '--deliver-ids' : a === '-Mrm' ? '--remove-ids' : '--drop-ids');
      continue;
    }
    if (a.startsWith('--')) throw usageError(`unknown option ${quote(a.split('=')[0])}`);
    if (!a.startsWith('-') || a === '-') {
      out.push(a);
      continue;
    }
    let rest = a.slice(1);
    while (rest !== '') {
      const c = rest[0]!;
      const attached = rest.slice(1);
      if (BOOL.has(c)) {
        out.push(`-${c}`);
        rest = attached;
      } else if (c === 'd' || c === 'q') {
        const long = c === 'd' ? '--debug' : '--queue';
        out.push(...(attached === '' ? [long] : [`${long}-arg`, attached]));
        rest = '';
      } else if (VALUE.has(c)) {
        if (attached !== '') out.push(`-${c}`, attached);
        else if (i + 1 < argv.length) out.push(`-${c}`, argv[++i]!);
        else throw usageError(`option "-${c}" needs a value`);
        rest = '';
      } else {
        throw usageError(`unknown option ${quote(`-${c}`)}`);
      }
    }
  }
  return out;
}

const usageIf = (cond: boolean, message: string): void => {
  if (cond) throw usageError(message);
};

/** The -b modes send-smarthost implements; the other sendmail modes are refused, never run as -bm. */
export const SUPPORTED_MODES: ReadonlySet<string> = new Set(['m', 's', 'p', 'pc', 'i']);

function parseMode(v: string): string {
  usageIf(!Object.hasOwn(MODES, v), `unknown mode "-b${v}" (known: ${Object.keys(MODES).map((m) => `-b${m}`).join(' ')})`);
  usageIf(!SUPPORTED_MODES.has(v), `-b${v} (${MODES[v]}) is not supported by send-smarthost`);
  return v;
}

/** -N: `never`, or a comma list of success, failure, delay (RFC 3461 NOTIFY). Returned upper-case. */
function parseNotify(v: string): string {
  noControls('-N', v);
  const parts = v.toLowerCase().split(',').map((s) => s.trim());
  const ok =
    (parts.length === 1 && parts[0] === 'never') ||
    parts.every((p) => p === 'success' || p === 'failure' || p === 'delay');
  usageIf(!ok, `bad -N value ${quote(v)} (want never, or a list of success,failure,delay)`);
  return parts.join(',').toUpperCase();
}

/** -R: `hdrs` or `full` (RFC 3461 RET). Returned upper-case. */
function parseRet(v: string): string {
  const r = v.toUpperCase();
  usageIf(r !== 'HDRS' && r !== 'FULL', `bad -R value ${quote(v)} (want hdrs or full)`);
  return r;
}

function noControls(flag: string, v: string): string {
  usageIf(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(v), `bad ${flag} value ${quote(v)}: control character`);
  return v;
}

/** -f/-r value: '' and '<>' are the null sender; one pair of surrounding <> is removed. */
function senderValue(v: string): string {
  // only blanks are trimmed: a CR/LF/NUL stays and normalizeAddress refuses it (no silent repair)
  const s = v.replace(/^[ \t]+|[ \t]+$/g, '');
  return s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1).trim() : s;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** -o options that mean something here: -odX (delivery mode) and -oeX (error mode). */
const HONOURED_O = /^(d[bifqd]|dqs|e[pmeqw])$/;

/** The delivery mode an -odX names: sendmail's b, i, q, d (deferred: queued) and Exim's f (foreground) and qs. */
const DELIVERY_MODES: Readonly<Record<string, DeliveryMode>> = { db: 'b', di: 'i', df: 'i', dq: 'q', dd: 'q', dqs: 'q' };

/** The shape of a queue message id (lib/store/ids.ts). */
const MESSAGE_ID = /^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/;

/** How the reader stores one option token: under `key`, true, or its value (through `parse`). */
interface OptionSpec {
  key: string;
  /** Takes the next token as its value. */
  value: boolean;
  /** Turns the value into what is stored; gets the value stored so far (collect). */
  parse?: (v: string, previous: unknown) => unknown;
}

/** The value checks of -F, -b, -N, -R and -V (each throws SmarthostError E_USAGE naming the value). Exported for tests. */
export const VALUE_CHECKS = {
  F: (v: string): string => noControls('-F', v),
  b: parseMode,
  N: parseNotify,
  R: parseRet,
  V: (v: string): string => checkEnvid(noControls('-V', v)),
} as const;

/** The options the pre-pass emits, by token. */
function optionTable(setSender: (v: string) => string): ReadonlyMap<string, OptionSpec> {
  const flag = (key: string): OptionSpec => ({ key, value: false });
  const value = (key: string, parse?: OptionSpec['parse']): OptionSpec => ({ key, value: true, parse });
  const list = (key: string): OptionSpec => value(key, (v, prev) => collect(v, prev as string[]));
  return new Map<string, OptionSpec>([
    ['--help', flag('help')],
    ...['t', 'i', 'v', 'G', 'U', 'm', 'n'].map((c): [string, OptionSpec] => [`-${c}`, flag(c)]),
    ['--debug', flag('debug')],
    ['--debug-arg', value('debugArg')],
    ['--queue', flag('queue')],
    ['--queue-arg', value('queueArg')],
    ['--init-spool', flag('initSpool')],
    ['--deliver-ids', flag('deliverIds')],
    ['--remove-ids', flag('removeIds')],
    ['--drop-ids', flag('dropIds')],
    ['-f', value('f', setSender)],
    ['-r', value('r', setSender)],
    ['-F', value('F', VALUE_CHECKS.F)],
    ['-b', value('b', VALUE_CHECKS.b)],
    ['-o', list('o')],
    ['-O', list('O')],
    ['-N', value('N', VALUE_CHECKS.N)],
    ['-R', value('R', VALUE_CHECKS.R)],
    ['-V', value('V', VALUE_CHECKS.V)],
    ...['B', 'C', 'h', 'L', 'X'].map((c): [string, OptionSpec] => [`-${c}`, value(c)]),
    ['-e', list('e')],
    ['-A', list('A')],
  ]);
}

/**
 * Store the pre-pass's tokens: option values by key, and the operands in order. Exported for tests.
 * @throws SmarthostError E_USAGE for a token the pre-pass never emits (defensive).
 */
export function readTokens(tokens: readonly string[], setSender: (v: string) => string): { opts: Record<string, unknown>; args: string[] } {
  const table = optionTable(setSender);
  const opts: Record<string, unknown> = { o: [], O: [], e: [], A: [] };
  const args: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === '--') {
      args.push(...tokens.slice(i + 1));
      break;
    }
    if (tok.length < 2 || !tok.startsWith('-')) {
      args.push(tok);
      continue;
    }
    if (tok === '--no-queue') {
      opts.queue = false;
      continue;
    }
    const spec = table.get(tok);
    if (!spec) throw usageError(`unknown option ${quote(tok)}`);
    if (!spec.value) {
      opts[spec.key] = true;
      continue;
    }
    const v = tokens[++i];
    if (v === undefined) throw usageError(`option ${quote(tok)} needs a value`);
    opts[spec.key] = spec.parse ? spec.parse(v, opts[spec.key]) : v;
  }
  return { opts, args };
}

/** Whether a sendmail -O option sets IgnoreDots (`-O IgnoreDots`, `-O IgnoreDots=true`). */
function oIgnoreDots(opts: string[]): boolean {
  let on = false;
  for (const o of opts) {
    const m = /^ignoredots(?:=(.*))?$/i.exec(o.trim());
    if (m) on = m[1] === undefined || /^(t|true|y|yes|on|1)$/i.test(m[1].trim());
  }
  return on;
}

/**
 * Parse a sendmail command line (argv without the program name).
 *
 * `invokedAs` is the program's base name: `mailq` selects -bp and
 * `newaliases` -bi, as with sendmail; an explicit -b wins.
 *
 * Added to {@link Invocation} (optional fields): `help`, `debugFlags`,
 * `queueArg`, `bodyType`, `ignored`.
 *
 * @throws SmarthostError E_USAGE (kind 'usage', exit 64): unknown flag
 *   (`unknown option "-Z"`), a flag without its value (`option "-f" needs a
 *   value`), an unknown -b mode, a bad -N/-R value, a control character in
 *   -F/-V, or -bm without -t and without recipients ("Recipient names must
 *   be specified", as sendmail says).
 */
export function parseArgs(argv: readonly string[], invokedAs?: string): Invocation {
  let sender: string | undefined;
  const { opts: o, args } = readTokens(normalizeArgv(argv), (v) => (sender = senderValue(v)));
  const str = (k: string): string | undefined => o[k] as string | undefined;
  const list = (k: string): string[] => o[k] as string[];
  const flag = (k: string): boolean => o[k] === true;

  const options = list('o');
  const defaultMode = invokedAs === 'mailq' ? 'p' : invokedAs === 'newaliases' ? 'i' : 'm';
  const ignored: string[] = [];
  for (const k of ['G', 'U', 'm', 'n']) if (flag(k)) ignored.push(`-${k}`);
  for (const k of ['B', 'h', 'L', 'X']) if (str(k) !== undefined) ignored.push(`-${k}${str(k)}`);
  for (const k of ['O', 'e', 'A']) for (const v of list(k)) if (!(k === 'e' && /^[pmeqw]$/.test(v))) ignored.push(`-${k}${v}`);
  for (const v of options) if (v !== 'i' && !HONOURED_O.test(v)) ignored.push(`-o${v}`);
  const queueArg = str('queueArg');
  usageIf(
    queueArg !== undefined && queueArg !== 'f' && queueArg !== 'ff',
    `-q${queueArg ?? ''}: send-smarthost does not run as a daemon and knows no queue selectors; run "send-smarthost -q" from cron or a systemd timer (see contrib/)`,
  );
  const errorModes = [...options.filter((o) => /^e[pmeqw]$/.test(o)).map((o) => o[1]!), ...list('e').filter((e) => /^[pmeqw]$/.test(e))];
  const delivery = options.map((o) => DELIVERY_MODES[o]).filter((m) => m !== undefined);
  const messageAction = flag('deliverIds') ? 'deliver' : flag('removeIds') ? 'remove' : flag('dropIds') ? 'drop' : undefined;

  const inv: Invocation = {
    recipients: args,
    extractRecipients: flag('t'),
    ignoreDots: flag('i') || options.includes('i') || oIgnoreDots(list('O')),
    sender,
    fullName: str('F'),
    verbose: flag('v'),
    debug: flag('debug') || str('debugArg') !== undefined,
    configFile: str('C'),
    mode: str('b') ?? defaultMode,
    queueRun: flag('queue') || str('queueArg') !== undefined,
    options,
    dsnNotify: str('N'),
    dsnRet: str('R'),
    dsnEnvid: str('V'),
    help: flag('help'),
    debugFlags: str('debugArg'),
    queueArg: str('queueArg'),
    bodyType: str('B'),
    ignored,
    queueOnly: delivery.at(-1) === 'q',
    ...(delivery.length > 0 ? { deliveryMode: delivery.at(-1) } : {}),
    noQueue: o.queue === false,
    queueForce: queueArg === 'f' || queueArg === 'ff',
    ...(messageAction ? { messageAction } : {}),
    initSpool: flag('initSpool'),
    ...(errorModes.length ? { errorMode: errorModes[errorModes.length - 1] as Invocation['errorMode'] } : {}),
  };
  if (messageAction) {
    usageIf(inv.recipients.length === 0, `${({ deliver: '-M', remove: '-Mrm', drop: '--deliver-drop' } as const)[messageAction]} needs message ids`);
    for (const id of inv.recipients) usageIf(!MESSAGE_ID.test(id), `not a message id: ${quote(id)} (ids look like 1jiFk5-0006UE-9S)`);
  }
  if (inv.mode === 'm' && !inv.help && !inv.queueRun && !messageAction && !inv.initSpool && !inv.extractRecipients && inv.recipients.length === 0) {
    throw usageError('Recipient names must be specified (as arguments, or with -t in To, Cc, Bcc)');
  }
  return inv;
}

/** One screen of help for `--help` (`-h` is sendmail's hop count). */
export function usage(prog = 'send-smarthost'): string {
  return `usage: ${prog} [flags] [--] [recipient ...]
       ${prog} -t [flags] [recipient ...]     (recipients also from To, Cc, Bcc)
       ${prog} -bs | -bp | -bpc | -q | -qf | -M id... | -Mrm id... | --init-spool

Reads a message on standard input and hands it to the configured smarthost.

  -t            add recipients from the To, Cc and Bcc headers (Bcc is removed)
  -i, -oi       a line with a single '.' does not end the message
  -f addr       envelope sender ('' or '<>' for the null sender); also -faddr
  -r addr       same as -f
  -F name       full name of the sender
  -v            verbose: show the SMTP dialogue
  -d[flags]     debug trace (Exim style)
  -C file       use this configuration file
  -bm           read a message and deliver it (default)
  -bs           speak SMTP on standard input/output
  -bp           list the queue (also when called as mailq); -bpc counts it
  -bi           check the aliases file (also newaliases; there is no database)
  -q, -qf       run the queue once (-qf: also messages not yet due); no daemon
  -M id...      deliver these queued messages now; -Mrm id... removes them
  -odb          spool, deliver in the background, exit 0 (the default)
  -odi          deliver now; the exit status tells the result (-v, -d imply it)
  -odq          queue the message without trying to deliver it now
  --no-queue    never queue: a temporary failure exits 75 (queue_deferred = false)
  -oep -oem -oee -oeq  on a permanent failure: print (default), mail a bounce
                (exit 69), bounce and exit 0, stay quiet (also -ep -em -ee -eq)
  --init-spool  create the spool directories (run once by the administrator)
  -N dsn        DSN notify: never, or success,failure,delay
  -R ret        DSN return: hdrs or full
  -V envid      DSN envelope id
  --            the rest are recipients, even if they start with '-'
  --help        this text

Accepted for sendmail compatibility and ignored:
  -o<X> (other than -oi, -odX, -oeX; e.g. -oXfoo), -B type, -h hops,
  -L tag, -O opt=val, -X file, -A<X>, -G, -U, -m, -n
`;
}
