/**
 * End to end through bin/send-smarthost (run `node build.mjs` first):
 * authentication (password from a command, credentials by the queried name,
 * an insecure config refused), implicit TLS, failover over three hosts, and
 * the total deadline. Loopback peers on port 0; certificate checks always on.
 */
import t, { type Test } from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import net from 'node:net';
import type { SMTPServerAuthentication } from 'smtp-server';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { startSmtp, type FakeSmtpOptions } from '../fixtures/peers/fake-smtp.js';
import { startScriptSmtp } from '../fixtures/peers/script-smtp.js';
import { runCli, testConfig } from '../fixtures/peers/run-cli.js';

const MESSAGE = 'From: root@example.test\nTo: admin@example.test\nSubject: nightly\n\nall good\n';
const USER = 'relay@example.test';
const PASS = 'c0rrect-h0rse:battery';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

/** smtp-server requiring AUTH; accepts `users` (user → password). */
async function authServer(t: Test, users: Record<string, string>, extra: FakeSmtpOptions = {}) {
  const seen: SMTPServerAuthentication[] = [];
  const smtp = await startSmtp({
    cert: 'dev-wildcard',
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'] as never,
    authOptional: false,
    onAuth(auth, _s, cb) {
      seen.push(auth);
      if (auth.username !== undefined && users[auth.username] === auth.password) return cb(null, { user: auth.username });
      cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    ...extra,
  });
  t.teardown(() => smtp.close());
  return { smtp, seen };
}

/** Secret files are written 0600 next to the config. */
function secretFile(conf: string, name: string, text: string): string {
  const file = join(dirname(conf), name);
  writeFileSync(file, text);
  chmodSync(file, 0o600);
  return file;
}

t.test('AUTH with the password from auth_password_command: delivered; the password is nowhere in -d output', async (t) => {
  const { smtp, seen } = await authServer(t, { [USER]: PASS });
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const script = secretFile(conf, 'pw.sh', `#!/bin/sh\nprintf '%s\\n' '${PASS}'\n`);
  chmodSync(script, 0o700);
  writeFileSync(conf, `auth_username = ${USER}\nauth_password_command = ${script}\n`, { flag: 'a' });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  t.equal(res.code, 0, res.stderr);
  t.equal(smtp.messages.length, 1);
  t.equal(seen[0]!.method, 'PLAIN', 'PLAIN over TLS by default');
  t.match(res.stderr, /SMTP>> AUTH PLAIN \*\*\*\*/);
  t.match(res.stderr, /SMTP<< 235/);
  t.notOk(res.stderr.includes(PASS), 'password not in stderr');
  t.notOk(res.stderr.includes(Buffer.from(`\0${USER}\0${PASS}`).toString('base64')), 'PLAIN blob not in stderr');
});

t.test('AUTH LOGIN (auth_mechanisms) with a wrong password: deferred 75, the reply shown, no secret', async (t) => {
  const { smtp, seen } = await authServer(t, { [USER]: PASS });
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const pw = secretFile(conf, 'pw', 'not-the-password\n');
  writeFileSync(conf, `auth_username = ${USER}\nauth_password_file = ${pw}\nauth_mechanisms = LOGIN\n`, { flag: 'a' });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  t.equal(res.code, 75, 'deferred, never bounced, for an authentication failure');
  t.equal(seen[0]!.method, 'LOGIN');
  t.equal(smtp.messages.length, 0);
  t.match(res.stderr, /<admin@example\.test>: deferred .*authentication as "relay@example\.test" \(auth_username\) with AUTH LOGIN failed: 535/);
  t.notOk(res.stderr.includes('not-the-password'));
  t.notOk(res.stderr.includes(Buffer.from('not-the-password').toString('base64')), 'the LOGIN continuation line is masked');
  t.match(res.stderr, /  SMTP>> \*\*\*\*/);
});

t.test('credentials are chosen by the queried name of a CNAME\'d smarthost, not the CNAME target', async (t) => {
  const { smtp, seen } = await authServer(t, { 'queried-user': 'queried-pass' });
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  // Debian's passwd.client would have used the mail.example.local line (the canonical name)
  const creds = secretFile(conf, 'creds', 'mail.example.local:target-user:target-pass\nmail.dev.example.test:queried-user:queried-pass\n');
  writeFileSync(conf, `auth_credentials_file = ${creds}\n`, { flag: 'a' });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  t.equal(res.code, 0, res.stderr);
  t.same(seen.map((a) => a.username), ['queried-user']);
  t.match(res.stderr, /CNAME found: change to mail\.example\.local/);
});

t.test('auth_password in a config file readable by others: refused with file:line, exit 78, nothing sent', async (t) => {
  const { smtp, seen } = await authServer(t, { [USER]: PASS });
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  writeFileSync(conf, `auth_username = ${USER}\nauth_password = ${PASS}\n`, { flag: 'a' });
  chmodSync(conf, 0o644);
  const res = await runCli(['-C', conf, 'admin@example.test'], MESSAGE);
  t.equal(res.code, 78);
  t.match(res.stderr, new RegExp(`^send-smarthost: ${conf.replace(/[.]/g, '\\.')}:\\d+: auth_password is set but .* is readable by group or others \\(mode 0644\\)`));
  t.notOk(res.stderr.includes(PASS));
  t.equal(seen.length, 0);
  chmodSync(conf, 0o600);
  const ok = await runCli(['-C', conf, 'admin@example.test'], MESSAGE);
  t.equal(ok.code, 0, ok.stderr);
});

t.test('credentials are not sent over cleartext (server without STARTTLS, outside hosts_require_tls)', async (t) => {
  const { smtp, seen } = await authServer(t, { [USER]: PASS }, { disableStartTls: true, allowInsecureAuth: true });
  const conf = testConfig({ route: 'smarthost.example.test', dnsPort: dns.port, smtpPort: smtp.port, extra: ['hosts_require_tls =', `auth_username = ${USER}`] });
  secretFile(conf, 'x', '');
  writeFileSync(conf, `auth_password_command = echo '${PASS}'\n`, { flag: 'a' });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  t.equal(res.code, 75);
  t.equal(seen.length, 0, 'no AUTH reached the server');
  t.notOk(/SMTP>> AUTH/.test(res.stderr));
  t.match(res.stderr, /TLS is not up and credentials are never sent in cleartext/);
});

t.test('protocol = smtps: implicit TLS verified against the queried name; a wrong certificate defers', async (t) => {
  for (const [cert, code] of [['dev-wildcard', 0], ['other', 75]] as const) {
    const smtp = await startSmtp({ secure: true, cert });
    t.teardown(() => smtp.close());
    const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port, extra: ['protocol = smtps'] });
    const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
    t.equal(res.code, code, `${cert}: ${res.stderr.slice(-300)}`);
    t.equal(smtp.messages.length, code === 0 ? 1 : 0);
    t.match(res.stderr, /Setting TLS SNI "mail\.dev\.example\.test"/);
    t.notOk(res.stderr.includes('SMTP>> STARTTLS'));
    if (code === 0) t.equal(smtp.messages[0]!.servername, 'mail.dev.example.test');
    else t.match(res.stderr, /certificate does not name "mail\.dev\.example\.test"/);
  }
});

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

t.test('failover: a dead host and a 4xx host, then a working third — in route order, each reason told', async (t) => {
  const dead = await deadPort();
  const busy = await startScriptSmtp({ greeting: '421 4.3.2 Service busy, try later' });
  const good = await startScriptSmtp({});
  t.teardown(() => busy.close());
  t.teardown(() => good.close());
  const lit = (p: number) => `[127.0.0.1]::${p}`;
  const route = `${lit(dead)}:${lit(busy.port)}:${lit(good.port)}`;
  const conf = testConfig({ route, dnsPort: dns.port, smtpPort: good.port, extra: ['hosts_require_tls ='] });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  t.equal(res.code, 0, res.stderr);
  t.equal(good.bodies.length, 1);
  const order = [...res.stderr.matchAll(/^Connecting to 127\.0\.0\.1 \[127\.0\.0\.1\]:(\d+)/gm)].map((m) => Number(m[1]));
  t.same(order, [dead, busy.port, good.port], 'route order');
  const tried = res.stderr.split('\n').filter((l) => l.startsWith('just tried'));
  t.match(tried, [/DEFERRED at connect: .*ECONNREFUSED/, /DEFERRED at banner: .*421 4\.3\.2 Service busy/, /DELIVERED at done/]);

  // without the third host: deferred, and the caller is told both reasons
  const conf2 = testConfig({ route: `${lit(dead)}:${lit(busy.port)}`, dnsPort: dns.port, smtpPort: good.port, extra: ['hosts_require_tls ='] });
  const res2 = await runCli(['-C', conf2, 'admin@example.test'], MESSAGE);
  t.equal(res2.code, 75);
  t.match(res2.stderr, new RegExp(`send-smarthost: all 2 attempts failed: 127\\.0\\.0\\.1 \\[127\\.0\\.0\\.1\\]:${dead} at connect: .*ECONNREFUSED.*; 127\\.0\\.0\\.1 \\[127\\.0\\.0\\.1\\]:${busy.port} at banner: .*421 4\\.3\\.2`));
});

t.test('delivery_timeout: a server that never answers is cut at the deadline, message deferred (75)', async (t) => {
  const silent = await startScriptSmtp({ silent: true });
  t.teardown(() => silent.close());
  const conf = testConfig({ route: `[127.0.0.1]::${silent.port}`, dnsPort: dns.port, smtpPort: silent.port, extra: ['delivery_timeout = 1s'] });
  const start = Date.now();
  const res = await runCli(['-C', conf, 'admin@example.test'], MESSAGE);
  const took = Date.now() - start;
  t.equal(res.code, 75, res.stderr);
  t.match(res.stderr, /<admin@example\.test>: deferred \(temporary failure; not delivered\): .*delivery_timeout \(1s\) expired at (connect|banner)/);
  t.ok(took < 4000, `ended at the deadline, not at command_timeout 5s (${took} ms)`);
});

t.test('delivery_timeout also covers the DNS lookups', async (t) => {
  const quiet = await startDns('seed', { silent: ['smarthost.example.test'] });
  t.teardown(() => quiet.close());
  const conf = testConfig({ route: 'smarthost.example.test', dnsPort: quiet.port, smtpPort: 9, extra: ['delivery_timeout = 0.5s', 'dns_retry = 1'] });
  const start = Date.now();
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  const took = Date.now() - start;
  t.equal(res.code, 75, res.stderr);
  t.match(res.stderr, /<admin@example\.test>: deferred \(temporary failure; not delivered\): delivery_timeout \(0\.5s\) expired during the DNS lookups/);
  t.notOk(/^Connecting to/m.test(res.stderr), 'no connection attempted');
  t.ok(took < 4000, `bounded (${took} ms)`);
});

t.test('AUTH XOAUTH2 with the token from auth_oauth2_command; the token is not in the trace', async (t) => {
  const TOKEN = 'ya29.e2e-token-secret';
  const seen: SMTPServerAuthentication[] = [];
  const smtp = await startSmtp({
    cert: 'dev-wildcard',
    authMethods: ['PLAIN', 'XOAUTH2'] as never,
    authOptional: false,
    onAuth(auth, _s, cb) {
      seen.push(auth);
      cb(null, auth.accessToken === TOKEN ? { user: auth.username } : ({ data: { status: '401' } } as never));
    },
  });
  t.teardown(() => smtp.close());
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port, extra: [`auth_username = ${USER}`, `auth_oauth2_command = echo ${TOKEN}`] });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  t.equal(res.code, 0, res.stderr);
  t.match(seen, [{ method: 'XOAUTH2', username: USER, accessToken: TOKEN }]);
  t.match(res.stderr, /SMTP>> AUTH XOAUTH2 \*\*\*\*/);
  t.notOk(res.stderr.includes(TOKEN));
});
