import t, { type Test } from 'tap';
import { has8bit, parseEhlo, planTransaction, wireSize, type PlanInput } from '../../lib/deliver/extensions.js';
import { SmarthostError } from '../../lib/errors.js';

const EHLO = '250-mail.example.test Hello client\n250-PIPELINING\n250-8BITMIME\n250-SMTPUTF8\n250-DSN\n250-AUTH LOGIN PLAIN\n250-AUTH=PLAIN\n250 SIZE 1000';

t.test('parseEhlo: keywords from the lines after the greeting', async (t) => {
  const e = parseEhlo(EHLO);
  t.same([...e.keys()].sort(), ['8BITMIME', 'AUTH', 'DSN', 'PIPELINING', 'SIZE', 'SMTPUTF8']);
  t.equal(e.get('SIZE'), '1000');
  t.equal(e.get('AUTH'), 'PLAIN', 'a later line wins');
  t.same([...parseEhlo('250 mail.example.test SIZE 1 8BITMIME').keys()], [], 'the greeting line is not an extension');
  t.same([...parseEhlo('').keys()], []);
  t.same([...parseEhlo('250-x\r\n250-size 5\r\n250 8bitmime').entries()], [['SIZE', '5'], ['8BITMIME', '']], 'case-insensitive, CRLF');
  t.same([...parseEhlo('250-x\n250-X-DSN\n250 PIPELININGX').keys()], ['X-DSN', 'PIPELININGX'], 'whole keywords only');
});

t.test('wireSize counts line ends as CRLF; has8bit', async (t) => {
  t.equal(wireSize(Buffer.from('a\r\nb\r\n')), 6);
  t.equal(wireSize(Buffer.from('a\nb\n')), 6);
  t.equal(wireSize(Buffer.from('a\rb')), 4);
  t.equal(has8bit(Buffer.from('plain\r\n')), false);
  t.equal(has8bit(Buffer.from('grüß')), true);
});

const base = (over: Partial<PlanInput> = {}): PlanInput => ({
  envelope: { sender: 's@example.test', recipients: ['r@example.test'] },
  data: Buffer.from('Subject: x\r\n\r\nhello\r\n'),
  extensions: parseEhlo(EHLO),
  where: 'mail.example.local [127.0.0.1]:25',
  queried: 'mail.example.test',
  ...over,
});

function refusal(t: Test, f: () => unknown): SmarthostError {
  try {
    f();
  } catch (err) {
    t.ok(err instanceof SmarthostError);
    const e = err as SmarthostError;
    t.equal(e.code, 'E_EXTENSION');
    t.equal(e.kind, 'perm');
    t.equal(e.detail.stage, 'mail');
    return e;
  }
  throw new Error('expected a refusal');
}

t.test('plain message: SIZE declared, no BODY, nothing else', async (t) => {
  const p = planTransaction(base());
  t.equal(p.size, 21);
  t.equal(p.use8BitMime, false);
  t.equal(p.smtpUtf8, false);
  t.equal(p.dsn, undefined);
  t.same(p.notes, []);
});

t.test('SIZE: over the limit is refused with both figures; no limit when 0 or absent', async (t) => {
  const big = Buffer.alloc(1001, 0x61);
  const e = refusal(t, () => planTransaction(base({ data: big })));
  t.equal(e.message, 'mail.example.local [127.0.0.1]:25: message is 1001 bytes, mail.example.test accepts at most 1000 (SIZE)');
  t.equal(planTransaction(base({ data: Buffer.alloc(1000, 0x61) })).size, 1000, 'exactly the limit is fine');
  t.equal(planTransaction(base({ data: big, extensions: parseEhlo('250-x\n250 SIZE 0') })).size, 1001);
  t.equal(planTransaction(base({ data: big, extensions: parseEhlo('250-x\n250 SIZE') })).size, 1001);
  t.equal(planTransaction(base({ data: big, extensions: parseEhlo('250 x') })).size, 1001);
});

t.test('8BITMIME: declared when offered; converted when not; refused when it cannot be', async (t) => {
  const eight = Buffer.from('Subject: x\r\n\r\ngrüß\r\n');
  t.equal(planTransaction(base({ data: eight })).use8BitMime, true);
  const no8 = parseEhlo('250-x\n250 PIPELINING');
  const converted = Buffer.from('Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ngr=C3=BC=C3=9F\r\n');
  const p = planTransaction(base({ data: eight, extensions: no8, downgrade: () => ({ data: converted }) }));
  t.equal(p.use8BitMime, false);
  t.equal(p.data, converted);
  t.equal(p.size, converted.length, 'SIZE is the size of what is sent');
  t.match(p.notes, [/does not offer 8BITMIME: 8-bit body converted to quoted-printable/]);
  const e = refusal(t, () => planTransaction(base({ data: eight, extensions: no8, downgrade: () => ({ problem: 'the message is multipart/mixed' }) })));
  t.match(e.message, /mail\.example\.test does not offer 8BITMIME and the 8-bit message cannot be converted to 7-bit: the message is multipart\/mixed$/);
  refusal(t, () => planTransaction(base({ data: eight, extensions: no8 })));
  refusal(t, () => planTransaction(base({ data: eight, extensions: no8, downgrade: (d) => ({ data: d }) })));
  t.equal(planTransaction(base({ extensions: no8 })).use8BitMime, false, '7-bit data needs nothing');
});

t.test('SIZE is checked on the converted data', async (t) => {
  const eight = Buffer.from('ü'.repeat(300));
  const ext = parseEhlo('250-x\n250 SIZE 700');
  const e = refusal(t, () => planTransaction(base({ data: eight, extensions: ext, downgrade: () => ({ data: Buffer.from('=C3=BC'.repeat(300)) }) })));
  t.match(e.message, /message is 1800 bytes/);
});

t.test('SMTPUTF8: non-ASCII addresses need it', async (t) => {
  const env = { sender: 's@example.test', recipients: ['a@example.test', 'jösé@example.test'] };
  const p = planTransaction(base({ envelope: env }));
  t.equal(p.smtpUtf8, true);
  const e = refusal(t, () => planTransaction(base({ envelope: env, extensions: parseEhlo('250-x\n250 8BITMIME') })));
  t.match(e.message, /: mail\.example\.test does not offer SMTPUTF8, needed for "jösé@example\.test"/);
  refusal(t, () => planTransaction(base({ envelope: { sender: 'ü@example.test', recipients: ['a@example.test'] }, extensions: parseEhlo('250 x') })));
});

t.test('DSN: passed when offered, dropped with a note otherwise', async (t) => {
  const dsn = { notify: 'SUCCESS,FAILURE', ret: 'HDRS' as const, envid: 'abc+1' };
  const env = { sender: 's@example.test', recipients: ['r@example.test'], dsn };
  t.same(planTransaction(base({ envelope: env })).dsn, dsn);
  const p = planTransaction(base({ envelope: env, extensions: parseEhlo('250-x\n250 8BITMIME') }));
  t.equal(p.dsn, undefined);
  t.match(p.notes, [/does not offer DSN: NOTIFY\/RET\/ENVID \(-N\/-R\/-V\) not sent/]);
  t.same(planTransaction(base({ envelope: { ...env, dsn: {} } })).notes, [], 'an empty request is no request');
});
