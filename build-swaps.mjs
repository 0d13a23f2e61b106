// The modules build.mjs puts in place of others in the bundles, and the check
// that each swap did what it is for: every swap must match exactly one import
// (one importing file), and the module it replaces must not be in the bundle.
// A dependency upgrade that renames, moves or adds an import then fails the
// build instead of quietly shipping the original (or a half-swapped bundle).
// test/build-swaps.ts builds small entries with these plugins to show the
// check failing for none and for two matches.
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = dirname(fileURLToPath(import.meta.url));

/**
 * The swaps, each an esbuild plugin that records the files whose import it
 * answered, and `verify(metafile)`, which throws unless each answered exactly
 * one importing file and none of the replaced modules got into the bundle.
 */
export function swaps() {
  const dns2Dir = dirname(require.resolve('dns2/package.json'));
  const nodemailerDir = dirname(require.resolve('nodemailer/package.json'));
  const list = [];
  const swap = (name, why, replaced, setup) => {
    const importers = new Set();
    list.push({ name, why, replaced, importers });
    return { name, setup: (b) => setup(b, (importer) => importers.add(relative(root, importer))) };
  };

  // dns2 is mapped to its packet codec only: its index loads DoH/HTTP servers we never use.
  const dns2PacketOnly = swap('dns2-packet-only', 'lib/route/dns-packet.ts needs Packet only', [join(dns2Dir, 'index.js')], (b, hit) => {
    b.onResolve({ filter: /^dns2$/ }, (args) => {
      hit(args.importer);
      return { path: 'dns2', namespace: 'dns2-packet' };
    });
    b.onLoad({ filter: /.*/, namespace: 'dns2-packet' }, () => ({
      contents: `module.exports = { Packet: require(${JSON.stringify(join(dns2Dir, 'packet.js'))}) };`,
      loader: 'js',
      resolveDir: dns2Dir,
    }));
  });

  // nodemailer's shared helpers import its HTTP client (node:http, https, zlib) for
  // attachments given as URLs; the SMTP client we use never calls it. The stub
  // keeps those modules out of a delivery's start-up and fails loudly if called.
  const nodemailerNoFetch = swap(
    'nodemailer-no-fetch',
    "nodemailer's shared helpers import its HTTP client, which the SMTP client never calls",
    [join(nodemailerDir, 'dist', 'esm', 'fetch', 'index.js'), join(nodemailerDir, 'dist', 'cjs', 'fetch', 'index.js')],
    (b, hit) => {
      b.onResolve({ filter: /^\.\.\/fetch\/index\.js$/ }, (args) => {
        if (!/[\\/]nodemailer[\\/]/.test(args.importer)) return undefined;
        hit(args.importer);
        return { path: 'nodemailer-fetch', namespace: 'nodemailer-no-fetch' };
      });
      b.onLoad({ filter: /.*/, namespace: 'nodemailer-no-fetch' }, () => ({
        contents: `export default function nmfetch() { throw new Error('send-smarthost: nodemailer fetch is not bundled'); }`,
        loader: 'js',
      }));
    },
  );

  // nodemailer's DATA stream looks at every byte in JavaScript; lib/deliver/data-stream.ts gives
  // the same bytes with indexOf (test/deliver/data-stream.ts compares them), a third of a large
  // message's delivery time.
  const fastDataStream = swap(
    'fast-data-stream',
    'lib/deliver/data-stream.ts for smtp-connection/data-stream.js',
    [join(nodemailerDir, 'dist', 'esm', 'smtp-connection', 'data-stream.js'), join(nodemailerDir, 'dist', 'cjs', 'smtp-connection', 'data-stream.js')],
    (b, hit) => {
      b.onResolve({ filter: /^\.\/data-stream\.js$/ }, (args) => {
        if (!/[\\/]nodemailer[\\/].*[\\/]smtp-connection$/.test(dirname(args.importer))) return undefined;
        hit(args.importer);
        return { path: join(root, 'lib', 'deliver', 'data-stream.ts') };
      });
    },
  );

  return {
    plugins: [dns2PacketOnly, nodemailerNoFetch, fastDataStream],
    /** @param {import('esbuild').Metafile} metafile */
    verify(metafile) {
      const inputs = new Set(Object.keys(metafile.inputs).map((p) => join(root, p.split('/').join(sep))));
      const problems = [];
      for (const s of list) {
        if (s.importers.size !== 1) {
          const who = s.importers.size ? ` (${[...s.importers].sort().join(', ')})` : '';
          problems.push(`swap ${s.name} matched ${s.importers.size} importing files${who}, not exactly 1: ${s.why}`);
        }
        for (const r of s.replaced) if (inputs.has(r)) problems.push(`swap ${s.name}: ${relative(root, r)} is in the bundle all the same`);
      }
      if (problems.length) throw new Error(`build: a module swap no longer fits its dependency:\n  ${problems.join('\n  ')}`);
    },
  };
}
