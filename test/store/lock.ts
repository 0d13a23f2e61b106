import t from 'tap';
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { lockIsLive, lockMessage, processStartTime, realLockDeps, seeLock, tryLock, type LockDeps } from '../../lib/store/lock.js';

const ID = '1jiFk5-0006UE-9S';
const mine = () => `${process.pid} ${processStartTime(process.pid)}`;

t.test('probes', async (t) => {
  t.match(processStartTime(process.pid) ?? '', /^\d+$/, 'start time from /proc');
  t.equal(processStartTime(2 ** 30), undefined);
  const d: LockDeps = { pid: 1, alive: (p) => p === 10, startTime: (p) => (p === 10 ? '555' : undefined) };
  t.ok(lockIsLive('10 555\n', d));
  t.notOk(lockIsLive('10 444\n', d), 'pid reused by another process');
  t.notOk(lockIsLive('11 555\n', d), 'dead pid');
  t.ok(lockIsLive('10 -\n', d), 'start time unknown when locked: pid decides');
  t.notOk(lockIsLive('', d), 'damaged');
});

t.test('a lock is a symlink holding this process; one holder at a time; released lock can be taken', async (t) => {
  const dir = t.testdir();
  const a = lockMessage(dir, ID);
  t.ok(a);
  t.ok(lstatSync(join(dir, `${ID}-L`)).isSymbolicLink(), 'a symlink: no data block, read without opening it');
  t.equal(readlinkSync(join(dir, `${ID}-L`)), mine());
  t.equal(lockMessage(dir, ID), undefined, 'held by a live process (this one)');
  a!.release();
  t.notOk(existsSync(join(dir, `${ID}-L`)));
  const b = lockMessage(dir, ID);
  t.ok(b);
  b!.release();
  t.same(readdirSync(dir), [], 'no temporary name was ever made');
});

t.test('stale locks are taken over: dead pid, reused pid, damaged text; a regular file of an older version', async (t) => {
  const dir = t.testdir();
  const deps = realLockDeps();
  for (const content of ['999999999 1', `${process.pid} 1`, 'garbage']) {
    symlinkSync(content, join(dir, `${ID}-L`));
    const l = lockMessage(dir, ID, deps);
    t.ok(l, `taken over from ${JSON.stringify(content)}`);
    t.equal(readlinkSync(join(dir, `${ID}-L`)), mine());
    l!.release();
  }
  writeFileSync(join(dir, `${ID}-L`), '999999999 1\n');
  const old = lockMessage(dir, ID, deps);
  t.ok(old, 'in input/, a lock file of an older version is taken over');
  old!.release();
  t.same(readdirSync(dir), [], 'no stale or temporary file left');
});

t.test('what is at a lock name is looked at, never opened: a FIFO or a directory is foreign', async (t) => {
  const dir = t.testdir();
  execFileSync('mkfifo', [join(dir, 'fifo-L')]);
  mkdirSync(join(dir, 'dir-L'));
  t.match(seeLock(join(dir, 'fifo-L')), { kind: 'foreign', what: 'FIFO' });
  t.match(seeLock(join(dir, 'dir-L')), { kind: 'foreign', what: 'directory' });
  t.match(tryLock(join(dir, 'fifo-L'), realLockDeps()), { held: true, seen: { kind: 'foreign' } }, 'returns at once');
  t.same(seeLock(join(dir, 'none-L')), { kind: 'gone' });
});

t.test('a full file system: refused, or (a queue run) a lock without a file', async (t) => {
  // ENOSPC cannot be had here without a small file system (test/e2e-spool-full.ts has one); a path under a file gives ENOTDIR
  const dir = t.testdir({ f: 'x' });
  const path = join(dir, 'f', `${ID}-L`);
  t.match(tryLock(path, realLockDeps()), { held: true }, 'an error is never thrown');
});
