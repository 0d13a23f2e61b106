/**
 * openSession against scripted peers that break the reply rules (issue 10,
 * defects 3 to 5): a malformed reply line, a reply nobody asked for, and a
 * reply dripped one byte at a time. Each must end the attempt as a temporary
 * failure, never as a delivery.
 */
import t, { type Test } from 'tap';
import { openSession } from '../../lib/deliver/smtp.js';
import type { TraceEvent } from '../../lib/report/trace.js';
import { startScriptSmtp, type SmtpScript } from '../../fixtures/peers/script-smtp.js';
import { sessionParams, failure } from '../../fixtures/peers/session.js';

const MSG = Buffer.from('Subject: x\r\n\r\nhi\r\n');
const ENV = { sender: 'a@example.test', recipients: ['b@example.test'] };

/** Open a plain session to a scripted peer and send one message; the error it ends with. */
async function attempt(t: Test, script: SmtpScript, over: { commandTimeout?: number } = {}) {
  const peer = await startScriptSmtp(script);
  t.teardown(() => peer.close());
  const events: TraceEvent[] = [];
  const started = Date.now();
  const err = await failure(
    (async () => {
      const s = await openSession(sessionParams(peer.port, events, { requireTls: false, ...over }));
      try {
        return await s.send(ENV, MSG);
      } finally {
        s.close?.();
      }
    })(),
  );
  return { err, events, peer, took: Date.now() - started };
}

// Defect 3: a reply line is three digits, then SP, '-' or the end of the line (RFC 5321 §4.2).
t.test('a malformed reply is a protocol error (temporary), at whatever step', async (t) => {
  const cases: [SmtpScript, string, RegExp][] = [
    [{ dataEnd: '2500 looks like ok' }, 'data', /2500 looks like ok/],
    [{ dataEnd: '250looks like ok' }, 'data', /250looks like ok/],
    [{ greeting: '2200 hello' }, 'banner', /2200 hello/],
    [{ ehlo: '250-script.example.test\n25O 8BITMIME' }, 'ehlo', /25O 8BITMIME/],
    [{ ehlo: '250-script.example.test\n251 8BITMIME' }, 'ehlo', /251 8BITMIME/],
    [{ mail: 'OK' }, 'mail', /"OK"/],
    [{ rcpt: '250\tok' }, 'rcpt', /250\\tok/],
    [{ rcpt: '650 5.1.1 what' }, 'rcpt', /650 5\.1\.1 what/],
    [{ ehlo: '250-script.example.test\n250 STARTTLS', starttls: '2200 go ahead' }, 'starttls', /2200 go ahead/],
  ];
  for (const [script, stage, shows] of cases) {
    const { err } = await attempt(t, script);
    t.equal(err.code, 'E_PROTOCOL', `${JSON.stringify(script)}: E_PROTOCOL`);
    t.equal(err.kind, 'temp');
    t.equal(err.detail.stage, stage, `at ${stage}`);
    t.match(err.message, /the server sent an invalid reply/);
    t.match(err.message, shows, 'the reply is shown');
  }
});

t.test('well-formed edge cases are still replies', async (t) => {
  const peer = await startScriptSmtp({ ehlo: '250-script.example.test\n250-8BITMIME\n250', mail: '250', dataEnd: '250 2.0.0 Ok' });
  t.teardown(() => peer.close());
  const s = await openSession(sessionParams(peer.port, [], { requireTls: false }));
  const res = await s.send(ENV, MSG);
  await s.quit();
  t.equal(res.response, '250 2.0.0 Ok');
  t.same(res.accepted, ['b@example.test']);
});

// Defect 4: a reply that arrives when none is pending.
t.test('a reply nobody asked for is a protocol error, not the answer to the next command', async (t) => {
  const { err, events, peer } = await attempt(t, { data: '354 go\n250 FAKE', dataEnd: '550 5.7.1 no' });
  t.equal(err.code, 'E_PROTOCOL');
  t.equal(err.kind, 'temp');
  t.equal(err.detail.stage, 'data');
  t.match(err.message, /a reply when none was expected: "250 FAKE"/);
  t.notOk(events.some((e) => e.type === 'smtp-in' && e.text.startsWith('550')), 'the session ended before the end of the data');
  t.equal(peer.bodies.length, 0, 'no message went out');

  const early = await attempt(t, { greeting: '220 hi\n250 early' });
  t.equal(early.err.code, 'E_PROTOCOL', 'an extra line after the greeting is not the reply to EHLO');
  t.equal(early.err.detail.stage, 'banner');
  t.match(early.err.message, /"250 early"/);
});

// Defect 5: command_timeout bounds the whole reply, not the gap between two bytes.
t.test('command_timeout bounds a reply dripped one byte at a time', async (t) => {
  for (const step of ['greeting', 'dataEnd'] as const) {
    const { err, took } = await attempt(t, { drip: { step, everyMs: 100 }, dataEnd: '250 2.0.0 Ok: queued as SCRIPT1 after a long drip' }, { commandTimeout: 600 });
    t.equal(err.code, 'E_TIMEOUT', `${step}: E_TIMEOUT`);
    t.equal(err.kind, 'temp');
    t.equal(err.detail.stage, step === 'greeting' ? 'banner' : 'data');
    t.match(err.message, step === 'greeting' ? /timed out at banner \(no complete greeting within command_timeout 0\.6s\)$/ : /timed out at data \(no complete reply to end of data within command_timeout 0\.6s\)$/);
    t.ok(took >= 550 && took < 2500, `${step}: cut after the command timeout (${took} ms), not when the drip ends`);
  }
});

t.test('command_timeout bounds the STARTTLS handshake', async (t) => {
  const peer = await startScriptSmtp({ ehlo: '250-script.example.test\n250 STARTTLS', stallTls: true });
  t.teardown(() => peer.close());
  const started = Date.now();
  const err = await failure(openSession(sessionParams(peer.port, [], { commandTimeout: 500 })));
  t.equal(err.code, 'E_TIMEOUT');
  t.equal(err.detail.stage, 'starttls');
  t.match(err.message, /timed out at starttls \(the TLS handshake was not done within command_timeout 0\.5s\)$/);
  t.ok(Date.now() - started < 1400, 'cut at command_timeout, before nodemailer\'s own timer');
});

t.test('a server slow to answer QUIT: the session is closed after a second, not held open', async (t) => {
  const peer = await startScriptSmtp({ drip: { step: 'quit', everyMs: 1000 } });
  t.teardown(() => peer.close());
  const s = await openSession(sessionParams(peer.port, [], { requireTls: false, commandTimeout: 30_000 }));
  await s.send(ENV, MSG);
  const started = Date.now();
  await s.quit();
  t.ok(Date.now() - started < 1500, 'quit() returns after about a second');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(s.open, false, 'and the connection is closed');
});
