import t from 'tap';
import { PassThrough, Readable } from 'node:stream';
import { runSmtpSession, reasonFrom, type BsDeliver } from '../../lib/submit/bs-stream.js';
import { SmarthostError } from '../../lib/errors.js';
import type { Accepted } from '../../lib/submit/bs.js';

const BASE = { hostname: 'h.example.test', qualifyDomain: 'example.test' };

async function session(chunks: (string | Buffer)[], deliver: BsDeliver = async () => 0, extra: object = {}) {
  let out = '';
  let err = '';
  const outcome = await runSmtpSession(
    { ...BASE, input: Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'latin1') : c))), write: (x) => (out += x), stderr: (x) => (err += x), ...extra },
    deliver,
  );
  return { outcome, out, err, replies: out.split('\r\n').filter((l) => l !== '') };
}

const TXN = 'EHLO app\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@dest.test>\r\nDATA\r\n';

t.test('pipelined session split at odd places; replies in order', async (t) => {
  const got: Accepted[] = [];
  const input = `${TXN}Subject: x\r\n\r\n..dot\r\n.\r\nMAIL FROM:<c@example.test>\r\nRCPT TO:<d@dest.test>\r\nDATA\r\nsecond\r\n.\r\nQUIT\r\n`;
  const chunks: string[] = [];
  for (let i = 0; i < input.length; i += 7) chunks.push(input.slice(i, i + 7));
  const r = await session(chunks, async (m) => (got.push(m), 0));
  t.same(
    r.replies.map((l) => l.slice(0, 4)),
    ['220 ', '250-', '250-', '250-', '250-', '250-', '250 ', '250 ', '250 ', '354 ', '250 ', '250 ', '250 ', '354 ', '250 ', '221 '],
  );
  t.equal(got.length, 2);
  t.equal(got[0]!.data.toString(), 'Subject: x\r\n\r\n.dot\r\n');
  t.same(got[1]!.envelope, { sender: 'c@example.test', recipients: ['d@dest.test'] });
  t.same(r.outcome, { quit: true, incomplete: false, timedOut: false, accepted: 2, refused: 0 });
});

t.test('nothing is read past QUIT', async (t) => {
  const r = await session(['EHLO a\r\nQUIT\r\nNOOP\r\n']);
  t.match(r.replies[r.replies.length - 1], /^221 /);
  t.notOk(r.out.includes('2.0.0 OK\r\n'), 'NOOP after QUIT not answered');
});

t.test('delivery results become the final reply; reason from stderr', async (t) => {
  const deliver: BsDeliver = async (_m, stderr) => {
    stderr('send-smarthost: <b@dest.test>: failed via smarthost.example.test: 550 5.1.1 no such user\n');
    return 69;
  };
  const r = await session([`${TXN}x\r\n.\r\nQUIT\r\n`], deliver);
  t.ok(r.replies.includes('550 5.0.0 <b@dest.test>: failed via smarthost.example.test: 550 5.1.1 no such user'), r.out);
  t.match(r.err, /no such user/, 'also shown on stderr');
  t.equal(r.outcome.refused, 1);
  const thrown = await session([`${TXN}x\r\n.\r\n`], async () => {
    throw new SmarthostError('E_CONFIG', 'config', '/etc/aliases:2: alias "root" has no address');
  });
  t.ok(thrown.replies.includes('451 4.3.5 /etc/aliases:2: alias "root" has no address'), thrown.out);
  t.match(thrown.err, /^send-smarthost: \/etc\/aliases:2/);
  const bug = await session([`${TXN}x\r\n.\r\n`], async () => {
    throw new TypeError('oops');
  });
  t.ok(bug.replies.includes('451 4.3.0 internal error; message not accepted'));
  t.match(bug.err, /internal error: TypeError: oops/);
});

t.test('input ends mid-DATA: nothing delivered, incomplete', async (t) => {
  let called = 0;
  const r = await session([`${TXN}Subject: half\r\nno final dot`], async () => (called++, 0));
  t.equal(called, 0, 'not delivered');
  t.same(r.outcome, { quit: false, incomplete: true, timedOut: false, accepted: 0, refused: 0 });
  const clean = await session(['EHLO a\r\nNOOP\r\n']);
  t.same(clean.outcome, { quit: false, incomplete: false, timedOut: false, accepted: 0, refused: 0 }, 'EOF between transactions is fine');
});

t.test('overlong lines are never buffered whole', async (t) => {
  const r = await session(['EHLO a\r\nNOOP ', 'x'.repeat(600), 'y'.repeat(600), 'z\r\nNOOP\r\n'], undefined, { maxCommandLine: 100 });
  t.same(r.replies.slice(-2), ['500 5.5.2 Line too long (at most 100 octets)', '250 2.0.0 OK'], 'one 500, rest of the line discarded, next command fine');
  let called = 0;
  const big = await session([TXN, 'a'.repeat(300), 'b'.repeat(300), '\r\n.\r\n'], async () => (called++, 0), { maxMessageSize: 200 });
  t.match(big.replies[big.replies.length - 1], /^552 5\.3\.4/);
  t.equal(called, 0);
  const oneChunk = await session([`EHLO a\r\nNOOP ${'x'.repeat(200)}\r\nNOOP\r\n`], undefined, { maxCommandLine: 100 });
  t.same(oneChunk.replies.slice(-2), ['500 5.5.2 Line too long (at most 100 octets)', '250 2.0.0 OK']);
});

t.test('idle timeout: 421 and the input is closed', async (t) => {
  const input = new PassThrough();
  let out = '';
  const done = runSmtpSession({ ...BASE, input, write: (x) => (out += x), stderr: () => {}, idleTimeout: 50 }, async () => 0);
  input.write('EHLO a\r\nMAIL FROM:<a@example.test>\r\n');
  const outcome = await done;
  t.match(out, /421 4\.4\.2 h\.example\.test timeout waiting for input/);
  t.equal(outcome.timedOut, true);
  t.equal(outcome.incomplete, true);
  t.ok(input.destroyed);
});

t.test('reasonFrom', async (t) => {
  t.equal(reasonFrom(['send-smarthost: <a@x>: delivered via h: 250 ok\n', 'send-smarthost: <b@x>: failed via h: 550 no\n', 'send-smarthost: warning: skipped\n']), '<b@x>: failed via h: 550 no');
  t.equal(reasonFrom(['send-smarthost: one\nsend-smarthost: two\n']), 'one; two');
});
