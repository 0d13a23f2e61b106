import t from 'tap';
import { BsSession, finalReply, type Step } from '../../lib/submit/bs.js';
import { parsePathAndParams } from '../../lib/submit/bs-params.js';

const OPTS = { hostname: 'client.example.test', qualifyDomain: 'example.test' };

/** Feed lines; return every reply (codes + text, CRLF removed) and the steps. */
function drive(s: BsSession, lines: string[]): { replies: string[]; steps: Step[] } {
  const steps = lines.map((l) => s.feed(Buffer.from(l, 'latin1')));
  return { replies: steps.flatMap((st) => st.replies.join('').split('\r\n').filter((x) => x !== '')), steps };
}
const codes = (r: string[]): number[] => r.map((x) => Number(x.slice(0, 3)));

t.test('greeting and EHLO advertise only what is honoured', async (t) => {
  const s = new BsSession(OPTS);
  t.equal(s.greeting(), '220 client.example.test send-smarthost ESMTP\r\n');
  const { steps } = drive(s, ['EHLO app.example.test']);
  t.equal(steps[0]!.replies.join(''), '250-client.example.test Hello app.example.test\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-SMTPUTF8\r\n250 HELP\r\n');
  t.notMatch(steps[0]!.replies.join(''), /AUTH|STARTTLS|DSN|CHUNKING/);
  const h = new BsSession(OPTS);
  t.same(drive(h, ['HELO x']).replies, ['250 client.example.test Hello x']);
});

t.test('a full transaction', async (t) => {
  const s = new BsSession(OPTS);
  const { replies, steps } = drive(s, ['EHLO x', 'MAIL FROM:<app@example.test> BODY=8BITMIME SIZE=100', 'RCPT TO:<a@dest.test>', 'rcpt to: <root>', 'RCPT TO:<a@DEST.test>', 'DATA', 'Subject: hi', '', '..leading dot', '...', 'body', '.']);
  t.same(codes(replies).slice(-6), [250, 250, 250, 250, 250, 354]);
  const m = steps[steps.length - 1]!.message!;
  t.ok(m, 'message handed over at the final dot');
  t.same(m.envelope, { sender: 'app@example.test', recipients: ['a@dest.test', 'root@example.test'] }, 'qualified, duplicates dropped');
  t.equal(m.data.toString(), 'Subject: hi\r\n\r\n.leading dot\r\n..\r\nbody\r\n', 'dot-unstuffed, CRLF');
  t.throws(() => s.feed(Buffer.from('NOOP')), /while a message is being delivered/);
  t.equal(s.finish({ code: 0, reason: '' }), '250 2.0.0 OK\r\n');
  t.same(drive(s, ['MAIL FROM:<>', 'RCPT TO:<b@dest.test>', 'DATA', 'x', '.']).steps[4]!.message!.envelope, { sender: '', recipients: ['b@dest.test'] }, 'second message, null sender; no EHLO needed again');
});

t.test('CRLF and bare LF line ends, empty data', async (t) => {
  const s = new BsSession(OPTS);
  const r = drive(s, ['EHLO x\r', 'MAIL FROM:<a@b.test>\r', 'RCPT TO:<c@d.test>\r', 'DATA\r', '.\r']);
  t.same(codes(r.replies), [250, 250, 250, 250, 250, 250, 250, 250, 354]);
  t.equal(r.steps[4]!.message!.data.length, 0);
});

t.test('sequencing errors: 503', async (t) => {
  const rows: [string, string[], RegExp][] = [
    ['MAIL before EHLO', ['MAIL FROM:<a@b.test>'], /^503 5\.5\.1 Send EHLO or HELO first/],
    ['RCPT before EHLO', ['RCPT TO:<a@b.test>'], /^503 5\.5\.1 Send EHLO/],
    ['RCPT before MAIL', ['EHLO x', 'RCPT TO:<a@b.test>'], /^503 5\.5\.1 Send MAIL FROM first/],
    ['DATA before MAIL', ['EHLO x', 'DATA'], /^503 5\.5\.1 Send MAIL FROM first/],
    ['DATA before EHLO', ['DATA'], /^503 5\.5\.1 Send EHLO/],
    ['nested MAIL', ['EHLO x', 'MAIL FROM:<a@b.test>', 'MAIL FROM:<a@b.test>'], /^503 5\.5\.1 Nested MAIL/],
    ['DATA without recipients', ['EHLO x', 'MAIL FROM:<a@b.test>', 'DATA'], /^554 5\.5\.1 No valid recipients/],
    ['RSET ends the transaction', ['EHLO x', 'MAIL FROM:<a@b.test>', 'RCPT TO:<c@d.test>', 'RSET', 'DATA'], /^503 5\.5\.1 Send MAIL FROM first/],
    ['EHLO ends the transaction', ['EHLO x', 'MAIL FROM:<a@b.test>', 'EHLO y', 'RCPT TO:<c@d.test>'], /^503 5\.5\.1 Send MAIL FROM first/],
  ];
  for (const [label, lines, want] of rows) {
    const r = drive(new BsSession(OPTS), lines).replies;
    t.match(r[r.length - 1], want, label);
  }
});

t.test('syntax and unknown commands', async (t) => {
  const rows: [string, string, RegExp][] = [
    ['unknown', 'FOO bar', /^500 5\.5\.2 Command unrecognized: FOO$/],
    ['empty', '', /^500 5\.5\.2 Empty command/],
    ['verb glued to text', 'NOOPX', /^500 5\.5\.2 Command unrecognized/],
    ['STARTTLS', 'STARTTLS', /^502 5\.5\.1 STARTTLS not implemented/],
    ['AUTH', 'AUTH PLAIN AGFAYg==', /^502 5\.5\.1 AUTH not implemented/],
    ['EXPN', 'EXPN root', /^502 5\.5\.1 EXPN not implemented/],
    ['BDAT', 'BDAT 10 LAST', /^502/],
    ['EHLO without name', 'EHLO', /^501 5\.5\.4 Syntax: EHLO hostname/],
    ['VRFY', 'VRFY root', /^252 2\.1\.5 /],
    ['VRFY without argument', 'VRFY', /^501/],
    ['HELP', 'HELP', /^214 2\.0\.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP$/],
    ['NOOP with argument', 'NOOP hello', /^250 2\.0\.0 OK$/],
    ['control character', 'NOOP \u0000', /^500 5\.5\.2 Control character/],
    ['non-ASCII command', 'NOOP \u00e9', /^500 5\.5\.2 Non-ASCII/],
    ['RSET with argument', 'RSET x', /^501/],
  ];
  for (const [label, line, want] of rows) t.match(drive(new BsSession(OPTS), [line]).replies[0], want, label);
});

t.test('MAIL and RCPT arguments', async (t) => {
  const rows: [string, string, RegExp][] = [
    ['no brackets', 'MAIL FROM:a@b.test', /^501 5\.5\.4 Syntax: MAIL FROM:<address> .*angle brackets/],
    ['no FROM', 'MAIL a@b.test', /^501 5\.5\.4 Syntax: MAIL FROM/],
    ['unclosed', 'MAIL FROM:<a@b.test', /^501 .*no closing/],
    ['unknown param', 'MAIL FROM:<a@b.test> RET=FULL', /^555 5\.5\.4 MAIL FROM parameter RET not recognized/],
    ['SMTPUTF8 with a value', 'MAIL FROM:<a@b.test> SMTPUTF8=yes', /^501 5\.5\.4 Syntax: SMTPUTF8 takes no value/],
    ['bad BODY', 'MAIL FROM:<a@b.test> BODY=BINARYMIME', /^501 5\.5\.4 Syntax: BODY=/],
    ['SIZE too big', 'MAIL FROM:<a@b.test> SIZE=999999999999', /^552 5\.3\.4 Message too big/],
    ['bad SIZE', 'MAIL FROM:<a@b.test> SIZE=x', /^501 5\.5\.4 Syntax: SIZE/],
    ['param twice', 'MAIL FROM:<a@b.test> BODY=7BIT BODY=7BIT', /^501 5\.5\.4 Parameter BODY given twice/],
    ['bad param syntax', 'MAIL FROM:<a@b.test> =x', /^501 5\.5\.4 Bad parameter syntax/],
    ['bad sender', 'MAIL FROM:<a b@c.test>', /^501 5\.1\.7 bad address "a b@c\.test": white space/],
    ['non-ASCII address without SMTPUTF8', 'MAIL FROM:<j\u00c3\u00b6@b.test>', /^553 5\.6\.7 Non-ASCII address without the SMTPUTF8 parameter/],
    ['malformed UTF-8', 'MAIL FROM:<j\u00f6@b.test> SMTPUTF8', /^553 5\.6\.7 Malformed UTF-8/],
    ['text after >', 'MAIL FROM:<a@b.test>x', /^501 .*parameters separated by a space/],
  ];
  for (const [label, line, want] of rows) {
    const r = drive(new BsSession(OPTS), ['EHLO x', line]).replies;
    t.match(r[r.length - 1], want, label);
  }
  const rrows: [string, string, RegExp][] = [
    ['null recipient', 'RCPT TO:<>', /^501 5\.1\.3 The null address/],
    ['param', 'RCPT TO:<a@b.test> NOTIFY=NEVER', /^555 5\.5\.4 RCPT TO parameter NOTIFY/],
    ['bad address', 'RCPT TO:<a@@b.test>', /^501 5\.1\.3 bad address/],
    ['source route dropped', 'RCPT TO:<@relay.test,@r2.test:u@dest.test>', /^250 2\.1\.5/],
    ['quoted local part', 'RCPT TO:<"a b"@dest.test>', /^250 2\.1\.5/],
    ['quoted ">" parsed, then refused as for piped mail', 'RCPT TO:<"a>b"@dest.test>', /^501 5\.1\.3 bad address .*'<' or '>' inside/],
    ['postmaster', 'RCPT TO:<Postmaster>', /^250/],
  ];
  for (const [label, line, want] of rrows) {
    const r = drive(new BsSession(OPTS), ['EHLO x', 'MAIL FROM:<a@b.test>', line]).replies;
    t.match(r[r.length - 1], want, label);
  }
  t.same(parsePathAndParams(' <x@y.test> size=10 body=8bitmime', 'MAIL FROM'), { ok: true, path: 'x@y.test', params: [{ keyword: 'SIZE', value: '10' }, { keyword: 'BODY', value: '8bitmime' }] });
});

t.test('SMTPUTF8 (RFC 6531)', async (t) => {
  const s = new BsSession(OPTS);
  const utf8 = (x: string) => s.feed(Buffer.from(x, 'utf8'));
  drive(s, ['EHLO x']);
  t.match(utf8('RCPT TO:<a@b.test>').replies[0], /^503/);
  t.match(utf8('MAIL FROM:<jösé@exämple.test> SMTPUTF8 BODY=8BITMIME').replies[0], /^250 2\.1\.0/);
  t.match(utf8('RCPT TO:<用户@例子.广告>').replies[0], /^250 2\.1\.5/);
  t.match(utf8('NOOP é').replies[0], /^500 5\.5\.2 Non-ASCII/, 'UTF-8 only in MAIL and RCPT');
  drive(s, ['DATA', 'x']);
  const m = drive(s, ['.']).steps[0]!.message!;
  t.same(m.envelope, { sender: 'jösé@exämple.test', recipients: ['用户@例子.广告'] });
  s.finish({ code: 0, reason: '' });
  drive(s, ['MAIL FROM:<a@b.test>']);
  t.match(utf8('RCPT TO:<用户@例子.广告>').replies[0], /^553 5\.6\.7 Non-ASCII address without SMTPUTF8 in MAIL FROM/, 'the parameter is per transaction');
});

t.test('limits', async (t) => {
  const s = new BsSession({ ...OPTS, maxRecipients: 2, maxMessageSize: 20, maxCommandLine: 30 });
  t.equal(s.lineLimit(), 31);
  const r = drive(s, ['EHLO x', 'MAIL FROM:<a@b.test>', 'RCPT TO:<1@d.test>', 'RCPT TO:<2@d.test>', 'RCPT TO:<3@d.test>', 'RCPT TO:<1@d.test>']);
  t.same(codes(r.replies).slice(-5), [250, 250, 250, 452, 250], 'EHLO lines, then 452 for the third, a duplicate is fine');
  t.match(r.replies[r.replies.length - 2], /^452 4\.5\.3 Too many recipients \(at most 2\)/);
  t.match(drive(s, ['NOOP ' + 'x'.repeat(40)]).replies[0], /^500 5\.5\.2 Line too long \(at most 30 octets\)/);
  // message size: counted after unstuffing, with CRLF
  const big = drive(s, ['DATA', '0123456789', '0123456789', '.']);
  t.match(big.replies[big.replies.length - 1], /^552 5\.3\.4 Message too big \(more than 20 octets\); not accepted/);
  t.notOk(big.steps.some((x) => x.message), 'nothing handed over');
  t.match(drive(s, ['RCPT TO:<x@y.test>']).replies[0], /^503/, 'the transaction is gone after 552');
  const ok = drive(s, ['MAIL FROM:<a@b.test>', 'RCPT TO:<1@d.test>', 'DATA', '0123456789', '.']);
  t.ok(ok.steps[4]!.message, '12 octets fit');
  s.finish({ code: 0, reason: '' });
  // overlong data line: the adapter calls overlong(); the message becomes too big
  drive(s, ['MAIL FROM:<a@b.test>', 'RCPT TO:<1@d.test>', 'DATA']);
  t.equal(s.lineLimit(), 22);
  t.same(s.overlong().replies, []);
  t.match(drive(s, ['.']).replies[0], /^552/);
});

t.test('too many errors close the session', async (t) => {
  const s = new BsSession({ ...OPTS, maxErrors: 3 });
  const r = drive(s, ['FOO', 'BAR', 'BAZ', 'NOOP']);
  t.same(codes(r.replies), [500, 500, 500, 421]);
  t.equal(r.steps[2]!.close, true);
  t.ok(s.closed);
  t.same(r.steps[3]!.replies, [], 'nothing after close');
});

t.test('QUIT, pipelined input, inTransaction', async (t) => {
  const s = new BsSession(OPTS);
  const r = drive(s, ['EHLO x', 'MAIL FROM:<a@b.test>', 'RCPT TO:<c@d.test>']);
  t.equal(codes(r.replies).length, 8);
  t.ok(s.inTransaction);
  const q = drive(s, ['QUIT']);
  t.same(q.replies, ['221 2.0.0 client.example.test closing connection']);
  t.equal(q.steps[0]!.close, true);
  t.notOk(s.inTransaction, 'QUIT abandons the transaction: nothing was accepted');
});

t.test('finalReply maps exit codes', async (t) => {
  const rows: [number, string, string][] = [
    [0, '', '250 2.0.0 OK'],
    [75, '<a@b>: deferred: 451 4.7.1 later', '451 4.3.0 <a@b>: deferred: 451 4.7.1 later'],
    [69, '<a@b>: failed via h: 550 5.1.1 no such user', '550 5.0.0 <a@b>: failed via h: 550 5.1.1 no such user'],
    [65, 'bad message', '554 5.6.0 bad message'],
    [78, '/etc/aliases:3: broken', '451 4.3.5 /etc/aliases:3: broken'],
    [70, 'internal', '451 4.3.0 internal'],
    [75, 'two\r\nlines\u0000', '451 4.3.0 two lines?'],
    [69, '', '550 5.0.0 delivery failed'],
  ];
  for (const [code, reason, want] of rows) t.equal(finalReply({ code, reason }), want + '\r\n', `exit ${code}`);
  t.equal(finalReply({ code: 0, reason: '', id: 'abc' }), '250 2.0.0 OK id=abc\r\n');
  t.ok(finalReply({ code: 75, reason: 'x'.repeat(2000) }).length < 500, 'one bounded line');
});
