/**
 * SMTP extensions on the wire, openSession in-process against smtp-server
 * (STARTTLS with the fixture CA, certificates checked): SIZE, 8BITMIME and
 * the 7-bit conversion, SMTPUTF8, DSN parameters as the server parsed them,
 * dot-stuffing, and PIPELINING (with a raw peer that watches what arrives
 * before it answers MAIL).
 */
import t, { type Test } from 'tap';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { openSession, type SessionParams } from '../../lib/deliver/smtp.js';
import { toSevenBit } from '../../lib/submit/eightbit.js';
import { SmarthostError } from '../../lib/errors.js';
import type { Envelope } from '../../lib/types.js';
import type { TraceEvent } from '../../lib/report/trace.js';
import { startRecordingSmtp, type Recorded } from '../../fixtures/peers/record-smtp.js';
import { decodeQp, splitMessage } from '../../fixtures/peers/qp.js';
import { sessionParams } from '../../fixtures/peers/session.js';

type Seen = Recorded;

/** A recording smtp-server for this test, closed at its end. */
async function server(t: Test, opts: Parameters<typeof startRecordingSmtp>[0]): Promise<{ port: number; seen: Seen }> {
  const seen = await startRecordingSmtp(opts);
  t.teardown(() => seen.close());
  return { port: seen.port, seen };
}

const params = (port: number, events: TraceEvent[], over: Partial<SessionParams> = {}): SessionParams =>
  sessionParams(port, events, { downgrade8bit: toSevenBit, ...over });

async function sendOnce(port: number, envelope: Envelope, data: Buffer, events: TraceEvent[] = [], over: Partial<SessionParams> = {}) {
  const s = await openSession(params(port, events, over));
  try {
    return { session: s, result: await s.send(envelope, data) };
  } finally {
    await s.quit();
  }
}

async function refusal(p: Promise<unknown>): Promise<SmarthostError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SmarthostError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const ENV: Envelope = { sender: 'cron@example.test', recipients: ['admin@example.test'] };
const msg = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

t.test('the session exposes the EHLO extensions of the TLS session', async (t) => {
  const { port } = await server(t, { size: 4096, hideDSN: false });
  const s = await openSession(params(port, []));
  await s.quit();
  t.equal(s.extensions?.get('SIZE'), '4096');
  for (const k of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'DSN']) t.ok(s.extensions?.has(k), k);
  t.notOk(s.extensions?.has('STARTTLS'), 'the post-TLS EHLO, not the first one');
});

t.test('SIZE: declared on MAIL; a message over the limit is refused before MAIL', async (t) => {
  const { port, seen } = await server(t, { size: 200 });
  await sendOnce(port, ENV, msg('Subject: small\n\nok\n'));
  t.equal(seen.mail[0]?.args && (seen.mail[0].args as Record<string, string>).SIZE, String(msg('Subject: small\n\nok\n').length), 'SIZE= is the data size');
  const events: TraceEvent[] = [];
  const e = await refusal(sendOnce(port, ENV, Buffer.alloc(500, 0x61), events));
  t.equal(e.code, 'E_EXTENSION');
  t.equal(e.kind, 'perm');
  t.equal(e.message, `mail.example.local [127.0.0.1]:${port}: message is 500 bytes, mail.dev.example.test accepts at most 200 (SIZE)`);
  t.equal(seen.mail.length, 1, 'no MAIL was sent for the big message');
  t.notOk(events.some((ev) => ev.type === 'smtp-out' && ev.text.startsWith('MAIL')));
});

const EIGHT = 'From: cron@example.test\nSubject: Grüße\n\n';

t.test('8BITMIME offered: BODY=8BITMIME and the bytes as they are', async (t) => {
  const { port, seen } = await server(t, {});
  const data = msg('From: cron@example.test\nSubject: x\n\nGrüße aus Köln ☃\n');
  await sendOnce(port, ENV, data);
  t.same((seen.mail[0]!.args as Record<string, string>).BODY, '8BITMIME');
  t.same(seen.messages[0]!.data, data);
  t.equal(seen.messages[0]!.envelope.bodyType, '8bitmime');
});

t.test('no 8BITMIME: a text body arrives quoted-printable and decodes to the original', async (t) => {
  const { port, seen } = await server(t, { hide8BITMIME: true });
  const body = 'Grüße aus Köln — ☃ — 日本語\r\n' + 'lang '.repeat(40) + 'ü\r\n.\r\n';
  const events: TraceEvent[] = [];
  const { result } = await sendOnce(port, ENV, Buffer.concat([msg('From: cron@example.test\nSubject: x\n\n'), Buffer.from(body)]), events);
  t.same(result.accepted, ['admin@example.test']);
  const got = seen.messages[0]!.data;
  t.notOk(got.some((b) => b > 0x7f), 'only 7-bit data reached the server');
  t.equal((seen.mail[0]!.args as Record<string, string> | false || {}).BODY, undefined, 'no BODY=8BITMIME');
  const { head, body: enc } = splitMessage(got);
  t.match(head, /\r\nContent-Transfer-Encoding: quoted-printable\r\n/);
  t.match(head, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
  t.equal(decodeQp(enc.toString('latin1')).toString('utf8'), body);
  t.ok(events.some((e) => e.type === 'note' && /does not offer 8BITMIME: 8-bit body converted/.test(e.text)));
});

t.test('no 8BITMIME: multipart 8-bit or 8-bit headers are a permanent error, nothing sent', async (t) => {
  const { port, seen } = await server(t, { hide8BITMIME: true });
  const multi = msg('Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\nä\n--b--\n');
  const e = await refusal(sendOnce(port, ENV, multi));
  t.equal(e.code, 'E_EXTENSION');
  t.equal(e.kind, 'perm');
  t.match(e.message, /mail\.dev\.example\.test does not offer 8BITMIME and the 8-bit message cannot be converted to 7-bit: the message is multipart\/mixed/);
  const e2 = await refusal(sendOnce(port, ENV, msg(EIGHT + 'plain\n')));
  t.match(e2.message, /8-bit characters in the Subject header field/);
  t.equal(seen.mail.length, 0);
});

t.test('SMTPUTF8: a UTF-8 address only to a server that offers it', async (t) => {
  const utf8: Envelope = { sender: 'cron@example.test', recipients: ['jösé@example.test'] };
  const without = await server(t, { hideSMTPUTF8: true });
  const e = await refusal(sendOnce(without.port, utf8, msg('Subject: x\n\nhi\n')));
  t.equal(e.code, 'E_EXTENSION');
  t.match(e.message, /mail\.dev\.example\.test does not offer SMTPUTF8, needed for "jösé@example\.test"/);
  t.equal(without.seen.mail.length, 0, 'refused before MAIL');

  const withIt = await server(t, {});
  const { result } = await sendOnce(withIt.port, utf8, msg('Subject: x\n\nhi\n'));
  t.same(result.accepted, ['jösé@example.test']);
  t.equal((withIt.seen.mail[0]!.args as Record<string, unknown>).SMTPUTF8, true, 'MAIL ... SMTPUTF8');
  t.equal(withIt.seen.messages[0]!.envelope.rcptTo[0]!.address, 'jösé@example.test');
});

t.test('DSN: NOTIFY, RET and ENVID reach a server that offers DSN', async (t) => {
  const { port, seen } = await server(t, { hideDSN: false });
  const env: Envelope = { ...ENV, recipients: ['a@example.test', 'b@example.test'], dsn: { notify: 'SUCCESS,FAILURE', ret: 'HDRS', envid: 'env+1=x' } };
  const events: TraceEvent[] = [];
  await sendOnce(port, env, msg('Subject: x\n\nhi\n'), events);
  t.match(seen.mail[0]!.args, { RET: 'HDRS', ENVID: 'env+1=x' }, 'the server decoded the xtext back');
  t.same(seen.messages[0]!.envelope.dsn, { ret: 'HDRS', envid: 'env+1=x' });
  t.same(seen.rcpt.map((r) => (r.args as Record<string, string>).NOTIFY), ['SUCCESS,FAILURE', 'SUCCESS,FAILURE'], 'NOTIFY on every RCPT');
  const mail = events.find((e) => e.type === 'smtp-out' && e.text.startsWith('MAIL'));
  t.match(mail, { text: /^MAIL FROM:<cron@example\.test> .*RET=HDRS ENVID=env\+2B1\+3Dx$/ }, 'xtext on the wire (RFC 3461 §4)');
  t.ok(events.some((e) => e.type === 'smtp-out' && e.text === 'RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE'), 'RCPT as sent');
});

t.test('DSN: dropped, with a trace note, when the server does not offer it', async (t) => {
  const { port, seen } = await server(t, {});
  const events: TraceEvent[] = [];
  await sendOnce(port, { ...ENV, dsn: { notify: 'NEVER' } }, msg('Subject: x\n\nhi\n'), events);
  t.equal(seen.messages.length, 1, 'delivered');
  t.equal((seen.rcpt[0]!.args as Record<string, string> | false || {}).NOTIFY, undefined);
  t.ok(events.some((e) => e.type === 'note' && /does not offer DSN: NOTIFY\/RET\/ENVID \(-N\/-R\/-V\) not sent/.test(e.text)));
});

t.test('dot-stuffing round trip: leading dots and a lone dot arrive intact', async (t) => {
  const { port, seen } = await server(t, {});
  const data = msg('Subject: dots\n\n.\n..two\n.leading\n .not first\n.\nlast\n');
  await sendOnce(port, ENV, data);
  t.same(seen.messages[0]!.data.toString(), data.toString());
});

/** A raw server that holds its reply to MAIL for 100 ms and records what arrived meanwhile. */
async function pipeliningPeer(t: Test, offer: boolean) {
  const beforeMailReply: string[] = [];
  const all: string[] = [];
  const srv = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.write('220 raw.example.test ESMTP\r\n');
    let buf = '';
    let inData = false;
    let holding = false;
    const queue: string[] = [];
    const answer = (line: string): string | undefined => {
      const verb = line.split(/[ :]/)[0]!.toUpperCase();
      if (verb === 'EHLO') return offer ? '250-raw.example.test\r\n250 PIPELINING' : '250 raw.example.test';
      if (verb === 'MAIL') return '250 2.1.0 Ok';
      if (verb === 'RCPT') return '250 2.1.5 Ok';
      if (verb === 'DATA') return '354 go';
      if (verb === 'QUIT') return '221 Bye';
      return '250 Ok';
    };
    const handle = (line: string): void => {
      if (inData) {
        if (line === '.') {
          inData = false;
          sock.write('250 2.0.0 queued\r\n');
        }
        return;
      }
      all.push(line);
      if (holding) {
        beforeMailReply.push(line);
        queue.push(line);
        return;
      }
      if (/^MAIL/i.test(line)) {
        holding = true;
        beforeMailReply.push(line);
        setTimeout(() => {
          holding = false;
          sock.write(answer(line) + '\r\n');
          for (const l of queue.splice(0)) reply(l);
        }, 100);
        return;
      }
      reply(line);
    };
    const reply = (line: string): void => {
      if (/^DATA$/i.test(line)) inData = true;
      sock.write(answer(line) + '\r\n');
      if (/^QUIT/i.test(line)) sock.end();
    };
    sock.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        handle(line);
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  return { port: (srv.address() as AddressInfo).port, beforeMailReply, all };
}

t.test('PIPELINING: MAIL, every RCPT and DATA leave before the reply to MAIL', async (t) => {
  const peer = await pipeliningPeer(t, true);
  const env = { ...ENV, recipients: ['a@example.test', 'b@example.test'] };
  const { result } = await sendOnce(peer.port, env, msg('Subject: x\n\nhi\n'), [], { requireTls: false, verifyNames: false });
  t.same(result.accepted, ['a@example.test', 'b@example.test']);
  t.same(peer.beforeMailReply, ['MAIL FROM:<cron@example.test>', 'RCPT TO:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA']);
});

t.test('no PIPELINING: one command at a time', async (t) => {
  const peer = await pipeliningPeer(t, false);
  const env = { ...ENV, recipients: ['a@example.test', 'b@example.test'] };
  await sendOnce(peer.port, env, msg('Subject: x\n\nhi\n'), [], { requireTls: false, verifyNames: false });
  t.same(peer.beforeMailReply, ['MAIL FROM:<cron@example.test>']);
  t.same(peer.all.slice(1, 5), ['MAIL FROM:<cron@example.test>', 'RCPT TO:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA']);
});
