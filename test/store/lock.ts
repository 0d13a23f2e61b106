import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanLockTemplates, lockIsLive, lockMessage, lockTemplate, processStartTime, realLockDeps, type LockDeps } from '../../lib/store/lock.js';

const ID = '1jiFk5-0006UE-9S';

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

t.test('one holder at a time; released lock can be taken', async (t) => {
  const dir = t.testdir();
  const a = lockMessage(dir, ID);
  t.ok(a);
  t.equal(readFileSync(join(dir, `${ID}-L`), 'utf8'), `${process.pid} ${processStartTime(process.pid)}\n`);
  t.equal(lockMessage(dir, ID), undefined, 'held by a live process (this one)');
  a!.release();
  t.notOk(existsSync(join(dir, `${ID}-L`)));
  const b = lockMessage(dir, ID);
  t.ok(b);
  b!.release();
});

t.test('stale locks are taken over: dead pid, reused pid, damaged file', async (t) => {
  const dir = t.testdir();
  const deps = realLockDeps();
  for (const content of ['999999999 1\n', `${process.pid} 1\n`, 'garbage']) {
    writeFileSync(join(dir, `${ID}-L`), content);
    const l = lockMessage(dir, ID, deps);
    t.ok(l, `taken over from ${JSON.stringify(content)}`);
    t.equal(readFileSync(join(dir, `${ID}-L`), 'utf8'), `${process.pid} ${processStartTime(process.pid)}\n`);
    l!.release();
  }
  t.same(
    readdirSync(dir),
    [],
    'no stale or temporary file left',
  );
});

t.test("a run's lock template: each lock is a link of it; same guarantees; removed at the end", async (t) => {
  const dir = t.testdir();
  const real = realLockDeps();
  const tpl = lockTemplate(dir, real);
  t.same(readdirSync(dir), [], 'nothing written before the first lock');
  const a = lockMessage(dir, ID, tpl.deps);
  t.ok(existsSync(join(dir, `run-L.new.${process.pid}`)), 'the template, made on first use');
  t.ok(a, 'locked');
  t.equal(readFileSync(join(dir, `${ID}-L`), 'utf8'), `${process.pid} ${processStartTime(process.pid)}\n`, 'the lock holds this process');
  t.equal(lockMessage(dir, ID, tpl.deps), undefined, 'a second taker (same template) is refused');
  t.equal(lockMessage(dir, ID, real), undefined, 'and one without a template');
  const other = '1jiFk5-0006UE-9T';
  const b = lockMessage(dir, other, tpl.deps)!;
  a!.release();
  t.notOk(existsSync(join(dir, `${ID}-L`)));
  t.ok(existsSync(join(dir, `${other}-L`)), 'releasing one lock leaves the others');
  b.release();
  tpl.remove();
  t.same(readdirSync(dir), [], 'nothing left');
  const unused = lockTemplate(dir, real);
  unused.remove();
  t.same(readdirSync(dir), [], 'an unused template is never made');
  // the template gone (removed under a running run): locks are made the ordinary way
  const c = lockMessage(dir, ID, tpl.deps);
  t.ok(c);
  c!.release();
  t.same(readdirSync(dir), []);
});

t.test('templates of runners that are gone are removed; a live one is kept', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'run-L.new.10'), '10 555\n');
  writeFileSync(join(dir, 'run-L.new.11'), '11 555\n');
  writeFileSync(join(dir, `${ID}-H`), '{}');
  const d: LockDeps = { pid: 1, alive: (p) => p === 10, startTime: () => '555' };
  t.same(cleanLockTemplates(dir, d), [join(dir, 'run-L.new.11')]);
  t.same(readdirSync(dir).sort(), [`${ID}-H`, 'run-L.new.10']);
  t.same(cleanLockTemplates(join(dir, 'missing'), d), []);
});
