import t from 'tap';
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyBody, tempFile } from '../../lib/submit/large.js';
import { toCrlf } from '../../lib/submit/hygiene.js';
import { truncateAtDot } from '../../lib/submit/message.js';
import { acceptInput, acceptPiped, acceptor } from '../../lib/submit/accept.js';
import { readInput } from '../../lib/submit/stdin.js';
import { IN_MEMORY_MAX, dataBuffer, isFileData } from '../../lib/data.js';
import { parseArgs } from '../../lib/submit/cli.js';
import { defaultConfig } from '../../lib/route/config.js';
import { noTrace } from '../../lib/report/trace.js';
import { openSync } from 'node:fs';

/** A seeded generator: reproducible random bodies. */
function rng(seed: number) {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

function randomBody(r: () => number, lines: number): Buffer {
  const ends = ['\n', '\r\n', '\r'];
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const k = r();
    const text = k < 0.05 ? '.' : k < 0.08 ? '' : k < 0.1 ? '..dots' : 'x'.repeat(Math.floor(r() * 120)) + (r() < 0.1 ? 'é' : '');
    parts.push(text + ends[Math.floor(r() * 3)]!);
  }
  if (r() < 0.5) parts.push('tail without end');
  return Buffer.from(parts.join(''), 'utf8');
}

t.test('copyBody = toCrlf(truncateAtDot(body)) at every chunk size, -i or not', async (t) => {
  const dir = t.testdir();
  const r = rng(7);
  for (let round = 0; round < 40; round++) {
    const body = randomBody(r, 1 + Math.floor(r() * 200));
    const rawPath = join(dir, `raw${round}`);
    writeFileSync(rawPath, body);
    for (const ignoreDots of [false, true]) {
      for (const chunk of [1, 2, 3, 7, 64, 4096]) {
        const out = tempFile(dir, 'out');
        const res = copyBody({ path: rawPath, size: body.length }, 0, out.fd, ignoreDots, chunk);
        closeSync(out.fd);
        const want = toCrlf(ignoreDots ? body : truncateAtDot(body));
        const got = readFileSync(out.path);
        if (!got.equals(want) || 'longLine' in res || res.size !== want.length) {
          t.fail(`round ${round}, chunk ${chunk}, -i ${ignoreDots}: ${JSON.stringify(got.toString())} != ${JSON.stringify(want.toString())}`);
          return;
        }
        t.equal(res.eightBit, /[^\x00-\x7f]/.test(want.toString('latin1')), 'eightBit');
      }
    }
  }
});

t.test('a line over 998 octets stops the copy (the message is then re-encoded in memory)', async (t) => {
  const dir = t.testdir();
  const body = Buffer.from(`short\n${'y'.repeat(999)}\nmore\n`);
  writeFileSync(join(dir, 'raw'), body);
  const out = tempFile(dir, 'out');
  t.same(copyBody({ path: join(dir, 'raw'), size: body.length }, 0, out.fd, true, 16), { longLine: true });
  closeSync(out.fd);
});

t.test('a large message: spilled to a file while read, prepared like a small one, never whole in memory', async (t) => {
  const dir = t.testdir();
  const cfg = { ...defaultConfig(), systemAliasesFile: '' };
  const a = await acceptor(cfg, 'host.example.test', noTrace, () => {}, 'root');
  const line = 'The quick brown fox jumps over the lazy dog, 0123456789.\n';
  const body = line.repeat(Math.ceil((IN_MEMORY_MAX * 1.5) / line.length));
  for (const [name, text, args] of [
    ['-t with Bcc', `To: a@example.test\nBcc: secret@example.test\nSubject: big\n\n${body}`, ['-t']],
    ['no separator', `Subject: big\nthis line is not a header\n${body}`, ['r@example.test']],
    ['a dot line ends it', `Subject: big\n\n${body}.\nafter the dot\n`, ['r@example.test']],
    ['-i keeps the dot line', `Subject: big\n\n${body}.\nafter the dot\n`, ['-i', 'r@example.test']],
  ] as const) {
    const file = join(dir, `in-${name.replace(/\W/g, '')}`);
    writeFileSync(file, text);
    const inv = parseArgs([...args]);
    const fd = openSync(file, 'r');
    const raw = await readInput(fd, async () => Buffer.alloc(0), { spillDir: () => dir });
    closeSync(fd);
    t.notOk(Buffer.isBuffer(raw), `${name}: spilled to a file`);
    const big = acceptInput(raw, inv, a, 'root', noTrace, () => dir);
    t.ok(isFileData(big.data), `${name}: kept in a file`);
    const small = acceptPiped(Buffer.from(text), inv, a, 'root', noTrace);
    t.same(big.envelope, small.envelope, `${name}: the same envelope`);
    // the same bytes but for the Date and Message-ID values
    const mask = (b: Buffer) => b.toString('latin1').replace(/^(Date|Message-ID): .*$/gm, '$1: x');
    t.equal(mask(dataBuffer(big.data)), mask(small.data), `${name}: the same data`);
  }
});
