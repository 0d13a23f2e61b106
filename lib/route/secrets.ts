/**
 * Where the SMTP credentials come from, and the permission checks on every
 * file that holds a secret (as msmtp refuses a readable passwordfile,
 * CONF_EINSECURE). Parsing and deciding are pure; reading files and running
 * commands come in through `SecretDeps`.
 *
 * Credentials are chosen by the QUERIED host name — the name in route_data or
 * the MX exchange — never by the canonical name a CNAME chain ends at.
 * Debian's exim4 passwd.client is keyed by the name after CNAME resolution, so
 * a provider that moves `smtp.provider.example` to a new CNAME target silently
 * stops getting credentials; keying by the queried name does not have that trap.
 */
import { readFile as readFileCb, stat as statCb } from 'node:fs';
import { configError } from '../errors.js';
import { matchHostList } from './hostlist.js';
import type { Config, HostAuth } from '../types.js';

const q = (s: string): string => JSON.stringify(s);

/** True when a file mode gives group or others any access (mode & 077). */
export function insecureMode(mode: number): boolean {
  return (mode & 0o077) !== 0;
}

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

/** The line (1-based) where `name` is set in a configuration text, if it is. */
export function lineOfOption(text: string, name: string): number | undefined {
  const lines = text.split(/\r?\n|\r/);
  const re = new RegExp(`^\\s*${name}\\s*(=|$)`);
  const i = lines.findIndex((l) => re.test(l));
  return i < 0 ? undefined : i + 1;
}

type StatFn = (path: string) => Promise<{ mode: number }>;

// node:fs, not node:fs/promises: that one loads readline and more at start-up (config.ts imports this file on every path)
const stat: StatFn = (path) => new Promise((resolve, reject) => statCb(path, (err, st) => (err ? reject(err) : resolve(st))));
function readFile(path: string, encoding: 'utf8'): Promise<string> {
  return new Promise((resolve, reject) => readFileCb(path, encoding, (err, text) => (err ? reject(err) : resolve(text))));
}

/**
 * The thin wrapper part of loadConfig: a password written in the configuration
 * file is refused when the file is readable by group or others.
 * @throws SmarthostError E_CONFIG `<file>:<line>: auth_password is set but <file> is readable by group or others (mode 0644); …`
 */
export async function checkConfigSecrets(path: string, text: string, cfg: Config, statFn: StatFn = stat): Promise<void> {
  if (cfg.authPassword === undefined) return;
  const { mode } = await statFn(path);
  if (insecureMode(mode)) {
    throw configError(
      `${path}:${lineOfOption(text, 'auth_password') ?? 0}: auth_password is set but ${path} is readable by group or others (mode ${octal(mode)}); ` +
        `run "chmod 600 ${path}", or use auth_password_file or auth_password_command`,
    );
  }
}

/** One line of an auth_credentials_file. */
export interface CredentialEntry {
  /** Host name (lower case, no trailing dot), `*.suffix` pattern, or IP address. */
  host: string;
  user: string;
  password: string;
  line: number;
}

/**
 * Parse an auth_credentials_file: `host:user:password` per line, like
 * Debian's passwd.client but keyed by the queried name. The password is
 * everything after the second colon (it may contain colons); `#` lines and
 * blank lines are skipped; an IPv6 address is written in brackets
 * (`[2001:db8::1]:user:pw`); `*.example.com` matches any name under it.
 * @throws SmarthostError E_CONFIG `<file>:<line>: …` (the password is never quoted).
 */
export function parseCredentials(text: string, file: string): CredentialEntry[] {
  const out: CredentialEntry[] = [];
  text.split(/\r?\n|\r/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\[[^\]]+\]|[^:\s]+):([^:]*):(.*)$/.exec(line);
    if (!m) throw configError(`${file}:${i + 1}: expected "host:user:password"`);
    const host = m[1]!.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
    if (m[2] === '') throw configError(`${file}:${i + 1}: empty user name for ${q(host)}`);
    if (m[3] === '') throw configError(`${file}:${i + 1}: empty password for ${q(host)}`);
    out.push({ host, user: m[2]!, password: m[3]!, line: i + 1 });
  });
  return out;
}

/** The entry for `queried`: an exact name first, then the first `*.suffix` that matches (pure). */
export function findCredential(entries: readonly CredentialEntry[], queried: string): CredentialEntry | undefined {
  const name = queried.replace(/\.$/, '').toLowerCase();
  return entries.find((e) => e.host === name) ?? entries.find((e) => e.host.startsWith('*.') && name.endsWith(e.host.slice(1)));
}

export interface SecretDeps {
  readFile: (path: string) => Promise<string>;
  stat: StatFn;
  /** Run a shell command and return the first line of its output (lib/route/secret-command.ts). */
  runCommand: (command: string, option: string) => Promise<string>;
}

/**
 * Read a file that holds a secret, refusing it when group or others may read it.
 * @throws SmarthostError E_CONFIG naming the option, its config line and the file (never its content).
 */
export async function readSecretFile(cfg: Config, option: string, path: string, deps: Pick<SecretDeps, 'readFile' | 'stat'>): Promise<string> {
  // only on error: find the line that set the option, for a `file:line:` message
  const where = async () => {
    const line = lineOfOption(await deps.readFile(cfg.file).catch(() => ''), option);
    return `${cfg.file}:${line === undefined ? '' : `${line}:`} ${option} ${q(path)}`;
  };
  let mode: number;
  let text: string;
  try {
    mode = (await deps.stat(path)).mode;
    text = await deps.readFile(path);
  } catch (e) {
    throw configError(`${await where()}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (insecureMode(mode)) throw configError(`${await where()} is readable by group or others (mode ${octal(mode)}); run "chmod 600 ${path}"`);
  return text;
}

/**
 * tls_certificate and tls_privatekey (PEM). Without tls_privatekey the key is
 * read from the certificate file (as Exim does); whichever file holds the key
 * must not be readable by group or others.
 * @throws SmarthostError E_CONFIG for unreadable or insecure files.
 */
export async function loadClientCert(cfg: Config, deps: Pick<SecretDeps, 'readFile' | 'stat'> = { readFile: (p) => readFile(p, 'utf8'), stat }): Promise<{ cert?: string; key?: string }> {
  if (cfg.tlsCertificate === undefined) return {};
  if (cfg.tlsPrivatekey === undefined) {
    const both = await readSecretFile(cfg, 'tls_certificate', cfg.tlsCertificate, deps);
    if (!both.includes('PRIVATE KEY-----')) {
      throw configError(`${cfg.file}: tls_certificate ${q(cfg.tlsCertificate)} holds no private key and tls_privatekey is not set`);
    }
    return { cert: both, key: both };
  }
  let cert: string;
  try {
    cert = await deps.readFile(cfg.tlsCertificate);
  } catch (e) {
    throw configError(`${cfg.file}: tls_certificate ${q(cfg.tlsCertificate)}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return { cert, key: await readSecretFile(cfg, 'tls_privatekey', cfg.tlsPrivatekey, deps) };
}

/** Looks up the credentials for one host: `(queried name, address) → HostAuth | undefined`. */
export type AuthLookup = (queried: string, address: string) => HostAuth | undefined;

const realDeps = (runCommand: SecretDeps['runCommand']): SecretDeps => ({ readFile: (p) => readFile(p, 'utf8'), stat, runCommand });

/**
 * Read the secret files now (so a missing or insecure file is a configuration
 * error, exit 78, before anything is sent) and return the per-host lookup.
 * Commands run later, when a server is about to be sent the secret, at most
 * once per run (a token again when the server rejects it).
 * @throws SmarthostError E_CONFIG for unreadable, insecure, empty or malformed files.
 */
export async function loadSecrets(cfg: Config, runCommand: SecretDeps['runCommand'], deps: SecretDeps = realDeps(runCommand)): Promise<AuthLookup> {
  let entries: CredentialEntry[] = [];
  if (cfg.authCredentialsFile !== undefined) {
    entries = parseCredentials(await readSecretFile(cfg, 'auth_credentials_file', cfg.authCredentialsFile, deps), cfg.authCredentialsFile);
  }
  let password: (() => Promise<string>) | undefined;
  if (cfg.authPassword !== undefined) {
    const pw = cfg.authPassword;
    password = () => Promise.resolve(pw);
  } else if (cfg.authPasswordFile !== undefined) {
    const first = (await readSecretFile(cfg, 'auth_password_file', cfg.authPasswordFile, deps)).split(/\r?\n/)[0]!;
    if (first === '') throw configError(`${cfg.file}: auth_password_file ${q(cfg.authPasswordFile)}: the first line is empty`);
    password = () => Promise.resolve(first);
  } else if (cfg.authPasswordCommand !== undefined) {
    const cmd = cfg.authPasswordCommand;
    let cached: Promise<string> | undefined;
    password = () => (cached ??= deps.runCommand(cmd, 'auth_password_command'));
  }
  let token: ((fresh: boolean) => Promise<string>) | undefined;
  if (cfg.authOauth2Command !== undefined) {
    const cmd = cfg.authOauth2Command;
    let cached: Promise<string> | undefined;
    token = (fresh) => (fresh || !cached ? (cached = deps.runCommand(cmd, 'auth_oauth2_command')) : cached);
  }
  const username = cfg.authUsername;
  return (queried, address) => {
    const allowCleartext = matchHostList(cfg.hostsAuthCleartext, { name: queried, address });
    const entry = findCredential(entries, queried);
    if (entry) {
      const pw = entry.password;
      return { username: entry.user, source: `${cfg.authCredentialsFile}:${entry.line}`, password: () => Promise.resolve(pw), mechanisms: cfg.authMechanisms, allowCleartext };
    }
    if (username === undefined) return undefined;
    const auth: HostAuth = { username, source: 'auth_username', mechanisms: cfg.authMechanisms, allowCleartext };
    if (password) auth.password = password;
    if (token) auth.token = token;
    return auth;
  };
}
