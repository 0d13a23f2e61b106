import t from 'tap';
import { chownSync, existsSync, linkSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
  t.equal(readData(l, h.id).toString(), 'Subject: x\r\n\r\nbody\r\n');
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
  t.match(q.log.join('\n'), /1jiFk5-0006UE-9S => b@y.test[^]*1jiFk5-0006UE-9S Completed/);
  t.notMatch(q.log.join('\n'), /<=/, 'root\'s own drop: its submission logged the arrival');
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

t.test('symlinks, hard links and FIFOs are refused; garbage stays and is reported', async (t) => {
  const dir = t.testdir({ secret: 'root only\n' });
  const q = fakeQueue(join(dir, 's'));
  const l = q.deps.spool;
  symlinkSync(join(dir, 'secret'), join(l.incoming, '1jiFk5-0006UE-9A'));
  linkSync(join(dir, 'secret'), join(l.incoming, '1jiFk5-0006UE-9B'));
  execFileSync('mkfifo', [join(l.incoming, '1jiFk5-0006UE-9C')]);
  writeFileSync(join(l.incoming, '1jiFk5-0006UE-9D'), '{"version":1}\nbody');
  await run(q);
  t.equal(q.sent.length, 0, 'nothing sent');
  const said = q.said.join('\n');
  t.match(said, /9A: symbolic link refused/);
  t.match(said, /9B: file with several links refused/);
  t.match(said, /9C: not a regular file refused/);
  t.match(said, /9D: .*bad spool header/);
  t.same(readdirSync(l.incoming), ['1jiFk5-0006UE-9D']);
  t.ok(existsSync(join(dir, 'secret')), 'the link target is untouched');
  t.same(listMessages(l), []);
});

t.test('a drop whose id is taken gets a new one when queued; an already moved one is just removed', async (t) => {
  const q = downQueue(t.testdir());
  const l = q.deps.spool;
  writeFileSync(join(l.input, '1jiFk5-0006UE-9S-D'), 'half-moved data of another message');
  writeDrop(l, hdr('1jiFk5-0006UE-9S'), Buffer.from('mine'));
  await run(q);
  const [id] = listMessages(l);
  t.not(id, '1jiFk5-0006UE-9S', 'a new id');
  t.equal(readData(l, id!).toString(), 'mine');
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
  const held = claimDrop(l, '1jiFk5-0006UE-9S', realLockDeps())!;
  t.ok(existsSync(join(l.incoming, '1jiFk5-0006UE-9S-L')), 'the claim is incoming/<id>-L');
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
  writeFileSync(join(l.incoming, '1jiFk5-0006UE-9S-L'), `${process.pid} -\n`);
  chownSync(join(l.incoming, '1jiFk5-0006UE-9S-L'), 4242, 4242);
  t.same((await run(q)).results, { '1jiFk5-0006UE-9S': 'completed' });
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
