/**
 * build-swaps.mjs: the module swaps of the bundles are checked — each must
 * match exactly one importing file, and the module it replaces must stay out
 * of the bundle — so that a dependency upgrade that moves an import fails the
 * build (npm test runs build.mjs first) instead of shipping the original.
 */
import t, { type Test } from 'tap';
import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs build script, without types
import { swaps } from '../build-swaps.mjs';

interface Swaps {
  plugins: never[];
  verify(m: Metafile): void;
}
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bundle `files` (entry first) with the swaps; the metafile, the swaps and the bundle's text. */
async function bundle(t: Test, files: Record<string, string>) {
  const dir = t.testdir(files);
  const s = (swaps as () => Swaps)();
  const r = await build({
    entryPoints: [`${dir}/entry.ts`],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: s.plugins,
    nodePaths: [`${ROOT}node_modules`],
    outfile: `${dir}/out.cjs`,
  });
  return { s, meta: r.metafile, text: r.outputFiles[0]!.text };
}

t.test('the real importers: each swap matches once, the originals stay out', async (t) => {
  const { s, meta, text } = await bundle(t, {
    'entry.ts': `import '${ROOT}lib/route/dns-packet.ts';\nimport '${ROOT}lib/deliver/smtp.ts';\n`,
  });
  t.doesNotThrow(() => s.verify(meta));
  t.ok(Object.keys(meta.inputs).includes('node_modules/nodemailer/dist/esm/smtp-connection/index.js'), 'the bundle takes dist/esm, the copy in-process tests load (test/deliver/nodemailer-contract.ts)');
  t.ok(Object.keys(meta.inputs).includes('dns2-packet:dns2'), 'dns2 is its packet codec');
  t.ok(Object.keys(meta.inputs).some((p) => p.endsWith('lib/deliver/data-stream.ts')), 'our DataStream is in');
  t.notOk(Object.keys(meta.inputs).some((p) => /nodemailer\/dist\/[^/]+\/smtp-connection\/data-stream\.js$/.test(p)), "nodemailer's is not");
  t.ok(Object.keys(meta.inputs).includes('nodemailer-no-fetch:nodemailer-fetch'), 'the fetch stub is in');
  t.notMatch(text, /require\("node:https?"\)/, 'and no HTTP client with it');
});

t.test('a swap that matches nothing fails the build', async (t) => {
  const { s, meta } = await bundle(t, { 'entry.ts': `export const x = 1;\n` });
  t.throws(() => s.verify(meta), /swap dns2-packet-only matched 0 importing files, not exactly 1[\s\S]*swap nodemailer-no-fetch matched 0[\s\S]*swap fast-data-stream matched 0/);
});

t.test('a swap that matches a second importer fails the build', async (t) => {
  const { s, meta } = await bundle(t, {
    'entry.ts': `import './a.ts';\nimport './b.ts';\nimport '${ROOT}lib/deliver/smtp.ts';\n`,
    'a.ts': `import dns2 from 'dns2';\nexport const a = dns2;\n`,
    'b.ts': `import dns2 from 'dns2';\nexport const b = dns2;\n`,
  });
  t.throws(() => s.verify(meta), /swap dns2-packet-only matched 2 importing files \(.*a\.ts, .*b\.ts\)/);
});

t.test('a replaced module in the bundle all the same fails the build', async (t) => {
  const { s, meta } = await bundle(t, {
    'entry.ts': `import '${ROOT}lib/route/dns-packet.ts';\nimport '${ROOT}lib/deliver/smtp.ts';\nimport 'nodemailer/lib/fetch';\n`,
  });
  t.throws(() => s.verify(meta), /swap nodemailer-no-fetch: node_modules\/nodemailer\/dist\/esm\/fetch\/index\.js is in the bundle all the same/);
});
