/**
 * `send-smarthost check` in-process (lib/ops/program.ts → check.ts →
 * main.ts checkRoute) against a dns2 server with the seed zone and
 * smtp-server peers with the fixture certificates: the four seed scenarios
 * (CNAME with the right certificate, direct, wrong name, a certificate
 * naming only the CNAME target) with the names and verdicts reported; no
 * MAIL and no DATA ever reach the server; AUTH success and failure; the
 * expiry warning; the exit codes; every JSON document validated against
 * schema/check.schema.json.
 */
import t, { type Test } from 'tap';
import { writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { operatorMain } from '../../lib/ops/program.js';
import { memoryIo } from '../../fixtures/peers/memory-io.js';
import type { CheckReport } from '../../lib/check-report.js';
import { startDns, type FakeDns } from '../../fixtures/peers/fake-dns.js';
import { startRecordingSmtp, type Recorded } from '../../fixtures/peers/record-smtp.js';
import type { FixtureCert } from '../../fixtures/peers/fake-smtp.js';
import { testConfig } from '../../fixtures/peers/run-cli.js';
import { schemaErrors } from '../../fixtures/peers/json-schema.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed', { servfail: ['broken.example.test'] });
});
t.teardown(() => dns.close());

const io = memoryIo;

async function server(t: Test, cert: FixtureCert, extra: Parameters<typeof startRecordingSmtp>[0] = {}): Promise<Recorded> {
  const smtp = await startRecordingSmtp({ cert, banner: 'test peer', disableReverseLookup: true, ...extra });
  t.teardown(() => smtp.close());
  return smtp;
}

/** check --json: the exit code, the document (validated against the schema), stderr. */
async function checkJson(t: Test, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; report: CheckReport; err: string }> {
  const x = io(env);
  const code = await operatorMain(['check', '--json', ...args], x);
  const report = JSON.parse(x.out) as CheckReport;
  t.same(schemaErrors('check', report), [], 'the document conforms to schema/check.schema.json');
  t.equal(report.exitCode, code, 'exitCode is the exit status');
  return { code, report, err: x.err };
}

/** Nothing was sent: no MAIL FROM, no RCPT, no message. */
function noMail(t: Test, smtp: Recorded): void {
  t.same([smtp.mail.length, smtp.rcpt.length, smtp.messages.length], [0, 0, 0], 'the server saw no MAIL FROM, no RCPT TO, no DATA');
}

t.test('seed 1: a CNAME with a certificate for the queried name: deliverable, verified against the queried name', async (t) => {
  const smtp = await server(t, 'dev-wildcard');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const { code, report } = await checkJson(t, ['-C', conf]);
  t.equal(code, 0);
  t.match(report, { version: 1, command: 'check', deliverable: true, reason: null, route: { hosts: 'mail.dev.example.test', from: 'configuration' }, config: conf });
  const [h] = report.hosts;
  t.match(h, { queried: 'mail.dev.example.test', canonical: 'mail.example.local', cnames: [{ name: 'mail.dev.example.test', target: 'mail.example.local', ttl: 300 }], port: smtp.port, mx: null });
  const [a] = h!.addresses;
  t.match(a, { address: '127.0.0.1', family: 4, ttl: 60, ok: true, stage: 'done', error: null });
  t.match(a!.banner, /^220 .*test peer/);
  t.same(a!.ehlo.map((e) => e.secure), [false, true]);
  t.ok('STARTTLS' in a!.ehlo[0]!.extensions, 'STARTTLS offered in the plaintext EHLO');
  t.match(a!.tls, { mode: 'starttls', required: true, starttlsOffered: true, sni: 'mail.dev.example.test', protocol: /^TLSv1\.[23]$/ });
  t.match(a!.certificate, { subject: '/O=send-smarthost tests/CN=*.dev.example.test', altNames: ['DNS:*.dev.example.test'], notAfter: '2120-01-01T00:00:00.000Z' });
  t.same(a!.verification, { method: 'pkix', chain: 'trusted', chainError: null, names: ['mail.dev.example.test'], nameCheck: 'matched', matched: 'DNS:*.dev.example.test', reason: null, hint: null, pin: null });
  t.match(a!.auth, { configured: false, result: 'not-configured' });
  t.same(report.warnings, []);
  noMail(t, smtp);
});

t.test('seed 2: a direct smarthost (no CNAME): deliverable, canonical = queried', async (t) => {
  const smtp = await server(t, 'direct');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  // the route argument replaces the configuration's route_data
  const { code, report } = await checkJson(t, ['-C', conf, 'smarthost.example.test bydns']);
  t.equal(code, 0);
  t.match(report.route, { hosts: 'smarthost.example.test', options: 'bydns', from: 'argument' });
  t.match(report.hosts[0], { queried: 'smarthost.example.test', canonical: 'smarthost.example.test', cnames: [] });
  t.match(report.hosts[0]!.addresses[0]!.verification, { names: ['smarthost.example.test'], nameCheck: 'matched', matched: 'DNS:smarthost.example.test' });
  noMail(t, smtp);
});

t.test('seed 3: a certificate with a wrong name: exit 75, which name was checked and which names it has', async (t) => {
  const smtp = await server(t, 'other');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const { code, report } = await checkJson(t, ['-C', conf]);
  t.equal(code, 75, 'what a delivery would exit with (deferred: E_TLS_VERIFY)');
  t.equal(report.deliverable, false);
  const a = report.hosts[0]!.addresses[0]!;
  t.match(a, { ok: false, stage: 'starttls', error: { code: 'E_TLS_VERIFY', kind: 'temp' } });
  t.match(a.verification, { chain: 'trusted', names: ['mail.dev.example.test'], nameCheck: 'mismatch', matched: null, reason: 'certificate does not name "mail.dev.example.test" (it has DNS:*.other.test)', hint: null });
  t.same(a.certificate?.altNames, ['DNS:*.other.test']);
  t.match(report.reason, /TLS verification failed: certificate does not name "mail\.dev\.example\.test"/);
  noMail(t, smtp);
});

t.test('seed 4: a certificate naming only the CNAME target: exit 75, both names and what to do', async (t) => {
  const smtp = await server(t, 'target');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const { code, report } = await checkJson(t, ['-C', conf]);
  t.equal(code, 75);
  const a = report.hosts[0]!.addresses[0]!;
  t.match(a.verification, {
    chain: 'trusted',
    names: ['mail.dev.example.test'],
    nameCheck: 'mismatch',
    reason: 'certificate does not name "mail.dev.example.test" (it has DNS:mail.example.local)',
    hint: /^the certificate names the CNAME target mail\.example\.local, not mail\.dev\.example\.test: .*needs a certificate that names mail\.dev\.example\.test/,
  });
  noMail(t, smtp);

  // the human layout says the same
  const x = io();
  t.equal(await operatorMain(['check', '-C', conf], x), 75);
  t.match(x.out, /^route_data mail\.dev\.example\.test, from /);
  t.match(x.out, /\n {2}CNAME {9}mail\.dev\.example\.test -> mail\.example\.local \(ttl 300\)\n/);
  t.match(x.out, /\n {6}names {5}DNS:mail\.example\.local\n/);
  t.match(x.out, /\n {4}verified {4}mail\.dev\.example\.test: FAILED: certificate does not name "mail\.dev\.example\.test" \(it has DNS:mail\.example\.local\)\n {16}the certificate names the CNAME target mail\.example\.local/);
  t.match(x.out, /\n\ndelivery not possible \(exit 75\): mail\.example\.local \[127\.0\.0\.1\]:\d+: TLS verification failed/);
  t.notMatch(x.out, /\u001b\[/, 'no colour off a terminal');
});

t.test('the human layout of a deliverable route; colour only on a terminal without NO_COLOR', async (t) => {
  const smtp = await server(t, 'dev-wildcard');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const x = io();
  t.equal(await operatorMain(['check', '-C', conf], x), 0);
  t.equal(x.err, '');
  for (const want of [
    /\nhost mail\.dev\.example\.test\n/,
    /\n {2}canonical {5}mail\.example\.local\n/,
    /\n {2}addresses {5}127\.0\.0\.1 \(ttl 60\)\n/,
    new RegExp(`\\n {2}\\[127\\.0\\.0\\.1\\]:${smtp.port}\\n`),
    /\n {4}banner {6}220 \S+ ESMTP test peer\n/,
    /\n {4}EHLO {8}PIPELINING, .*STARTTLS\n {4}STARTTLS/,
    /\n {4}STARTTLS {4}TLSv1\.[23] \S+, SNI mail\.dev\.example\.test\n/,
    /\n {4}certificate \/O=send-smarthost tests\/CN=\*\.dev\.example\.test\n {6}issuer {4}\/O=send-smarthost tests\/CN=send-smarthost test CA\n/,
    /\n {6}valid {5}2020-01-01 to 2120-01-01 \(\d+ days left\)\n/,
    /\n {6}sha256 {4}([0-9A-F]{2}:){31}[0-9A-F]{2}\n/,
    /\n {4}verified {4}mail\.dev\.example\.test: OK, subjectAltName DNS:\*\.dev\.example\.test\n/,
    /\n {4}verified .*\n {4}EHLO \(TLS\) {2}PIPELINING, /,
    /\n {4}result {6}OK\n\ndelivery possible \(exit 0\)\n$/,
  ]) t.match(x.out, want);
  const tty = io({}, true);
  t.equal(await operatorMain(['check', '-C', conf], tty), 0);
  t.match(tty.out, /\u001b\[32mOK\u001b\[39m/, 'coloured on a terminal');
  const noColour = io({ NO_COLOR: '1' }, true);
  t.equal(await operatorMain(['check', '-C', conf], noColour), 0);
  t.notMatch(noColour.out, /\u001b\[/, 'NO_COLOR is honoured');
  noMail(t, smtp);
});

t.test('AUTH with credentials: success, and a refused password (exit 75, no secret shown)', async (t) => {
  const PASS = 'c0rrect-h0rse:battery';
  const smtp = await server(t, 'dev-wildcard', {
    authMethods: ['PLAIN', 'LOGIN'] as never,
    authOptional: false,
    onAuth(auth, _s, cb) {
      if (auth.username === 'relay@example.test' && auth.password === PASS) return cb(null, { user: auth.username });
      cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
  });
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const pw = join(dirname(conf), 'pw');
  writeFileSync(pw, `${PASS}\n`);
  chmodSync(pw, 0o600);
  writeFileSync(conf, `auth_username = relay@example.test\nauth_password_file = ${pw}\n`, { flag: 'a' });
  const good = await checkJson(t, ['-C', conf]);
  t.equal(good.code, 0);
  t.same(good.report.hosts[0]!.addresses[0]!.auth, { offered: ['PLAIN', 'LOGIN'], configured: true, username: 'relay@example.test', source: 'auth_username', mechanism: 'PLAIN', result: 'succeeded' });
  t.notOk(JSON.stringify(good.report).includes(PASS), 'the password is nowhere in the report');

  writeFileSync(pw, 'not-the-password\n');
  const bad = await checkJson(t, ['-C', conf]);
  t.equal(bad.code, 75, 'deferred, as a delivery with refused credentials');
  const a = bad.report.hosts[0]!.addresses[0]!;
  t.match(a, { ok: false, stage: 'auth', error: { code: 'E_AUTH' } });
  t.match(a.auth, { result: 'failed', mechanism: 'PLAIN' });
  t.match(a.error?.message, /authentication as "relay@example\.test" \(auth_username\) with AUTH PLAIN failed: 535/);
  t.notOk(JSON.stringify(bad.report).includes('not-the-password'));

  const x = io();
  t.equal(await operatorMain(['check', '-C', conf], x), 75);
  t.match(x.out, /\n {4}AUTH {8}PLAIN LOGIN offered; as relay@example\.test \(auth_username\): failed with PLAIN\n/);
  noMail(t, smtp);
});

t.test('a certificate expiring in under 14 days: a warning, still deliverable', async (t) => {
  const smtp = await server(t, 'dev-wildcard');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  // the fixture certificate ends 2120-01-01; the check's clock (test-only) is 10.5 days before
  const now = String(Date.parse('2119-12-21T12:00:00Z'));
  const { code, report } = await checkJson(t, ['-C', conf], { SEND_SMARTHOST_TEST_NOW: now });
  t.equal(code, 0);
  t.equal(report.hosts[0]!.addresses[0]!.certificate?.daysLeft, 10);
  t.same(report.warnings, [`mail.dev.example.test [127.0.0.1]: the certificate expires in 10 days (2120-01-01T00:00:00.000Z): under 14 days`]);
  const far = await checkJson(t, ['-C', conf], { SEND_SMARTHOST_TEST_NOW: String(Date.parse('2119-12-17T00:00:00Z')) });
  t.same(far.report.warnings, [], '15 days left: no warning');
  const x = io({ SEND_SMARTHOST_TEST_NOW: now });
  t.equal(await operatorMain(['check', '-C', conf], x), 0);
  t.match(x.out, /\n {6}valid {5}2020-01-01 to 2120-01-01 \(10 days left\)\n/);
  t.match(x.out, /\n {4}warning {5}the certificate expires in 10 days/);
});

t.test('an expired certificate: the chain is refused (exit 75) and the certificate still shown', async (t) => {
  const smtp = await server(t, 'expired');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const { code, report } = await checkJson(t, ['-C', conf]);
  t.equal(code, 75);
  const a = report.hosts[0]!.addresses[0]!;
  t.match(a.verification, { chain: 'refused', chainError: 'CERT_HAS_EXPIRED', nameCheck: 'not-reached' });
  t.match(a.certificate, { notAfter: '2001-01-01T00:00:00.000Z', daysLeft: Number });
  t.ok(a.certificate!.daysLeft < 0);
  noMail(t, smtp);
});

t.test('a smarthost that does not exist: exit 69; the DNS failing: exit 75; nobody listening: exit 75', async (t) => {
  const smtp = await server(t, 'dev-wildcard');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const nx = await checkJson(t, ['-C', conf, 'nope.example.test']);
  t.equal(nx.code, 69);
  t.match(nx.report, { deliverable: false, hosts: [], unresolved: [{ name: 'nope.example.test', error: { code: 'E_DNS_NXDOMAIN', kind: 'perm' } }] });
  const sf = await checkJson(t, ['-C', conf, 'broken.example.test']);
  t.equal(sf.code, 75);
  t.match(sf.report.unresolved, [{ error: { code: 'E_DNS_SERVFAIL', kind: 'temp' } }]);
  const down = await checkJson(t, ['-C', conf, '-O', 'port=1']);
  t.equal(down.code, 75);
  t.match(down.report.hosts[0]!.addresses[0], { ok: false, stage: 'connect', error: { code: 'E_CONNECT' }, banner: null, tls: { mode: 'none', starttlsOffered: null }, verification: null });
  t.match(down.report.hosts[0], { port: 1 });
});

t.test('every host and address is tried, in delivery order; one that works is enough', async (t) => {
  const good = await server(t, 'dev-wildcard');
  const bad = await server(t, 'target');
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: good.port });
  const { code, report } = await checkJson(t, ['-C', conf, `mail.dev.example.test::${bad.port}:mail.dev.example.test::${good.port}`]);
  t.equal(code, 0, 'the second host would take the message');
  t.same(report.hosts.map((h) => [h.port, h.addresses.map((a) => a.ok)]), [[bad.port, [false]], [good.port, [true]]]);
  noMail(t, good);
  noMail(t, bad);
});

t.test('usage and configuration errors: one line on stderr, 64 or 78, no document', async (t) => {
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: 1 });
  const rows: [string[], number, RegExp][] = [
    [['check', '-C', conf, 'mail.example.test bydsn'], 78, /^send-smarthost: check: route "mail\.example\.test bydsn": unknown host option "bydsn" \(did you mean bydns\?\)\n$/],
    [['check', '-C', conf, '-O', 'route_date=x'], 78, /^send-smarthost: -O route_date: unknown option \(did you mean route_data\?\)\n$/],
    [['check', '-C', conf, '-O', 'IgnoreDots'], 64, /-O IgnoreDots: not a configuration option/],
    [['check', '-C', '/nonexistent/send-smarthost.conf'], 78, /cannot read \/nonexistent\/send-smarthost\.conf: no such file/],
    [['check', '--jsn'], 64, /unknown option '--jsn'/],
    [['check', 'a', 'b'], 64, /too many arguments/],
  ];
  for (const [argv, want, msg] of rows) {
    const x = io();
    t.equal(await operatorMain(argv, x), want, argv.join(' '));
    t.match(x.err, msg);
    t.equal(x.out, '');
  }
  const none = writeConfigWithoutRoute();
  const x = io();
  t.equal(await operatorMain(['check', '--json', '-C', none], x), 78);
  t.match(x.err, /route_data is not set/);
});

function writeConfigWithoutRoute(): string {
  const conf = testConfig({ route: 'x.example.test', dnsPort: dns.port, smtpPort: 1 });
  writeFileSync(conf, '');
  return conf;
}

t.test('--help lists check', async (t) => {
  const x = io();
  t.equal(await operatorMain(['--help'], x), 0);
  t.match(x.out, /\nCommands:\n {2}check \[options\] \[route\]/);
  const y = io();
  t.equal(await operatorMain(['check', '--help'], y), 0);
  t.match(y.out, /^Usage: send-smarthost check \[options\] \[route\]/);
  t.match(y.out, /--json/);
});
