/**
 * openSession with implicit TLS (protocol = smtps, RFC 8314) — SNI and the
 * certificate checked against the queried name, as with STARTTLS — and cut by
 * the run's deadline while a silent server holds it.
 */
import t from 'tap';
import { openSession, type SessionParams } from '../../lib/deliver/smtp.js';
import { startDeadline } from '../../lib/deliver/deadline.js';
import { formatExim, type TraceEvent } from '../../lib/report/trace.js';
import { startSmtp } from '../../fixtures/peers/fake-smtp.js';
import { startScriptSmtp } from '../../fixtures/peers/script-smtp.js';
import { sessionParams, failure } from '../../fixtures/peers/session.js';

const params = (port: number, events: TraceEvent[], over: Partial<SessionParams> = {}): SessionParams =>
  sessionParams(port, events, { implicitTls: true, ...over });


t.test('smtps: TLS from the first byte, SNI and name check on the queried name, no STARTTLS', async (t) => {
  const smtp = await startSmtp({ secure: true, cert: 'dev-wildcard' });
  t.teardown(() => smtp.close());
  const events: TraceEvent[] = [];
  const s = await openSession(params(smtp.port, events));
  await s.send({ sender: 'a@example.test', recipients: ['b@example.test'] }, Buffer.from('Subject: x\r\n\r\nhi\r\n'));
  await s.quit();
  t.equal(smtp.messages[0]!.secure, true);
  t.equal(smtp.messages[0]!.servername, 'mail.dev.example.test');
  t.match(s.tls, { protocol: /^TLSv1\.[23]$/ });
  const lines = events.flatMap(formatExim);
  t.ok(lines.includes('Cert hostname to check: "mail.dev.example.test"'));
  t.ok(lines.some((l) => l.startsWith('SSL verify ok: name "mail.dev.example.test"')));
  t.notOk(lines.some((l) => l.includes('SMTP>> STARTTLS')), 'no STARTTLS inside implicit TLS');
  t.ok(lines.indexOf('Cert hostname to check: "mail.dev.example.test"') < lines.findIndex((l) => l.startsWith('  SMTP<< 220')), 'TLS before the banner');
});

t.test('smtps: a certificate naming only the CNAME target fails verification', async (t) => {
  const smtp = await startSmtp({ secure: true, cert: 'target' });
  t.teardown(() => smtp.close());
  const events: TraceEvent[] = [];
  const err = await failure(openSession(params(smtp.port, events)));
  t.equal(err.code, 'E_TLS_VERIFY');
  t.match(err.message, /certificate does not name "mail\.dev\.example\.test"/);
  t.ok(events.flatMap(formatExim).some((l) => /SSL verify error: certificate name mismatch: DN=".*CN=mail\.example\.local" H="mail\.dev\.example\.test"/.test(l)));
  t.equal(smtp.messages.length, 0);
});

t.test('the run deadline cuts a session stuck on a silent server', async (t) => {
  const silent = await startScriptSmtp({ silent: true });
  t.teardown(() => silent.close());
  const d = startDeadline(300);
  t.teardown(() => d.cancel());
  const start = Date.now();
  const err = await failure(openSession(params(silent.port, [], { implicitTls: false, commandTimeout: 30_000, signal: d.signal })));
  const took = Date.now() - start;
  t.equal(err.code, 'E_TIMEOUT');
  t.equal(err.kind, 'temp');
  t.match(err.message, /^mail\.example\.local \[127\.0\.0\.1\]:\d+: delivery_timeout \(0\.3s\) expired at (connect|banner)$/);
  t.ok(took >= 250 && took < 3000, `cut at the deadline, not the 30 s command timeout (${took} ms)`);
  // an already expired deadline: nothing is even connected
  const again = await failure(openSession(params(silent.port, [], { signal: d.signal })));
  t.match(again.message, /expired at connect$/);
});

t.test('smtps: a server that never does its part of the handshake is cut at command_timeout', async (t) => {
  const silent = await startScriptSmtp({ silent: true });
  t.teardown(() => silent.close());
  const start = Date.now();
  const err = await failure(openSession(params(silent.port, [], { connectTimeout: 3000, commandTimeout: 400 })));
  t.equal(err.kind, 'temp');
  t.match(err.message, /timed out at connect \(TLS handshake: command_timeout 0\.4s\)$/);
  t.ok(Date.now() - start < 2500, 'bounded by command_timeout');
});

t.test('smtps with a client key TLS cannot read: a failed attempt, not a crash', async (t) => {
  const smtp = await startSmtp({ secure: true, cert: 'dev-wildcard' });
  t.teardown(() => smtp.close());
  const err = await failure(openSession(params(smtp.port, [], { tlsExtra: { cert: 'not a certificate', key: 'not a key' } })));
  t.equal(err.kind, 'temp');
  t.equal(err.detail.stage, 'connect');
  t.equal(smtp.messages.length, 0);
});

t.test('smtps to a port that speaks plain SMTP: E_TLS with a hint, not a connection error', async (t) => {
  const plain = await startScriptSmtp({});
  t.teardown(() => plain.close());
  const err = await failure(openSession(params(plain.port, [])));
  t.equal(err.code, 'E_TLS');
  t.equal(err.kind, 'temp');
  t.match(err.message, /TLS handshake failed at connect: ERR_SSL_WRONG_VERSION_NUMBER \(protocol = smtps: does this port speak implicit TLS\?/);
});
