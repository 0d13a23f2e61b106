/**
 * bin/send-smarthost compiles each bundle (dist/send-smarthost.cjs, the
 * entry, and dist/modes.cjs) with its dist/<bundle>.cache (README,
 * Performance). Whatever that file holds — the right cache, one
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

const BUNDLES = ['send-smarthost.cjs', 'modes.cjs'];

/** A copy of bin/ and dist/; `caches` turns each bundle's good cache into what is installed (undefined: none). */
function install(caches: (good: Buffer) => Buffer | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-cache-test-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist'));
  copyFileSync(join(root, 'bin/send-smarthost'), join(dir, 'bin/send-smarthost'));
  copyFileSync(join(root, 'bin/package.json'), join(dir, 'bin/package.json'));
  copyFileSync(join(root, 'dist/ops.cjs'), join(dir, 'dist/ops.cjs')); // --help (commander; no code cache)
  for (const b of BUNDLES) {
    copyFileSync(join(root, 'dist', b), join(dir, 'dist', b));
    const bytes = caches(readFileSync(join(root, 'dist', `${b}.cache`)));
    if (bytes) writeFileSync(join(dir, 'dist', `${b}.cache`), bytes);
  }
  return dir;
}

function run(dir: string, args: string[]) {
  const r = spawnSync(process.execPath, [join(dir, 'bin/send-smarthost'), ...args], { encoding: 'utf8', input: '', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('the build writes a cache per bundle that names the bundle\'s build id', async (t) => {
  for (const b of BUNDLES) {
    const id = /^\/\/ build-id: ([0-9a-f]{32})\n/.exec(readFileSync(join(root, 'dist', b), 'utf8'))?.[1];
    t.ok(id, `${b} starts with its build id`);
    t.ok(existsSync(join(root, 'dist', `${b}.cache`)), `dist/${b}.cache exists`);
    t.equal(readFileSync(join(root, 'dist', `${b}.cache`)).toString('latin1', 0, 32), id, 'the cache starts with the same id');
  }
});

t.test('same behaviour with the cache, a foreign one, a damaged one, or none', async (t) => {
  const cases: [string, (good: Buffer) => Buffer | undefined][] = [
    ['the build\'s cache', (good) => good],
    ['a cache of another build', (good) => Buffer.concat([Buffer.from('0'.repeat(32), 'latin1'), good.subarray(32)])],
    ['garbage after the right id', (good) => Buffer.concat([good.subarray(0, 32), Buffer.from('not a V8 code cache at all')])],
    ['no cache', () => undefined],
  ];
  const want = run(install(() => undefined), ['--help']);
  t.equal(want.code, 0);
  t.match(want.stdout, /^Usage: send-smarthost/);
  for (const [name, bytes] of cases) {
    const dir = install(bytes);
    // a mode of the second bundle, loaded by the entry
    const bpc = run(dir, ['-C', '/dev/null', '-bpc']);
    t.equal(bpc.code, 0, `${name}: -bpc (dist/modes.cjs) runs: ${bpc.stderr}`);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const help = run(dir, ['--help']);
    t.same(help, want, `${name}: --help`);
    const bad = run(dir, ['-Z']);
    t.equal(bad.code, 64, `${name}: a usage error still exits 64`);
    t.match(bad.stderr, /unknown option "-Z"/);
  }
});
