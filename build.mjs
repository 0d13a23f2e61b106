// Builds the shipped program: three CommonJS bundles, dist/send-smarthost.cjs
// (the entry: argv, configuration and the fast submission path, lib/fast.ts),
// dist/modes.cjs (everything else, loaded by the entry when needed) and
// dist/ops.cjs (the operator command line on commander: --help, --version, the
// subcommands; no code cache, it is not on any submission's path).
// CJS, not ESM: an ESM entry costs ~10 ms of start-up (see README, Performance).
// Three modules are swapped for others in the bundles (build-swaps.mjs: dns2's
// packet codec alone, no nodemailer HTTP client, our DataStream); the build
// fails when one of the swaps no longer matches exactly one import.
import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { trainCodeCache } from './build-cache.mjs';
import { swaps } from './build-swaps.mjs';

// The demo (npm run demo) bundles the test peers from fixtures/. They find their
// certificates and zones relative to their own source file, so import.meta.url
// is pinned to that file (a CJS bundle has no import.meta). Dependencies stay
// external: the demo runs from the checkout after `npm ci`.
const pinImportMetaUrl = {
  name: 'pin-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]fixtures[\\/].*\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      loader: 'ts',
    }));
  },
};

const demo = process.argv.includes('--demo');

const swapped = swaps();
const result = await build({
  entryPoints: { 'send-smarthost': 'bin/send-smarthost.ts', modes: 'bin/modes.ts', ops: 'bin/ops.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: swapped.plugins,
  metafile: true,
  write: false, // written below, once the swaps are checked
  // a new id per build: bin/send-smarthost uses dist/<bundle>.cache only when it names this id
  banner: { js: `// build-id: ${randomBytes(16).toString('hex')}` },
});
swapped.verify(result.metafile);
for (const f of result.outputFiles) {
  await mkdir(dirname(f.path), { recursive: true });
  await writeFile(f.path, f.contents);
}
// the V8 code caches of the bundles (build-cache.mjs; README, Performance)
const cacheNote = await trainCodeCache();
if (process.env.BUILD_VERBOSE || /failed|no code cache/.test(cacheNote)) console.warn(`build: ${cacheNote}`);

if (demo) {
  await build({
    entryPoints: ['demo/demo.ts'],
    outfile: 'dist/demo.cjs',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    plugins: [pinImportMetaUrl],
  });
}
