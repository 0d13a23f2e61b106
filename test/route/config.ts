import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, loadConfig, noRouteError, OPTION_NAMES, parseBoolean, parseConfig } from '../../lib/route/config.js';
import { SmarthostError } from '../../lib/errors.js';
import { matchHostList, parseHostList } from '../../lib/route/hostlist.js';
import type { Config } from '../../lib/types.js';

const FILE = '/etc/send-smarthost.conf';
const CONFIGS = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));

t.test('defaults', async (t) => {
  const c = parseConfig('', FILE);
  t.strictSame(c, defaultConfig(FILE));
  t.equal(c.file, FILE);
  t.equal(c.route, undefined);
  t.equal(c.port, 25);
  t.equal(c.heloData, undefined);
  t.equal(c.tlsVerifyCertificates, 'system');
  t.strictSame(c.hostsRequireTls, parseHostList('*'));
  t.strictSame(c.tlsVerifyCertHostnames, parseHostList('*'));
  t.equal(c.dnsServers, undefined);
  t.equal(c.dnsTimeout, 2000);
  t.equal(c.dnsRetries, 2);
  t.equal(c.commandTimeout, 300_000);
  t.equal(c.connectTimeout, 300_000);
  t.equal(c.qualifyDomain, undefined);
  t.equal(defaultConfig().file, '(defaults)');
  t.strictSame(
    [...OPTION_NAMES].sort(),
    [
      'auth_credentials_file',
      'auth_mechanisms',
      'auth_oauth2_command',
      'auth_password',
      'auth_password_command',
      'auth_password_file',
      'auth_username',
      'check_spool_inodes',
      'check_spool_space',
      'command_timeout',
      'connect_timeout',
      'delay_warning',
      'delivery_mode',
      'delivery_timeout',
      'dns_retrans',
      'dns_retry',
      'dns_servers',
      'helo_data',
      'hosts_auth_cleartext',
      'hosts_require_tls',
      'local_from_check',
      'local_sender_retain',
      'log_file_path',
      'port',
      'protocol',
      'qualify_domain',
      'queue_deferred',
      'retry_rules',
      'route_data',
      'spool_directory',
      'system_aliases_file',
      'tls_certificate',
      'tls_min_version',
      'tls_pin_sha256',
      'tls_privatekey',
      'tls_require_ciphers',
      'tls_verify_cert_hostnames',
      'tls_verify_certificates',
      'trusted_users',
      'untrusted_set_sender',
    ],
    'the documented option names',
  );
});

// [config text, expected fields | exact error message (without the file prefix)]
const rows: Array<[string, Partial<Config> | string]> = [
  ['port = 587', { port: 587 }],
  ['port=2525', { port: 2525 }],
  ['   port   =   465   ', { port: 465 }],
  ['port = "587"', { port: 587 }],
  ['# a comment\n\n  # an indented comment\nport = 587', { port: 587 }],
  ['port = 5\\\n  87', { port: 587 }],
  ['port = 587\r\nhelo_data = me.example\r\n', { port: 587, heloData: 'me.example' }],
  ['\uFEFFport = 587', { port: 587 }],
  ['helo_data = [192.0.2.1]', { heloData: '[192.0.2.1]' }],
  ['helo_data = [IPv6:2001:db8::1]', { heloData: '[IPv6:2001:db8::1]' }],
  ['hosts_require_tls =', { hostsRequireTls: [] }],
  ['system_aliases_file = /etc/mail/aliases', { systemAliasesFile: '/etc/mail/aliases' }],
  ['system_aliases_file =', { systemAliasesFile: '' }],
  ['system_aliases_file = aliases', '1: system_aliases_file must be an absolute path (or empty for none), got "aliases"'],
  ['tls_verify_cert_hostnames = !*.lab.example : *', { tlsVerifyCertHostnames: parseHostList('!*.lab.example : *') }],
  ['tls_verify_certificates = /etc/ssl/ca.pem', { tlsVerifyCertificates: '/etc/ssl/ca.pem' }],
  ['tls_verify_certificates = "/etc/my certs/ca.pem"', { tlsVerifyCertificates: '/etc/my certs/ca.pem' }],
  ['dns_servers = 127.0.0.1', { dnsServers: [{ address: '127.0.0.1', port: 53 }] }],
  [
    'dns_servers = 127.0.0.1:5353, [::1]:5300 ::1,[192.0.2.1] 2001:db8::53',
    {
      dnsServers: [
        { address: '127.0.0.1', port: 5353 },
        { address: '::1', port: 5300 },
        { address: '::1', port: 53 },
        { address: '192.0.2.1', port: 53 },
        { address: '2001:db8::53', port: 53 },
      ],
    },
  ],
  ['dns_retrans = 1m30s', { dnsTimeout: 90_000 }],
  ['dns_retrans = 0.25s', { dnsTimeout: 250 }],
  ['dns_retrans = 5', { dnsTimeout: 5000 }],
  ['dns_retry = 0', { dnsRetries: 0 }],
  ['command_timeout = 10m', { commandTimeout: 600_000 }],
  ['connect_timeout = 24d', { connectTimeout: 24 * 86_400_000 }],
  ['qualify_domain = example.test', { qualifyDomain: 'example.test' }],
  ['route_data = "a.example : b.example" byname', { route: { hosts: [{ name: 'a.example' }, { name: 'b.example' }], lookup: 'byname' } as Config['route'] }],

  // errors: exact messages, quoting the bad token
  ['route_date = x', '1: unknown option "route_date" (did you mean route_data?)'],
  ['\n\nPort = 25', '3: unknown option "Port" (did you mean port?)'],
  ['dns_server = 127.0.0.1', '1: unknown option "dns_server" (did you mean dns_servers?)'],
  ['smarthost = mail.example', '1: unknown option "smarthost"'],
  ['route_data = mail.example.com ipv4only', '1: unknown host option "ipv4only" (did you mean ipv4_only?)'],
  ['route_data =', '1: option "route_data" needs a value (route_data = ...)'],
  ['route_data = "" bydns', '1: empty host list'],
  ['route_data = host::99999', '1: bad port "99999" in "host::99999" (1-65535)'],
  ['port = 25\nport = 26', '2: option "port" is set twice (first on line 1)'],
  ['port', '1: option "port" needs a value (port = ...)'],
  ['port =', '1: option "port" needs a value (port = ...)'],
  ['port = ""', '1: option "port" needs a value (port = ...)'],
  ['port = 0', '1: bad port "0" for port (1-65535)'],
  ['port = 65536', '1: bad port "65536" for port (1-65535)'],
  ['port = smtp', '1: bad port "smtp" for port (1-65535)'],
  ['port = 25 # smtp', '1: bad port "25 # smtp" for port (1-65535) ("#" starts a comment only at the start of a line)'],
  ['port = "25', '1: unterminated quoted string "25'],
  ['port = "25" x', '1: unexpected text after the closing quote in "25" x'],
  ['route data = x', '1: expected "option = value", got "route data = x"'],
  ['= 25', '1: expected "option = value", got "= 25"'],
  ['port = 25\\', '1: the file ends after a "\\" continuation'],
  ['port = 25\\\n# only a comment follows', '1: the file ends after a "\\" continuation'],
  ['helo_data = my host', '1: bad helo_data "my host" (expected a host name or an address literal such as [192.0.2.1])'],
  ['helo_data = [192.0.2.300]', '1: bad helo_data "[192.0.2.300]" (expected a host name or an address literal such as [192.0.2.1])'],
  ['hosts_require_tls = 10.0.0/8', '1: malformed IPv4 address or address mask "10.0.0/8"'],
  ['tls_verify_cert_hostnames = a b', '1: bad host name "a b" in host list'],
  ['tls_verify_certificates = ca.pem', '1: tls_verify_certificates must be "system" or an absolute path to a PEM file, got "ca.pem"'],
  ['dns_servers = dns.example', '1: bad DNS server "dns.example" in dns_servers (expected an IP address, ip:port, [ipv6]:port or a bare IPv6 address)'],
  ['dns_servers = 127.0.0.1:0', '1: bad port "0" in dns_servers item "127.0.0.1:0" (1-65535)'],
  ['dns_servers = [::1]:', '1: bad port "" in dns_servers item "[::1]:" (1-65535)'],
  ['dns_servers = ,', '1: option "dns_servers" needs at least one address'],
  ['dns_retrans = 0s', '1: dns_retrans must be more than 0, got "0s"'],
  ['dns_retrans = soon', '1: bad time interval "soon" for dns_retrans (expected e.g. 30s, 5m, 1h30m)'],
  ['command_timeout = 25d', '1: command_timeout is too long: "25d" (at most 24d)'],
  ['dns_retry = 11', '1: bad count "11" for dns_retry (0-10)'],
  ['dns_retry = -1', '1: bad count "-1" for dns_retry (0-10)'],
  ['qualify_domain = bad_domain!', '1: bad domain "bad_domain!" for qualify_domain'],
  ['port = 25\n\n\nroute_data = a.example \\\n   bydns \\\n   ipv4_onyl', '4: unknown host option "ipv4_onyl" (did you mean ipv4_only?)'],
];

t.test('parseConfig table', async (t) => {
  for (const [text, want] of rows) {
    const name = JSON.stringify(text);
    if (typeof want === 'string') {
      t.throws(() => parseConfig(text, FILE), { message: `${FILE}:${want}`, code: 'E_CONFIG', kind: 'config' }, name);
    } else {
      t.match(parseConfig(text, FILE), want, name);
    }
  }
});

t.test('a # inside a value is data, not a comment', async (t) => {
  t.equal(parseConfig('tls_verify_certificates = /etc/ssl/ca#2.pem', FILE).tlsVerifyCertificates, '/etc/ssl/ca#2.pem');
  t.equal(parseConfig('port = 25\n   # port = 26', FILE).port, 25);
  t.throws(() => parseConfig('helo_data = a#b.example', FILE), { message: `${FILE}:1: bad helo_data "a#b.example" (expected a host name or an address literal such as [192.0.2.1])` });
});

t.test('continuation: a blank line ends it, comment lines do not', async (t) => {
  const c = parseConfig('route_data = a.example \\\n\nport = 2525', FILE);
  t.equal(c.route?.hostText, 'a.example');
  t.equal(c.port, 2525);
  const d = parseConfig('route_data = a.example \\\n  # note\n  byname', FILE);
  t.equal(d.route?.lookup, 'byname');
});

t.test('fixtures/configs/good.conf', async (t) => {
  const path = join(CONFIGS, 'good.conf');
  const c = parseConfig(readFileSync(path, 'utf8'), path);
  t.strictSame(c.route, {
    hosts: [{ name: 'mail.dev.example.test', literal: false, mx: false }],
    lookup: 'bydns',
    family: 'ipv4_only',
    randomize: false,
    hostText: 'mail.dev.example.test',
    optionText: 'bydns ipv4_only',
  });
  t.equal(c.port, 587);
  t.equal(c.heloData, 'client.dev.example.test');
  t.equal(matchHostList(c.hostsRequireTls, { name: 'mail.dev.example.test', address: '198.51.100.7' }), true);
  t.equal(matchHostList(c.hostsRequireTls, { name: 'lab.example', address: '192.0.2.25' }), false);
  t.equal(c.tlsVerifyCertificates, '/etc/ssl/certs/ca-certificates.crt');
  t.strictSame(c.dnsServers, [
    { address: '192.0.2.53', port: 53 },
    { address: '2001:db8::53', port: 5353 },
  ]);
  t.equal(c.dnsTimeout, 1500);
  t.equal(c.dnsRetries, 3);
  t.equal(c.commandTimeout, 120_000);
  t.equal(c.connectTimeout, 30_000);
  t.equal(c.qualifyDomain, 'dev.example.test');
});

t.test('fixtures/configs/bad-*.conf: the message in each "# expect:" line', async (t) => {
  const bad = readdirSync(CONFIGS).filter((f) => /^bad-.*\.conf$/.test(f));
  t.ok(bad.length >= 5, 'has bad fixtures');
  for (const f of bad) {
    const path = join(CONFIGS, f);
    const text = readFileSync(path, 'utf8');
    const expect = /^# expect: (.*)$/m.exec(text)?.[1];
    t.ok(expect, `${f} has an expect line`);
    t.throws(() => parseConfig(text, path), { message: `${path}:${expect}` }, f);
  }
});

t.test('parseBoolean (for future boolean options)', async (t) => {
  for (const [w, v] of [
    ['true', true],
    ['YES', true],
    ['false', false],
    ['No', false],
  ] as const) {
    t.equal(parseBoolean(w), v, w);
  }
  t.throws(() => parseBoolean('on'), { message: 'bad boolean "on" (true, false, yes or no)' });
});

t.test('loadConfig', async (t) => {
  const dir = t.testdir({ 'ok.conf': 'route_data = smarthost.example.test\nport = 2525\n', 'bad.conf': 'prot = 25\n', sub: {} });
  const ok = await loadConfig(join(dir, 'ok.conf'));
  t.equal(ok.file, join(dir, 'ok.conf'));
  t.equal(ok.port, 2525);
  t.equal(ok.route?.hosts[0]?.name, 'smarthost.example.test');

  await t.rejects(loadConfig(join(dir, 'bad.conf')), { message: `${join(dir, 'bad.conf')}:1: unknown option "prot" (did you mean port?)` });

  const missing = join(dir, 'missing.conf');
  await t.rejects(loadConfig(missing), { message: `cannot read ${missing}: no such file`, code: 'E_CONFIG', kind: 'config' });
  await t.rejects(loadConfig(missing, { mustExist: true }), SmarthostError);
  const def = await loadConfig(missing, { mustExist: false });
  t.strictSame(def, { ...defaultConfig(missing), missing: true }, "the defaults, marked as from a missing file");

  // other errors are fatal even when the file is optional
  await t.rejects(loadConfig(join(dir, 'sub'), { mustExist: false }), { message: `cannot read ${join(dir, 'sub')}: is a directory` });

  const min = await loadConfig(join(CONFIGS, 'minimal.conf'));
  t.equal(min.route?.hostText, 'smarthost.example.test');
});

t.test('every configuration example in man/send-smarthost.conf.5 parses', async (t) => {
  const page = readFileSync(fileURLToPath(new URL('../../man/send-smarthost.conf.5', import.meta.url)), 'utf8');
  const blocks = [...page.matchAll(/^\.nf\n([\s\S]*?)^\.fi$/gm)]
    .map((m) => m[1]!.replace(/\\-/g, '-').replace(/\\e/g, '\\'))
    .filter((b) => !b.includes('\\f') && /^\s*(#|[a-z_]+ = )/.test(b))
    // the ALIASES FILE section shows /etc/aliases lines (name: targets), not configuration
    .filter((b) => !b.split('\n').some((l) => /^[^#\s=]+:\s/.test(l)));
  t.ok(blocks.length >= 8, `found ${blocks.length} examples`);
  for (const b of blocks) t.doesNotThrow(() => parseConfig(b, 'man page'), b.trim());
  // and the example error message at the top of the page is the real one
  t.match(page, 'unknown option "route_date" (did you mean route_data?)');
  t.throws(() => parseConfig('\n\nroute_date = x', '/etc/send-smarthost.conf'), {
    message: '/etc/send-smarthost.conf:3: unknown option "route_date" (did you mean route_data?)',
  });
});

t.test('spool_directory and queue_deferred (issue 3)', async (t) => {
  const d = parseConfig('', 'f');
  t.equal(d.spoolDirectory, '/var/spool/send-smarthost');
  t.equal(d.queueDeferred, true);
  const c = parseConfig('spool_directory = /srv/spool\nno_queue_deferred\n', 'f');
  t.equal(c.spoolDirectory, '/srv/spool');
  t.equal(c.queueDeferred, false);
  t.equal(parseConfig('queue_deferred = yes\n', 'f').queueDeferred, true);
  t.throws(() => parseConfig('spool_directory = spool\n', 'f'), /^f:1: spool_directory must be an absolute path, got "spool"$/);
  t.throws(() => parseConfig('queue_deferred = maybe\n', 'f'), /^f:1: bad boolean "maybe"/);
});

t.test('delivery_mode (issue 5: -odb is the default)', async (t) => {
  t.equal(parseConfig('', 'f').deliveryMode, 'b', 'background by default, as Exim');
  t.equal(parseConfig('delivery_mode = interactive\n', 'f').deliveryMode, 'i');
  t.equal(parseConfig('delivery_mode = Queue\n', 'f').deliveryMode, 'q', 'case ignored');
  t.equal(parseConfig('delivery_mode = background\n', 'f').deliveryMode, 'b');
  t.throws(() => parseConfig('port = 25\ndelivery_mode = later\n', 'f'), /^f:2: bad delivery_mode "later" \(background, interactive or queue\)$/);
});

t.test('a missing default file says so and how to start; a file without route_data says that', async (t) => {
  const missing = await loadConfig('/nonexistent/send-smarthost.conf', { mustExist: false });
  t.equal(missing.missing, true);
  const e = noRouteError(missing);
  t.equal(e.kind, 'config');
  t.match(e.message, /^\/nonexistent\/send-smarthost\.conf does not exist: nowhere to send mail\. Create it with at least "route_data = <your smarthost>"/);
  t.match(e.message, /contrib\/send-smarthost\.conf/);
  t.equal(noRouteError(parseConfig('port = 25\n', '/x.conf')).message, '/x.conf: route_data is not set: nowhere to send mail');
});

t.test('-O options: checked as lines of the file, named in errors, over the file', async (t) => {
  const file = '/etc/send-smarthost.conf';
  const text = 'route_data = mail.example.test\nport = 25\nqueue_deferred = true\n';
  const c = parseConfig(text, file, [{ name: 'port', value: '587' }, { name: 'no_queue_deferred' }, { name: 'route_data', value: 'mail.dev.example.test bydns ipv4_only' }]);
  t.equal(c.port, 587, '-O port replaces the file\'s port');
  t.equal(c.queueDeferred, false, 'a boolean by its no_ name');
  t.equal(c.route?.hostText, 'mail.dev.example.test');
  t.equal(c.route?.family, 'ipv4_only');
  t.equal(parseConfig(text, file, [{ name: 'port', value: '26' }, { name: 'port', value: '27' }]).port, 27, 'the last -O wins');
  const rows: [{ name: string; value?: string }, string][] = [
    [{ name: 'route_date', value: 'x' }, '-O route_date: unknown option (did you mean route_data?)'],
    [{ name: 'port', value: 'x' }, '-O port: bad port "x" for port (1-65535)'],
    [{ name: 'port' }, '-O port: option needs a value (port = ...)'],
    [{ name: 'route_data', value: 'mail.example.test bydns ipv4only' }, '-O route_data: unknown host option "ipv4only" (did you mean ipv4_only?)'],
    [{ name: 'no_port' }, '-O no_port: unknown option'], // no_ negates booleans only
    [{ name: 'auth_password', value: 'hunter2' }, '-O auth_password: a password on the command line is visible to every user (ps); use auth_password_file or auth_password_command'],
    [{ name: 'auth_username', value: 'me' }, '-O auth_username: auth_username is set but no password (auth_password, auth_password_file or auth_password_command) nor auth_oauth2_command'],
  ];
  for (const [o, message] of rows) {
    t.throws(() => parseConfig(text, file, [o]), { code: 'E_CONFIG', kind: 'config', message }, `-O ${o.name}`);
  }
  const missing = await loadConfig('/nonexistent/send-smarthost.conf', { mustExist: false, overrides: [{ name: 'route_data', value: 'mx.example.test' }] });
  t.equal(missing.route?.hostText, 'mx.example.test', 'with no file, -O options are the whole configuration');
  t.equal(missing.missing, undefined);
});

t.test('check_spool_space, check_spool_inodes: Exim\'s names, sizes and defaults (issue 9, point 2)', async (t) => {
  const d = parseConfig('', 'f');
  t.equal(d.checkSpoolSpace, 10 * 1024 * 1024, 'default 10M, as Exim');
  t.equal(d.checkSpoolInodes, 100, 'default 100, as Exim');
  t.equal(parseConfig('check_spool_space = 512K\n', 'f').checkSpoolSpace, 512 * 1024);
  t.equal(parseConfig('check_spool_space = 2G\n', 'f').checkSpoolSpace, 2 * 1024 ** 3);
  t.equal(parseConfig('check_spool_space = 0\n', 'f').checkSpoolSpace, 0, '0: no check');
  t.throws(() => parseConfig('check_spool_space = 10 MB\n', 'f'), /f:1: bad check_spool_space "10 MB" \(a size such as 10M, 512K or 0\)/);
  t.throws(() => parseConfig('check_spool_inodes = lots\n', 'f'), /f:1: bad check_spool_inodes "lots"/);
});

t.test("delay_warning: Exim's time list, default 24h; empty or zero: none", async (t) => {
  t.same(parseConfig('', 'f').delayWarning, [86_400_000], 'default 24h, as Exim');
  t.same(parseConfig('delay_warning = 4h:8h:24h\n', 'f').delayWarning, [4, 8, 24].map((h) => h * 3_600_000));
  t.same(parseConfig('delay_warning = 6h\n', 'f').delayWarning, [6 * 3_600_000]);
  t.same(parseConfig('delay_warning =\n', 'f').delayWarning, [], 'empty: no warnings');
  t.same(parseConfig('delay_warning = 0s\n', 'f').delayWarning, [], 'a zero time: no warnings');
  t.same(parseConfig('delay_warning = 0\n', 'f').delayWarning, []);
  t.throws(() => parseConfig('delay_warning = 4h:soon\n', 'f'), /f:1: bad time interval "soon" in delay_warning \(expected e\.g\. 4h:8h:24h, or 0 for none\)/);
  t.throws(() => parseConfig('delay_warning = 8h:4h\n', 'f'), /f:1: delay_warning: each time must be longer than the one before, got "4h" after "8h"/);
  t.throws(() => parseConfig('delay_warning = 0:4h\n', 'f'), /f:1: delay_warning: a zero time turns the warnings off; it cannot be in a list/);
  t.throws(() => parseConfig(`delay_warning = ${Array.from({ length: 11 }, (_, i) => `${i + 1}h`).join(':')}\n`, 'f'), /at most 10 times, got 11/);
});

t.test('trusted_users, untrusted_set_sender, local_from_check, local_sender_retain (issue 9, point 9)', async (t) => {
  const d = parseConfig('', 'f');
  t.same([d.trustedUsers, d.untrustedSetSender, d.localFromCheck, d.localSenderRetain], [[], ['*'], true, false]);
  const c = parseConfig('trusted_users = www-data : backup\nuntrusted_set_sender = ^\\w+-bounces@example\\.com$ : *@example.org\nno_local_from_check\nlocal_sender_retain\n', 'f');
  t.same(c.trustedUsers, ['www-data', 'backup']);
  t.same(c.untrustedSetSender, ['^\\w+-bounces@example\\.com$', '*@example.org']);
  t.same([c.localFromCheck, c.localSenderRetain], [false, true]);
  t.same(parseConfig('untrusted_set_sender =\n', 'f').untrustedSetSender, [], 'empty: no untrusted user sets a sender (Exim\'s default)');
  t.throws(() => parseConfig('local_sender_retain = true\n', 'f'), /f:1: local_sender_retain needs local_from_check = false/);
  t.throws(() => parseConfig('trusted_users = ro ot\n', 'f'), /bad user name "ro ot" in trusted_users/);
  t.throws(() => parseConfig('untrusted_set_sender = ^(\n', 'f'), /bad regular expression "\^\(" in untrusted_set_sender/);
});
