/**
 * What openSession reports of the server when given a SessionFacts
 * (lib/deliver/session-facts.ts): greeting, EHLO replies before and under
 * TLS, the certificate (also one that is then refused, read at Node's
 * 'secure' event before the verification), the name check, AUTH.
 */
import t from 'tap';
import tls from 'node:tls';
import { openSession } from '../../lib/deliver/smtp.js';
import { certificateFacts, newSessionFacts, watchHandshake } from '../../lib/deliver/session-facts.js';
import type { TraceEvent } from '../../lib/report/trace.js';
import { fixtureCert, startSmtp } from '../../fixtures/peers/fake-smtp.js';
import { sessionParams, failure } from '../../fixtures/peers/session.js';

t.test('STARTTLS with the right certificate: every fact, in order', async (t) => {
  const smtp = await startSmtp({ cert: 'dev-wildcard', banner: 'fake ESMTP ready' });
  t.teardown(() => smtp.close());
  const events: TraceEvent[] = [];
  const facts = newSessionFacts();
  const s = await openSession(sessionParams(smtp.port, events, { facts }));
  await s.quit();
  t.match(facts.banner, /^220 .*fake ESMTP ready$/);
  t.equal(facts.ehlo.length, 2);
  t.same(facts.ehlo.map((e) => e.secure), [false, true]);
  t.match(facts.ehlo[0]!.reply, /\n250[ -]STARTTLS/);
  t.notMatch(facts.ehlo[1]!.reply, /STARTTLS/);
  t.equal(facts.starttlsOffered, true);
  t.match(facts.starttlsReply, /^220 /);
  t.equal(facts.sni, 'mail.dev.example.test');
  t.match(facts.tls, { protocol: /^TLSv1\.[23]$/, cipher: /\w/ });
  t.match(facts.certificate, {
    subject: '/O=send-smarthost tests/CN=*.dev.example.test',
    issuer: '/O=send-smarthost tests/CN=send-smarthost test CA',
    altNames: ['DNS:*.dev.example.test'],
    notBefore: '2020-01-01T00:00:00.000Z',
    notAfter: '2120-01-01T00:00:00.000Z',
    sha256: /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/,
  });
  t.same(facts.nameCheck, { name: 'mail.dev.example.test', ok: true, matched: 'DNS:*.dev.example.test' });
  t.equal(facts.auth, undefined, 'no credentials, no AUTH');
  t.same([facts.implicitTls, facts.requireTls, facts.verifyNames], [false, true, true]);
});

t.test('a certificate naming only the CNAME target: the certificate and the failed name check', async (t) => {
  const smtp = await startSmtp({ cert: 'target' });
  t.teardown(() => smtp.close());
  const facts = newSessionFacts();
  const e = await failure(openSession(sessionParams(smtp.port, [], { facts })));
  t.equal(e.code, 'E_TLS_VERIFY');
  t.same(facts.certificate?.altNames, ['DNS:mail.example.local']);
  t.match(facts.nameCheck, { name: 'mail.dev.example.test', ok: false, reason: /certificate does not name "mail\.dev\.example\.test" \(it has DNS:mail\.example\.local\)/ });
  t.equal(facts.ehlo.length, 1, 'no EHLO under TLS');
});

t.test('an expired certificate: refused by the chain check, still read (notAfter), no name check', async (t) => {
  const smtp = await startSmtp({ cert: 'expired' });
  t.teardown(() => smtp.close());
  const facts = newSessionFacts();
  const e = await failure(openSession(sessionParams(smtp.port, [], { facts })));
  t.equal(e.code, 'E_TLS_VERIFY');
  t.match(e.message, /CERT_HAS_EXPIRED/);
  t.equal(facts.certificate?.notAfter, '2001-01-01T00:00:00.000Z');
  t.equal(facts.nameCheck, undefined);
  t.equal(facts.chainError, 'CERT_HAS_EXPIRED');
});

t.test('implicit TLS (protocol = smtps): the handshake is watched from the first byte', async (t) => {
  const smtp = await startSmtp({ cert: 'dev-wildcard', secure: true });
  t.teardown(() => smtp.close());
  const facts = newSessionFacts();
  const s = await openSession(sessionParams(smtp.port, [], { facts, implicitTls: true }));
  await s.quit();
  t.equal(facts.implicitTls, true);
  t.equal(facts.starttlsOffered, undefined);
  t.same(facts.ehlo.map((x) => x.secure), [true]);
  t.match(facts.certificate, { altNames: ['DNS:*.dev.example.test'] });
  t.ok(facts.tls);
});

t.test('AUTH: the mechanism used and whether it succeeded', async (t) => {
  const smtp = await startSmtp({
    cert: 'dev-wildcard',
    authMethods: ['PLAIN', 'LOGIN'] as never,
    onAuth(auth, _s, cb) {
      if (auth.password === 'right') return cb(null, { user: auth.username });
      cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
  });
  t.teardown(() => smtp.close());
  const auth = (pw: string) => ({ username: 'u@example.test', source: 'auth_username', password: async () => pw, allowCleartext: false });
  const good = newSessionFacts();
  await (await openSession(sessionParams(smtp.port, [], { facts: good, auth: auth('right') }))).quit();
  t.same(good.auth, { username: 'u@example.test', source: 'auth_username', attempted: true, mechanism: 'PLAIN', ok: true });
  const bad = newSessionFacts();
  const e = await failure(openSession(sessionParams(smtp.port, [], { facts: bad, auth: auth('wrong') })));
  t.equal(e.code, 'E_AUTH');
  t.same(bad.auth, { username: 'u@example.test', source: 'auth_username', attempted: true, mechanism: 'PLAIN', ok: false });
});

// What watchHandshake relies on in Node: a client TLSSocket emits 'secure' when the handshake
// is done, before Node verifies the chain and destroys the socket; the certificate is readable then.
t.test('Node contract: the certificate of a refused chain is readable at the client\'s "secure" event', async (t) => {
  const server = tls.createServer(fixtureCert('other'), (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const facts = newSessionFacts();
  // no CA given: the test CA is not trusted, so the chain is refused
  const s = tls.connect({ host: '127.0.0.1', port, servername: 'x.other.test', rejectUnauthorized: true });
  watchHandshake(s, facts);
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => s.once('error', resolve));
  t.match(err.code, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  t.same(facts.certificate?.altNames, ['DNS:*.other.test']);
  t.ok(facts.tls?.protocol);
});

t.test('certificateFacts: dates as ISO 8601, alt names as entries', async (t) => {
  const c = certificateFacts({
    subject: { CN: 'a.test' },
    issuer: { O: 'X', CN: 'CA' },
    subjectaltname: 'DNS:a.test, IP Address:192.0.2.1',
    valid_from: 'Jan  1 00:00:00 2020 GMT',
    valid_to: 'Mar  5 12:30:00 2031 GMT',
    serialNumber: '0A',
    fingerprint256: 'AA:BB',
  } as never);
  t.same(c, {
    subject: '/CN=a.test',
    issuer: '/O=X/CN=CA',
    altNames: ['DNS:a.test', 'IP Address:192.0.2.1'],
    notBefore: '2020-01-01T00:00:00.000Z',
    notAfter: '2031-03-05T12:30:00.000Z',
    serialNumber: '0A',
    sha256: 'AA:BB',
  });
});
