/**
 * --install-links (lib/ops/install-links.ts) in a temporary prefix: the four
 * names are made, another MTA's names are refused without --force, kept with
 * it, and put back by --undo; the decisions as a table.
 */
import t, { type Test } from 'tap';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKUP_SUFFIX, decide, installLinks, LINK_NAMES } from '../../lib/ops/install-links.js';
import { operatorMain } from '../../lib/ops/program.js';
import type { Io } from '../../lib/main.js';

function scene(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-links-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const target = join(dir, 'pkg', 'bin', 'send-smarthost');
  mkdirSync(join(dir, 'pkg', 'bin'), { recursive: true });
  writeFileSync(target, '#!/bin/sh\n', { mode: 0o755 });
  return { prefix: join(dir, 'root'), target };
}

function io(script: string): Io & { out: string; err: string } {
  const o = { out: '', err: '', stdin: process.stdin, stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s), env: {}, stderrIsTTY: false, user: 'root', self: { node: process.execPath, script } };
  return o;
}

t.test('decisions', async (t) => {
  const p = '/usr/sbin/sendmail';
  const other = { kind: 'other', what: 'a link to exim4' } as const;
  t.same(decide(p, { kind: 'absent' }, false, { force: false, undo: false }), { do: 'create' });
  t.same(decide(p, { kind: 'ours' }, false, { force: false, undo: false }), { do: 'nothing', why: 'already points at send-smarthost' });
  t.same(decide(p, other, false, { force: false, undo: false }), { do: 'refuse', why: `is a link to exim4; --force replaces it and keeps it as ${p}${BACKUP_SUFFIX}` });
  t.same(decide(p, other, false, { force: true, undo: false }), { do: 'replace', keep: `${p}${BACKUP_SUFFIX}` });
  t.match(decide(p, other, true, { force: true, undo: false }), { do: 'refuse', why: /exists already/ }, 'never overwrites a kept original');
  t.same(decide(p, { kind: 'ours' }, true, { force: false, undo: true }), { do: 'restore', from: `${p}${BACKUP_SUFFIX}` });
  t.same(decide(p, { kind: 'ours' }, false, { force: false, undo: true }), { do: 'remove' });
  t.match(decide(p, other, true, { force: false, undo: true }), { do: 'nothing', why: /left alone/ }, '--undo never removes what is not ours');
  t.match(decide(p, { kind: 'absent' }, false, { force: false, undo: true }), { do: 'nothing' });
});

t.test('an empty prefix: four links made, then already in place', async (t) => {
  const { prefix, target } = scene(t);
  const x = io(target);
  t.equal(await operatorMain(['--install-links', '--prefix', prefix], x), 0, x.err);
  for (const n of LINK_NAMES) t.equal(realpathSync(join(prefix, n)), realpathSync(target), `${n} points at send-smarthost`);
  t.match(x.out, new RegExp(`${prefix}/usr/sbin/sendmail -> .*send-smarthost: created`));
  const again = io(target);
  t.equal(await operatorMain(['--install-links', '--prefix', prefix], again), 0);
  t.equal(again.out.split('\n').filter((l) => l.endsWith('already points at send-smarthost')).length, 4);
});

t.test('another MTA: refused without --force, kept with it, put back by --undo', async (t) => {
  const { prefix, target } = scene(t);
  mkdirSync(join(prefix, 'usr/sbin'), { recursive: true });
  writeFileSync(join(prefix, 'usr/sbin/exim4'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('exim4', join(prefix, 'usr/sbin/sendmail'));
  const refused = io(target);
  t.equal(await operatorMain(['--install-links', '--prefix', prefix], refused), 73);
  t.match(refused.err, /^send-smarthost: .*\/usr\/sbin\/sendmail refused: is a link to exim4; --force replaces it/m);
  t.equal(readlinkSync(join(prefix, 'usr/sbin/sendmail')), 'exim4', 'left as it was');

  const forced = io(target);
  t.equal(await operatorMain(['--install-links', '--prefix', prefix, '--force'], forced), 0, forced.err);
  t.equal(realpathSync(join(prefix, 'usr/sbin/sendmail')), realpathSync(target));
  t.equal(readlinkSync(join(prefix, `usr/sbin/sendmail${BACKUP_SUFFIX}`)), 'exim4', 'the original kept');

  const undo = io(target);
  t.equal(await operatorMain(['--install-links', '--prefix', prefix, '--undo'], undo), 0, undo.err);
  t.equal(readlinkSync(join(prefix, 'usr/sbin/sendmail')), 'exim4', 'put back');
  t.notOk(existsSync(join(prefix, `usr/sbin/sendmail${BACKUP_SUFFIX}`)));
  t.notOk(existsSync(join(prefix, 'usr/bin/mailq')), 'our own links removed');
  t.ok(lstatSync(join(prefix, 'usr/sbin/exim4')).isFile(), 'the MTA itself untouched');
});

t.test('without --install-links there is nothing to do', async (t) => {
  const x = io('/nonexistent');
  t.equal(await operatorMain(['--install-links', '--bogus'], x), 64);
  t.match(x.err, /unknown option '--bogus'/);
});
