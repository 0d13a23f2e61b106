// Builds the shipped program: three CommonJS bundles, dist/send-smarthost.cjs
// (the entry: argv, configuration and the fast submission path, lib/fast.ts),
// dist/modes.cjs (everything else, loaded by the entry when needed) and
// dist/ops.cjs (the operator command line on commander: --help, --version, the
// subcommands; no code cache, it is not on any submission's path).
// CJS, not ESM: an ESM entry costs ~10 ms of start-up (see README, Performance).
// dns2 is mapped to its packet codec only: its index loads DoH/HTTP servers we never use.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { trainCodeCache } from './build-cache.mjs';

const require = createRequire(import.meta.url);
const dns2Dir = dirname(require.resolve('dns2/package.json'));

const dns2PacketOnly = {
  name: 'dns2-packet-only',
  setup(b) {
    b.onResolve({ filter: /^dns2$/ }, () => ({ path: 'dns2', namespace: 'dns2-packet' }));
    b.onLoad({ filter: /.*/, namespace: 'dns2-packet' }, () => ({
      contents: `module.exports = { Packet: require(${JSON.stringify(join(dns2Dir, 'packet.js'))}) };`,
      loader: 'js',
      resolveDir: dns2Dir,
    }));
  },
};

// nodemailer's shared helpers import its HTTP client (node:http, https, zlib) for
// attachments given as URLs; the SMTP client we use never calls it. The stub
// keeps those modules out of a delivery's start-up and fails loudly if called.
const nodemailerNoFetch = {
  name: 'nodemailer-no-fetch',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/fetch\/index\.js$/ }, (args) =>
      /[\\/]nodemailer[\\/]/.test(args.importer) ? { path: 'nodemailer-fetch', namespace: 'nodemailer-no-fetch' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'nodemailer-no-fetch' }, () => ({
      contents: `export default function nmfetch() { throw new Error('send-smarthost: nodemailer fetch is not bundled'); }`,
      loader: 'js',
    }));
  },
};

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

// nodemailer's DATA stream looks at every byte in JavaScript; lib/deliver/data-stream.ts gives
// the same bytes with indexOf (test/deliver/data-stream.ts compares them), a third of a large
// message's delivery time.
const fastDataStream = {
  name: 'fast-data-stream',
  setup(b) {
    b.onResolve({ filter: /^\.\/data-stream\.js$/ }, (args) =>
      /[\\/]nodemailer[\\/].*[\\/]smtp-connection$/.test(dirname(args.importer)) ? { path: fileURLToPath(new URL('./lib/deliver/data-stream.ts', import.meta.url)) } : undefined,
    );
  },
};

const demo = process.argv.includes('--demo');

await build({
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
  plugins: [dns2PacketOnly, nodemailerNoFetch, fastDataStream],
  // a new id per build: bin/send-smarthost uses dist/<bundle>.cache only when it names this id
  banner: { js: `// build-id: ${randomBytes(16).toString('hex')}` },
});
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
