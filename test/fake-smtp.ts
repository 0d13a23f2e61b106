// Proves the SMTP test peers (fixtures/peers/fake-smtp.ts, script-smtp.ts) behave as the
// other tests assume, using nodemailer's SMTPConnection as the client. Certificate checks
// stay on: the client trusts fixtures/ca/ca.pem and nothing else.
import t from 'tap';
import { readFileSync } from 'node:fs';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionOptions, SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection';
import { fixtureCa, replyError, startSmtp, type FakeSmtpOptions } from '../fixtures/peers/fake-smtp.js';
import { startScriptSmtp } from '../fixtures/peers/script-smtp.js';

const ca = fixtureCa();
const QUERIED = 'mail.dev.example.test';
const MESSAGE = 'From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: hi\r\n\r\nbody\r\n';

type ClientError = Error & { code?: string; originalCode?: string; responseCode?: number; response?: string; command?: string };

/** Connects, sends one message, quits; rejects with nodemailer's error. */
function send(
  port: number,
  over: Partial<SMTPConnectionOptions> = {},
  to: string[] = ['rcpt@example.test'],
  message: string | Buffer = MESSAGE,
): Promise<SMTPConnectionSendInfo> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection({
      host: '127.0.0.1',
      port,
      servername: QUERIED,
      requireTLS: true,
      name: 'client.example.test',
      tls: { ca },
      connectionTimeout: 3000,
      greetingTimeout: 3000,
      socketTimeout: 3000,
      ...over,
    });
    conn.once('error', reject);
    conn.connect((err) => {
      if (err) return reject(err);
      conn.send({ from: 'sender@example.test', to }, message, (err, info) => {
        if (err || !info) {
          conn.close();
          return reject(err);
        }
        conn.quit();
        resolve(info);
      });
    });
  });
}

async function withServer(t: { teardown(fn: () => unknown): void }, opts: FakeSmtpOptions = {}) {
  const srv = await startSmtp(opts);
  t.teardown(() => srv.close());
  return srv;
}

t.test('dev-wildcard: delivers over STARTTLS, records SNI', async (t) => {
  const srv = await withServer(t);
  const info = await send(srv.port);
  t.same(info.accepted, ['rcpt@example.test']);
  t.match(info.response, /^250 Ok: queued as FAKE1/);
  t.equal(srv.messages.length, 1);
  const [m] = srv.messages;
  t.equal(m!.from, 'sender@example.test');
  t.same(m!.to, ['rcpt@example.test']);
  t.equal(m!.secure, true);
  t.equal(m!.servername, QUERIED);
  t.equal(m!.data.toString(), MESSAGE);
  t.same(srv.sessions, [{ secure: true, servername: QUERIED }]);
});

t.test('dev-wildcard: the CNAME target as servername fails the name check', async (t) => {
  const srv = await withServer(t);
  const err = await send(srv.port, { servername: 'mail.example.local' }).then(() => null, (e: ClientError) => e);
  t.equal(err?.code, 'ESOCKET');
  t.equal(err?.originalCode, 'ERR_TLS_CERT_ALTNAME_INVALID');
  t.equal(srv.messages.length, 0);
});

// [cert, servername, expected originalCode | null for success]
const certCases: [FakeSmtpOptions['cert'], string, string | null][] = [
  ['target', QUERIED, 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ['target', 'mail.example.local', null],
  ['other', QUERIED, 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ['expired', QUERIED, 'CERT_HAS_EXPIRED'],
  ['direct', 'smarthost.example.test', null],
  ['direct', QUERIED, 'ERR_TLS_CERT_ALTNAME_INVALID'],
];
for (const [cert, servername, want] of certCases) {
  t.test(`${cert} cert, servername ${servername} -> ${want ?? 'delivered'}`, async (t) => {
    const srv = await withServer(t, { cert });
    const got = await send(srv.port, { servername }).then(
      () => null,
      (e: ClientError) => e.originalCode ?? e.code ?? e.message,
    );
    t.equal(got, want);
    t.equal(srv.messages.length, want ? 0 : 1);
  });
}

t.test('::1 listener', async (t) => {
  const srv = await startSmtp({ host: '::1' }).catch((e: ClientError) => e);
  if (srv instanceof Error) return t.plan(0, `no IPv6 loopback here: ${srv.code ?? srv.message}`);
  t.teardown(() => srv.close());
  t.equal(srv.host, '::1');
  await send(srv.port, { host: '::1' });
  t.equal(srv.messages[0]?.servername, QUERIED);
});

t.test('disableStartTls: not offered, refused; requireTLS fails, nothing recorded', async (t) => {
  const srv = await withServer(t, { disableStartTls: true });
  const err = await send(srv.port).then(() => null, (e: ClientError) => e);
  t.equal(err?.code, 'ETLS');
  t.equal(err?.command, 'STARTTLS');
  t.equal(err?.responseCode, 500);
  t.equal(srv.messages.length, 0);
  // Without requireTLS the client carries on in plaintext: proves STARTTLS is not advertised.
  const info = await send(srv.port, { requireTLS: false });
  t.same(info.accepted, ['rcpt@example.test']);
  t.equal(srv.messages[0]?.secure, false);
  t.equal(srv.messages[0]?.servername, undefined);
  t.same(srv.sessions.map((s) => s.secure), [false, false]);
});

t.test('onRcpt: 451 and 550 reach the client with their codes', async (t) => {
  const srv = await withServer(t, {
    onRcpt: (a) => (a.startsWith('later') ? '451 4.7.1 later' : a.startsWith('bad') ? '550 5.1.1 No such user' : undefined),
  });
  const info = await send(srv.port, {}, ['ok@example.test', 'later@example.test', 'bad@example.test']);
  t.same(info.accepted, ['ok@example.test']);
  t.same(
    info.rejectedErrors?.map((e: ClientError) => [e.responseCode, e.response]),
    [
      [451, '451 4.7.1 later'],
      [550, '550 5.1.1 No such user'],
    ],
  );
  t.same(srv.messages[0]?.to, ['ok@example.test']);

  const err = await send(srv.port, {}, ['later@example.test']).then(() => null, (e: ClientError) => e);
  t.equal(err?.code, 'EENVELOPE');
  t.equal(err?.responseCode, 451);
  t.equal(err?.response, '451 4.7.1 later');
  t.equal(srv.messages.length, 1, 'nothing more recorded');
});

t.test('onMessage: rejects at end of DATA', async (t) => {
  const srv = await withServer(t, { onMessage: () => '554 5.6.0 no thanks' });
  const err = await send(srv.port).then(() => null, (e: ClientError) => e);
  t.equal(err?.code, 'EMESSAGE');
  t.equal(err?.response, '554 5.6.0 no thanks');
  t.equal(srv.messages.length, 0);
});

t.test('replyError', async (t) => {
  const e = replyError('451 4.7.1 later');
  t.equal(e.responseCode, 451);
  t.equal(e.message, '4.7.1 later');
  t.throws(() => replyError('250 ok'), TypeError);
  t.throws(() => replyError('nonsense'), /4xx\/5xx/);
});

// Each fixture message arrives byte for byte (LF -> CRLF, dots unstuffed by the server).
for (const f of ['simple', 'cron', 'tbcc', 'dot', '8bit']) {
  t.test(`fixtures/messages/${f}.eml goes through unchanged`, async (t) => {
    const raw = readFileSync(new URL(`../fixtures/messages/${f}.eml`, import.meta.url));
    const srv = await withServer(t);
    await send(srv.port, {}, ['rcpt@example.test'], raw);
    const want = raw.toString('utf8').replace(/\r?\n/g, '\r\n');
    t.equal(srv.messages[0]?.data.toString('utf8'), want);
  });
}

t.test('script peer: defaults deliver, commands and body recorded', async (t) => {
  const s = await startScriptSmtp();
  t.teardown(() => s.close());
  const info = await send(s.port, { requireTLS: false }, ['a@example.test'], 'Subject: x\r\n\r\n.dot\r\n');
  t.equal(info.response, '250 2.0.0 Ok: queued as SCRIPT1');
  t.same(s.lines.slice(0, 4), ['EHLO client.example.test', 'MAIL FROM:<sender@example.test>', 'RCPT TO:<a@example.test>', 'DATA']);
  t.same(s.bodies, ['Subject: x\r\n\r\n..dot']);
});

t.test('script peer: per-RCPT replies, the last repeats', async (t) => {
  const s = await startScriptSmtp({ rcpt: ['250 ok', '452 4.2.2 full'] });
  t.teardown(() => s.close());
  const info = await send(s.port, { requireTLS: false }, ['a@x.test', 'b@x.test', 'c@x.test']);
  t.same(info.accepted, ['a@x.test']);
  t.same(info.rejected, ['b@x.test', 'c@x.test']);
  t.equal(info.rejectedErrors?.[0]?.responseCode, 452);
});

t.test('script peer: a hang-up ("") and a custom greeting', async (t) => {
  const s = await startScriptSmtp({ greeting: '554 5.3.2 go away' });
  t.teardown(() => s.close());
  const err = await send(s.port, { requireTLS: false }).then(() => null, (e: ClientError) => e);
  t.equal(err?.responseCode, 554);
  const h = await startScriptSmtp({ mail: '' });
  t.teardown(() => h.close());
  const err2 = await send(h.port, { requireTLS: false }).then(() => null, (e: ClientError) => e);
  t.ok(err2, 'hang-up at MAIL fails the send');
  t.equal(h.lines.at(-1), 'MAIL FROM:<sender@example.test>');
});

t.test('script peer: silent server times out the greeting', async (t) => {
  const s = await startScriptSmtp({ silent: true });
  t.teardown(() => s.close());
  const err = await send(s.port, { greetingTimeout: 300 }).then(() => null, (e: ClientError) => e);
  t.equal(err?.code, 'ETIMEDOUT');
  t.same(s.lines, []);
});

t.test('script peer: STARTTLS upgrade; bytes after the 220 are discarded, EHLO re-sent', async (t) => {
  const s = await startScriptSmtp({
    ehlo: '250-script.example.test\n250 STARTTLS',
    starttls: '220 Ready to start TLS\n250-INJECTED-BEFORE-TLS\n250 AUTH PLAIN',
  });
  t.teardown(() => s.close());
  const info = await send(s.port);
  t.same(info.accepted, ['rcpt@example.test']);
  t.same(s.lines.slice(0, 4), ['EHLO client.example.test', 'STARTTLS', 'EHLO client.example.test', 'MAIL FROM:<sender@example.test>']);
  const bad = await startScriptSmtp({ ehlo: '250-x\n250 STARTTLS', cert: 'target' });
  t.teardown(() => bad.close());
  const err = await send(bad.port).then(() => null, (e: ClientError) => e);
  t.equal(err?.originalCode, 'ERR_TLS_CERT_ALTNAME_INVALID');
});
