/**
 * End to end through bin/send-smarthost (the compiled bundle) against a dns2
 * server and smtp-server peers on loopback, port 0, with the fixture CA and
 * certificate checks always on. The four scenarios of the seed report first.
 */
import t, { type Test } from 'tap';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { startSmtp, type FakeSmtpOptions } from '../fixtures/peers/fake-smtp.js';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CA, runCli, testConfig, writeConfig } from '../fixtures/peers/run-cli.js';

const MESSAGE = 'From: Cron Daemon <root@example.test>\nTo: admin@example.test\nSubject: nightly\n\nall good\n';

let dns: FakeDns;
let dns6: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
  dns6 = await startDns('v6');
});
t.teardown(async () => {
  await dns.close();
  await dns6.close();
});

/** Start a smarthost, run the CLI against it with `route`, return both. */
async function scenario(t: Test, route: string, smtpOpts: FakeSmtpOptions, args: string[] = ['-d', 'admin@example.test'], input = MESSAGE, dnsPeer = () => dns) {
  const smtp = await startSmtp(smtpOpts);
  t.teardown(() => smtp.close());
  const conf = testConfig({ route, dnsPort: dnsPeer().port, smtpPort: smtp.port });
  const res = await runCli(['-C', conf, ...args], input);
  return { smtp, res, lines: res.stderr.split('\n') };
}

t.test('CNAME\'d smarthost, wildcard cert for the queried name: delivered', async (t) => {
  const { smtp, res, lines } = await scenario(t, 'mail.dev.example.test bydns ipv4_only', { cert: 'dev-wildcard' }, ['-d', '-f', 'cron@example.test', 'admin@example.test']);
  t.equal(res.code, 0, res.stderr);
  t.equal(smtp.messages.length, 1);
  const m = smtp.messages[0]!;
  t.equal(m.from, 'cron@example.test');
  t.same(m.to, ['admin@example.test']);
  t.equal(m.secure, true, 'over TLS');
  t.equal(m.servername, 'mail.dev.example.test', 'SNI is the queried name');
  // Date and Message-ID are added when missing (lib/submit/hygiene.ts); the From given is kept
  t.match(m.data.toString(), /^From: Cron Daemon <root@example\.test>\r\nTo: admin@example\.test\r\nSubject: nightly\r\nDate: [A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\nMessage-ID: <\d{14}\.[0-9a-f]{16}@[^>\s]+>\r\n\r\nall good\r\n$/);
  for (const want of [
    "original list of hosts = 'mail.dev.example.test' options = 'bydns ipv4_only'",
    'finding IP address for mail.dev.example.test',
    'doing DNS lookup',
    'DNS lookup of mail.dev.example.test (A) succeeded',
    'CNAME found: change to mail.example.local',
    'fully qualified name = mail.dev.example.test',
    'Cert hostname to check: "mail.dev.example.test"',
    'Setting TLS SNI "mail.dev.example.test"',
    'delivery result: DELIVERED',
  ]) {
    t.ok(lines.includes(want), `trace has: ${want}`);
  }
  t.ok(lines.some((l) => /^mail\.example\.local 127\.0\.0\.1 mx=-1 ttl=60 \(queried mail\.dev\.example\.test\)$/.test(l)), 'host line: canonical, address, queried');
  t.ok(lines.includes(`Connecting to mail.example.local [127.0.0.1]:${smtp.port} ... (certificate name mail.dev.example.test)`), 'connect line shows both names');
  t.ok(lines.some((l) => /^SSL verify ok: name "mail\.dev\.example\.test" matches certificate .*CN=\*\.dev\.example\.test \(subjectAltName DNS:\*\.dev\.example\.test\)$/.test(l)), 'which name matched which SAN');
  t.ok(lines.some((l) => l.startsWith('  SMTP>> MAIL FROM:<cron@example.test>')));
  t.notOk(lines.some((l) => l.includes('Cert hostname to check: "mail.example.local"')), 'the CNAME target is never the name checked');
});

t.test('direct smarthost (no CNAME): delivered', async (t) => {
  const { smtp, res, lines } = await scenario(t, 'smarthost.example.test', { cert: 'direct' });
  t.equal(res.code, 0, res.stderr);
  t.equal(smtp.messages.length, 1);
  t.equal(smtp.messages[0]!.servername, 'smarthost.example.test');
  t.ok(lines.includes('fully qualified name = smarthost.example.test'));
  t.notOk(lines.some((l) => l.startsWith('CNAME found')), 'no CNAME in the trace');
  t.ok(lines.includes('DNS lookup of smarthost.example.test (AAAA) gave NO_DATA'), 'default lookup asks for AAAA too');
});

t.test('certificate for a wrong name: not delivered, exit 75', async (t) => {
  const { smtp, res, lines } = await scenario(t, 'mail.dev.example.test bydns ipv4_only', { cert: 'other' });
  t.equal(res.code, 75);
  t.equal(smtp.messages.length, 0, 'nothing delivered');
  t.ok(lines.some((l) => /^\[127\.0\.0\.1\] SSL verify error: certificate name mismatch: DN=".*CN=\*\.other\.test" H="mail\.dev\.example\.test"$/.test(l)), 'Exim-style mismatch line');
  t.match(res.stderr, /send-smarthost: <admin@example\.test>: deferred \(temporary failure; not delivered\): .*certificate does not name "mail\.dev\.example\.test"/);
});

t.test('certificate naming only the CNAME target: not delivered, exit 75', async (t) => {
  const { smtp, res, lines } = await scenario(t, 'mail.dev.example.test bydns ipv4_only', { cert: 'target' });
  t.equal(res.code, 75);
  t.equal(smtp.messages.length, 0);
  t.ok(lines.includes('Cert hostname to check: "mail.dev.example.test"'));
  t.ok(lines.some((l) => /SSL verify error: certificate name mismatch: DN=".*CN=mail\.example\.local" H="mail\.dev\.example\.test"$/.test(l)));
  t.ok(lines.includes('CNAME found: change to mail.example.local'), 'both names in the trace');
});

t.test('expired certificate: not delivered, exit 75', async (t) => {
  const { smtp, res, lines } = await scenario(t, 'mail.dev.example.test', { cert: 'expired' });
  t.equal(res.code, 75);
  t.equal(smtp.messages.length, 0);
  t.ok(lines.some((l) => /SSL verify error: .*CERT_HAS_EXPIRED/.test(l)), res.stderr);
});

t.test('STARTTLS stripped while TLS is required: no cleartext delivery', async (t) => {
  const { smtp, res } = await scenario(t, 'mail.dev.example.test', { disableStartTls: true });
  t.equal(res.code, 75);
  t.equal(smtp.messages.length, 0, 'nothing sent in cleartext');
  t.match(res.stderr, /TLS is required \(hosts_require_tls\) but the server did not offer STARTTLS/);
});

t.test('host outside hosts_require_tls without STARTTLS: cleartext allowed', async (t) => {
  const smtp = await startSmtp({ disableStartTls: true });
  t.teardown(() => smtp.close());
  const conf = testConfig({ route: 'smarthost.example.test', dnsPort: dns.port, smtpPort: smtp.port, extra: ['hosts_require_tls = !smarthost.example.test : *'] });
  const res = await runCli(['-C', conf, 'admin@example.test'], MESSAGE);
  t.equal(res.code, 0, res.stderr);
  t.equal(smtp.messages[0]?.secure, false);
});

t.test('IPv6: AAAA ::1, delivered over ::1', async (t) => {
  let smtp;
  try {
    smtp = await startSmtp({ host: '::1', cert: 'dev-wildcard' });
  } catch (err) {
    t.comment(`skipped: no IPv6 loopback here: ${String(err)}`);
    t.pass('IPv6 test skipped');
    return;
  }
  t.teardown(() => smtp.close());
  const conf = testConfig({ route: 'v6.dev.example.test', dnsPort: dns6.port, smtpPort: smtp.port });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  t.equal(res.code, 0, res.stderr);
  t.equal(smtp.messages.length, 1);
  t.equal(smtp.messages[0]!.servername, 'v6.dev.example.test');
  t.match(res.stderr, new RegExp(`Connecting to v6\\.dev\\.example\\.test \\[::1\\]:${smtp.port} `));
});

t.test('-t: recipients from the headers, Bcc removed, argument recipients added', async (t) => {
  const input = 'From: a@example.test\nTo: One <one@example.test>, two@example.test\nCc: "Doe, J" <three@example.test>\nBcc: hidden@example.test,\n  hidden2@example.test\nSubject: x\n\nbody\n';
  const { smtp, res } = await scenario(t, 'smarthost.example.test', { cert: 'direct' }, ['-oi', '-t', 'extra@example.test'], input);
  t.equal(res.code, 0, res.stderr);
  t.same([...smtp.messages[0]!.to].sort(), ['extra@example.test', 'hidden2@example.test', 'hidden@example.test', 'one@example.test', 'three@example.test', 'two@example.test']);
  t.notMatch(smtp.messages[0]!.data.toString(), /Bcc|hidden/i, 'no Bcc in the data');
});

t.test('per-recipient replies: 5xx → exit 69, 4xx → exit 75', async (t) => {
  const reject = (addr: string) => (addr.startsWith('bad') ? '550 5.1.1 no such user' : addr.startsWith('later') ? '451 4.7.1 try later' : undefined);
  const perm = await scenario(t, 'smarthost.example.test', { cert: 'direct', onRcpt: reject }, ['bad@example.test', 'ok@example.test']);
  t.equal(perm.res.code, 69, perm.res.stderr);
  t.same(perm.smtp.messages[0]?.to, ['ok@example.test'], 'the good recipient got it');
  t.match(perm.res.stderr, /<bad@example\.test>: failed via smarthost\.example\.test: 550 5\.1\.1 no such user/);
  const temp = await scenario(t, 'smarthost.example.test', { cert: 'direct', onRcpt: reject }, ['later@example.test']);
  t.equal(temp.res.code, 75);
  t.equal(temp.smtp.messages.length, 0);
});

t.test('DNS: NXDOMAIN is permanent (69), SERVFAIL temporary (75)', async (t) => {
  const nx = await scenario(t, 'nope.example.test', {});
  t.equal(nx.res.code, 69, nx.res.stderr);
  t.match(nx.res.stderr, /nope\.example\.test/);
  const sf = await startDns('seed', { servfail: ['smarthost.example.test'] });
  t.teardown(() => sf.close());
  const r = await scenario(t, 'smarthost.example.test', {}, ['admin@example.test'], MESSAGE, () => sf);
  t.equal(r.res.code, 75, r.res.stderr);
});

t.test('delivery_timeout during DNS: the process exits at the deadline, not after the DNS retries', async (t) => {
  const silent = await startDns('seed', { silent: ['smarthost.example.test'] });
  t.teardown(() => silent.close());
  // without the deadline the lookups would take 2 record types x 6 tries x 1 s
  const conf = testConfig({ route: 'smarthost.example.test', dnsPort: silent.port, smtpPort: 9, extra: ['delivery_timeout = 1s', 'dns_retry = 5'] });
  const start = Date.now();
  const res = await runCli(['-C', conf, 'admin@example.test'], MESSAGE);
  const took = Date.now() - start;
  t.equal(res.code, 75, res.stderr);
  t.match(res.stderr, /during the DNS lookups/);
  t.ok(took < 4000, `exited ${took} ms after the start`);
});

t.test('failover: a dead first host, then a working one', async (t) => {
  const good = await startSmtp({ cert: 'direct' });
  t.teardown(() => good.close());
  const conf = testConfig({ route: `[127.0.0.1]::1:smarthost.example.test::${good.port}`, dnsPort: dns.port, smtpPort: good.port });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  t.equal(res.code, 0, res.stderr);
  t.equal(good.messages.length, 1);
  t.match(res.stderr, /just tried 127\.0\.0\.1 \[127\.0\.0\.1\] .*result DEFERRED at connect/);
});

t.test('bad input: usage 64, config 78, address 65', async (t) => {
  const unknown = await runCli(['-Z', 'a@example.test']);
  t.equal(unknown.code, 64);
  t.match(unknown.stderr, /^send-smarthost: unknown option "-Z"/);
  const conf = writeConfig(['route_data = mail.dev.example.test', 'route_date = x']);
  const bad = await runCli(['-C', conf, 'a@example.test'], MESSAGE);
  t.equal(bad.code, 78);
  t.match(bad.stderr, /send-smarthost\.conf:2: unknown option "route_date" \(did you mean route_data\?\)/);
  const missing = await runCli(['-C', '/nonexistent/send-smarthost.conf', 'a@example.test'], MESSAGE);
  t.equal(missing.code, 78);
  t.match(missing.stderr, /\/nonexistent\/send-smarthost\.conf/);
  const good = writeConfig(['route_data = smarthost.example.test', `dns_servers = 127.0.0.1:${dns.port}`]);
  const addr = await runCli(['-C', good, 'a@example.test\r\nBcc: x@evil.test'], MESSAGE);
  t.equal(addr.code, 65);
  t.match(addr.stderr, /bad address/);
  const none = await runCli(['-C', good], MESSAGE);
  t.equal(none.code, 64);
});

t.test('-bp with no spool, --help', async (t) => {
  // an empty (or absent) queue: exit 0 and no output, as Exim (test/e2e-queue.ts has the rest)
  const bp = await runCli(['-C', writeConfig(['spool_directory = /nonexistent/send-smarthost-spool']), '-bp']);
  t.equal(bp.code, 0, bp.stderr);
  t.equal(bp.stdout, '');
  const help = await runCli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: send-smarthost/);
  t.match(help.stdout, /\n {2}-t +add recipients from the To, Cc and Bcc headers/);
  const version = await runCli(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^send-smarthost \d+\.\d+\.\d+ \(Node\.js v\d+/);
  const late = await runCli(['-t', '--help'], 'To: a@example.test\n\nhi\n');
  t.equal(late.code, 64, 'help after a flag is a usage error: a piped message is never dropped with exit 0');
  t.match(late.stderr, /unknown option "--help"/);
});

t.test('a whole delivery test on one command line: -O options instead of a file', async (t) => {
  const smtp = await startSmtp({ cert: 'dev-wildcard', onRcpt: (a) => (a.startsWith('later@') ? '451 4.7.1 try later' : undefined) });
  t.teardown(() => smtp.close());
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-O-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const spool = join(dir, 'spool');
  // the file holds only what keeps the test off the host (its CA store, /etc/aliases, /var/spool); the route is all -O
  const conf = writeConfig([`tls_verify_certificates = ${CA}`, 'system_aliases_file =', `spool_directory = ${spool}`, `log_file_path = ${join(dir, 'mainlog')}`]);
  const O = ['-O', 'route_data=mail.dev.example.test bydns ipv4_only', '-O', `port=${smtp.port}`, '-O', `dns_servers=127.0.0.1:${dns.port}`, '-O', 'qualify_domain=example.test'];
  const ok = await runCli(['-C', conf, ...O, 'admin@example.test'], MESSAGE);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(smtp.messages.length, 1, 'delivered now, without -odi (a -O submission is never left to the background)');
  t.equal(smtp.messages[0]!.servername, 'mail.dev.example.test');

  const later = await runCli(['-C', conf, ...O, 'later@example.test'], MESSAGE);
  t.equal(later.code, 75, 'a temporary failure exits 75: nothing is queued for a queue run that would not know the -O options');
  t.match(later.stderr, /<later@example\.test>: deferred/);
  const left = existsSync(spool) ? [...readdirSync(join(spool, 'input')), ...readdirSync(join(spool, 'incoming'))] : [];
  t.same(left, [], 'nothing spooled');

  const typo = await runCli(['-C', conf, '-O', 'route_date=mail.dev.example.test', 'admin@example.test'], MESSAGE);
  t.equal(typo.code, 78);
  t.equal(typo.stderr, 'send-smarthost: -O route_date: unknown option (did you mean route_data?)\n');
  const queued = await runCli(['-C', conf, ...O, '-odq', 'admin@example.test'], MESSAGE);
  t.equal(queued.code, 64);
  t.match(queued.stderr, /-odq cannot be combined with -O route_data/);
});
