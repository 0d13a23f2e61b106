/**
 * End to end through bin/send-smarthost for issue 4's extensions and message
 * hygiene: SIZE refusal (and moving on to a host that accepts more), 8-bit
 * data to a server without 8BITMIME, SMTPUTF8, DSN parameters on the wire,
 * dot-stuffing with -i, header injection through the command line, and the
 * Date / Message-ID / From fields added to locally submitted mail.
 */
import t, { type Test } from 'tap';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { argsOf, startRecordingSmtp, type Recorded } from '../fixtures/peers/record-smtp.js';
import { runCli, testConfig } from '../fixtures/peers/run-cli.js';
import { decodeQp, splitMessage } from '../fixtures/peers/qp.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

type ServerOpts = Parameters<typeof startRecordingSmtp>[0];

async function peer(t: Test, opts: ServerOpts = {}): Promise<Recorded> {
  const s = await startRecordingSmtp(opts);
  t.teardown(() => s.close());
  return s;
}

/** Run the CLI against one recording server behind mail.dev.example.test. */
async function run(t: Test, opts: ServerOpts, args: string[], input: string | Buffer) {
  const smtp = await peer(t, opts);
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const res = await runCli(['-C', conf, ...args], input);
  return { smtp, res };
}

const PLAIN = 'From: Cron Daemon <root@example.test>\nTo: admin@example.test\nSubject: nightly\n\nall good\n';

t.test('SIZE: a message over the only server\'s limit fails permanently (exit 69), before MAIL', async (t) => {
  const big = PLAIN + 'x'.repeat(60).concat('\n').repeat(40);
  const { smtp, res } = await run(t, { size: 1000 }, ['admin@example.test'], big);
  t.equal(res.code, 69, res.stderr);
  t.match(res.stderr, /message is \d{4} bytes, mail\.dev\.example\.test accepts at most 1000 \(SIZE\)/);
  t.match(res.stderr, /<admin@example\.test>: failed/);
  t.equal(smtp.mail.length, 0, 'no MAIL command reached the server');
  t.equal(smtp.messages.length, 0);
});

t.test('SIZE: a host that accepts more is tried next', async (t) => {
  const small = await peer(t, { size: 1000 });
  const large = await peer(t, { size: 100_000, cert: 'direct' });
  const conf = testConfig({ route: `mail.dev.example.test::${small.port}:smarthost.example.test::${large.port}`, dnsPort: dns.port, smtpPort: small.port });
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], PLAIN + 'y'.repeat(70).concat('\n').repeat(40));
  t.equal(res.code, 0, res.stderr);
  t.equal(small.messages.length, 0);
  t.equal(large.messages.length, 1);
  t.match(argsOf(large.mail[0]).SIZE, /^\d+$/, 'SIZE declared to the second server');
  t.match(res.stderr, /accepts at most 1000 \(SIZE\)/, 'the refusal is in the trace');
});

const UTF8_BODY = 'Grüße aus Köln — ☃ — 日本語\n' + 'ein langer Satz mit Umlauten äöü '.repeat(5) + '\n.\nEnde\n';

t.test('8BITMIME offered: BODY=8BITMIME, the bytes unchanged', async (t) => {
  const { smtp, res } = await run(t, {}, ['-i', 'admin@example.test'], PLAIN.replace('all good\n', UTF8_BODY));
  t.equal(res.code, 0, res.stderr);
  t.equal(argsOf(smtp.mail[0]).BODY, '8BITMIME');
  t.equal(splitMessage(smtp.messages[0]!.data).body.toString('utf8'), UTF8_BODY.replace(/\n/g, '\r\n'));
});

t.test('no 8BITMIME: a text body arrives quoted-printable and decodes to the original', async (t) => {
  const { smtp, res } = await run(t, { hide8BITMIME: true }, ['-i', '-d', 'admin@example.test'], PLAIN.replace('all good\n', UTF8_BODY));
  t.equal(res.code, 0, res.stderr);
  const data = smtp.messages[0]!.data;
  t.notOk(data.some((b) => b > 0x7f), 'nothing 8-bit reached the 7-bit server');
  t.equal(argsOf(smtp.mail[0]).BODY, undefined);
  const { head, body } = splitMessage(data);
  t.match(head, /\r\nMIME-Version: 1\.0\r\n/);
  t.match(head, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
  t.match(head, /\r\nContent-Transfer-Encoding: quoted-printable\r\n/);
  t.equal(decodeQp(body.toString('latin1')).toString('utf8'), UTF8_BODY.replace(/\n/g, '\r\n'));
  t.match(res.stderr, /does not offer 8BITMIME: 8-bit body converted to quoted-printable/);
});

t.test('no 8BITMIME: a multipart 8-bit message is a clear permanent error', async (t) => {
  const multi = 'From: a@example.test\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße\n--XX--\n';
  const { smtp, res } = await run(t, { hide8BITMIME: true }, ['admin@example.test'], multi);
  t.equal(res.code, 69, res.stderr);
  t.match(res.stderr, /mail\.dev\.example\.test does not offer 8BITMIME and the 8-bit message cannot be converted to 7-bit: the message is multipart\/mixed/);
  t.equal(smtp.mail.length, 0);
});

t.test('SMTPUTF8: a UTF-8 recipient is refused by a server without it, delivered by one with it', async (t) => {
  const without = await run(t, { hideSMTPUTF8: true }, ['jösé@example.test'], PLAIN);
  t.equal(without.res.code, 69, without.res.stderr);
  t.match(without.res.stderr, /mail\.dev\.example\.test does not offer SMTPUTF8, needed for "jösé@example\.test"/);
  t.equal(without.smtp.mail.length, 0);

  const withIt = await run(t, {}, ['jösé@example.test'], PLAIN);
  t.equal(withIt.res.code, 0, withIt.res.stderr);
  t.equal(argsOf(withIt.smtp.mail[0]).SMTPUTF8, true);
  t.same(withIt.smtp.messages[0]!.envelope.rcptTo.map((r) => r.address), ['jösé@example.test']);
});

t.test('DSN: -N, -R, -V reach a server that offers DSN', async (t) => {
  const { smtp, res } = await run(t, { hideDSN: false }, ['-N', 'success,delay', '-R', 'hdrs', '-V', 'cron+42', 'a@example.test', 'b@example.test'], PLAIN);
  t.equal(res.code, 0, res.stderr);
  t.match(argsOf(smtp.mail[0]), { RET: 'HDRS', ENVID: 'cron+42' });
  t.same(smtp.rcpt.map((r) => argsOf(r).NOTIFY), ['SUCCESS,DELAY', 'SUCCESS,DELAY']);
  t.same(smtp.messages[0]!.envelope.dsn, { ret: 'HDRS', envid: 'cron+42' });
});

t.test('DSN: not offered, the message still goes (without the parameters), and -d says so', async (t) => {
  const { smtp, res } = await run(t, {}, ['-d', '-N', 'never', 'a@example.test'], PLAIN);
  t.equal(res.code, 0, res.stderr);
  t.same(argsOf(smtp.rcpt[0]), {});
  t.match(res.stderr, /does not offer DSN: NOTIFY\/RET\/ENVID \(-N\/-R\/-V\) not sent/);
});

t.test('dot-stuffing: with -i a lone dot and leading dots arrive intact', async (t) => {
  const body = '.\n..two\n.leading\n.\nlast\n';
  const { smtp, res } = await run(t, {}, ['-i', 'admin@example.test'], PLAIN.replace('all good\n', body));
  t.equal(res.code, 0, res.stderr);
  t.equal(splitMessage(smtp.messages[0]!.data).body.toString(), body.replace(/\n/g, '\r\n'));
});

// every flag and character is covered in-process by test/submit/injection.ts; these go through the binary
t.test('header injection through the command line is refused before anything is sent', async (t) => {
  const smtp = await peer(t, {});
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const cases: [string[], number, RegExp][] = [
    [['-F', 'Evil\nBcc: victim@example.net', 'admin@example.test'], 64, /bad -F value "Evil\\nBcc: victim@example\.net": control character/],
    [['-f', 'a@example.test\r\nRCPT TO:<victim@example.net>', 'admin@example.test'], 65, /bad address .*control character/],
    [['admin@example.test\nBcc: victim@example.net'], 65, /bad address .*control character/],
    [['-V', 'id\r\nRCPT TO:<victim@example.net>', 'admin@example.test'], 64, /bad -V value/],
  ];
  for (const [args, code, re] of cases) {
    const res = await runCli(['-C', conf, ...args], PLAIN);
    t.equal(res.code, code, `${JSON.stringify(args)}: exit ${code}`);
    t.match(res.stderr, re);
  }
  t.equal(smtp.mail.length, 0, 'nothing reached the server');
});

t.test('Date, Message-ID and From (with -F) are added when missing', async (t) => {
  const { smtp, res } = await run(t, {}, ['-f', 'cron@example.test', '-F', 'Jösé Cron', 'admin@example.test'], 'Subject: hi\n\nbody\n');
  t.equal(res.code, 0, res.stderr);
  const { head } = splitMessage(smtp.messages[0]!.data);
  const lines = head.split('\r\n');
  t.equal(lines[0], 'Subject: hi');
  t.match(lines[1], /^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/);
  t.match(lines[2], /^Message-ID: <\d{14}\.[0-9a-f]{16}@[^\s>]+>$/);
  t.equal(lines[3], 'From: =?UTF-8?B?SsO2c8OpIENyb24=?= <cron@example.test>');
});

t.test('fields already present are not added again', async (t) => {
  const m = 'Date: Fri, 27 Nov 2026 10:00:00 +0000\nMessage-ID: <given@example.test>\nFrom: Someone <s@example.test>\nSubject: hi\n\nbody\n';
  const { smtp, res } = await run(t, {}, ['-F', 'Other Name', 'admin@example.test'], m);
  t.equal(res.code, 0, res.stderr);
  t.equal(smtp.messages[0]!.data.toString(), m.replace(/\n/g, '\r\n'));
});

t.test('long lines: a text body is re-encoded; a multipart one is refused with exit 65', async (t) => {
  const long = 'z'.repeat(1500);
  const ok = await run(t, {}, ['admin@example.test'], PLAIN.replace('all good', long));
  t.equal(ok.res.code, 0, ok.res.stderr);
  const { head, body } = splitMessage(ok.smtp.messages[0]!.data);
  t.match(head, /Content-Transfer-Encoding: quoted-printable/);
  t.equal(decodeQp(body.toString('latin1')).toString(), long + '\r\n');

  const multi = 'Content-Type: multipart/mixed; boundary=XX\n\n--XX\n\n' + long + '\n--XX--\n';
  const bad = await run(t, {}, ['admin@example.test'], multi);
  t.equal(bad.res.code, 65, bad.res.stderr);
  t.match(bad.res.stderr, /line 5 of the message is 1500 octets, over the limit of 998/);
  t.equal(bad.smtp.mail.length, 0);
});
