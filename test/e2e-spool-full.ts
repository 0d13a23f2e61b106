/**
 * A full spool (issue 9, points 2 and 12), on a real small file system: a
 * tmpfs mounted over the test's spool (root only; skipped with a note
 * otherwise, always unmounted). With no block, and separately no inode,
 * left: a queue run still delivers and removes every message (exit 0, no
 * internal error), a deferral it cannot record leaves the message as it
 * was; a submission below check_spool_space gets exit 75 with -odq (never
 * half-written) and is delivered at once with -odi or -odb; a large -odi
 * message is delivered even when no temporary file can be written.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { message, run, setup, type Env } from '../fixtures/peers/queue-env.js';
import { initSpool, spoolLayout } from '../lib/store/spool.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

/** Why a tmpfs cannot be mounted here (false when it can). */
const cannotMount = ((): string | false => {
  if (process.getuid?.() !== 0) return 'not root: cannot mount a small file system for a real ENOSPC';
  const probe = spawnSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s']);
  return probe.status === 0 ? false : `mount -t tmpfs does not work here: ${probe.stderr.toString().trim()}`;
})();

/** Mount a tmpfs of `size` and `inodes` over `dir` (unmounted at the test's end) and lay out a spool there. */
function smallSpool(t: Test, e: Env, o: { size: string; inodes: number }): void {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${o.size},nr_inodes=${o.inodes},mode=0755`, 'tmpfs', e.spool]);
  if (r.status !== 0) throw new Error(`mount: ${r.stderr.toString()}`);
  t.teardown(() => {
    spawnSync('umount', ['-l', e.spool]);
  });
  initSpool(spoolLayout(e.spool));
}

/** Fill the file system holding `dir`: blocks (one big file) or inodes (empty files); returns what is left. */
function fill(dir: string, what: 'blocks' | 'inodes'): { bytes: number; inodes: number } {
  const base = join(dir, 'filler');
  mkdirSync(base, { recursive: true });
  if (what === 'blocks') {
    const fd = openSync(join(base, 'blocks'), 'w');
    const chunk = Buffer.alloc(1 << 16);
    try {
      for (;;) writeSync(fd, chunk);
    } catch {
      /* ENOSPC */
    }
    // the last partial blocks
    try {
      for (;;) writeSync(fd, Buffer.alloc(512));
    } catch {
      /* ENOSPC */
    }
    closeSync(fd);
  } else {
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(base, `i${i}`), '');
      } catch {
        break;
      }
    }
  }
  const st = statfsSync(dir);
  return { bytes: st.bavail * st.bsize, inodes: st.ffree };
}

/** Queue `n` messages: half deferred into input/ (-odi, a 451), half as -odq drop files. */
async function queueSome(t: Test, e: Env, answer: { v: string | undefined }, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    answer.v = i % 2 === 0 ? '451 later' : undefined;
    const r = await run(['-C', e.conf, i % 2 === 0 ? '-odi' : '-odq', 'admin@example.test'], { input: message(`full ${i}`) });
    t.equal(r.code, 0, r.stderr);
  }
  answer.v = undefined;
  t.equal(e.queued().length + e.drops().length, n, `${n} messages queued`);
}

for (const what of ['blocks', 'inodes'] as const) {
  t.test(`no ${what} left: -qf still delivers and removes every message (point 2)`, { skip: cannotMount }, async (t) => {
    const answer = { v: undefined as string | undefined };
    const e = await setup(t, dns, { onRcpt: () => answer.v }, ['check_spool_space = 0', 'check_spool_inodes = 0']);
    smallSpool(t, e, { size: '2m', inodes: 400 });
    await queueSome(t, e, answer, 6);
    const left = fill(e.spool, what);
    t.ok(what === 'blocks' ? left.bytes < 4096 : left.inodes === 0, `the file system is full (${JSON.stringify(left)})`);
    const q = await run(['-C', e.conf, '-qf']);
    t.equal(q.code, 0, `exit 0, not 70: ${q.stderr}`);
    t.notMatch(q.stderr, /internal error/);
    t.equal(e.smtp.messages.length, 6, 'every message delivered');
    t.same(e.queued(), [], 'input/ empty');
    t.same(e.drops(), [], 'incoming/ empty');
    t.match(e.mainlog(), /Completed/);
  });
}

t.test('a deferral that cannot be recorded on a full spool leaves the message as it was; the next run delivers it (point 2)', { skip: cannotMount }, async (t) => {
  const answer = { v: undefined as string | undefined };
  const e = await setup(t, dns, { onRcpt: () => answer.v }, ['check_spool_space = 0', 'check_spool_inodes = 0']);
  smallSpool(t, e, { size: '2m', inodes: 400 });
  await queueSome(t, e, answer, 2);
  fill(e.spool, 'blocks');
  answer.v = '451 still later';
  const q = await run(['-C', e.conf, '-qf']);
  t.equal(q.code, 0, q.stderr);
  t.equal(e.queued().length + e.drops().length, 2, 'both still there');
  spawnSync('rm', ['-rf', join(e.spool, 'filler')]);
  answer.v = undefined;
  const q2 = await run(['-C', e.conf, '-qf']);
  t.equal(q2.code, 0, q2.stderr);
  t.equal(e.smtp.messages.length, 2);
  t.same(e.queued(), []);
});

t.test('check_spool_space: below it, -odq gets 75 and nothing is written; -odi and -odb deliver at once (point 2)', { skip: cannotMount }, async (t) => {
  const e = await setup(t, dns, {}, ['check_spool_space = 1M']);
  smallSpool(t, e, { size: '2m', inodes: 400 });
  // leave about 0.5 MiB: below the reserve
  writeFileSync(join(e.spool, 'filler'), Buffer.alloc(1536 * 1024));
  const before = readdirSync(join(e.spool, 'incoming'));
  const odq = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('odq') });
  t.equal(odq.code, 75, 'exit 75: the caller keeps it');
  t.match(odq.stderr, /short of space \(\d+ KiB free, \d+ KiB needed, check_spool_space = 1\.0 MiB\); message not queued/);
  t.same(readdirSync(join(e.spool, 'incoming')), before, 'nothing half-written');
  const odi = await run(['-C', e.conf, '-odi', 'admin@example.test'], { input: message('odi') });
  t.equal(odi.code, 0, odi.stderr);
  const odb = await run(['-C', e.conf, '-odb', 'admin@example.test'], { input: message('odb') });
  t.equal(odb.code, 0, odb.stderr);
  t.equal(e.smtp.messages.length, 2, 'the -odi and -odb submissions were delivered at once');
});

t.test('a large message with -odi is delivered although no temporary file can be written (point 12)', { skip: cannotMount }, async (t) => {
  const e = await setup(t, dns, {}, ['check_spool_space = 0', 'check_spool_inodes = 0']);
  smallSpool(t, e, { size: '4m', inodes: 400 });
  const tmp = join(e.spool, 'scratch');
  mkdirSync(tmp);
  fill(e.spool, 'blocks');
  const big = message('large').replace('body large\n', `${'x'.repeat(999)}\n`.repeat(3 * 1024));
  const r = await run(['-C', e.conf, '-odi', 'admin@example.test'], { input: big, env: { TMPDIR: tmp } });
  t.equal(r.code, 0, `delivered: ${r.stderr}`);
  t.equal(e.smtp.messages.length, 1);
  t.ok(e.smtp.messages[0]!.data.length > 3 * 1024 * 1000, 'whole');
});
