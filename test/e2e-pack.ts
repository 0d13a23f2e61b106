/**
 * The release tarball (npm run pack → pack.mjs) as an administrator installs
 * it on a small host: from the file alone, with no registry access (npm's
 * --offline and an empty cache), no engine warning on Node 20, no install
 * script to approve, and no TypeScript source or source map inside. The
 * installed command then runs.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withoutTapHooks } from '../fixtures/peers/run-cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-pack-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const env = withoutTapHooks(process.env);

// npm test has built dist/ already; pack.mjs only stages and packs
const tarball = execFileSync(process.execPath, [join(ROOT, 'pack.mjs'), '--out', dir], { env, encoding: 'utf8' }).trim();

t.test('the tarball holds the bundles, man pages, contrib files and JSON schemas, and no source', async (t) => {
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  for (const f of ['package/bin/send-smarthost', 'package/dist/send-smarthost.cjs', 'package/dist/modes.cjs', 'package/man/send-smarthost.8', 'package/man/send-smarthost.conf.5', 'package/contrib/send-smarthost.conf', 'package/contrib/logrotate.d/send-smarthost', 'package/schema/check.schema.json']) {
    t.ok(files.includes(f), `ships ${f}`);
  }
  t.same(files.filter((f) => /\.(ts|mts|cts|map)$/.test(f)), [], 'no TypeScript source, no source map');
  const manifest = JSON.parse(execFileSync('tar', ['xzfO', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
  t.equal(manifest.dependencies, undefined, 'no dependencies: everything is in the bundles');
  t.equal(manifest.scripts, undefined, 'no scripts: nothing runs at install');
});

t.test('installs offline, without warnings, and runs', async (t) => {
  const prefix = join(dir, 'prefix');
  const r = spawnSync('npm', ['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, '--cache', join(dir, 'npm-cache'), tarball], { env, encoding: 'utf8' });
  t.equal(r.status, 0, `npm install: ${r.stderr}`);
  t.notMatch(r.stderr, /EBADENGINE/, 'no engine warning');
  t.notMatch(r.stderr, /install-scripts|allow-scripts/, 'no install script to approve');
  const conf = join(dir, 'send-smarthost.conf');
  writeFileSync(conf, `route_data = smtp.example.test\nspool_directory = ${join(dir, 'spool')}\nlog_file_path = ${join(dir, 'log', 'mainlog')}\n`);
  const run = spawnSync(join(prefix, 'bin', 'send-smarthost'), ['-C', conf, '-bpc'], { env, encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout, '0\n', 'the installed command counts an empty queue');
});
