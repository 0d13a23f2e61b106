/**
 * The sendmail command line → {@link Invocation}, in one pass.
 *
 * A getopt in sendmail's manner, nothing printed and nothing exits here:
 * boolean letters cluster (`-ti`); a value-taking letter takes the rest of
 * its word or else the next word, whatever it looks like (`-f ''`, `-f -x`);
 * `-d` and `-q` take attached values only (`-d a@y` is debugging plus a
 * recipient); options may stand anywhere among the operands; everything after
 * `--` is an operand; for a repeated option the last value wins (-o, -O, -e,
 * -A collect); an unknown flag is refused by name. The same table
 * ({@link FLAGS}) also gives the --help listing (lib/ops/help.ts), so the
 * listing and the parser cannot disagree.
 *
 * The operator surface (`send-smarthost check`, `--help`, `--version`) is
 * parsed by commander in lib/ops/, loaded only when one of those runs
 * ({@link operatorCommand} decides); a submission's start-up never loads it.
 *
 * Untrusted input: argv comes from any local user or from software that
 * composes it; addresses are validated later (address.ts), the full name here.
 */
import { quote } from './address.js';
import { checkEnvid } from './dsn.js';
import { usageError } from '../errors.js';
import type { ConfigOverride, DeliveryMode, Invocation, MessageAction } from '../types.js';

/** sendmail's -b modes (sendmail 8). Only 'm' delivers; main decides what to say about the rest. */
export const MODES: Readonly<Record<string, string>> = {
  m: 'deliver mail (default)',
  s: 'SMTP on standard input/output',
  p: 'print the queue (mailq)',
  pc: 'print the number of queued messages',
  pu: 'print the queue, only the recipients not yet delivered',
  pr: 'print the queue, not sorted by arrival',
  pa: 'print the queue, with the delivered addresses that aliases generated',
  pru: 'print the queue unsorted, only the recipients not yet delivered',
  pra: 'print the queue unsorted, with the addresses that aliases generated',
  i: 'check the aliases file (newaliases; there is no database to rebuild)',
  v: 'verify addresses: are they routable? (no mail is sent)',
  t: 'address test: how each address is routed, through which aliases to which hosts (no mail is sent)',
  V: 'print the version, what is supported, and the configuration file in effect',
  d: 'run as a daemon',
  D: 'run as a daemon in the foreground',
  h: 'print the host status database',
  H: 'purge the host status database',
  P: 'print the effective configuration (all options, or those named)',
  C: 'check the configuration',
  a: 'ARPANET mode',
};

/** The -b modes send-smarthost implements; the other sendmail modes are refused, never run as -bm. */
export const SUPPORTED_MODES: ReadonlySet<string> = new Set(['m', 's', 'p', 'pc', 'pu', 'pr', 'pa', 'pru', 'pra', 'i', 't', 'v', 'V', 'P']);

/** One line of the flag listing: the flag as written, what it does; `ignored` ones are accepted for compatibility only. */
export interface FlagHelp {
  flag: string;
  help: string;
  ignored?: true;
}

/** Every sendmail flag the parser knows, in the order --help lists them. */
export const FLAGS: readonly FlagHelp[] = [
  { flag: '-t', help: 'add recipients from the To, Cc and Bcc headers (Bcc is removed)' },
  { flag: '-i, -oi', help: "a line with a single '.' does not end the message" },
  { flag: '-f addr', help: "envelope sender ('' or '<>' for the null sender); also -faddr" },
  { flag: '-r addr', help: 'same as -f' },
  { flag: '-F name', help: 'full name of the sender' },
  { flag: '-v', help: 'verbose: show the SMTP dialogue' },
  { flag: '-d[flags]', help: 'debug trace (Exim style)' },
  { flag: '-C file', help: 'use this configuration file' },
  { flag: '-O name=value', help: 'set a configuration option for this run (the message is then delivered now, never queued)' },
  { flag: '-bm', help: 'read a message and deliver it (default)' },
  { flag: '-bs', help: 'speak SMTP on standard input/output' },
  { flag: '-bp', help: 'list the queue (also when called as mailq); -bpc counts it' },
  { flag: '-bpu, -bpa, -bpr', help: 'list the queue: undelivered recipients only / with the addresses aliases generated (+D) / unsorted' },
  { flag: '-bi', help: 'check the aliases file (also newaliases; there is no database)' },
  { flag: '-bt addr...', help: 'show how addresses are routed: aliases (file:line), the smarthost, its names and addresses' },
  { flag: '-bv addr...', help: 'verify that addresses can be routed' },
  { flag: '-bV', help: 'print the version, what is supported, and the configuration file in effect' },
  { flag: '-bP [option...]', help: 'print the effective configuration (secrets masked)' },
  { flag: '-q, -qf, -qff', help: 'run the queue once (-qf: also messages not yet due; -qff: frozen ones too); no daemon' },
  { flag: '-M id...', help: 'deliver these queued messages now (frozen ones too)' },
  { flag: '-Mrm id...', help: 'remove these queued messages' },
  { flag: '-Mf id...', help: 'freeze these queued messages (queue runs pass them over)' },
  { flag: '-Mt id...', help: 'thaw these frozen messages' },
  { flag: '-Mvh id', help: "print a queued message's header section" },
  { flag: '-Mvb id', help: "print a queued message's body" },
  { flag: '-Mvl id', help: "print a queued message's lines of the main log" },
  { flag: '-odb', help: 'spool, deliver in the background, exit 0 (the default)' },
  { flag: '-odi', help: 'deliver now; the exit status tells the result (-v, -d imply it)' },
  { flag: '-odq', help: 'queue the message without trying to deliver it now' },
  { flag: '--no-queue', help: 'never queue: a temporary failure exits 75 (queue_deferred = false)' },
  { flag: '-oep, -oem, -oee, -oeq', help: 'on a permanent failure: print (default), mail a bounce (exit 69), bounce and exit 0, stay quiet (also -ep -em -ee -eq)' },
  { flag: '--init-spool', help: 'create the spool directories and the log directory (run once by the administrator)' },
  { flag: '-N dsn', help: 'DSN notify: never, or success,failure,delay' },
  { flag: '-R ret', help: 'DSN return: hdrs or full' },
  { flag: '-V envid', help: 'DSN envelope id' },
  { flag: '--', help: "the rest are recipients, even if they start with '-'" },
  { flag: '-o<X>', help: 'other -o options (e.g. -oXfoo)', ignored: true },
  { flag: '-O Name=value', help: "sendmail options (capitalised names; -O IgnoreDots is honoured)", ignored: true },
  { flag: '-B type', help: '8-bit data is detected', ignored: true },
  { flag: '-h hops', help: 'hop count', ignored: true },
  { flag: '-L tag', help: 'syslog tag', ignored: true },
  { flag: '-X file', help: 'traffic log file', ignored: true },
  { flag: '-A<X>', help: 'submit.cf or sendmail.cf', ignored: true },
  { flag: '-G, -U, -m, -n', help: 'gateway, initial submission, me too, no aliasing', ignored: true },
];

/** Boolean letters, which may be clustered (`-ti`). */
const BOOL = new Set(['t', 'i', 'v', 'G', 'U', 'm', 'n']);
/** Letters whose value is attached (`-fme@x`) or the next word (`-f me@x`), like getopt's `x:`. */
const VALUE = new Set(['f', 'r', 'F', 'N', 'B', 'o', 'b', 'O', 'e', 'R', 'V', 'h', 'L', 'C', 'X', 'A']);

/** The operator commands, parsed by commander (lib/ops/), when the program is called as send-smarthost. */
export const SUBCOMMANDS: ReadonlySet<string> = new Set<string>(['check']);

/**
 * Whether argv asks for the operator surface (lib/ops/, commander) rather
 * than sendmail's: its first word is `--help`, `--version` or
 * `--install-links`, or a
 * subcommand when called as send-smarthost (as `sendmail`, `mailq` or
 * `newaliases` a first word is always a recipient). Only the first word:
 * `sendmail -t --help` is a usage error (exit 64), so a caller that pipes a
 * message is never answered with help and exit 0 while its message is dropped.
 */
export function operatorCommand(argv: readonly string[], invokedAs = 'send-smarthost'): boolean {
  const first = argv[0];
  if (first === '--help' || first === '--version' || first === '--install-links') return true;
  return invokedAs === 'send-smarthost' && first !== undefined && SUBCOMMANDS.has(first);
}

const usageIf = (cond: boolean, message: string): void => {
  if (cond) throw usageError(message);
};

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

/**
 * -O: a lower-case name is one of our configuration options (`-O
 * route_data=…`, `-O port=587`, `-O no_queue_deferred`), checked later
 * against the option table exactly as a line of the file; a name with a
 * capital letter is one of sendmail's own options (`-O IgnoreDots`), of
 * which IgnoreDots is honoured and the rest ignored.
 */
export function configOverride(v: string): ConfigOverride | undefined {
  const m = /^\s*([A-Za-z][\w-]*)\s*(?:=(.*))?$/s.exec(v);
  if (m && /[A-Z]/.test(m[1]!)) return undefined; // sendmail's
  usageIf(!m, `bad -O value ${quote(v)} (want name=value)`);
  noControls('-O', v);
  return { name: m![1]!, ...(m![2] !== undefined ? { value: m![2].trim() } : {}) };
}

/** Whether sendmail -O options set IgnoreDots (`-O IgnoreDots`, `-O IgnoreDots=true`). */
function oIgnoreDots(opts: readonly string[]): boolean {
  let on = false;
  for (const o of opts) {
    const m = /^ignoredots(?:=(.*))?$/i.exec(o.trim());
    if (m) on = m[1] === undefined || /^(t|true|y|yes|on|1)$/i.test(m[1].trim());
  }
  return on;
}

/** -o options that mean something here: -odX (delivery mode) and -oeX (error mode). */
const HONOURED_O = /^(d[bifqd]|dqs|e[pmeqw])$/;

/** The delivery mode an -odX names: sendmail's b, i, q, d (deferred: queued) and Exim's f (foreground) and qs. */
const DELIVERY_MODES: Readonly<Record<string, DeliveryMode>> = { db: 'b', di: 'i', df: 'i', dq: 'q', dd: 'q', dqs: 'q' };

/** The shape of a queue message id (lib/store/ids.ts). */
const MESSAGE_ID = /^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/;

/** The word of each message action (Exim's -M letters; --deliver-drop is the -odb deliverer's). */
const ACTION_FLAG: Readonly<Record<MessageAction, string>> = {
  deliver: '-M',
  remove: '-Mrm',
  freeze: '-Mf',
  thaw: '-Mt',
  'show-header': '-Mvh',
  'show-body': '-Mvb',
  'show-log': '-Mvl',
  drop: '--deliver-drop',
};

/** The actions on one message only (Exim: "Only one message can be listed at once"). */
const ONE_ID: ReadonlySet<MessageAction> = new Set(['show-header', 'show-body', 'show-log']);

/** Long options and whole words; each sets one field of the parse state. */
const WORDS: Readonly<Record<string, (s: State) => void>> = {
  '--no-queue': (s) => void (s.noQueue = true),
  '--init-spool': (s) => void (s.initSpool = true),
  // Exim: the operands are message ids (--deliver-drop: the background deliverer's, see -odb)
  '-M': (s) => void (s.messageAction = 'deliver'),
  '-Mrm': (s) => void (s.messageAction = 'remove'),
  '-Mf': (s) => void (s.messageAction = 'freeze'),
  '-Mt': (s) => void (s.messageAction = 'thaw'),
  '-Mvh': (s) => void (s.messageAction = 'show-header'),
  '-Mvb': (s) => void (s.messageAction = 'show-body'),
  '-Mvl': (s) => void (s.messageAction = 'show-log'),
  '--deliver-drop': (s) => void (s.messageAction = 'drop'),
};

/** What the pass collects before the Invocation is assembled. */
interface State {
  operands: string[];
  bool: Set<string>;
  /** Single-valued letters (-F, -b, -N, -R, -V, -B, -C, -h, -L, -X): the last value. */
  value: Map<string, string>;
  o: string[];
  sendmailO: string[];
  overrides: ConfigOverride[];
  e: string[];
  A: string[];
  sender?: string;
  debug: boolean;
  debugFlags?: string;
  queue: boolean;
  queueArg?: string;
  noQueue: boolean;
  initSpool: boolean;
  messageAction?: MessageAction;
}

/** Store the value of letter `c` (its check runs now, so values are refused in argv order). */
function setValue(s: State, c: string, v: string): void {
  switch (c) {
    case 'f':
    case 'r':
      s.sender = senderValue(v);
      return;
    case 'o':
      s.o.push(v);
      return;
    case 'e':
      s.e.push(v);
      return;
    case 'A':
      s.A.push(v);
      return;
    case 'O': {
      const ov = configOverride(v);
      if (ov) s.overrides.push(ov);
      else s.sendmailO.push(v);
      return;
    }
    case 'F':
      s.value.set(c, noControls('-F', v));
      return;
    case 'b':
      s.value.set(c, parseMode(v));
      return;
    case 'N':
      s.value.set(c, parseNotify(v));
      return;
    case 'R':
      s.value.set(c, parseRet(v));
      return;
    case 'V':
      s.value.set(c, checkEnvid(noControls('-V', v)));
      return;
    default:
      s.value.set(c, v); // B, C, h, L, X
  }
}

/**
 * Parse a sendmail command line (argv without the program name).
 *
 * `invokedAs` is the program's base name: `mailq` selects -bp and
 * `newaliases` -bi, as with sendmail; an explicit -b wins.
 *
 * @throws SmarthostError E_USAGE (kind 'usage', exit 64): unknown flag
 *   (`unknown option "-Z"`), a flag without its value (`option "-f" needs a
 *   value`), an unknown -b mode, a bad -N/-R/-O value, a control character in
 *   -F/-V/-O, or -bm without -t and without recipients ("Recipient names must
 *   be specified", as sendmail says).
 */
export function parseArgs(argv: readonly string[], invokedAs?: string): Invocation {
  const s: State = { operands: [], bool: new Set(), value: new Map(), o: [], sendmailO: [], overrides: [], e: [], A: [], debug: false, queue: false, noQueue: false, initSpool: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      s.operands.push(...argv.slice(i + 1));
      break;
    }
    const word = Object.hasOwn(WORDS, a) ? WORDS[a] : undefined;
    if (word) {
      word(s);
      continue;
    }
    if (a.startsWith('--')) throw usageError(`unknown option ${quote(a.split('=')[0]!)}`);
    if (!a.startsWith('-') || a === '-') {
      s.operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const attached = a.slice(j + 1);
      if (BOOL.has(c)) {
        s.bool.add(c);
        continue;
      }
      if (c === 'd') {
        s.debug = true;
        if (attached !== '') s.debugFlags = attached;
      } else if (c === 'q') {
        s.queue = true;
        if (attached !== '') s.queueArg = attached;
      } else if (VALUE.has(c)) {
        if (attached !== '') setValue(s, c, attached);
        else if (i + 1 < argv.length) setValue(s, c, argv[++i]!);
        else throw usageError(`option "-${c}" needs a value`);
      } else {
        throw usageError(`unknown option ${quote(`-${c}`)}`);
      }
      break; // -d, -q and value letters end the word
    }
  }
  return assemble(s, invokedAs);
}

/** The Invocation from what the pass collected, and the checks that need all of it. */
function assemble(s: State, invokedAs: string | undefined): Invocation {
  const str = (k: string): string | undefined => s.value.get(k);
  const flag = (k: string): boolean => s.bool.has(k);
  const defaultMode = invokedAs === 'mailq' ? 'p' : invokedAs === 'newaliases' ? 'i' : 'm';
  const ignored: string[] = [];
  for (const k of ['G', 'U', 'm', 'n']) if (flag(k)) ignored.push(`-${k}`);
  for (const k of ['B', 'h', 'L', 'X']) if (str(k) !== undefined) ignored.push(`-${k}${str(k)}`);
  for (const v of s.sendmailO) if (!/^ignoredots(=\s*(t|true|y|yes|on|1)\s*)?$/i.test(v.trim())) ignored.push(`-O${v}`);
  for (const v of s.e) if (!/^[pmeqw]$/.test(v)) ignored.push(`-e${v}`);
  for (const v of s.A) ignored.push(`-A${v}`);
  for (const v of s.o) if (v !== 'i' && !HONOURED_O.test(v)) ignored.push(`-o${v}`);
  usageIf(
    s.queueArg !== undefined && s.queueArg !== 'f' && s.queueArg !== 'ff',
    `-q${s.queueArg ?? ''}: send-smarthost does not run as a daemon and knows no queue selectors; run "send-smarthost -q" from cron or a systemd timer (see contrib/)`,
  );
  const errorModes = [...s.o.filter((o) => /^e[pmeqw]$/.test(o)).map((o) => o[1]!), ...s.e.filter((e) => /^[pmeqw]$/.test(e))];
  const delivery = s.o.map((o) => DELIVERY_MODES[o]).filter((m) => m !== undefined);

  const inv: Invocation = {
    recipients: s.operands,
    extractRecipients: flag('t'),
    ignoreDots: flag('i') || s.o.includes('i') || oIgnoreDots(s.sendmailO),
    sender: s.sender,
    fullName: str('F'),
    verbose: flag('v'),
    debug: s.debug,
    configFile: str('C'),
    mode: str('b') ?? defaultMode,
    queueRun: s.queue,
    options: s.o,
    dsnNotify: str('N'),
    dsnRet: str('R'),
    dsnEnvid: str('V'),
    debugFlags: s.debugFlags,
    queueArg: s.queueArg,
    bodyType: str('B'),
    ignored,
    queueOnly: delivery.at(-1) === 'q',
    ...(delivery.length > 0 ? { deliveryMode: delivery.at(-1) } : {}),
    noQueue: s.noQueue,
    queueForce: s.queueArg === 'f' || s.queueArg === 'ff',
    ...(s.messageAction ? { messageAction: s.messageAction } : {}),
    initSpool: s.initSpool,
    ...(errorModes.length ? { errorMode: errorModes[errorModes.length - 1] as Invocation['errorMode'] } : {}),
    ...(s.overrides.length ? { configOverrides: s.overrides } : {}),
  };
  if (s.messageAction) {
    const flag = ACTION_FLAG[s.messageAction];
    usageIf(inv.recipients.length === 0, `${flag} needs message ids`);
    usageIf(ONE_ID.has(s.messageAction) && inv.recipients.length > 1, `${flag} takes one message id`);
    for (const id of inv.recipients) usageIf(!MESSAGE_ID.test(id), `not a message id: ${quote(id)} (ids look like 1jiFk5-0006UE-9S)`);
  }
  if (s.overrides.length && inv.deliveryMode !== undefined && inv.deliveryMode !== 'i') {
    throw usageError(
      `-od${inv.deliveryMode} cannot be combined with -O ${s.overrides[0]!.name}: a message submitted with configuration options is delivered now, never queued for a queue run that would not know them`,
    );
  }
  usageIf((inv.mode === 't' || inv.mode === 'v') && inv.recipients.length === 0, `-b${inv.mode} needs addresses`);
  if (inv.mode === 'm' && !inv.queueRun && !s.messageAction && !inv.initSpool && !inv.extractRecipients && inv.recipients.length === 0) {
    throw usageError('Recipient names must be specified (as arguments, or with -t in To, Cc, Bcc)');
  }
  return inv;
}
