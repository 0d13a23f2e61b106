import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  headerValues,
  prepareMessage,
  readAll,
  scanHeaders,
  skipFromLines,
  splitHeaders,
  truncateAtDot,
} from '../../lib/submit/message.js';
import { parseArgs } from '../../lib/submit/cli.js';
import { SmarthostError, exitCodeFor } from '../../lib/errors.js';
import type { Invocation } from '../../lib/types.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/messages/${name}`, import.meta.url));
const B = (s: string): Buffer => Buffer.from(s, 'utf8');
const CTX = { qualifyDomain: 'host.example', user: 'alice' };

function inv(p: Partial<Invocation> = {}): Invocation {
  return {
    recipients: [],
    extractRecipients: false,
    ignoreDots: false,
    verbose: false,
    debug: false,
    mode: 'm',
    queueRun: false,
    options: [],
    ...p,
  };
}

function throwsSH(t: Test, fn: () => unknown, code: string, exit: number, re: RegExp, label: string): void {
  try {
    fn();
    t.fail(`${label}: should throw`);
  } catch (err) {
    t.ok(err instanceof SmarthostError, `${label}: SmarthostError`);
    const e = err as SmarthostError;
    t.equal(e.code, code, `${label}: code`);
    t.equal(exitCodeFor(e.kind), exit, `${label}: exit ${exit}`);
    t.match(e.message, re, label);
  }
}

t.test('truncateAtDot', async (t) => {
  const rows: [string, string][] = [
    ['a\n.\nb\n', 'a\n'],
    ['a\r\n.\r\nb\r\n', 'a\r\n'],
    ['.\nall dropped\n', ''],
    ['a\n.', 'a\n'],
    ['a\n..\nb\n', 'a\n..\nb\n'],
    ['a\n .\nb\n', 'a\n .\nb\n'],
    ['a\n.x\nb\n', 'a\n.x\nb\n'],
    ['a.\nb\n', 'a.\nb\n'],
    ['a\r.\r\nb', 'a\r.\r\nb'],
    ['a\n.\r\r\nb', 'a\n.\r\r\nb'],
    ['no newline at all', 'no newline at all'],
    ['', ''],
  ];
  for (const [input, want] of rows) t.equal(truncateAtDot(B(input)).toString(), want, JSON.stringify(input));
});

t.test('skipFromLines', async (t) => {
  const rows: [string, string][] = [
    ['From someone@x Mon Jan  1 00:00:00 2024\nTo: a@x\n', 'To: a@x\n'],
    ['From a\nFrom b\nTo: a@x\n', 'To: a@x\n'],
    ['From: a@x\nTo: b@x\n', 'From: a@x\nTo: b@x\n'],
    ['To: a@x\nFrom a\n', 'To: a@x\nFrom a\n'],
    ['From only', ''],
    ['', ''],
  ];
  for (const [input, want] of rows) t.equal(skipFromLines(B(input)).toString(), want, JSON.stringify(input));
});

t.test('scanHeaders', async (t) => {
  const rows: [string, { fields: [string, string][]; headerEnd: number; bodyStart: number; separator: boolean }][] = [
    ['To: a@x\nSubject: hi\n\nbody\n', { fields: [['To', ' a@x'], ['Subject', ' hi']], headerEnd: 20, bodyStart: 21, separator: true }],
    ['To: a@x\r\n\r\nbody', { fields: [['To', ' a@x']], headerEnd: 9, bodyStart: 11, separator: true }],
    ['To: a@x,\n\tb@y\n  c@z\nX: 1\n\n', { fields: [['To', ' a@x,\tb@y  c@z'], ['X', ' 1']], headerEnd: 25, bodyStart: 26, separator: true }],
    ['Subject : spaced\n\n', { fields: [['Subject', ' spaced']], headerEnd: 17, bodyStart: 18, separator: true }],
    ['To: a@x\nnot a header\nBcc: s@y\n\nbody', { fields: [['To', ' a@x']], headerEnd: 8, bodyStart: 8, separator: false }],
    ['hello world\nTo: a@x\n', { fields: [], headerEnd: 0, bodyStart: 0, separator: false }],
    [' continuation first\n', { fields: [], headerEnd: 0, bodyStart: 0, separator: false }],
    ['To: a@x\nX: y', { fields: [['To', ' a@x'], ['X', ' y']], headerEnd: 12, bodyStart: 12, separator: false }],
    ['To: a@x\rBcc: s@y\r\r\nbody', { fields: [['To', ' a@x'], ['Bcc', ' s@y']], headerEnd: 17, bodyStart: 19, separator: true }],
    ['To: a@x\n   \nX: 1\n\n', { fields: [['To', ' a@x   '], ['X', ' 1']], headerEnd: 17, bodyStart: 18, separator: true }],
    ['\nbody only', { fields: [], headerEnd: 0, bodyStart: 1, separator: true }],
    ['', { fields: [], headerEnd: 0, bodyStart: 0, separator: false }],
    ['Bad Name: x\n\n', { fields: [], headerEnd: 0, bodyStart: 0, separator: false }],
  ];
  for (const [input, want] of rows) {
    const s = scanHeaders(B(input));
    t.same(
      { fields: s.fields.map((f) => [f.name, f.value]), headerEnd: s.headerEnd, bodyStart: s.bodyStart, separator: s.separator },
      want,
      JSON.stringify(input),
    );
  }
  const s = scanHeaders(B('To: a,\n b\nX: 1\n\n'));
  t.same(s.fields.map((f) => [f.start, f.end]), [[0, 10], [10, 15]], 'field byte ranges cover continuations');
});

t.test('splitHeaders and headerValues', async (t) => {
  const raw = fixture('simple.eml');
  const { headerText, body } = splitHeaders(raw);
  t.match(headerText, /^From: Sender <sender@example\.test>\nTo: rcpt@example\.test\n/);
  t.notMatch(headerText, /\n\n/, 'no separator in the header text');
  t.equal(body.toString(), 'Hello,\n\nthis is a simple test message.\n');
  const nohdr = splitHeaders(B('just text\n'));
  t.equal(nohdr.headerText, '');
  t.equal(nohdr.body.toString(), 'just text\n', 'first line not a header: all body');
  const fields = scanHeaders(B('To: a@x\nCC: b@x\nto: c@x\ncc: d@x\n\n')).fields;
  t.same(headerValues(fields, 'To'), [' a@x', ' c@x'], 'case-insensitive, every occurrence, in order');
  t.same(headerValues(fields, 'cc'), [' b@x', ' d@x']);
  t.same(headerValues(fields, 'Bcc'), []);
});

t.test('-t: recipient address madness (fixtures/messages/tbcc.eml)', async (t) => {
  const raw = fixture('tbcc.eml');
  const expected = JSON.parse(fixture('tbcc.expected.json').toString()) as { recipients: string[]; bcc: string[] };
  const { envelope, data } = prepareMessage(raw, inv({ extractRecipients: true, ignoreDots: true }), CTX);
  t.same(envelope.recipients, expected.recipients);
  t.equal(envelope.sender, 'alice@host.example');
  const text = data.toString();
  t.notMatch(text, /^Bcc:/im, 'Bcc header removed');
  for (const b of expected.bcc) t.notOk(text.includes(b), `${b} not in the data`);
  t.equal(text, raw.toString().replace(/^Bcc:.*\n/m, ''), 'everything else byte for byte');
});

t.test('prepareMessage recipients', async (t) => {
  const rows: [string, string, Partial<Invocation>, string[] | [string, number, RegExp]][] = [
    ['multiple To lines', 'To: a@x.example\nTo: b@x.example\nSubject: s\n\nbody\n', { extractRecipients: true }, ['a@x.example', 'b@x.example']],
    ['case-insensitive names', 'TO: a@x.example\ncc: b@x.example\nBCC: c@x.example\n\n', { extractRecipients: true }, ['a@x.example', 'b@x.example', 'c@x.example']],
    ['folded To', 'To: a@x.example,\n b@x.example,\r\n\tc@x.example\n\n', { extractRecipients: true }, ['a@x.example', 'b@x.example', 'c@x.example']],
    ['To: root (cron) is qualified', 'From: root (Cron Daemon)\nTo: root\n\nout\n', { extractRecipients: true }, ['root@host.example']],
    ['groups and comments', 'To: undisclosed-recipients:;\nCc: T: a@x.example, "B, b" <b@x.example>;, c@x.example (c, c)\n\n', { extractRecipients: true }, ['a@x.example', 'b@x.example', 'c@x.example']],
    ['UTF-8 address', 'To: José <jösé@ex.test>\n\n', { extractRecipients: true }, ['jösé@ex.test']],
    ['arguments are added to -t', 'To: a@x.example\n\n', { extractRecipients: true, recipients: ['z@y.example'] }, ['a@x.example', 'z@y.example']],
    ['duplicates dropped, domain case-insensitive', 'To: a@X.example, A@x.example\nCc: a@x.EXAMPLE\n\n', { extractRecipients: true, recipients: ['a@x.example'] }, ['a@X.example', 'A@x.example']],
    ['without -t headers are not read', 'To: a@x.example\nBcc: b@x.example\n\n', { recipients: ['z@y.example'] }, ['z@y.example']],
    ['argument lists', '\n', { recipients: ['a@x.example, B <b@x.example>', 'root'] }, ['a@x.example', 'b@x.example', 'root@host.example']],
    ['headers after a non-header line are body', 'To: a@x.example\ngarbage\nBcc: s@y.example\n\n', { extractRecipients: true }, ['a@x.example']],
    ['Bcc behind a bare CR is a header', 'To: a@x.example\rBcc: s@y.example\r\n\r\n', { extractRecipients: true }, ['a@x.example', 's@y.example']],
    ['mbox From_ line skipped', 'From someone Mon Jan  1 00:00:00 2024\nTo: a@x.example\n\n', { extractRecipients: true }, ['a@x.example']],
    ['lone dot in the headers ends the message', 'To: a@x.example\n.\nCc: b@x.example\n\n', { extractRecipients: true }, ['a@x.example']],
    ['-i keeps the header after a dot line', 'To: a@x.example\n.\nCc: b@x.example\n\n', { extractRecipients: true, ignoreDots: true }, ['a@x.example']],
    ['-t, nothing found', 'Subject: none\n\n', { extractRecipients: true }, ['E_MESSAGE', 65, /^no recipients found in To, Cc or Bcc$/]],
    ['-t, only an empty group', 'To: undisclosed-recipients:;\n\n', { extractRecipients: true }, ['E_MESSAGE', 65, /no recipients found/]],
    ['no -t, no arguments', 'To: a@x.example\n\n', {}, ['E_USAGE', 64, /^Recipient names must be specified/]],
    ['argument injection', '\n', { recipients: ['a@b.example\r\nBcc: c@d.example'] }, ['E_ADDRESS', 65, /^bad address "a@b\.example\\r\\nBcc: c@d\.example": control character$/]],
    ['argument with SMTP injection', '\n', { recipients: ['a@b.example>\r\nRCPT TO:<c@d.example'] }, ['E_ADDRESS', 65, /control character/]],
    ['argument with > inside', '\n', { recipients: ['a@b.example> NOTIFY=NEVER'] }, ['E_ADDRESS', 65, /white space|'<' or '>'/]],
    ['bad header address', 'To: foo bar\n\n', { extractRecipients: true }, ['E_ADDRESS', 65, /^bad address "foo bar": not an address$/]],
    ['control character in a header value', 'To: a@x.example\u0000, b@x.example\n\n', { extractRecipients: true }, ['E_ADDRESS', 65, /control character/]],
  ];
  for (const [label, msg, p, want] of rows) {
    const run = (): unknown => prepareMessage(B(msg), inv(p), CTX);
    if (typeof want[0] === 'string' && want.length === 3 && typeof want[1] === 'number') {
      const [code, exit, re] = want as [string, number, RegExp];
      throwsSH(t, run, code, exit, re, label);
    } else {
      t.same(prepareMessage(B(msg), inv(p), CTX).envelope.recipients, want, label);
    }
  }
});

t.test('prepareMessage sender', async (t) => {
  const rows: [Partial<Invocation>, string | RegExp][] = [
    [{}, 'alice@host.example'],
    [{ sender: 'me@x.example' }, 'me@x.example'],
    [{ sender: 'root' }, 'root@host.example'],
    [{ sender: '' }, ''],
    [{ sender: '<>' }, ''],
    [{ sender: '<me@x.example>' }, 'me@x.example'],
    [{ sender: 'me@x.example\r\nRCPT TO:<c@d>' }, /^bad address "me@x.example\\r\\nRCPT TO:<c@d>": control character$/],
    [{ sender: 'a b@x' }, /white space/],
  ];
  for (const [p, want] of rows) {
    const run = (): string => prepareMessage(B('\n'), inv({ recipients: ['r@x.example'], ...p }), CTX).envelope.sender;
    if (want instanceof RegExp) throwsSH(t, run, 'E_ADDRESS', 65, want, JSON.stringify(p));
    else t.equal(run(), want, JSON.stringify(p));
  }
  t.throws(() => prepareMessage(B('\n'), inv({ recipients: ['r@x.example'] }), { qualifyDomain: 'host.example', user: 'bad user' }), /white space/);
  // from the command line all the way: -f '' and -f '<>' are the null sender
  for (const f of ['', '<>']) {
    const i = parseArgs(['-f', f, 'a@y.example']);
    t.equal(prepareMessage(B('\n'), i, CTX).envelope.sender, '', `-f ${JSON.stringify(f)}`);
  }
});

t.test('prepareMessage data', async (t) => {
  const data = (msg: string | Buffer, p: Partial<Invocation> = {}): string =>
    prepareMessage(typeof msg === 'string' ? B(msg) : msg, inv({ recipients: ['r@x.example'], ...p }), CTX).data.toString('latin1');
  const rows: [string, string, Partial<Invocation>, string][] = [
    ['unchanged', 'To: a@x\nSubject: s\n\nbody\n', {}, 'To: a@x\nSubject: s\n\nbody\n'],
    ['CRLF unchanged', 'To: a@x\r\n\r\nbody\r\n', {}, 'To: a@x\r\n\r\nbody\r\n'],
    ['Bcc stripped without -t too', 'To: a@x\nBcc: b@x\nSubject: s\n\nbody\n', {}, 'To: a@x\nSubject: s\n\nbody\n'],
    ['folded Bcc with its continuation lines', 'To: a@x\nBcc: b@x,\n c@x,\r\n\td@x\nSubject: s\n\nbody\n', { extractRecipients: true }, 'To: a@x\nSubject: s\n\nbody\n'],
    ['Bcc first and last', 'Bcc: b@x\nTo: a@x\nbcc: c@x\r\n\r\nbody', { extractRecipients: true }, 'To: a@x\n\r\nbody'],
    ['Bcc the only header, at EOF', 'Bcc: b@x', { extractRecipients: true }, ''],
    ['Resent-Bcc stripped', 'Resent-Bcc: b@x\nTo: a@x\n\n', {}, 'To: a@x\n\n'],
    ['"Bcc" in the body stays', 'To: a@x\n\nBcc: b@x\n', {}, 'To: a@x\n\nBcc: b@x\n'],
    ['Bcc behind a bare CR removed', 'To: a@x\rBcc: s@y\r\n\r\nbody', {}, 'To: a@x\r\r\nbody'],
    ['blank line inserted before a non-header line', 'To: a@x\ngarbage\nBcc: s@y\n\nbody', {}, 'To: a@x\n\ngarbage\nBcc: s@y\n\nbody'],
    ['inserted blank line follows CRLF', 'To: a@x\r\ngarbage\r\n', {}, 'To: a@x\r\n\r\ngarbage\r\n'],
    ['inserted blank line after a bare CR', 'To: a@x\rgarbage\r', {}, 'To: a@x\r\r\ngarbage\r'],
    ['no header at all: blank line first', 'hello world\nsecond\n', {}, '\nhello world\nsecond\n'],
    ['no header at all, CRLF', 'hello world\r\n', {}, '\r\nhello world\r\n'],
    ['headers only, no body: nothing inserted', 'To: a@x\nSubject: s', {}, 'To: a@x\nSubject: s'],
    ['empty message', '', {}, ''],
    ['lone dot ends the message', 'To: a@x\n\nline 1\n.\nafter the dot\n', {}, 'To: a@x\n\nline 1\n'],
    ['lone dot with CRLF', 'To: a@x\r\n\r\nline 1\r\n.\r\nafter\r\n', {}, 'To: a@x\r\n\r\nline 1\r\n'],
    ['-i: lone dot is data', 'To: a@x\n\nline 1\n.\nafter the dot\n', { ignoreDots: true }, 'To: a@x\n\nline 1\n.\nafter the dot\n'],
    ['From_ line dropped', 'From x Mon Jan  1 00:00:00 2024\nTo: a@x\n\nb\n', {}, 'To: a@x\n\nb\n'],
  ];
  for (const [label, msg, p, want] of rows) t.equal(data(msg, p), want, label);

  const dot = fixture('dot.eml');
  t.equal(data(dot), dot.toString().slice(0, dot.indexOf('\n.\n') + 1), 'dot.eml without -i stops before the dot');
  t.equal(data(dot, { ignoreDots: true }), dot.toString(), 'dot.eml with -i is whole');

  const eightBit = fixture('8bit.eml');
  t.ok(prepareMessage(eightBit, inv({ recipients: ['r@x'] }), CTX).data.equals(eightBit), '8-bit body byte-identical');
  const latin1 = Buffer.concat([B('To: a@x\nSubject: caf'), Buffer.from([0xe9]), B('\nBcc: b@x\n\n'), Buffer.from([0xff, 0x00, 0xfe])]);
  const out = prepareMessage(latin1, inv({ extractRecipients: true }), CTX).data;
  t.ok(out.equals(Buffer.concat([B('To: a@x\nSubject: caf'), Buffer.from([0xe9]), B('\n\n'), Buffer.from([0xff, 0x00, 0xfe])])), 'non-UTF-8 bytes kept exactly');
});

t.test('cron as cronie sends it (fixtures/messages/cron.eml)', async (t) => {
  const i = parseArgs(['-FCronDaemon', '-i', '-odi', '-oem', '-oi', '-t', '-f', 'root']);
  const raw = fixture('cron.eml');
  const { envelope, data } = prepareMessage(raw, i, { qualifyDomain: 'buildhost.example', user: 'root' });
  t.same(envelope, { sender: 'root@buildhost.example', recipients: ['root@buildhost.example'] });
  t.ok(data.equals(raw));
});

t.test('readAll', async (t) => {
  t.equal((await readAll(Readable.from([B('ab'), B('cd'), 'ef']))).toString(), 'abcdef');
  t.equal((await readAll(Readable.from([]))).length, 0, 'empty input');
  const big = Buffer.alloc(200_000, 0x61);
  t.ok((await readAll(Readable.from([big.subarray(0, 65536), big.subarray(65536)]))).equals(big), 'many chunks');

  const failing = new Readable({
    read() {
      this.destroy(new Error('EIO: i/o error, read'));
    },
  });
  await t.rejects(readAll(failing), { code: 'E_IO', kind: 'io', message: /^reading the message failed: EIO: i\/o error, read$/ });

  await t.rejects(readAll(Readable.from([B('12345'), B('67890')]), { maxBytes: 8 }), {
    code: 'E_MESSAGE',
    kind: 'data',
    message: 'message larger than 8 bytes',
  });
  t.equal((await readAll(Readable.from([B('12345678')]), { maxBytes: 8 })).length, 8, 'exactly the limit is fine');
});
