/**
 * The getopt rules of lib/submit/cli.ts as properties, checked on thousands of
 * generated command lines (a seeded generator, so a failure is reproducible):
 * a cluster of boolean letters means the letters one by one; a value attached
 * to its letter means the same as the value in the next word, whatever the
 * value looks like; options mean the same before, between or after the
 * operands; after `--` every word is an operand; and any argv either parses
 * or is refused with a usage error, never anything else.
 */
import t from 'tap';
import { parseArgs } from '../../lib/submit/cli.js';
import { SmarthostError } from '../../lib/errors.js';
import type { Invocation } from '../../lib/types.js';

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

type Outcome = { ok: true; inv: Invocation } | { ok: false; message: string };

function outcome(argv: string[]): Outcome {
  try {
    return { ok: true, inv: parseArgs(argv) };
  } catch (err) {
    if (err instanceof SmarthostError && err.code === 'E_USAGE') return { ok: false, message: err.message };
    throw err;
  }
}

const BOOLS = ['t', 'i', 'v', 'G', 'U', 'm', 'n'];
/** Value letters with values each accepts (some start with '-', one is empty). */
const VALUES: Record<string, string[]> = {
  f: ['me@x.example', '', '<>', '-x@y', '--'],
  r: ['me@x.example', '-'],
  F: ['Cron Daemon', '-F'],
  o: ['i', 'di', 'dq', 'em', 'Xfoo'],
  O: ['IgnoreDots', 'port=587', 'Foo=bar'],
  e: ['m', 'q', 'x'],
  N: ['never', 'success,delay'],
  R: ['hdrs', 'full'],
  V: ['env-1', '-v'],
  B: ['8BITMIME'],
  h: ['17'],
  L: ['tag'],
  C: ['/c.conf', '-C'],
  X: ['/log'],
  A: ['c', 'm'],
  b: ['m', 'p', 's'],
};
const OPERANDS = ['a@x.example', 'b@y.example', 'root', '-', 'c@z.example'];

/** One option as separate words: a boolean letter, or a value letter and its value. */
function option(rand: () => number): string[] {
  if (rand() < 0.4) return [`-${pick(rand, BOOLS)}`];
  const c = pick(rand, Object.keys(VALUES));
  return [`-${c}`, pick(rand, VALUES[c]!)];
}

const N = 1000;

t.test('a cluster of boolean letters means the letters one by one', async (t) => {
  const rand = rng(0xc1a5);
  for (let n = 0; n < N; n++) {
    const letters = Array.from({ length: 2 + Math.floor(rand() * 4) }, () => pick(rand, BOOLS));
    const rest = [pick(rand, OPERANDS)];
    const clustered = outcome([`-${letters.join('')}`, ...rest]);
    const single = outcome([...letters.map((l) => `-${l}`), ...rest]);
    t.same(clustered, single, `-${letters.join('')}`);
  }
});

t.test('an attached value means the same as the value in the next word', async (t) => {
  const rand = rng(0xa77a);
  for (let n = 0; n < N; n++) {
    const c = pick(rand, Object.keys(VALUES));
    const v = pick(rand, VALUES[c]!);
    if (v === '') continue; // -f '' has no attached spelling
    const lead = rand() < 0.5 ? [] : [`-${pick(rand, BOOLS)}`];
    const rest = [pick(rand, OPERANDS)];
    // also behind a cluster of boolean letters: -tfme@x = -t -f me@x
    const attached = outcome(lead.length && rand() < 0.5 ? [`${lead[0]}${c}${v}`, ...rest] : [...lead, `-${c}${v}`, ...rest]);
    const separate = outcome([...lead, `-${c}`, v, ...rest]);
    t.same(attached, separate, `-${c}${v}`);
  }
});

t.test('options mean the same before, between and after the operands', async (t) => {
  const rand = rng(0x0b5e);
  let parsed = 0;
  for (let n = 0; n < N; n++) {
    const opts = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => option(rand));
    const operands = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(rand, OPERANDS));
    const first = outcome([...opts.flat(), ...operands]);
    const last = outcome([...operands, ...opts.flat()]);
    const mixed: string[] = [];
    const queue = [...operands];
    for (const o of opts) {
      mixed.push(...o);
      if (queue.length && rand() < 0.5) mixed.push(queue.shift()!);
    }
    mixed.push(...queue);
    t.same(last, first, `after: ${JSON.stringify([...operands, ...opts.flat()])}`);
    t.same(outcome(mixed), first, `mixed: ${JSON.stringify(mixed)}`);
    if (first.ok) parsed++;
  }
  t.ok(parsed > N / 4, `${parsed} of ${N} command lines parsed (the rest were refused the same way)`);
});

t.test('after -- every word is an operand, in order', async (t) => {
  const rand = rng(0xd0d0);
  const words = ['-t', '-f', '--', '-odq', 'a@x.example', '-', '--help', '-Mrm', '-bp'];
  for (let n = 0; n < N; n++) {
    const tail = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(rand, words));
    const head = option(rand);
    const r = outcome([...head, '--', ...tail]);
    const h = outcome([...head, 'x@y.example']);
    if (!h.ok) continue; // the options alone are refused
    t.ok(r.ok, JSON.stringify([...head, '--', ...tail]));
    if (r.ok) t.same(r.inv.recipients, tail, JSON.stringify(tail));
  }
});

t.test('any argv parses or is refused with a usage error naming what is wrong', async (t) => {
  const rand = rng(0x5eed);
  const vocab = ['-t', '-i', '-ti', '-oi', '-odq', '-odi', '-oem', '-f', '-fme@x', '-r', '-F', '-FCron', '-bm', '-bp', '-bs', '-bpc', '-b', 'm', '-bz',
    '-d', '-d0.1', '-q', '-qf', '-q30m', '--', '-', '', 'a@x', 'b@y', '-x@z', '--help', '--no-queue', '--init-spool', '-M', '-Mrm', '-Mvh', '-N', 'never',
    '-R', 'hdrs', '-V', 'env', '-B', '8BITMIME', '-C', '/c', '-h', '5', '-L', 'tag', '-X', '/l', '-O', 'IgnoreDots', 'port=25', '-e', 'q', '-A', 'c',
    '-ee', '-G', '-U', '-m', '-n', '-Z', '--bogus=1', '1jiFk5-0006UE-9S'];
  let refused = 0;
  for (let n = 0; n < N; n++) {
    const argv = Array.from({ length: 1 + Math.floor(rand() * 7) }, () => pick(rand, vocab));
    const r = outcome(argv); // throws (failing the test) on anything but a usage error
    if (!r.ok) {
      refused++;
      t.ok(r.message.length > 0 && !r.message.includes('\n'), `one line: ${r.message}`);
    }
  }
  t.ok(refused > 0 && refused < N, `${refused} of ${N} refused`);
});
