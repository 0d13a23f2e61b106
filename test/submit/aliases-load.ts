import t from 'tap';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { aliasesFileFor, loadAliases, DEFAULT_ALIASES_FILE } from '../../lib/submit/aliases-load.js';

t.test('aliasesFileFor: default, disabled, explicit', async (t) => {
  t.same(aliasesFileFor(undefined, () => true), { path: DEFAULT_ALIASES_FILE, mustExist: false });
  t.equal(aliasesFileFor(undefined, () => false), undefined);
  t.equal(aliasesFileFor('', () => true), undefined, 'empty disables');
  t.same(aliasesFileFor('/srv/aliases', () => false), { path: '/srv/aliases', mustExist: true });
});

t.test('loadAliases reads the file and its includes; unreadable includes are recorded', async (t) => {
  const dir = t.testdir({
    aliases: 'root: :include:INC, :include:NESTED, :include:MISSING\nops: a@x.test\n',
    'list.txt': 'm1@x.test\n',
    'nested.txt': ':include:INC\n',
  });
  const { writeFileSync, readFileSync } = await import('node:fs');
  const file = join(dir, 'aliases');
  writeFileSync(
    file,
    readFileSync(file, 'utf8')
      .replace('INC', join(dir, 'list.txt'))
      .replace('NESTED', join(dir, 'nested.txt'))
      .replace('MISSING', join(dir, 'missing.txt')),
  );
  writeFileSync(join(dir, 'nested.txt'), `:include:${join(dir, 'list.txt')}\n`);
  const al = await loadAliases(file, { mustExist: true });
  t.ok(al);
  t.equal(al!.entries.size, 2);
  t.same(al!.includes.get(join(dir, 'missing.txt')), { error: 'cannot read: no such file' });
  t.equal((al!.includes.get(join(dir, 'list.txt')) as { targets: unknown[] }).targets.length, 1);
  t.ok(al!.includes.has(join(dir, 'nested.txt')));
  t.equal(al!.includes.size, 3, 'each include read once');
});

t.test('missing files', async (t) => {
  const dir = t.testdir({});
  t.equal(await loadAliases(join(dir, 'nope'), { mustExist: false }), undefined, 'optional default may be absent');
  await t.rejects(loadAliases(join(dir, 'nope'), { mustExist: true }), /^cannot read aliases file .*nope: no such file$/);
  if (process.getuid?.() !== 0) {
    const dir2 = t.testdir({ a: 'root: x\n' });
    chmodSync(join(dir2, 'a'), 0o000);
    await t.rejects(loadAliases(join(dir2, 'a'), { mustExist: false }), /permission denied/);
  }
});

t.test('syntax errors propagate with file:line', async (t) => {
  await t.rejects(loadAliases('/x/aliases', { mustExist: true, read: async () => 'root admin\n' }), /^\/x\/aliases:1: expected/);
  await t.rejects(
    loadAliases('/x/aliases', { mustExist: true, read: async (p) => (p === '/x/aliases' ? 'l: :include:/x/l\n' : 'good@x.test\nbad one\n') }),
    /^\/x\/l:2: bad address/,
  );
});
