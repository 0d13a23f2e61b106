import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeQueue, type FakeQueue } from '../../fixtures/queue/fake-deps.js';
import { lfWriter, sections, showMessage, type ShowWhat } from '../../lib/queue/show.js';
import { submitMessage, type SubmitOptions } from '../../lib/queue/submit.js';
import { writeDrop } from '../../lib/store/drop.js';
import { newHeader } from '../../lib/store/header.js';
import { appendJournal } from '../../lib/store/journal.js';
import { fileData } from '../../lib/data.js';

const opts: SubmitOptions = { queueOnly: false, queueDeferred: true, errorMode: 'p', verbose: false, submitter: { uid: 0, user: 'root' } };

t.test('CRLF becomes LF, also across chunks; a lone CR stays', async (t) => {
  const out: Buffer[] = [];
  const w = lfWriter((b) => out.push(Buffer.from(b)));
  for (const piece of ['a\r', '\nb\r\n\r', '\n', 'c\rd\r']) w.push(Buffer.from(piece));
  w.end();
  t.equal(Buffer.concat(out).toString('latin1'), 'a\nb\n\nc\rd\r');
});

t.test('header section and body', async (t) => {
  t.same(sections(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody\r\n')), { headerEnd: 12, bodyStart: 14 });
  t.same(sections(Buffer.from('A: 1\r\n')), { headerEnd: 6, bodyStart: 6 }, 'no body');
  t.same(sections(Buffer.from('\r\nbody')), { headerEnd: 0, bodyStart: 2 }, 'no header');
  const dir = t.testdir({ big: `X: ${'y'.repeat(70_000)}\r\n\r\nbody` });
  t.same(sections(fileData({ path: join(dir, 'big'), offset: 0, size: 70_000 + 11 })), { headerEnd: 70_005, bodyStart: 70_007 }, 'a header section past the first read');
});

/** Run showMessage and collect what it prints. */
function show(q: FakeQueue, id: string, what: ShowWhat, logFile = '/nonexistent/mainlog'): { code: number; out: string; bytes: Buffer } {
  let out = '';
  const bytes: Buffer[] = [];
  const code = showMessage(id, what, q.deps, { out: (s) => (out += s), bytes: (b) => bytes.push(Buffer.from(b)), logFile });
  return { code, out, bytes: Buffer.concat(bytes) };
}

const MSG = Buffer.concat([Buffer.from('Subject: caf\xe9\r\nX: 1\r\n\r\nline 1\r\n', 'latin1'), Buffer.from([0xff, 0x0d, 0x0a])]);

t.test('-Mvh and -Mvb of a queued message and of a drop file: the bytes, with LF line ends', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  const { id } = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  t.same(show(q, id, 'header'), { code: 0, out: '', bytes: Buffer.from('Subject: caf\xe9\nX: 1\n', 'latin1') });
  t.same(show(q, id, 'body').bytes, Buffer.from([...Buffer.from('line 1\n'), 0xff, 0x0a]), 'not UTF-8: as it is');
  const drop = '1jiFk5-0006UE-9S';
  writeDrop(q.deps.spool, newHeader(drop, 'c@x.test', ['d@y.test'], 1, q.clock.now, { uid: 0, user: 'root' }), Buffer.from('A: b\r\n\r\nhi\r\n'));
  t.equal(show(q, drop, 'header').bytes.toString(), 'A: b\n');
  t.equal(show(q, drop, 'body').bytes.toString(), 'hi\n');
});

t.test('not in the queue: 66; a damaged file: refused, not shown, 74', async (t) => {
  const q = fakeQueue(t.testdir());
  t.equal(show(q, '1aaaaa-000000-00', 'header').code, 66);
  t.same(q.said, ['message 1aaaaa-000000-00 is not in the queue']);
  const drop = '1jiFk5-0006UE-9S';
  writeFileSync(join(q.deps.spool.incoming, drop), '{"version":1,"id":"1jiFk5-0006UE-9T"}\nA: b\r\n\r\nhi\r\n');
  const r = show(q, drop, 'body');
  t.equal(r.code, 74);
  t.same(r.bytes.length, 0, 'nothing of it printed');
  t.match(q.said[1], /^message 1jiFk5-0006UE-9S: \S+: damaged \(.*\): not shown/);
  const fifo = '1jiFk5-0006UE-9T';
  execFileSync('mkfifo', [join(q.deps.spool.incoming, fifo)]);
  t.equal(show(q, fifo, 'header').code, 74, 'a FIFO: refused at once, never waited on');
  t.match(q.said[2], /not a regular file \(FIFO\)/);
});

t.test('-Mvl: the lines of the rotated and the current main log and of its journal, without the id, in time order', async (t) => {
  const q = fakeQueue(t.testdir());
  const dir = q.deps.spool.root;
  const id = '1jiFk5-0006UE-9S';
  writeDrop(q.deps.spool, newHeader(id, 'c@x.test', ['d@y.test'], 1, q.clock.now, { uid: process.getuid?.() ?? 0, user: 'root' }), Buffer.from('y'));
  const log = join(dir, 'mainlog');
  writeFileSync(`${log}.1`, `2026-11-28 10:00:00 ${id} <= c@x.test U=root P=local S=1\n2026-11-28 10:00:00 1jiFk5-0006UE-9T <= x@y U=root P=local S=1\n`);
  writeFileSync(log, `2026-11-28 11:00:00 Start queue run: pid=1\n2026-11-28 11:00:01 ${id} == d@y.test R=smarthost T=remote_smtp defer (111): refused\n`);
  appendJournal(q.deps.spool, id, { ev: 'note', at: Date.UTC(2026, 10, 28, 10, 30), text: 'queued: later' });
  const TZ = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    const r = show(q, id, 'log', log);
    t.equal(r.code, 0);
    t.equal(r.out, '2026-11-28 10:00:00 <= c@x.test U=root P=local S=1\n2026-11-28 10:30:00 queued: later\n2026-11-28 11:00:01 == d@y.test R=smarthost T=remote_smtp defer (111): refused\n');
  } finally {
    if (TZ === undefined) delete process.env.TZ;
    else process.env.TZ = TZ;
  }
  t.match(show(q, id, 'log', join(dir, 'none')).out, /^\S+ \S+ queued: later\n$/, 'no main log yet: the journal alone');
});
