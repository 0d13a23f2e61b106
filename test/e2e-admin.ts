/**
 * The commands an Exim admin types to look at a configuration, through the
 * built binary: -bV (version, support, the file in effect), -bP (the
 * effective configuration, secrets masked), -bt and -bv (how an address is
 * routed: aliases with file:line, the smarthost's names and addresses; no
 * mail). The DNS is a dns2 peer on loopback with the seed's zone.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { runCli, withoutTapHooks, writeConfig } from '../fixtures/peers/run-cli.js';
import { VERSION } from '../lib/version.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

/** A configuration with the given route and an aliases file next to it. */
function config(route: string, extra: string[] = []): string {
  const conf = writeConfig([
    `route_data = ${route}`,
    'port = 587',
    `dns_servers = 127.0.0.1:${dns.port}`,
    'dns_retrans = 1s',
    'dns_retry = 0',
    'qualify_domain = example.test',
    'auth_username = me@example.test',
    'auth_password = hunter2',
    ...extra,
  ]);
  const aliases = join(dirname(conf), 'aliases');
  writeFileSync(aliases, '# aliases\nroot: ops\nops: admin@example.com\npostmaster: root\n');
  writeFileSync(conf, `system_aliases_file = ${aliases}\n`, { flag: 'a' });
  chmodSync(conf, 0o600); // it holds auth_password
  return conf;
}

t.test('-bV: version, support, the configuration file in effect', async (t) => {
  const conf = config('smarthost.example.test');
  const r = await runCli(['-C', conf, '-bV']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^send-smarthost version ${VERSION.replace(/\./g, '\\.')} \\(Node\\.js v\\d+`));
  t.match(r.stdout, /\nSupport for: STARTTLS SMTPS .*AUTH\(PLAIN,LOGIN,CRAM-MD5,XOAUTH2\)/);
  t.match(r.stdout, new RegExp(`\\nConfiguration file is ${conf.replace(/[.]/g, '\\.')}\\n$`));
  const bad = await runCli(['-C', writeConfig(['route_date = x']), '-bV']);
  t.equal(bad.code, 78, 'a broken file is a configuration error, as with every other command');
  t.match(bad.stderr, /:1: unknown option "route_date" \(did you mean route_data\?\)/);
});

t.test('-bP: every option or those named; secrets masked; unknown names refused', async (t) => {
  const conf = config('"mail.dev.example.test : smarthost.example.test" bydns ipv4_only');
  const all = await runCli(['-C', conf, '-bP']);
  t.equal(all.code, 0, all.stderr);
  t.match(all.stdout, /^route_data = "mail\.dev\.example\.test : smarthost\.example\.test" bydns ipv4_only\n/m);
  t.match(all.stdout, /^port = 587$/m);
  t.match(all.stdout, /^auth_password = <value not displayable>$/m);
  t.notMatch(all.stdout, /hunter2/, 'the password is never printed');
  t.match(all.stdout, /^queue_deferred$/m);
  t.match(all.stdout, /^command_timeout = 5m$/m);
  const some = await runCli(['-C', conf, '-bP', 'qualify_domain', 'config_file', 'bogus_opt', 'port']);
  t.equal(some.code, 64);
  t.equal(some.stdout, `qualify_domain = example.test\n${conf}\nport = 587\n`);
  t.equal(some.stderr, 'send-smarthost: bogus_opt is not a known option\n');
  const over = await runCli(['-C', conf, '-O', 'port=2525', '-bP', 'port']);
  t.equal(over.stdout, 'port = 2525\n', '-O options are part of the effective configuration');
});

t.test('-bt: aliases with file:line, the smarthost, both names, no mail', async (t) => {
  const conf = config('mail.dev.example.test bydns ipv4_only');
  const r = await runCli(['-C', conf, '-bt', 'root', 'bob@example.org']);
  t.equal(r.code, 0, r.stderr);
  const aliases = join(dirname(conf), 'aliases');
  const block = (addr: string, via: string[]) =>
    [addr, ...via, '  router = smarthost, transport = remote_smtp', '  host mail.example.local [127.0.0.1] port=587 certname=mail.dev.example.test', '    CNAME mail.dev.example.test -> mail.example.local'].join('\n') + '\n';
  t.equal(r.stdout, block('admin@example.com', [`    <-- ops@example.test (${aliases}:3)`, `    <-- root@example.test (${aliases}:2)`]) + block('bob@example.org', []));
  const v = await runCli(['-C', conf, '-bv', 'postmaster', 'x@example.org']);
  t.equal(v.code, 0);
  t.equal(v.stdout, 'admin@example.com verified\nx@example.org verified\n');
});

t.test('-bt: unroutable and malformed addresses get a sysexits code', async (t) => {
  const gone = await runCli(['-C', config('nosuch.example.test'), '-bt', 'bob@example.org']);
  t.equal(gone.code, 69, 'the smarthost does not exist: 69, as a delivery would');
  t.match(gone.stdout, /^bob@example\.org is undeliverable: .*nosuch\.example\.test/);
  const bad = await runCli(['-C', config('smarthost.example.test'), '-bv', 'a@b@c']);
  t.equal(bad.code, 65);
  t.match(bad.stdout, /^a@b@c is undeliverable: bad address/);
  const none = await runCli(['-C', config('smarthost.example.test'), '-bt']);
  t.equal(none.code, 64);
  t.match(none.stderr, /-bt needs addresses/);
  const mx = await runCli(['-C', config('dev.example.test/MX bydns ipv4_only'), '-bt', 'bob@example.org']);
  t.equal(mx.code, 0, mx.stderr);
  t.match(mx.stdout, /\n  host mail\.example\.local \[127\.0\.0\.1\] port=587 MX=10 certname=mail\.dev\.example\.test\n/);
  t.match(mx.stdout, /\n  host backup\.dev\.example\.test \[127\.0\.0\.2\] port=587 MX=20 certname=backup\.dev\.example\.test\n/);
});

t.test('--install-links: mailq and newaliases by their names, through the links', async (t) => {
  const prefix = mkdtempSync(join(tmpdir(), 'send-smarthost-prefix-'));
  t.teardown(() => rmSync(prefix, { recursive: true, force: true }));
  const r = await runCli(['--install-links', '--prefix', prefix]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.split('\n').filter((l) => l.endsWith(': created')).length, 4);
  const conf = config('smarthost.example.test');
  const env = { ...withoutTapHooks(process.env), NO_COLOR: '1' };
  const mailq = spawnSync(join(prefix, 'usr/bin/mailq'), ['-C', conf], { env, encoding: 'utf8' });
  t.equal(mailq.status, 0, mailq.stderr);
  t.equal(mailq.stdout, '', 'mailq lists the (empty) queue');
  const newaliases = spawnSync(join(prefix, 'usr/bin/newaliases'), ['-C', conf], { env, encoding: 'utf8' });
  t.equal(newaliases.status, 0, newaliases.stderr);
  t.match(newaliases.stdout, /aliases: 3 aliases\n$/, 'newaliases checks the aliases file');
});
