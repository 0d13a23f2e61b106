/**
 * bin/send-smarthost compiles the bundle with dist/send-smarthost.cjs.cache
 * (README, Performance). Whatever that file holds — the right cache, one
 * from another build, garbage after the right id, or nothing — the program
 * must behave the same: V8 refuses a bad cache and the bundle is compiled
 * from source. Runs copies of bin/ and dist/ in a temporary directory.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'dist/send-smarthost.cjs');
const cache = `${bundle}.cache`;

function install(cacheBytes: Buffer | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-cache-test-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist'));
  copyFileSync(join(root, 'bin/send-smarthost'), join(dir, 'bin/send-smarthost'));
  copyFileSync(join(root, 'bin/package.json'), join(dir, 'bin/package.json'));
  copyFileSync(bundle, join(dir, 'dist/send-smarthost.cjs'));
  if (cacheBytes) writeFileSync(join(dir, 'dist/send-smarthost.cjs.cache'), cacheBytes);
  return dir;
}

function run(dir: string, args: string[]) {
  const r = spawnSync(process.execPath, [join(dir, 'bin/send-smarthost'), ...args], { encoding: 'utf8', input: '', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('the build writes a cache that names the bundle\'s build id', async (t) => {
  const id = /^\/\/ build-id: ([0-9a-f]{32})\n/.exec(readFileSync(bundle, 'utf8'))?.[1];
  t.ok(id, 'the bundle starts with its build id');
  t.ok(existsSync(cache), 'dist/send-smarthost.cjs.cache exists');
  t.equal(readFileSync(cache).toString('latin1', 0, 32), id, 'the cache starts with the same id');
});

t.test('same behaviour with the cache, a foreign one, a damaged one, or none', async (t) => {
  const good = readFileSync(cache);
  const foreign = Buffer.concat([Buffer.from('0'.repeat(32), 'latin1'), good.subarray(32)]);
  const damaged = Buffer.concat([good.subarray(0, 32), Buffer.from('not a V8 code cache at all')]);
  const cases: [string, Buffer | undefined][] = [
    ['the build\'s cache', good],
    ['a cache of another build', foreign],
    ['garbage after the right id', damaged],
    ['no cache', undefined],
  ];
  const want = run(install(undefined), ['--help']);
  t.equal(want.code, 0);
  t.match(want.stdout, /^usage: send-smarthost/);
  for (const [name, bytes] of cases) {
    const dir = install(bytes);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const help = run(dir, ['--help']);
    t.same(help, want, `${name}: --help`);
    const bad = run(dir, ['-Z']);
    t.equal(bad.code, 64, `${name}: a usage error still exits 64`);
    t.match(bad.stderr, /unknown option "-Z"/);
  }
});
