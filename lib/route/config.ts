/**
 * The configuration file, /etc/send-smarthost.conf (man send-smarthost.conf(5)).
 *
 * Syntax follows Exim's main configuration section (Exim spec "The runtime
 * configuration file", "Common option syntax"):
 *  - one `option = value` setting per logical line; option names are lower case;
 *  - leading and trailing white space is ignored;
 *  - a line whose first non-blank character is `#` is a comment; a `#`
 *    anywhere else is data, not a comment;
 *  - a line ending in `\` continues on the next line (leading white space of
 *    the continuation is dropped; comment lines may sit in between; a blank
 *    line ends the continuation);
 *  - a value may be written in double quotes, with the escapes \\ \" \n \t \r
 *    (rarely needed; route_data is the exception: its value is handed to
 *    parseRoute as written, where quotes group a host list containing spaces).
 * Booleans (none yet) would be `name`, `no_name`, `name = true|false|yes|no`,
 * as in Exim: add an entry with `type: 'bool'` to OPTIONS.
 *
 * Every error reads `<file>:<line>: <what is wrong>` and quotes the bad token.
 * parseConfig is pure; loadConfig only reads the file.
 */

import { readFileSync } from 'node:fs';
import { isIP } from './ip.js';
import { isAbsolute } from 'node:path';
import { configError, describeErrno, SmarthostError } from '../errors.js';
import { parseDuration, parseTimeOption as time } from './duration.js';
import { isHostName, parseHostList, splitList } from './hostlist.js';
import { didYouMean, parseRoute } from './route.js';
import { DEFAULT_RETRY_RULES, parseRetryRules } from './retry-rules.js';
import type { Config, ConfigOverride, NameServer } from '../types.js';
import { checkSecurityOptions, SECURITY_OPTIONS, securityDefaults } from './config-security.js';
import { checkConfigSecrets } from './secrets.js';

/** The default configuration file. */
export const DEFAULT_CONFIG_FILE = '/etc/send-smarthost.conf';

/**
 * The configuration of an invocation: the file named with -C or
 * SEND_SMARTHOST_CONFIG, which must exist, else the default one, which may
 * not (the defaults then apply).
 */
export function invocationConfig(named: string | undefined, overrides: readonly ConfigOverride[] = []): Promise<Config> {
  return loadConfig(named ?? DEFAULT_CONFIG_FILE, { mustExist: named !== undefined, overrides });
}

/**
 * Why an invocation that must send mail cannot: no route_data. When the
 * default file is simply absent (a fresh install), say so and how to start.
 */
export function noRouteError(config: Config): SmarthostError {
  if (config.missing) {
    return configError(
      `${config.file} does not exist: nowhere to send mail. Create it with at least "route_data = <your smarthost>" (a commented sample is contrib/send-smarthost.conf in the package; see send-smarthost.conf(5)), or name a file with -C`,
    );
  }
  return configError(`${config.file}: route_data is not set: nowhere to send mail`);
}

/** The default spool (spool_directory); see lib/store/spool.ts for its layout. */
export const DEFAULT_SPOOL_DIRECTORY = '/var/spool/send-smarthost';

/** The default main log (log_file_path), Exim's mainlog under our own name. */
export const DEFAULT_LOG_FILE_PATH = '/var/log/send-smarthost/mainlog';

const q = (s: string): string => JSON.stringify(s);

/** Longest timer Node can run (setTimeout takes a 32-bit signed ms count); we stop at 24 days. */

/** The defaults, as documented in send-smarthost.conf(5). */
export function defaultConfig(file = '(defaults)'): Config {
  return {
    file,
    port: 25,
    hostsRequireTls: parseHostList('*'),
    tlsVerifyCertificates: 'system',
    tlsVerifyCertHostnames: parseHostList('*'),
    dnsTimeout: 2000,
    dnsRetries: 2,
    commandTimeout: 300_000,
    connectTimeout: 300_000,
    ...securityDefaults(),
    retryRules: [...DEFAULT_RETRY_RULES],
    delayWarning: [DEFAULT_DELAY_WARNING],
    logFilePath: DEFAULT_LOG_FILE_PATH,
    spoolDirectory: DEFAULT_SPOOL_DIRECTORY,
    queueDeferred: true,
    deliveryMode: 'b',
    checkSpoolSpace: 10 * 1024 * 1024,
    checkSpoolInodes: 100,
    trustedUsers: [],
    untrustedSetSender: ['*'],
    localFromCheck: true,
    localSenderRetain: false,
  };
}

/** delay_warning's default: Exim's, 24 hours. */
export const DEFAULT_DELAY_WARNING = 86_400_000;

/**
 * delay_warning: Exim's colon-separated list of times, at most 10, each
 * longer than the one before; empty or a zero time: no warnings.
 */
function timeList(v: string, name: string): number[] {
  const items = colonList(v);
  if (items.length === 0) return [];
  if (items.length > 10) throw configError(`${name} takes at most 10 times, got ${items.length}`);
  const times = items.map((item) => {
    if (/^0+(\.0*)?[smhdw]?$/.test(item)) return 0;
    try {
      return parseDuration(item);
    } catch {
      throw configError(`bad time interval ${q(item)} in ${name} (expected e.g. 4h:8h:24h, or 0 for none)`);
    }
  });
  if (times.includes(0)) {
    if (times.length > 1) throw configError(`${name}: a zero time turns the warnings off; it cannot be in a list (${q(v)})`);
    return [];
  }
  for (let i = 1; i < times.length; i++) if (times[i]! <= times[i - 1]!) throw configError(`${name}: each time must be longer than the one before, got ${q(items[i]!)} after ${q(items[i - 1]!)}`);
  return times;
}

/** A size as Exim writes it: a number of bytes, optionally with K, M or G (multiples of 1024). */
function size(v: string, name: string): number {
  const m = /^(\d{1,12})([KMG]?)$/i.exec(v);
  if (!m) throw configError(`bad ${name} ${q(v)} (a size such as 10M, 512K or 0)`);
  return Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as const)[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
}

/** An Exim list (`a : b`, `::` for a colon in an item, `<;` to change the separator), empty items dropped. */
const colonList = (v: string): string[] => splitList(v).filter((x) => x !== '');

type OptionSpec =
  | { type: 'value'; emptyOk?: boolean; raw?: boolean; set: (c: Config, v: string, name: string) => void }
  | { type: 'bool'; set: (c: Config, on: boolean) => void };

function port(v: string, what: string): number {
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 65535)) throw configError(`bad port ${q(v)} ${what} (1-65535)`);
  return n;
}

function dnsServers(v: string): NameServer[] {
  const items = v.split(/[\s,]+/).filter((s) => s !== '');
  if (items.length === 0) throw configError('option "dns_servers" needs at least one address');
  return items.map((item) => {
    const bad = () =>
      configError(`bad DNS server ${q(item)} in dns_servers (expected an IP address, ip:port, [ipv6]:port or a bare IPv6 address)`);
    const what = `in dns_servers item ${q(item)}`;
    const br = /^\[([^\]]+)\](?::(.*))?$/.exec(item);
    if (br) {
      if (!isIP(br[1]!)) throw bad();
      return { address: br[1]!, port: br[2] === undefined ? 53 : port(br[2], what) };
    }
    if (isIP(item)) return { address: item, port: 53 };
    const v4 = /^([^:]+):(.*)$/.exec(item);
    if (v4 && isIP(v4[1]!) === 4) return { address: v4[1]!, port: port(v4[2]!, what) };
    throw bad();
  });
}

function helo(v: string): string {
  const lit = /^\[(IPv6:)?([^\]]+)\]$/i.exec(v);
  const ok = lit ? isIP(lit[2]!) === (lit[1] ? 6 : 4) : isHostName(v);
  if (!ok) throw configError(`bad helo_data ${q(v)} (expected a host name or an address literal such as [192.0.2.1])`);
  return v;
}

/** The options, by their documented names. The names are the interface: keep them. */
const OPTIONS: Record<string, OptionSpec> = {
  route_data: { type: 'value', raw: true, set: (c, v) => void (c.route = parseRoute(v)) },
  port: { type: 'value', set: (c, v) => void (c.port = port(v, 'for port')) },
  helo_data: { type: 'value', set: (c, v) => void (c.heloData = helo(v)) },
  hosts_require_tls: { type: 'value', emptyOk: true, set: (c, v) => void (c.hostsRequireTls = parseHostList(v)) },
  tls_verify_certificates: {
    type: 'value',
    set: (c, v) => {
      if (v !== 'system' && !isAbsolute(v)) {
        throw configError(`tls_verify_certificates must be "system" or an absolute path to a PEM file, got ${q(v)}`);
      }
      c.tlsVerifyCertificates = v;
    },
  },
  tls_verify_cert_hostnames: { type: 'value', emptyOk: true, set: (c, v) => void (c.tlsVerifyCertHostnames = parseHostList(v)) },
  dns_servers: { type: 'value', set: (c, v) => void (c.dnsServers = dnsServers(v)) },
  dns_retrans: { type: 'value', set: (c, v, n) => void (c.dnsTimeout = time(v, n)) },
  dns_retry: {
    type: 'value',
    set: (c, v) => {
      if (!/^\d{1,2}$/.test(v) || Number(v) > 10) throw configError(`bad count ${q(v)} for dns_retry (0-10)`);
      c.dnsRetries = Number(v);
    },
  },
  command_timeout: { type: 'value', set: (c, v, n) => void (c.commandTimeout = time(v, n)) },
  connect_timeout: { type: 'value', set: (c, v, n) => void (c.connectTimeout = time(v, n)) },
  qualify_domain: {
    type: 'value',
    set: (c, v) => {
      if (!isHostName(v)) throw configError(`bad domain ${q(v)} for qualify_domain`);
      c.qualifyDomain = v;
    },
  },
  system_aliases_file: {
    type: 'value',
    emptyOk: true,
    set: (c, v) => {
      if (v !== '' && !isAbsolute(v)) throw configError(`system_aliases_file must be an absolute path (or empty for none), got ${q(v)}`);
      c.systemAliasesFile = v;
    },
  },
  retry_rules: { type: 'value', emptyOk: true, set: (c, v) => void (c.retryRules = parseRetryRules(v)) },
  delay_warning: { type: 'value', emptyOk: true, set: (c, v, n) => void (c.delayWarning = timeList(v, n)) },
  spool_directory: {
    type: 'value',
    set: (c, v) => {
      if (!isAbsolute(v)) throw configError(`spool_directory must be an absolute path, got ${q(v)}`);
      c.spoolDirectory = v;
    },
  },
  queue_deferred: { type: 'bool', set: (c, on) => void (c.queueDeferred = on) },
  check_spool_space: { type: 'value', set: (c, v, name) => void (c.checkSpoolSpace = size(v, name)) },
  check_spool_inodes: {
    type: 'value',
    set: (c, v, name) => {
      if (!/^\d{1,12}$/.test(v)) throw configError(`bad ${name} ${q(v)} (a number of inodes, or 0)`);
      c.checkSpoolInodes = Number(v);
    },
  },
  trusted_users: {
    type: 'value',
    emptyOk: true,
    set: (c, v) => {
      const users = colonList(v);
      const bad = users.find((u) => !/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(u));
      if (bad !== undefined) throw configError(`bad user name ${q(bad)} in trusted_users`);
      c.trustedUsers = users;
    },
  },
  untrusted_set_sender: {
    type: 'value',
    emptyOk: true,
    set: (c, v) => {
      const items = colonList(v);
      for (const item of items) {
        if (item.startsWith('^')) {
          try {
            new RegExp(item, 'i');
          } catch {
            throw configError(`bad regular expression ${q(item)} in untrusted_set_sender`);
          }
        }
      }
      c.untrustedSetSender = items;
    },
  },
  local_from_check: { type: 'bool', set: (c, on) => void (c.localFromCheck = on) },
  local_sender_retain: { type: 'bool', set: (c, on) => void (c.localSenderRetain = on) },
  delivery_mode: {
    type: 'value',
    set: (c, v) => {
      const mode = ({ background: 'b', interactive: 'i', queue: 'q' } as const)[v.toLowerCase() as 'background'];
      if (mode === undefined) throw configError(`bad delivery_mode ${q(v)} (background, interactive or queue)`);
      c.deliveryMode = mode;
    },
  },
  log_file_path: {
    type: 'value',
    set: (c, v) => {
      if (!isAbsolute(v)) throw configError(`log_file_path must be an absolute path, got ${q(v)}`);
      c.logFilePath = v;
    },
  },
  ...SECURITY_OPTIONS,
};

/** The option names parseConfig accepts. */
export const OPTION_NAMES: readonly string[] = Object.keys(OPTIONS);

/**
 * Exim boolean words: true/yes → true, false/no → false (case ignored).
 * @throws SmarthostError E_CONFIG `bad boolean "<v>" (true, false, yes or no)`
 */
export function parseBoolean(v: string): boolean {
  const w = v.toLowerCase();
  if (w === 'true' || w === 'yes') return true;
  if (w === 'false' || w === 'no') return false;
  throw configError(`bad boolean ${q(v)} (true, false, yes or no)`);
}

/** Remove Exim-style double quotes from a whole value; other values are returned as they are. */
function unquote(v: string): string {
  if (!v.startsWith('"')) return v;
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r' };
  let out = '';
  for (let i = 1; i < v.length; i++) {
    const c = v[i]!;
    if (c === '"') {
      if (i !== v.length - 1) throw configError(`unexpected text after the closing quote in ${v}`);
      return out;
    }
    if (c === '\\' && i + 1 < v.length) {
      const n = v[++i]!;
      out += escapes[n] ?? n;
    } else out += c;
  }
  throw configError(`unterminated quoted string ${v}`);
}

/** Join continuation lines: yields [logical line, number of its first physical line]. */
function* logicalLines(text: string, file: string): Generator<[string, number]> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const start = i + 1;
    while (line.endsWith('\\')) {
      line = line.slice(0, -1);
      let j = i + 1;
      while (j < lines.length && lines[j]!.trim().startsWith('#')) j++;
      if (j >= lines.length) throw configError(`${file}:${start}: the file ends after a "\\" continuation`);
      i = j;
      const next = lines[j]!.trim();
      line += next;
      if (next === '') break;
    }
    yield [line, start];
  }
}

/**
 * Parse a configuration file's text. `file` is only used in messages.
 * Options not set keep the defaults of defaultConfig(). route_data is
 * optional here (modes such as -bp do not need it); the caller decides.
 *
 * @throws SmarthostError E_CONFIG `<file>:<line>: <message>`, e.g.
 *   `/etc/send-smarthost.conf:3: unknown option "route_date" (did you mean route_data?)`,
 *   `…:7: unknown host option "ipv4only" (did you mean ipv4_only?)`,
 *   `…:9: option "port" is set twice (first on line 4)`.
 */
export function parseConfig(text: string, file: string, overrides: readonly ConfigOverride[] = []): Config {
  const entries: Entry[] = [];
  for (const [line, n] of logicalLines(text, file)) {
    const m = /^([A-Za-z][\w-]*)\s*(?:=\s*(.*))?$/s.exec(line);
    if (!m) throw configError(`${file}:${n}: expected "option = value", got ${q(line)}`);
    entries.push({ name: m[1]!, value: m[2], where: { label: `${file}:${n}`, order: n, line: n } });
  }
  overrides.forEach((o, i) => entries.push({ name: o.name, value: o.value, where: { label: `-O ${o.name}`, order: Number.MAX_SAFE_INTEGER - overrides.length + i, override: true } }));
  return applyEntries(defaultConfig(file), entries);
}

/** Where an option was set: a line of the file, or a -O of the command line (which may replace the file's value). */
interface Where {
  /** `file:line` or `-O name`, the prefix of an error about it. */
  label: string;
  /** Sorts the places (file lines first, then the -O options in order). */
  order: number;
  line?: number;
  override?: true;
}

interface Entry {
  name: string;
  value: string | undefined;
  where: Where;
}

/** Set every entry on `cfg` in order, then check the options that depend on each other. */
function applyEntries(cfg: Config, entries: readonly Entry[]): Config {
  const seen = new Map<string, Where>();
  for (const { name: written, value, where } of entries) {
    // -O names the option in its label: "-O route_date: unknown option (did you mean route_data?)"
    const fail = (msg: string) => configError(`${where.label}: ${msg}`);
    const named = (n: string): string => (where.override ? '' : ` ${q(n)}`);
    let name = written;
    let spec = OPTIONS[name];
    let negated = false;
    if (!spec) {
      const base = name.replace(/^not?_/, '');
      if (base !== name && OPTIONS[base]?.type === 'bool') {
        name = base;
        spec = OPTIONS[base];
        negated = true;
      }
    }
    if (!spec) {
      const near = didYouMean(name, OPTION_NAMES);
      throw fail(`unknown option${named(name)}${near ? ` (did you mean ${near}?)` : ''}`);
    }
    if (where.override && ON_COMMAND_LINE_REFUSED[name]) throw fail(ON_COMMAND_LINE_REFUSED[name]);
    const first = seen.get(name);
    if (first?.line !== undefined && !where.override) throw fail(`option ${q(name)} is set twice (first on line ${first.line})`);
    seen.set(name, where);
    try {
      if (spec.type === 'bool') {
        if (negated && value !== undefined) throw configError(`"no_${name}" takes no value`);
        spec.set(cfg, value === undefined ? !negated : parseBoolean(unquote(value)));
      } else {
        if (value === undefined) throw configError(`option${named(name)} needs a value (${name} = ...)`);
        const v = spec.raw ? value : unquote(value);
        if (v === '' && !spec.emptyOk) throw configError(`option${named(name)} needs a value (${name} = ...)`);
        spec.set(cfg, v, name);
      }
    } catch (e) {
      if (!(e instanceof SmarthostError)) throw e;
      const hint = !where.override && value !== undefined && /\s#/.test(value) ? ' ("#" starts a comment only at the start of a line)' : '';
      throw fail(`${e.message}${hint}`);
    }
  }
  checkSecurityOptions(cfg, (name) => seen.get(name));
  // as Exim: a Sender: kept from an untrusted user must not be checked against From: at the same time
  if (cfg.localSenderRetain && cfg.localFromCheck) {
    throw configError(`${seen.get('local_sender_retain')?.label ?? cfg.file}: local_sender_retain needs local_from_check = false (as in Exim)`);
  }
  return cfg;
}

/** Options that may not be given with -O: argv is visible to every user of the host (ps, /proc). */
const ON_COMMAND_LINE_REFUSED: Readonly<Record<string, string>> = {
  auth_password: 'a password on the command line is visible to every user (ps); use auth_password_file or auth_password_command',
};

/**
 * Read and parse a configuration file. When the file does not exist and
 * `mustExist` is false (the default /etc path), the defaults are returned with
 * `file` set to `path`. Any other read error is always fatal.
 *
 * @throws SmarthostError E_CONFIG `cannot read <path>: <reason>`, or any error of parseConfig.
 */
export async function loadConfig(path: string, opts: { mustExist: boolean; overrides?: readonly ConfigOverride[] } = { mustExist: true }): Promise<Config> {
  const overrides = opts.overrides ?? [];
  let text: string;
  try {
    // readFileSync: node:fs/promises loads readline and more, and readFile its own context module: start-up time on every path
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && !opts.mustExist) return overrides.length ? parseConfig('', path, overrides) : { ...defaultConfig(path), missing: true };
    throw new SmarthostError('E_CONFIG', 'config', `cannot read ${path}: ${describeErrno(err)}`, { cause: e });
  }
  const cfg = parseConfig(text, path, overrides);
  await checkConfigSecrets(path, text, cfg);
  return cfg;
}
