/**
 * -bP's rendering of the configuration (lib/route/config-show.ts): every
 * option of the parser has a rendering, and what is printed parses back into
 * the same configuration (so it can be pasted into a file); secrets are never
 * printed.
 */
import t from 'tap';
import { DEFAULT_ALIASES_FILE, HIDDEN, SHOWN_NAMES, showConfig, showOption } from '../../lib/route/config-show.js';
import { DEFAULT_ALIASES_FILE as ALIASES_DEFAULT } from '../../lib/submit/aliases-load.js';
import { OPTION_NAMES, parseConfig } from '../../lib/route/config.js';
import type { Config } from '../../lib/types.js';

const FILE = '/etc/send-smarthost.conf';

/** A configuration that sets (nearly) every option away from its default. */
const RICH = [
  'route_data = "mail.dev.example.test : backup.example.test::2525" bydns ipv4_prefer no_randomize',
  'port = 587',
  'helo_data = client.example.test',
  'hosts_require_tls = !backup.example.test : *',
  'tls_verify_certificates = /etc/ssl/private/ca.pem',
  'tls_verify_cert_hostnames = <; *.example.test ; 2001:db8::/32',
  'dns_servers = 127.0.0.1:5353 [::1]:53',
  'dns_retrans = 3s',
  'dns_retry = 4',
  'command_timeout = 2m30s',
  'connect_timeout = 45s',
  'qualify_domain = example.test',
  'system_aliases_file =',
  'retry_rules = F,1h,10m; G,8h,30m,2',
  'spool_directory = /var/tmp/spool dir',
  'no_queue_deferred',
  'delivery_mode = interactive',
  'log_file_path = /var/tmp/mainlog',
  'auth_username = me@example.test',
  'auth_password_command = pass show "mail"',
  'auth_mechanisms = CRAM-MD5 PLAIN',
  'hosts_auth_cleartext = 127.0.0.1',
  'protocol = smtps',
  'tls_certificate = /etc/ssl/c.pem',
  'tls_privatekey = /etc/ssl/c.key',
  'tls_require_ciphers = ECDHE+AESGCM',
  'tls_min_version = TLSv1.3',
  'tls_pin_sha256 = ' + 'ab'.repeat(32),
  'delivery_timeout = 90s',
  'check_spool_space = 512K',
  'check_spool_inodes = 0',
  'trusted_users = www-data : backup',
  'untrusted_set_sender = <; ^(?:a|b)-bounces@example\\.com$ ; *@example.org',
  'no_local_from_check',
  'local_sender_retain',
].join('\n');

/** A line a file may hold: an unset option prints `name =`, which only options that take an empty value accept. */
const fileLine = (l: string): boolean => {
  try {
    parseConfig(l, FILE);
    return true;
  } catch {
    return false;
  }
};

/** The printed lines that a file can hold again (not the unset ones it may not say, nor a hidden secret). */
const pasteable = (lines: string[]): string => lines.filter((l) => !l.includes(HIDDEN) && (!l.endsWith(' =') || fileLine(l))).join('\n');

/** A configuration without what -bP does not print (`file`); an unset system_aliases_file prints as the file it means. */
const comparable = (c: Config): Config => ({ ...c, file: '', systemAliasesFile: c.systemAliasesFile ?? '/etc/aliases' });

t.test('every option of the parser has a -bP rendering, and nothing else', async (t) => {
  t.same([...SHOWN_NAMES].sort(), [...OPTION_NAMES].sort());
  t.equal(DEFAULT_ALIASES_FILE, ALIASES_DEFAULT, 'the same default aliases file as the aliases loader');
});

t.test('what -bP prints parses back into the same configuration', async (t) => {
  for (const text of ['', RICH, 'route_data = 192.0.2.1::2525\nhosts_require_tls =\nsystem_aliases_file = /etc/aliases\ndns_servers = 192.0.2.53']) {
    const c = parseConfig(text, FILE);
    const again = parseConfig(pasteable(showConfig(c)), FILE);
    t.same(comparable(again), comparable(c), JSON.stringify(text.slice(0, 40)));
  }
});

t.test('shapes: name = value, booleans, unset, secrets', async (t) => {
  const c = parseConfig(`${RICH.replace(/^auth_password_command.*$/m, 'auth_password = hunter2')}`, FILE);
  t.equal(showOption(c, 'port'), 'port = 587');
  t.equal(showOption(c, 'queue_deferred'), 'no_queue_deferred');
  t.equal(showOption(parseConfig('', FILE), 'queue_deferred'), 'queue_deferred');
  t.equal(showOption(parseConfig('', FILE), 'helo_data'), 'helo_data =');
  t.equal(showOption(c, 'command_timeout'), 'command_timeout = 2m30s');
  t.equal(showOption(c, 'spool_directory'), 'spool_directory = /var/tmp/spool dir');
  t.equal(showOption(c, 'route_data'), 'route_data = "mail.dev.example.test : backup.example.test::2525" bydns ipv4_prefer no_randomize');
  t.equal(showOption(c, 'auth_password'), `auth_password = ${HIDDEN}`);
  t.notOk(showConfig(c).join('\n').includes('hunter2'), 'the password is never printed');
  t.equal(showOption(c, 'no_such_option'), undefined);
});
