import t from 'tap';
import { MAX_LINE, displayNameTokens, foldLongLine, rfc5322Date, tidyMessage, toCrlf, uniqueId, type TidyOptions } from '../../lib/submit/hygiene.js';
import { SmarthostError } from '../../lib/errors.js';
import { decodeQp, splitMessage } from '../../fixtures/peers/qp.js';

const NOW = new Date('2026-11-28T13:02:37.123Z');
const opts = (over: Partial<TidyOptions> = {}): TidyOptions => ({
  sender: 'cron@example.test',
  qualifyDomain: 'example.test',
  fqdn: 'host.example.test',
  now: NOW,
  tzOffsetMinutes: 60,
  uniqueId: '20261128130237.0011223344556677',
  ...over,
});
function caught(f: () => unknown): SmarthostError {
  try {
    f();
  } catch (err) {
    if (err instanceof SmarthostError) return err;
    throw err;
  }
  throw new Error('expected an error');
}
const tidy = (s: string | Buffer, over: Partial<TidyOptions> = {}) => tidyMessage(typeof s === 'string' ? Buffer.from(s) : s, opts(over));

t.test('toCrlf: bare LF and bare CR become CRLF; CRLF data is returned as is', async (t) => {
  t.equal(toCrlf(Buffer.from('a\nb\rc\r\nd\n')).toString(), 'a\r\nb\r\nc\r\nd\r\n');
  const crlf = Buffer.from('a\r\nb\r\n');
  t.equal(toCrlf(crlf), crlf);
  t.equal(toCrlf(Buffer.from('\r')).toString(), '\r\n');
  t.equal(toCrlf(Buffer.from('\n\n')).toString(), '\r\n\r\n');
});

t.test('rfc5322Date in the given zone', async (t) => {
  t.equal(rfc5322Date(NOW, 60), 'Sat, 28 Nov 2026 14:02:37 +0100');
  t.equal(rfc5322Date(NOW, 0), 'Sat, 28 Nov 2026 13:02:37 +0000');
  t.equal(rfc5322Date(NOW, -570), 'Sat, 28 Nov 2026 03:32:37 -0930');
  t.equal(rfc5322Date(new Date('2027-01-01T00:30:00Z'), -60), 'Thu, 31 Dec 2026 23:30:00 -0100', 'day, month and year roll back');
});

t.test('uniqueId: time and random hex', async (t) => {
  t.equal(uniqueId(NOW, Buffer.from([0, 0x11, 0xff])), '20261128130237.0011ff');
});

t.test('display names: atoms, quoted-string, RFC 2047', async (t) => {
  t.same(displayNameTokens('Cron Daemon'), ['Cron', 'Daemon']);
  t.same(displayNameTokens('  spaced   out '), ['spaced', 'out']);
  t.same(displayNameTokens('John Q. Public'), ['"John Q. Public"']);
  t.same(displayNameTokens('say "hi" \\ bye'), ['"say \\"hi\\" \\\\ bye"']);
  t.same(displayNameTokens('José'), ['=?UTF-8?B?Sm9zw6k=?=']);
  t.same(displayNameTokens(''), []);
  const long = displayNameTokens('日本語'.repeat(10));
  t.ok(long.length > 1 && long.every((w) => w.length <= 75), 'encoded-words of at most 75 characters');
  const decoded = long.map((w) => Buffer.from(/^=\?UTF-8\?B\?(.*)\?=$/.exec(w)![1]!, 'base64').toString('utf8')).join('');
  t.equal(decoded, '日本語'.repeat(10), 'no character split across words');
});

t.test('foldLongLine: at white space, within the limit, never a blank piece', async (t) => {
  const line = 'X-Long: ' + Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
  const pieces = foldLongLine(line)!;
  t.ok(pieces.length > 1);
  t.ok(pieces.every((p) => p.length <= MAX_LINE && /\S/.test(p)));
  t.equal(pieces.join(''), line, 'unfolding gives the line back');
  t.ok(pieces.slice(1).every((p) => p.startsWith(' ')));
  t.equal(foldLongLine('X-Long: ' + 'a'.repeat(1200)), undefined);
  t.equal(foldLongLine('X-Long:' + ' '.repeat(1200)), undefined, 'white space only after the colon');
  const t0 = Date.now();
  t.equal(foldLongLine('X: a' + ' '.repeat(1_000_000) + 'b'), undefined, 'a piece would be only white space');
  const many = foldLongLine('X:' + ' word'.repeat(200_000))!;
  t.ok(many.length > 1000 && many.every((p) => p.length <= MAX_LINE));
  t.ok(Date.now() - t0 < 2000, `linear enough (${Date.now() - t0} ms for 2 MB)`);
});

t.test('Date, Message-ID and From are added when missing', async (t) => {
  const r = tidy('Subject: hi\n\nbody\n');
  t.same(r.added, ['Date', 'Message-ID', 'From']);
  t.equal(r.data.toString(), 'Subject: hi\r\nDate: Sat, 28 Nov 2026 14:02:37 +0100\r\nMessage-ID: <20261128130237.0011223344556677@host.example.test>\r\nFrom: cron@example.test\r\n\r\nbody\r\n');
  t.match(r.notes, ['bare LF/CR line ends converted to CRLF']);
});

t.test('present fields are not duplicated (names compared case-insensitively)', async (t) => {
  const m = 'FROM: Someone <s@example.test>\r\nmessage-id: <x@y>\r\ndate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n';
  const r = tidy(m, { fullName: 'Ignored' });
  t.same(r.added, []);
  t.equal(r.data.toString(), m);
  t.same(r.notes, []);
});

t.test('From with -F: display name, quoted or encoded; null sender', async (t) => {
  const from = (o: Partial<TidyOptions>) => /\r\nFrom: (.*(?:\r\n .*)*)\r\n/.exec(tidy('Subject: x\r\n\r\nb\r\n', o).data.toString())![1];
  t.equal(from({ fullName: 'Cron Daemon' }), 'Cron Daemon <cron@example.test>');
  t.equal(from({ fullName: 'Daemon, Cron' }), '"Daemon, Cron" <cron@example.test>');
  t.equal(from({ fullName: 'Jösé' }), '=?UTF-8?B?SsO2c8Op?= <cron@example.test>');
  t.equal(from({ sender: '' }), 'MAILER-DAEMON@example.test');
  const long = from({ fullName: 'Ü'.repeat(60) })!;
  t.ok(long.split('\r\n').every((l) => l.length <= 78), 'folded between encoded-words');
  t.match(long, /\r\n <cron@example\.test>$|\?= <cron@example\.test>$/);
});

t.test('a message without body or newline, and an empty message', async (t) => {
  t.equal(tidy('Subject: x').data.toString(), 'Subject: x\r\nDate: Sat, 28 Nov 2026 14:02:37 +0100\r\nMessage-ID: <20261128130237.0011223344556677@host.example.test>\r\nFrom: cron@example.test\r\n');
  t.match(tidy('').data.toString(), /^Date: .*\r\nMessage-ID: .*\r\nFrom: cron@example\.test\r\n$/);
  t.match(tidy('\nbody only\n').data.toString(), /^Date: .*\r\nMessage-ID: .*\r\nFrom: .*\r\n\r\nbody only\r\n$/);
});

t.test('header lines over 998 octets are folded; unfoldable ones are an E_MESSAGE', async (t) => {
  const long = 'X-Words: ' + Array.from({ length: 250 }, (_, i) => `w${i}`).join(' ');
  t.ok(long.length > MAX_LINE);
  const r = tidy(`Subject: x\n${long}\n\nbody\n`);
  const { head } = splitMessage(r.data);
  t.ok(head.split('\r\n').every((l) => l.length <= MAX_LINE));
  t.ok(head.includes(long.slice(0, 900)), 'the start is unchanged');
  t.equal(head.replace(/\r\n(?=[ \t])/g, '').split('\r\n')[1], long, 'unfolds to the original');
  t.match(r.notes, [/line ends/, /header lines over 998 octets folded/]);

  const err = caught(() => tidy(`Subject: x\nX-Blob: ${'a'.repeat(1000)}\n\nbody\n`));
  t.equal(err.code, 'E_MESSAGE');
  t.equal(err.kind, 'data');
  t.match(err.message, /^line 2 of the message \(header field X-Blob\) is 1008 octets, over the limit of 998 .* no white space/);
});

t.test('body lines over 998 octets: a text body is re-encoded as quoted-printable', async (t) => {
  const body = 'short\r\n' + 'x'.repeat(2000) + '\r\nend\r\n';
  const r = tidy(`Subject: x\r\n\r\n${body}`);
  const { head, body: enc } = splitMessage(r.data);
  t.match(head, /\r\nMIME-Version: 1\.0\r\nContent-Transfer-Encoding: quoted-printable\r\n/);
  t.notMatch(head, /Content-Type/, 'a 7-bit body keeps the default text/plain; us-ascii');
  t.equal(decodeQp(enc.toString('latin1')).toString(), body);
  t.match(r.notes, [/body lines over 998 octets \(first: line 4, 2000 octets\): body re-encoded as quoted-printable/]);
});

t.test('body lines over 998 octets in a multipart message: E_MESSAGE naming the line', async (t) => {
  const m = `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n${'y'.repeat(1500)}\r\n--b--\r\n`;
  const err = caught(() => tidy(m));
  t.equal(err.code, 'E_MESSAGE');
  t.equal(err.kind, 'data');
  t.match(err.message, /^line 5 of the message is 1500 octets, over the limit of 998 \(RFC 5322 §2\.1\.1\), and the body cannot be re-encoded: the message is multipart\/mixed/);
});

t.test('dots are left alone (the SMTP layer stuffs them)', async (t) => {
  const m = 'Subject: x\r\nDate: d\r\nMessage-ID: <a@b>\r\nFrom: a@b\r\n\r\n.\r\n..\r\n.x\r\n';
  t.equal(tidy(m).data.toString(), m);
});
