import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { laterRemovals } from '../../lib/store/later.js';

t.test('background removals: drain waits for every unlink; a missing file is not an error', async (t) => {
  const dir = t.testdir({ a: 'x', b: 'y' });
  const later = laterRemovals();
  await later.drain(); // nothing pending: resolves at once
  later.unlink(join(dir, 'a'));
  later.unlink(join(dir, 'b'));
  later.unlink(join(dir, 'never-there'));
  await later.drain();
  t.notOk(existsSync(join(dir, 'a')), 'a removed');
  t.notOk(existsSync(join(dir, 'b')), 'b removed');
  writeFileSync(join(dir, 'c'), 'z');
  later.unlink(join(dir, 'c'));
  const both = await Promise.all([later.drain(), later.drain()]);
  t.equal(both.length, 2, 'several waiters are all released');
  t.notOk(existsSync(join(dir, 'c')));
});
