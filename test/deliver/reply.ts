/**
 * lib/deliver/reply.ts: which lines are replies (a table), and a differential
 * test against nodemailer's own parser: for well-formed input cut anywhere,
 * the reader must see exactly the replies nodemailer acts on, in order (so
 * what wire.ts counts and traces is what nodemailer decides on); for the
 * malformed input of issue 10, nodemailer takes a reply where the reader
 * refuses.
 */
import t from 'tap';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { ReplyReader, lineProblem, decodeLine, MAX_LINE, type ReadItem } from '../../lib/deliver/reply.js';

const feedAll = (chunks: (string | Buffer)[]): ReadItem[] => {
  const r = new ReplyReader();
  return chunks.flatMap((c) => r.feed(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1')));
};
const texts = (items: ReadItem[]): string[] => items.map((i) => ('reply' in i ? i.reply.text : `INVALID ${i.invalid}`));

t.test('reply lines (RFC 5321 §4.2)', async (t) => {
  const ok = ['250 ok', '250', '250-more', '354 go ahead', '421 closing', '599 x', '220 héllo', '250 \t tabs'];
  const bad = ['2500 looks like ok', '250ok', '25 ok', '25O ok', '650 no', '199 x', '1 x', '', ' 250 x', '250\tok', 'OK', '250_ok'];
  for (const l of ok) t.equal(lineProblem(l), undefined, `"${l}" is a reply line`);
  for (const l of bad) t.match(lineProblem(l), /not a reply line/, `"${l}" is not`);
  t.match(lineProblem('251 x', '250'), /another code than 250/, 'one code per multi-line reply');
});

t.test('replies out of chunks', async (t) => {
  t.same(texts(feedAll(['220 hi\r\n'])), ['220 hi']);
  t.same(texts(feedAll(['250-a\r\n250-b\r', '\n250 c\r\n'])), ['250-a\n250-b\n250 c'], 'multi-line, CRLF split across chunks');
  t.same(texts(feedAll(['2', '5', '0', ' ', 'o', 'k', '\r', '\n'])), ['250 ok'], 'one byte at a time');
  t.same(texts(feedAll(['250 a\n250 b\n'])), ['250 a', '250 b'], 'bare LF ends a line too');
  t.same(texts(feedAll(['250 a\r\n2500 b\r\n250 c\r\n'])), ['250 a', 'INVALID 2500 b'], 'nothing after an invalid line');
  t.same(texts(feedAll(['250-a\r\n251 b\r\n'])), ['INVALID 251 b']);
  t.same(texts(feedAll(['\r\n'])), ['INVALID '], 'an empty line is not a reply');
  const items = feedAll(['354 go\r\n250 FAKE\r\n']);
  t.same(items.map((i) => i.end), [8, 18], 'where each item ends in its chunk');
  t.same('reply' in items[0]! && items[0].reply.code, 354);
  const flood = feedAll([Buffer.alloc(MAX_LINE + 1, 0x41)]);
  t.match(texts(flood), [/^INVALID A{512}$/], 'an endless line is cut off');
  t.same(decodeLine(Buffer.from('220 héllo', 'utf8').toString('latin1')), '220 héllo', 'UTF-8 text is decoded');
  t.same(decodeLine('220 \xe9'), '220 \xe9', 'other 8-bit text is kept byte for byte');
});

t.test('reset() forgets a partial line (RFC 3207: nothing from before the handshake)', async (t) => {
  const r = new ReplyReader();
  t.same(r.feed(Buffer.from('220 go\r\n250-INJ')), [{ reply: { code: 220, lines: ['220 go'], text: '220 go' }, end: 8 }]);
  t.equal(r.unfinished, '250-INJ');
  r.reset();
  t.same(texts(r.feed(Buffer.from('250 x\r\n'))), ['250 x']);
  t.equal(r.unfinished, '');
});

/** The replies nodemailer's own parser acts on for `chunks` (it hands one to each queued action). */
async function nodemailerReplies(chunks: Buffer[]): Promise<string[]> {
  const got: string[] = [];
  const conn = new SMTPConnection({}) as unknown as { _onData(c: Buffer): void; _responseActions: ((s: string) => void)[]; _responseQueue: string[] };
  conn._responseActions = Array.from({ length: 1000 }, () => (s: string) => void got.push(s));
  for (const c of chunks) conn._onData(c);
  // nodemailer takes queued replies one per turn of the event loop
  for (let i = 0; i < 200 && conn._responseQueue.length > 0; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return got;
}

function rng(seed: number) {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

t.test('differential: the same replies as nodemailer for well-formed input cut anywhere', async (t) => {
  const r = rng(10);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  for (let round = 0; round < 300; round++) {
    const replies: string[] = [];
    for (let n = 1 + Math.floor(r() * 6); n > 0; n--) {
      const code = pick(['220', '250', '354', '451', '550', '334']); // not 421: nodemailer ends the session on it
      const lines = 1 + Math.floor(r() * 4);
      const texts: string[] = [];
      for (let i = 0; i < lines; i++) {
        const text = pick(['', 'ok', 'PIPELINING', 'héllo wörld', '2.0.0 Ok: queued', 'AUTH PLAIN LOGIN']);
        texts.push(`${code}${i < lines - 1 ? '-' : text === '' ? pick(['', ' ']) : ' '}${text}`);
      }
      replies.push(texts.join('\n'));
    }
    const eol = pick(['\r\n', '\n']);
    const bytes = Buffer.from(replies.map((x) => x.replace(/\n/g, eol) + eol).join(''), 'utf8');
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const k = 1 + Math.floor(r() * 12);
      chunks.push(bytes.subarray(at, at + k));
      at += k;
    }
    const want = await nodemailerReplies(chunks);
    const got = texts(feedAll(chunks));
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.fail(`round ${round}: ${JSON.stringify(bytes.toString())}: reader ${JSON.stringify(got)}, nodemailer ${JSON.stringify(want)}`);
      return;
    }
  }
  t.pass('300 random reply streams');
});

t.test('differential: what nodemailer takes and the reader refuses (issue 10, defect 3)', async (t) => {
  for (const line of ['2500 looks like ok', '250ok', '25O ok', '650 odd']) {
    const chunk = [Buffer.from(`${line}\r\n`)];
    t.same(await nodemailerReplies(chunk), [line], `nodemailer hands "${line}" to the waiting command`);
    t.same(texts(feedAll(chunk)), [`INVALID ${line}`], 'the reader refuses it');
  }
});
