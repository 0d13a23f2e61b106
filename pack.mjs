// npm run pack: the release tarball, send-smarthost-<version>.tgz.
//
// The runtime is the two bundles in dist/ (build.mjs): every dependency is
// compiled into them, so the package declares none (they are devDependencies
// of the checkout) and installs with no registry access and no engine warning
// (dns2 declares node >= 22; its packet codec runs on 20). The tarball is
// packed from a staging directory holding exactly the files of package.json's
// "files" and a manifest without scripts or devDependencies: npm lists a
// package's "prepare" script as an install script to be approved, although a
// tarball install never runs it. No TypeScript source and no source maps
// (which embed the source) are shipped.
//
// Usage: node pack.mjs [--out DIR]   (after npm run build; prints the tarball's path)
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const outAt = process.argv.indexOf('--out');
const out = resolve(outAt > 0 ? process.argv[outAt + 1] : root);
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

for (const f of manifest.files) {
  if (!existsSync(join(root, f))) {
    console.error(`pack: ${f} is missing (run npm run build first)`);
    process.exit(1);
  }
}
const stage = mkdtempSync(join(tmpdir(), 'send-smarthost-pack-'));
try {
  for (const f of manifest.files) cpSync(join(root, f), join(stage, f), { recursive: true });
  const { scripts: _s, devDependencies: _d, tap: _t, ...shipped } = manifest;
  writeFileSync(join(stage, 'package.json'), JSON.stringify(shipped, null, 2) + '\n');
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop();
  console.log(join(out, name));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
