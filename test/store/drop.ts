import t from 'tap';
import { appendFileSync, chownSync, lchownSync, lstatSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { claimDrop, listDrops, parseDrop, userNameFromPasswd, writeDrop } from '../../lib/store/drop.js';
import { initSpool, listMessages, readData, readHeader, spoolLayout } from '../../lib/store/spool.js';
import { newHeader } from '../../lib/store/header.js';
import { realLockDeps } from '../../lib/store/lock.js';
import { runQueue } from '../../lib/queue/queue.js';
import { fakeQueue } from '../../fixtures/queue/fake-deps.js';

const hdr = (id: string) => newHeader(id, 'a@x.test', ['b@y.test'], 0, Date.UTC(2026, 10, 28, 11, 0, 0), { uid: 0, user: 'root' });
/** A spool with a scripted smarthost that is down: what a run takes from incoming/ ends up in input/. */
const downQueue = (dir: string) => {
  const q = fakeQueue(dir, { script: () => 'down' });
  q.deps.userName = (uid) => (uid === 65534 ? 'nobody' : String(uid));
  return q;
};
const run = (q: ReturnType<typeof fakeQueue>) => runQueue({ force: true, by: 'root' }, q.deps);

t.test('a drop file is one 0600 file; a run that cannot deliver it moves it and records its owner', async (t) => {
  const q = downQueue(t.testdir());
  const l = q.deps.spool;
  const h = { ...hdr('1jiFk5-0006UE-9S'), submitter: { uid: 0, user: 'root' }, frozen: 'claimed' };
  writeDrop(l, h, Buffer.from('Subject: x\r\n\r\nbody\r\n'));
  const path = join(l.incoming, h.id);
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.same(readdirSync(l.incoming), [h.id], 'no temporary file left');
  if (process.getuid?.() === 0) chownSync(path, 65534, 65534);
  const r = await run(q);
  t.same(q.said, []);
  t.same(r.results, { [h.id]: 'deferred' });
  t.same(readdirSync(l.incoming), [], 'drop removed');
  t.same(listMessages(l), [h.id]);
  const moved = readHeader(l, h.id)!;
  t.equal(readData(l, moved).toString(), 'Subject: x\r\n\r\nbody\r\n');
  t.equal(moved.frozen, undefined, 'state from the drop is not trusted');
  t.equal(moved.attempts, 1, 'tried once, from the drop file');
  if (process.getuid?.() === 0) {
    t.same(moved.submitter, { uid: 65534, user: 'nobody' }, 'the file owner, not what the file claims');
    t.match(q.log.join('\n'), new RegExp(`${h.id} <= <a@x.test>`), 'another user\'s drop: the run logs its arrival');
  }
});

t.test('a drop delivered at the first try never touches input/', async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  writeDrop(l, hdr('1jiFk5-0006UE-9S'), Buffer.from('Subject: x\r\n\r\nbody\r\n'));
  const r = await run(q);
  t.same(r.results, { '1jiFk5-0006UE-9S': 'completed' });
  t.equal(q.sent.length, 1);
  t.same(readdirSync(l.incoming), [], 'drop file and claim gone');
  t.same(readdirSync(l.input), [], 'no -D, -H or -L was written');
  t.same(readdirSync(l.tmp), []);
  t.match(q.log.join('\n'), /1jiFk5-0006UE-9S <= <a@x.test>\n1jiFk5-0006UE-9S => b@y.test[^]*1jiFk5-0006UE-9S Completed/, 'the run that claims it logs its arrival first (the submitter logs nothing)');
});

t.test('a drop not due yet (its deliverer deferred it) is queued untried by -q', async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  writeDrop(l, { ...hdr('1jiFk5-0006UE-9S'), attempts: 1, nextAttempt: q.clock.now + 60_000, firstFailure: q.clock.now }, Buffer.from('x'));
  const r = await runQueue({ force: false, by: 'root' }, q.deps);
  t.same(r.results, { '1jiFk5-0006UE-9S': 'not-due' });
  t.equal(q.sent.length, 0);
  t.equal(readHeader(l, '1jiFk5-0006UE-9S')?.nextAttempt, q.clock.now + 60_000, 'its retry state kept');
  t.same(readdirSync(l.incoming), []);
});

t.test('symlinks, hard links, FIFOs, directories and garbage are refused, moved to corrupt/ (a hard link removed), logged once', async (t) => {
  const dir = t.testdir({ secret: 'root only\n' });
  const q = fakeQueue(join(dir, 's'));
  const l = q.deps.spool;
  symlinkSync(join(dir, 'secret'), join(l.incoming, '1jiFk5-0006UE-9A'));
  linkSync(join(dir, 'secret'), join(l.incoming, '1jiFk5-0006UE-9B'));
  execFileSync('mkfifo', [join(l.incoming, '1jiFk5-0006UE-9C')]);
  writeFileSync(join(l.incoming, '1jiFk5-0006UE-9D'), '{"version":1}\nbody');
  mkdirSync(join(l.incoming, '1jiFk5-0006UE-9E'));
  writeFileSync(join(l.incoming, '1jiFk5-0006UE-9F'), 'not json\nbody');
  await run(q);
  t.equal(q.sent.length, 0, 'nothing sent');
  const log = q.log.join('\n');
  t.match(log, /9A drop file \S+9A refused \(symbolic link\): frozen, moved to \S+\/corrupt\/1jiFk5-0006UE-9A/);
  t.match(log, /9B drop file \S+9B refused \(several links \(2\)\): removed \(a hard link\)/);
  t.match(log, /9C drop file \S+9C refused \(not a regular file \(FIFO\)\): frozen, moved to/);
  t.match(log, /9D drop file \S+9D refused \(damaged \(bad spool header: no id\)\): frozen, moved to/);
  t.match(log, /9E drop file \S+9E refused \(not a regular file \(directory\)\): frozen, moved to/);
  t.match(log, /9F drop file \S+9F refused \(damaged \(bad drop file: envelope is not JSON\)\): frozen, moved to/);
  t.same(readdirSync(l.incoming), [], 'nothing left to warn about on the next run');
  t.same(readdirSync(l.corrupt).sort(), ['1jiFk5-0006UE-9A', '1jiFk5-0006UE-9C', '1jiFk5-0006UE-9D', '1jiFk5-0006UE-9E', '1jiFk5-0006UE-9F']);
  t.ok(existsSync(join(dir, 'secret')), 'the link target is untouched');
  t.equal(readFileSync(join(dir, 'secret'), 'utf8'), 'root only\n');
  t.same(listMessages(l), []);
  const before = q.log.length;
  await run(q);
  t.same(q.log.slice(before).filter((x) => /refused/.test(x)), [], 'said once');
});

t.test('a drop file whose envelope names another id, or whose data was cut or padded, is refused (points 3, 4)', async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  writeDrop(l, hdr('1jiFk5-0006UE-9A'), Buffer.from('Subject: a\r\n\r\nbody a\r\n'));
  writeDrop(l, hdr('1jiFk5-0006UE-9B'), Buffer.from('Subject: b\r\n\r\nbody b\r\n'));
  writeDrop(l, hdr('1jiFk5-0006UE-9C'), Buffer.from('Subject: c\r\n\r\nbody c\r\n'));
  writeFileSync(join(l.incoming, '1jiFk5-0006UE-9D'), readFileSync(join(l.incoming, '1jiFk5-0006UE-9A'))); // copied under another name
  truncateSync(join(l.incoming, '1jiFk5-0006UE-9B'), statSync(join(l.incoming, '1jiFk5-0006UE-9B')).size - 3);
  appendFileSync(join(l.incoming, '1jiFk5-0006UE-9C'), 'padding\r\n');
  await run(q);
  t.same(q.sent.map((m) => m.data.toString()), ['Subject: a\r\n\r\nbody a\r\n'], 'only the intact one is sent');
  const log = q.log.join('\n');
  t.match(log, /9B drop file \S+ refused \(damaged \(data is 19 bytes, its envelope says 22\)\)/);
  t.match(log, /9C drop file \S+ refused \(damaged \(data is 31 bytes, its envelope says 22\)\)/);
  t.match(log, /9D drop file \S+ refused \(damaged \(holds the id "1jiFk5-0006UE-9A", not its name's\)\)/);
  t.notMatch(log, /9[BCD] (=>|Completed)/, 'never delivered, never completed');
  t.same(readdirSync(l.corrupt).sort(), ['1jiFk5-0006UE-9B', '1jiFk5-0006UE-9C', '1jiFk5-0006UE-9D']);
});

t.test('a drop whose id is taken gets a new one when queued; an already moved one is just removed', async (t) => {
  const q = downQueue(t.testdir());
  const l = q.deps.spool;
  writeFileSync(join(l.input, '1jiFk5-0006UE-9S-D'), 'half-moved data of another message');
  writeDrop(l, hdr('1jiFk5-0006UE-9S'), Buffer.from('mine'));
  await run(q);
  const [id] = listMessages(l);
  t.not(id, '1jiFk5-0006UE-9S', 'a new id');
  t.equal(readData(l, readHeader(l, id!)!).toString(), 'mine');
  t.equal(readHeader(l, id!)?.attempts, 1);
  // moved by a run that crashed before removing the drop file: removed, not queued twice
  const h = readHeader(l, id!)!;
  writeDrop(l, { ...hdr(id!), recipients: h.recipients }, Buffer.from('mine'));
  await run(q);
  t.same(listMessages(l), [id], 'still once');
  t.same(listDrops(l, q.clock.now), [], 'the stale drop is gone');
});

t.test('parseDrop and passwd', async (t) => {
  t.throws(() => parseDrop(Buffer.from('no newline'), 'f'), /no envelope line/);
  t.throws(() => parseDrop(Buffer.from('nope\n'), 'f'), /not JSON/);
  t.equal(userNameFromPasswd('root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n', 65534), 'nobody');
  t.equal(userNameFromPasswd('', 12), '12');
});

t.test('a drop claimed by another process (a runner, its background deliverer) is left to it', async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  writeDrop(l, hdr('1jiFk5-0006UE-9S'), Buffer.from('x'));
  const held = claimDrop(l, '1jiFk5-0006UE-9S', { lock: realLockDeps(), owner: true, now: Date.now() })!;
  t.ok(lstatSync(join(l.incoming, '1jiFk5-0006UE-9S-L')).isSymbolicLink(), 'the claim is incoming/<id>-L');
  t.same((await run(q)).results, { '1jiFk5-0006UE-9S': 'locked' });
  t.same(readdirSync(l.incoming).sort(), ['1jiFk5-0006UE-9S', '1jiFk5-0006UE-9S-L']);
  held.release();
  t.same((await run(q)).results, { '1jiFk5-0006UE-9S': 'completed' });
  t.same((await run(q)).results, {}, 'delivered once');
  t.equal(q.sent.length, 1);
});

t.test('a claim planted by another user is ignored', { skip: process.getuid?.() !== 0 ? 'needs root (chown)' : false }, async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  writeDrop(l, hdr('1jiFk5-0006UE-9S'), Buffer.from('x'));
  // "held" by a live process (this one), but owned by uid 4242, neither root nor the drop's owner
  symlinkSync(`${process.pid} -`, join(l.incoming, '1jiFk5-0006UE-9S-L'));
  lchownSync(join(l.incoming, '1jiFk5-0006UE-9S-L'), 4242, 4242);
  t.same((await run(q)).results, { '1jiFk5-0006UE-9S': 'completed' });
  t.match(q.log.join('\n'), /planted claim owned by uid 4242 at \S+-L: removed/);
  // a FIFO, a regular file or a directory where the claim goes: never opened, moved to corrupt/
  for (const [n, make] of [['9A', (p: string) => execFileSync('mkfifo', [p])], ['9B', (p: string) => writeFileSync(p, `${process.pid} -\n`)], ['9C', (p: string) => mkdirSync(p)]] as const) {
    writeDrop(l, hdr(`1jiFk5-0006UE-${n}`), Buffer.from('x'));
    make(join(l.incoming, `1jiFk5-0006UE-${n}-L`));
    chownSync(join(l.incoming, `1jiFk5-0006UE-${n}-L`), 4242, 4242);
  }
  t.same((await run(q)).results, { '1jiFk5-0006UE-9A': 'completed', '1jiFk5-0006UE-9B': 'completed', '1jiFk5-0006UE-9C': 'completed' });
  t.same(readdirSync(l.corrupt).sort(), ['1jiFk5-0006UE-9A-L', '1jiFk5-0006UE-9B-L', '1jiFk5-0006UE-9C-L']);
});

t.test('listDrops: ids only; day-old temporary files removed', async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  writeDrop(l, hdr('1jiFk5-0006UE-9S'), Buffer.from('x'));
  writeFileSync(join(l.incoming, '1jiFk5-0006UE-9T.123'), 'half written');
  t.same(listDrops(l, Date.now()), ['1jiFk5-0006UE-9S']);
  t.ok(existsSync(join(l.incoming, '1jiFk5-0006UE-9T.123')), 'a fresh one stays');
  t.same(listDrops(l, Date.now() + 2 * 86_400_000), ['1jiFk5-0006UE-9S']);
  t.notOk(existsSync(join(l.incoming, '1jiFk5-0006UE-9T.123')), 'a day-old one is removed');
});
