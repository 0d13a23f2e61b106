import t from 'tap';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Transform } from 'node:stream';
import DataStream from '../../lib/deliver/data-stream.js';

// nodemailer's own DataStream (not exported by its package): the reference
const require = createRequire(import.meta.url);
const nodemailerDir = dirname(require.resolve('nodemailer/package.json'));
const Reference = require(join(nodemailerDir, 'dist/cjs/smtp-connection/data-stream.js')) as new () => Transform & { inByteCount: number; outByteCount: number };

function rng(seed: number) {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

/** Feed `chunks` through a stream; resolve to its output and byte counts. */
function through(s: Transform & { inByteCount: number; outByteCount: number }, chunks: Buffer[]): Promise<{ out: Buffer; inBytes: number; outBytes: number }> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    s.on('data', (d: Buffer) => out.push(d));
    s.on('end', () => resolve({ out: Buffer.concat(out), inBytes: s.inByteCount, outBytes: s.outByteCount }));
    for (const c of chunks) s.write(c);
    s.end();
  });
}

t.test('the same bytes and counts as nodemailer\'s DataStream, for any input cut anywhere', async (t) => {
  const r = rng(42);
  const alphabet = ['\r', '\n', '.', 'a', 'b', '\r\n', '\n.', '\r.', '..', 'é'];
  for (let round = 0; round < 2000; round++) {
    const pieces: string[] = [];
    const n = Math.floor(r() * 120);
    for (let i = 0; i < n; i++) pieces.push(alphabet[Math.floor(r() * alphabet.length)]!);
    const data = Buffer.from(pieces.join(''), 'utf8');
    // cut into random chunks (some empty)
    const chunks: Buffer[] = [];
    for (let at = 0; at < data.length; ) {
      const k = Math.floor(r() * 6);
      chunks.push(data.subarray(at, at + k));
      at += k;
    }
    const want = await through(new Reference(), chunks);
    const got = await through(new DataStream(), chunks);
    if (!got.out.equals(want.out) || got.inBytes !== want.inBytes || got.outBytes !== want.outBytes) {
      t.fail(`round ${round}: ${JSON.stringify(data.toString('latin1'))} in ${chunks.length} chunks: ${JSON.stringify(got.out.toString('latin1'))} != ${JSON.stringify(want.out.toString('latin1'))}`);
      return;
    }
  }
  t.pass('2000 random inputs');
});

t.test('a large CRLF message passes through without copies', async (t) => {
  const body = Buffer.from('line of text\r\n'.repeat(10000));
  const s = new DataStream();
  const outs: Buffer[] = [];
  s.on('data', (d: Buffer) => outs.push(d));
  const done = new Promise((r) => s.on('end', r));
  s.end(body);
  await done;
  t.equal(outs[0], body, 'the same Buffer pushed on: nothing to change');
  t.equal(Buffer.concat(outs).toString('latin1').slice(-5), '\r\n.\r\n');
});
