import t from 'tap';
import { chownSync, existsSync, linkSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { acceptDrops, claimDrop, parseDrop, userNameFromPasswd, writeDrop } from '../../lib/queue/drop.js';
import { initSpool, listMessages, readData, readHeader, spoolLayout } from '../../lib/queue/spool.js';
import { newHeader } from '../../lib/queue/header.js';
import { realLockDeps } from '../../lib/queue/lock.js';

const deps = { now: Date.now(), userName: (uid: number) => (uid === 65534 ? 'nobody' : String(uid)), newId: () => '1jiFk5-0006UE-zz', lock: realLockDeps() };
const hdr = (id: string) => newHeader(id, 'a@x.test', ['b@y.test'], 0, Date.now(), { uid: 0, user: 'root' });

t.test('a drop file is one 0600 file; the runner moves it and records its owner', async (t) => {
  const l = spoolLayout(t.testdir());
  initSpool(l);
  const h = { ...hdr('1jiFk5-0006UE-9S'), submitter: { uid: 0, user: 'root' }, frozen: 'claimed' };
  writeDrop(l, h, Buffer.from('Subject: x\r\n\r\nbody\r\n'));
  const path = join(l.incoming, h.id);
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.same(readdirSync(l.incoming), [h.id], 'no temporary file left');
  if (process.getuid?.() === 0) chownSync(path, 65534, 65534);
  const r = acceptDrops(l, deps);
  t.same(r.problems, []);
  t.equal(r.accepted.length, 1);
  t.same(readdirSync(l.incoming), [], 'drop removed');
  t.same(listMessages(l), [h.id]);
  const moved = readHeader(l, h.id)!;
  t.equal(readData(l, h.id).toString(), 'Subject: x\r\n\r\nbody\r\n');
  t.equal(moved.frozen, undefined, 'state from the drop is not trusted');
  if (process.getuid?.() === 0) t.same(moved.submitter, { uid: 65534, user: 'nobody' }, 'the file owner, not what the file claims');
});

t.test('symlinks, hard links and FIFOs are refused; garbage stays and is reported', async (t) => {
  const dir = t.testdir({ secret: 'root only\n' });
  const l = spoolLayout(join(dir, 's'));
  initSpool(l);
  symlinkSync(join(dir, 'secret'), join(l.incoming, '1jiFk5-0006UE-9A'));
  linkSync(join(dir, 'secret'), join(l.incoming, '1jiFk5-0006UE-9B'));
  execFileSync('mkfifo', [join(l.incoming, '1jiFk5-0006UE-9C')]);
  writeFileSync(join(l.incoming, '1jiFk5-0006UE-9D'), '{"version":1}\nbody');
  const r = acceptDrops(l, deps);
  t.equal(r.accepted.length, 0);
  t.match(r.problems.join('\n'), /9A: symbolic link refused/);
  t.match(r.problems.join('\n'), /9B: file with several links refused/);
  t.match(r.problems.join('\n'), /9C: not a regular file refused/);
  t.match(r.problems.join('\n'), /9D: .*bad spool header/);
  t.same(readdirSync(l.incoming), ['1jiFk5-0006UE-9D']);
  t.ok(existsSync(join(dir, 'secret')), 'the link target is untouched');
  t.same(listMessages(l), []);
});

t.test('a drop whose id is taken gets a new one; an already moved one is just removed', async (t) => {
  const l = spoolLayout(t.testdir());
  initSpool(l);
  writeFileSync(join(l.input, '1jiFk5-0006UE-9S-D'), 'half-moved data of another message');
  writeDrop(l, hdr('1jiFk5-0006UE-9S'), Buffer.from('mine'));
  const r = acceptDrops(l, deps);
  t.equal(r.accepted[0]?.id, '1jiFk5-0006UE-zz');
  t.equal(readData(l, '1jiFk5-0006UE-zz').toString(), 'mine');
});

t.test('parseDrop and passwd', async (t) => {
  t.throws(() => parseDrop(Buffer.from('no newline'), 'f'), /no envelope line/);
  t.throws(() => parseDrop(Buffer.from('nope\n'), 'f'), /not JSON/);
  t.equal(userNameFromPasswd('root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n', 65534), 'nobody');
  t.equal(userNameFromPasswd('', 12), '12');
});

t.test('a drop claimed by another process (a runner, its background deliverer) is left to it', async (t) => {
  const l = spoolLayout(t.testdir());
  initSpool(l);
  writeDrop(l, hdr('1jiFk5-0006UE-9S'), Buffer.from('x'));
  const held = claimDrop(l, '1jiFk5-0006UE-9S', realLockDeps())!;
  t.ok(existsSync(join(l.incoming, '1jiFk5-0006UE-9S-L')), 'the claim is incoming/<id>-L');
  t.same(acceptDrops(l, deps), { accepted: [], problems: [] });
  t.same(readdirSync(l.incoming).sort(), ['1jiFk5-0006UE-9S', '1jiFk5-0006UE-9S-L']);
  held.release();
  t.equal(acceptDrops(l, deps).accepted.length, 1);
  t.equal(acceptDrops(l, deps).accepted.length, 0, 'moved once');
});
