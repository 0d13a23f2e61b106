import t from 'tap';
import { bodyToQuotedPrintable, mimeShape, toSevenBit } from '../../lib/submit/eightbit.js';
import { scanHeaders } from '../../lib/submit/message.js';
import { decodeQp, splitMessage } from '../../fixtures/peers/qp.js';

const msg = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'));
const ok = (r: ReturnType<typeof toSevenBit>): Buffer => {
  if ('problem' in r) throw new Error(r.problem);
  return r.data;
};

t.test('mimeShape reads type, encoding and MIME-Version', async (t) => {
  const shape = (s: string) => mimeShape(scanHeaders(msg(s)).fields);
  t.same(shape('Subject: x\n\nbody\n'), { type: '', cte: '', mimeVersion: false });
  t.same(shape('MIME-Version: 1.0\nContent-Type: Text/Plain (comment); charset="utf-8"\nContent-Transfer-Encoding: 8BIT\n\nx'), { type: 'text/plain', cte: '8bit', mimeVersion: true });
  t.same(shape('Content-Type: multipart/mixed;\n boundary="b"\n\n'), { type: 'multipart/mixed', cte: '', mimeVersion: false });
});

t.test('an 8-bit text body becomes quoted-printable and decodes back to the original', async (t) => {
  const body = 'Grüße aus Köln — ☃ — 日本語\r\ntrailing space \r\ntab\t\r\n=equals= and a very long line ' + 'ä'.repeat(200) + '\r\n.\r\nend';
  const original = msg('From: a@example.test\nSubject: hi\n\n');
  const input = Buffer.concat([original, Buffer.from(body)]);
  const out = ok(toSevenBit(input));
  t.notOk(out.some((b) => b > 0x7f), 'all 7-bit');
  const { head, body: enc } = splitMessage(out);
  t.equal(head, 'From: a@example.test\r\nSubject: hi\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n');
  t.equal(decodeQp(enc.toString('latin1')).toString('utf8'), body, 'round trip');
  t.ok(enc.toString('latin1').split('\r\n').every((l) => l.length <= 76), 'lines within 76');
});

t.test('existing MIME headers: the identity encoding is replaced, Content-Type kept', async (t) => {
  const input = msg('MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\nSubject: x\n\n');
  const latin1 = Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65, 0x0d, 0x0a]);
  const out = ok(toSevenBit(Buffer.concat([input, latin1])));
  const { head, body } = splitMessage(out);
  t.equal(head, 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nSubject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n');
  t.same(decodeQp(body.toString('latin1')), latin1);
});

t.test('an 8-bit body that is not UTF-8 and has no Content-Type is labelled unknown-8bit (RFC 1428)', async (t) => {
  const out = ok(toSevenBit(Buffer.concat([msg('Subject: x\n\n'), Buffer.from([0xe9, 0x0d, 0x0a])])));
  t.match(out.toString('latin1'), /\r\nContent-Type: text\/plain; charset=unknown-8bit\r\n/);
  t.match(out.toString('latin1'), /\r\n\r\n=E9\r\n$/);
});

t.test('what cannot be converted is refused with the reason', async (t) => {
  const cases: [string, RegExp][] = [
    ['Subject: Grüße\n\nplain\n', /^8-bit characters in the Subject header field$/],
    ['Content-Type: multipart/mixed; boundary=b\n\n--b\n\nä\n--b--\n', /multipart\/mixed \(only a single text part/],
    ['Content-Type: application/octet-stream\n\nä\n', /application\/octet-stream \(only text/],
    ['Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nä\n', /declared "Content-Transfer-Encoding: base64"/],
  ];
  for (const [m, re] of cases) {
    const r = toSevenBit(msg(m));
    t.ok('problem' in r && re.test(r.problem), `${JSON.stringify(m.slice(0, 30))}: ${'problem' in r ? r.problem : 'converted'}`);
  }
});

t.test('a 7-bit message is returned as it is', async (t) => {
  const m = msg('Subject: x\n\nplain\n');
  t.equal(ok(toSevenBit(m)), m);
});

t.test('bodyToQuotedPrintable on a header-only message without newline keeps the header whole', async (t) => {
  const r = bodyToQuotedPrintable(Buffer.from('Subject: x'));
  t.equal('data' in r && r.data.toString(), 'Subject: x\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
});
