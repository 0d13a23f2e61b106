/**
 * openSession in-process against loopback peers: the queried name is what TLS
 * checks, the transcript becomes trace events, failures carry their stage, and
 * bytes injected after the STARTTLS 220 are thrown away (RFC 3207 §6).
 */
import t from 'tap';
import { openSession } from '../../lib/deliver/smtp.js';
import type { TraceEvent } from '../../lib/report/trace.js';
import { startSmtp } from '../../fixtures/peers/fake-smtp.js';
import { startScriptSmtp } from '../../fixtures/peers/script-smtp.js';
import { sessionParams, failure } from '../../fixtures/peers/session.js';

const params = sessionParams;


t.test('delivers over STARTTLS with the queried name as SNI; trace in order', async (t) => {
  const smtp = await startSmtp({ cert: 'dev-wildcard' });
  t.teardown(() => smtp.close());
  const events: TraceEvent[] = [];
  const s = await openSession(params(smtp.port, events));
  t.match(s.tls, { protocol: /^TLSv1\.[23]$/ });
  const res = await s.send({ sender: 'a@example.test', recipients: ['b@example.test'] }, Buffer.from('Subject: x\r\n\r\n.leading dot\r\n'));
  await s.quit();
  t.same(res.accepted, ['b@example.test']);
  t.match(res.response, /^250 /);
  t.equal(smtp.messages[0]!.servername, 'mail.dev.example.test');
  t.match(smtp.messages[0]!.data.toString(), /\r\n\.leading dot\r\n$/, 'dot-stuffing round trip');
  const types = events.map((e) => e.type);
  t.same(types.slice(0, 3), ['connect', 'connected', 'smtp-in']);
  t.ok(types.indexOf('tls-start') > types.findIndex((ty, i) => ty === 'smtp-out' && (events[i] as { text: string }).text === 'STARTTLS'));
  t.ok(types.indexOf('tls-verify-ok') > types.indexOf('tls-start'));
  t.ok(events.some((e) => e.type === 'smtp-out' && e.text === 'QUIT'), 'quit waits for the dialogue to end');
});

t.test('a certificate for the CNAME target only: E_TLS_VERIFY at starttls, traced with DN and name', async (t) => {
  const smtp = await startSmtp({ cert: 'target' });
  t.teardown(() => smtp.close());
  const events: TraceEvent[] = [];
  const e = await failure(openSession(params(smtp.port, events)));
  t.equal(e.code, 'E_TLS_VERIFY');
  t.equal(e.kind, 'temp');
  t.equal(e.detail.stage, 'starttls');
  t.match(events.find((x) => x.type === 'tls-verify-error'), { dn: /CN=mail\.example\.local/, host: 'mail.dev.example.test' });
  t.equal(smtp.messages.length, 0);
});

// Issue 10, defects 1 and 2, through a real handshake: Node's checkServerIdentity accepted the
// first two (partial-label wildcard; CN fallback).
t.test('RFC 9525 over the wire: which certificates name which queried host', async (t) => {
  const cases: [cert: 'q-partial' | 'q-wildcard' | 'cn-only' | 'ip-literal', queried: string, want: RegExp | string][] = [
    ['q-partial', 'xyz.q.test', /TLS verification failed: certificate does not name "xyz\.q\.test" \(it has DNS:x\*\.q\.test ignored: a wildcard must be the whole left-most label/],
    ['q-partial', 'xn--bcher-kva.q.test', /certificate does not name "xn--bcher-kva\.q\.test"/],
    ['cn-only', 'mail.q.test', /TLS verification failed: certificate has no DNS subjectAltName \(its subject CN=mail\.q\.test is not used: RFC 9525 has no CN fallback\)$/],
    ['q-wildcard', 'xn--bcher-kva.q.test', /a wildcard never matches the A-label "xn--bcher-kva"/],
    ['q-wildcard', 'mail.q.test', 'DNS:*.q.test'],
    ['ip-literal', '127.0.0.1', 'IP Address:127.0.0.1'],
    ['q-wildcard', '127.0.0.1', /certificate has no iPAddress subjectAltName/],
  ];
  for (const [cert, queried, want] of cases) {
    const smtp = await startSmtp({ cert });
    const events: TraceEvent[] = [];
    try {
      if (typeof want === 'string') {
        const s = await openSession(params(smtp.port, events, { queried, canonical: queried }));
        await s.quit();
        t.match(events.find((e) => e.type === 'tls-verify-ok'), { certName: queried, san: want }, `${cert} names ${queried} by ${want}`);
      } else {
        const e = await failure(openSession(params(smtp.port, events, { queried, canonical: queried })));
        t.equal(e.code, 'E_TLS_VERIFY', `${cert} does not name ${queried}`);
        t.match(e.message, want);
        t.match(events.find((x) => x.type === 'tls-verify-error'), { host: queried });
        t.equal(smtp.messages.length, 0);
      }
    } finally {
      await smtp.close();
    }
  }
});

t.test('bytes injected after the STARTTLS 220 are discarded and EHLO is sent again', async (t) => {
  const peer = await startScriptSmtp({
    ehlo: '250-script.example.test\n250 STARTTLS',
    starttls: '220 2.0.0 go ahead\n250-INJECTED\n250 AUTH PLAIN',
    ehloTls: '250-script.example.test\n250 8BITMIME',
  });
  t.teardown(() => peer.close());
  const events: TraceEvent[] = [];
  const s = await openSession(params(peer.port, events));
  await s.quit();
  t.same(
    peer.lines.filter((l) => /^EHLO/i.test(l)),
    ['EHLO client.example.test', 'EHLO client.example.test'],
    'EHLO again after the handshake',
  );
  t.notOk(events.some((e) => e.type === 'smtp-in' && e.text.includes('INJECTED')), 'injected lines never reach the session');
});

t.test('STARTTLS not offered and TLS required: E_TLS_REQUIRED, nothing sent', async (t) => {
  const smtp = await startSmtp({ disableStartTls: true });
  t.teardown(() => smtp.close());
  const e = await failure(openSession(params(smtp.port, [])));
  t.equal(e.code, 'E_TLS_REQUIRED');
  t.match(e.message, /did not offer STARTTLS/);
});

t.test('refused connection and a silent server are bounded temporary failures', async (t) => {
  const refused = await failure(openSession(params(1, [])));
  t.equal(refused.code, 'E_CONNECT');
  t.equal(refused.detail.stage, 'connect');
  const silent = await startScriptSmtp({ silent: true });
  t.teardown(() => silent.close());
  const started = Date.now();
  const e = await failure(openSession(params(silent.port, [], { connectTimeout: 500, commandTimeout: 500 })));
  t.equal(e.kind, 'temp');
  t.ok(Date.now() - started < 3000, 'gave up within the timeouts');
});

t.test('connect_timeout bounds the TCP connect only, not the greeting after it (Exim)', async (t) => {
  const slow = await startScriptSmtp({ drip: { step: 'greeting', everyMs: 15 } }); // ≈ 0.5 s for the greeting
  t.teardown(() => slow.close());
  const events: TraceEvent[] = [];
  const s = await openSession(params(slow.port, events, { requireTls: false, connectTimeout: 150, commandTimeout: 3000 }));
  await s.quit();
  t.same(events.slice(0, 3).map((e) => e.type), ['connect', 'connected', 'smtp-in'], 'connected, then the greeting');
});

t.test('5xx greeting is permanent, 4xx to MAIL is temporary', async (t) => {
  const closed = await startScriptSmtp({ greeting: '554 5.7.1 go away' });
  t.teardown(() => closed.close());
  const e = await failure(openSession(params(closed.port, [], { requireTls: false })));
  t.equal(e.kind, 'perm');
  t.match(e.message, /554 5\.7\.1 go away/);
  const busy = await startScriptSmtp({ mail: '451 4.3.2 busy' });
  t.teardown(() => busy.close());
  const s = await openSession(params(busy.port, [], { requireTls: false }));
  const m = await failure(s.send({ sender: 'a@example.test', recipients: ['b@example.test'] }, Buffer.from('x\r\n')));
  await s.quit();
  t.equal(m.code, 'E_SMTP_TEMP');
  t.equal(m.detail.stage, 'mail');
});
