/**
 * The configuration options for authentication, the TLS client and the total
 * deadline (send-smarthost.conf(5) "AUTHENTICATION", "TLS", "TIME"). Pure:
 * each option parses a string; `checkSecurityOptions` checks the options that
 * only make sense together, once the whole file is read. File contents
 * (passwords, keys) are read later, by lib/route/secrets.ts.
 */
import { isAbsolute } from 'node:path';
import { configError, type SmarthostError } from '../errors.js';
import { parseTimeOption } from './duration.js';
import { parseHostList } from './hostlist.js';
import type { AuthMechanism, Config, TlsVersion } from '../types.js';

const q = (s: string): string => JSON.stringify(s);

/** Same shape as config.ts's value options. */
export interface ValueOption {
  type: 'value';
  emptyOk?: boolean;
  set: (c: Config, v: string, name: string) => void;
}

export const MECHANISMS: readonly AuthMechanism[] = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'];
const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Default delivery_timeout: 10 minutes (DNS and every attempt together). */
export const DEFAULT_DELIVERY_TIMEOUT = 600_000;

function absolutePath(v: string, name: string): string {
  if (!isAbsolute(v)) throw configError(`${name} must be an absolute path, got ${q(v)}`);
  return v;
}

/** No control characters (CR, LF, NUL...): they would end an SMTP line or a C string. */
function printable(v: string, name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v)) throw configError(`${name} contains a control character`);
  return v;
}

/**
 * `auth_mechanisms`: names separated by white space, commas or colons, case
 * ignored, each at most once.
 * @throws SmarthostError E_CONFIG on an unknown or repeated name.
 */
export function parseMechanisms(v: string): AuthMechanism[] {
  const out: AuthMechanism[] = [];
  for (const word of v.split(/[\s,:]+/).filter((w) => w !== '')) {
    const m = word.toUpperCase() as AuthMechanism;
    if (!MECHANISMS.includes(m)) throw configError(`unknown authentication mechanism ${q(word)} (known: ${MECHANISMS.join(', ')})`);
    if (out.includes(m)) throw configError(`authentication mechanism ${q(word)} is listed twice`);
    out.push(m);
  }
  if (out.length === 0) throw configError('auth_mechanisms needs at least one mechanism');
  return out;
}

/**
 * One `tls_pin_sha256` item: a SHA-256 digest of a SubjectPublicKeyInfo as 64
 * hex digits (colons between bytes allowed, as `openssl dgst -c` prints) or as
 * 44 base64 characters (the RFC 7469 pin-sha256 form, optionally prefixed
 * `sha256//`). Returns lower-case hex.
 * @throws SmarthostError E_CONFIG when it is neither.
 */
export function parsePin(item: string): string {
  const hex = item.replace(/:/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex) && (hex === item || /^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$/.test(item))) return hex.toLowerCase();
  const b64 = item.replace(/^sha256\/\//i, '');
  if (/^[A-Za-z0-9+/]{43}=$/.test(b64)) return Buffer.from(b64, 'base64').toString('hex');
  throw configError(`bad tls_pin_sha256 item ${q(item)} (expected a SHA-256 digest: 64 hex digits or 44 base64 characters)`);
}

/** `tls_pin_sha256`: items separated by white space or commas. */
export function parsePins(v: string): string[] {
  const items = v.split(/[\s,]+/).filter((s) => s !== '');
  if (items.length === 0) throw configError('tls_pin_sha256 needs at least one digest');
  return [...new Set(items.map(parsePin))];
}

/**
 * `tls_require_ciphers`: checked by handing it to OpenSSL (no I/O), so a typo
 * is a configuration error rather than a handshake failure at 3 a.m.
 */
function ciphers(v: string): string {
  try {
    // node:tls only when this option is set: loading it costs every invocation start-up time
    process.getBuiltinModule('node:tls').createSecureContext({ ciphers: v });
  } catch (e) {
    throw configError(`tls_require_ciphers ${q(v)} is not accepted by OpenSSL (${(e as Error).message})`);
  }
  return v;
}

/** The option rows, merged into config.ts's table. */
export const SECURITY_OPTIONS: Record<string, ValueOption> = {
  auth_username: { type: 'value', set: (c, v, n) => void (c.authUsername = printable(v, n)) },
  auth_password: { type: 'value', set: (c, v, n) => void (c.authPassword = printable(v, n)) },
  auth_password_file: { type: 'value', set: (c, v, n) => void (c.authPasswordFile = absolutePath(v, n)) },
  auth_password_command: { type: 'value', set: (c, v, n) => void (c.authPasswordCommand = printable(v, n)) },
  auth_oauth2_command: { type: 'value', set: (c, v, n) => void (c.authOauth2Command = printable(v, n)) },
  auth_credentials_file: { type: 'value', set: (c, v, n) => void (c.authCredentialsFile = absolutePath(v, n)) },
  auth_mechanisms: { type: 'value', set: (c, v) => void (c.authMechanisms = parseMechanisms(v)) },
  hosts_auth_cleartext: { type: 'value', emptyOk: true, set: (c, v) => void (c.hostsAuthCleartext = parseHostList(v)) },
  protocol: {
    type: 'value',
    set: (c, v) => {
      if (v !== 'smtp' && v !== 'smtps') throw configError(`bad protocol ${q(v)} (smtp or smtps)`);
      c.protocol = v;
    },
  },
  tls_certificate: { type: 'value', set: (c, v, n) => void (c.tlsCertificate = absolutePath(v, n)) },
  tls_privatekey: { type: 'value', set: (c, v, n) => void (c.tlsPrivatekey = absolutePath(v, n)) },
  tls_require_ciphers: { type: 'value', set: (c, v) => void (c.tlsRequireCiphers = ciphers(v)) },
  tls_min_version: {
    type: 'value',
    set: (c, v) => {
      const found = VERSIONS.find((x) => x.toLowerCase() === v.toLowerCase());
      if (!found) throw configError(`bad tls_min_version ${q(v)} (${VERSIONS.join(', ')})`);
      c.tlsMinVersion = found;
    },
  },
  tls_pin_sha256: { type: 'value', set: (c, v) => void (c.tlsPinSha256 = parsePins(v)) },
  delivery_timeout: { type: 'value', set: (c, v, n) => void (c.deliveryTimeout = parseTimeOption(v, n)) },
};

/** The defaults of the fields above (merged into config.ts's defaultConfig). */
export function securityDefaults(): Pick<Config, 'hostsAuthCleartext' | 'protocol' | 'tlsMinVersion' | 'tlsPinSha256' | 'deliveryTimeout'> {
  return { hostsAuthCleartext: [], protocol: 'smtp', tlsMinVersion: 'TLSv1.2', tlsPinSha256: [], deliveryTimeout: DEFAULT_DELIVERY_TIMEOUT };
}

/**
 * Checks between options, after the whole file (and any -O options) is
 * parsed; `whereOf` gives where an option was set (`file:line` or `-O name`,
 * and an order). Also applies `protocol = smtps`'s default port (465, RFC
 * 8314 §7.3) when `port` was not set.
 * @throws SmarthostError E_CONFIG `<file>:<line>: …` or `-O <name>: …`
 */
export function checkSecurityOptions(c: Config, whereOf: (name: string) => { label: string; order: number } | undefined): void {
  const lineOf = (name: string): number | undefined => whereOf(name)?.order;
  const at = (name: string, msg: string): SmarthostError => configError(`${whereOf(name)?.label ?? c.file}: ${msg}`);
  if (c.protocol === 'smtps' && lineOf('port') === undefined) c.port = 465;
  const sources = ['auth_password', 'auth_password_file', 'auth_password_command'].filter((n) => lineOf(n) !== undefined);
  if (sources.length > 1) {
    const [a, b] = sources.sort((x, y) => lineOf(x)! - lineOf(y)!);
    throw at(b!, `${b} and ${a} are both set: give the password one way only`);
  }
  const secretSources = [...sources, ...(lineOf('auth_oauth2_command') !== undefined ? ['auth_oauth2_command'] : [])];
  if (c.authUsername === undefined && secretSources.length > 0) {
    throw at(secretSources[0]!, `${secretSources[0]} is set but auth_username is not`);
  }
  if (c.authUsername !== undefined && secretSources.length === 0) {
    throw at('auth_username', 'auth_username is set but no password (auth_password, auth_password_file or auth_password_command) nor auth_oauth2_command');
  }
  if (c.authMechanisms && (c.authUsername !== undefined || c.authCredentialsFile !== undefined)) {
    const havePassword = sources.length > 0 || c.authCredentialsFile !== undefined;
    const usable = c.authMechanisms.filter((m) => (m === 'XOAUTH2' ? c.authOauth2Command !== undefined : havePassword));
    if (usable.length === 0) {
      throw at('auth_mechanisms', `none of auth_mechanisms (${c.authMechanisms.join(' ')}) can be used with the credentials configured`);
    }
  }
  if (c.tlsPrivatekey !== undefined && c.tlsCertificate === undefined) {
    throw at('tls_privatekey', 'tls_privatekey is set but tls_certificate is not');
  }
}
