/**
 * The effective configuration as Exim's `-bP` prints it (pure): one
 * `name = value` line per option, in the syntax of the file, so that what is
 * printed can be pasted back (test/route/config-show.ts parses it again and
 * gets the same configuration). Booleans print as `name` or `no_name`, an
 * unset option as `name =`, and secrets as Exim prints a hidden option,
 * `name = <value not displayable>`.
 */
import { formatDuration } from './duration.js';
import { OPTION_NAMES } from './config.js';
import type { Config, HostPattern } from '../types.js';

/** The aliases file an unset system_aliases_file means (lib/submit/aliases-load.ts; the test checks they agree). */
export const DEFAULT_ALIASES_FILE = '/etc/aliases';

/** What `-bP` prints for an option whose value is a secret. */
export const HIDDEN = '<value not displayable>';

/** A value as the file would hold it: quoted (Exim's rules) when it has leading/trailing blanks, quotes, backslashes or is empty. */
function value(v: string): string {
  return v === '' || /^\s|\s$|^"|\\/.test(v) ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"` : v;
}

/** A host list as written: the items joined with ` : `, or with `<; ` when an item holds a colon (IPv6). */
function hostList(list: readonly HostPattern[]): string {
  const items = list.map((p) => p.text);
  if (items.some((i) => i.includes(':'))) return `<; ${items.join(' ; ')}`;
  return items.join(' : ');
}

const time = (ms: number): string => formatDuration(ms);

/** A size as Exim writes one: `10M`, `512K`, `2G`, or the number of bytes. */
const size = (n: number): string => {
  for (const [unit, k] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) if (n > 0 && n % k === 0) return `${n / k}${unit}`;
  return String(n);
};

/** A list of plain items (user names, address patterns): ` : ` between them, or `<; ` when an item holds a colon. */
const list = (items: readonly string[]): string => (items.some((i) => i.includes(':')) ? `<; ${items.join(' ; ')}` : items.join(' : '));
const opt = (v: string | undefined): string => (v === undefined ? '' : value(v));

/** Each option's printed value ('' when unset); booleans are handled by {@link BOOLEANS}. */
const SHOW: Readonly<Record<string, (c: Config) => string>> = {
  route_data: (c) => (c.route ? `${/\s/.test(c.route.hostText) ? `"${c.route.hostText}"` : c.route.hostText}${c.route.optionText ? ` ${c.route.optionText}` : ''}` : ''),
  port: (c) => String(c.port),
  helo_data: (c) => opt(c.heloData),
  hosts_require_tls: (c) => hostList(c.hostsRequireTls),
  tls_verify_certificates: (c) => c.tlsVerifyCertificates,
  tls_verify_cert_hostnames: (c) => hostList(c.tlsVerifyCertHostnames),
  dns_servers: (c) => (c.dnsServers ?? []).map((s) => (s.address.includes(':') ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`)).join(' '),
  dns_retrans: (c) => time(c.dnsTimeout),
  dns_retry: (c) => String(c.dnsRetries),
  command_timeout: (c) => time(c.commandTimeout),
  connect_timeout: (c) => time(c.connectTimeout),
  qualify_domain: (c) => opt(c.qualifyDomain),
  // unset means /etc/aliases when it exists: print that, the file in effect ('' is "no aliases")
  system_aliases_file: (c) => value(c.systemAliasesFile ?? DEFAULT_ALIASES_FILE),
  retry_rules: (c) => c.retryRules.map((r) => r.text).join('; '),
  delay_warning: (c) => c.delayWarning.map(time).join(':'),
  spool_directory: (c) => value(c.spoolDirectory),
  delivery_mode: (c) => ({ b: 'background', i: 'interactive', q: 'queue' })[c.deliveryMode],
  log_file_path: (c) => value(c.logFilePath),
  auth_username: (c) => opt(c.authUsername),
  auth_password: (c) => (c.authPassword === undefined ? '' : HIDDEN),
  auth_password_file: (c) => opt(c.authPasswordFile),
  auth_password_command: (c) => opt(c.authPasswordCommand),
  auth_oauth2_command: (c) => opt(c.authOauth2Command),
  auth_credentials_file: (c) => opt(c.authCredentialsFile),
  auth_mechanisms: (c) => (c.authMechanisms ?? []).join(' '),
  hosts_auth_cleartext: (c) => hostList(c.hostsAuthCleartext),
  protocol: (c) => c.protocol,
  tls_certificate: (c) => opt(c.tlsCertificate),
  tls_privatekey: (c) => opt(c.tlsPrivatekey),
  tls_require_ciphers: (c) => opt(c.tlsRequireCiphers),
  tls_min_version: (c) => c.tlsMinVersion,
  tls_pin_sha256: (c) => c.tlsPinSha256.join(' '),
  delivery_timeout: (c) => time(c.deliveryTimeout),
  check_spool_space: (c) => size(c.checkSpoolSpace),
  check_spool_inodes: (c) => String(c.checkSpoolInodes),
  trusted_users: (c) => list(c.trustedUsers),
  untrusted_set_sender: (c) => list(c.untrustedSetSender),
};

/** Boolean options: printed `name` when true, `no_name` when false. */
const BOOLEANS: Readonly<Record<string, (c: Config) => boolean>> = {
  queue_deferred: (c) => c.queueDeferred,
  local_from_check: (c) => c.localFromCheck,
  local_sender_retain: (c) => c.localSenderRetain,
};

/** Every option that -bP knows how to print (a test checks this against the parser's table). */
export const SHOWN_NAMES: readonly string[] = [...Object.keys(SHOW), ...Object.keys(BOOLEANS)];

/**
 * One option as -bP prints it: `name = value`, `name`/`no_name` for a
 * boolean; undefined for a name that is not an option.
 */
export function showOption(c: Config, name: string): string | undefined {
  const b = BOOLEANS[name];
  if (b) return b(c) ? name : `no_${name}`;
  const show = SHOW[name];
  if (!show) return undefined;
  const v = show(c);
  return v === '' ? `${name} =` : `${name} = ${v}`;
}

/** Every option, in the order of the parser's table (`-bP` alone). */
export function showConfig(c: Config): string[] {
  return OPTION_NAMES.map((n) => showOption(c, n)).filter((l): l is string => l !== undefined);
}
