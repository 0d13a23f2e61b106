/**
 * The option reader of lib/submit/cli.ts replaced commander 14 on the start-up
 * path (README, Performance). This test keeps commander as the oracle: the
 * program below is the one cli.ts used to build, and every token list — the
 * callers' command lines and a few thousand random ones — must give the same
 * option values, operands, parser calls and errors from both.
 */
import t from 'tap';
import { Command, CommanderError } from 'commander';
import { VALUE_CHECKS, normalizeArgv, parseArgs, readTokens } from '../../lib/submit/cli.js';
import { SmarthostError } from '../../lib/errors.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The commander program of cli.ts before the change, with the same value checks; `calls` records the sender parser calls. */
function commanderProgram(calls: string[]): Command {
  const silent = (): void => {};
  const rec =
    (name: string) =>
    (v: string): string => {
      calls.push(`${name}=${v}`);
      return v;
    };
  return new Command('sendmail')
    .exitOverride()
    .configureOutput({ writeOut: silent, writeErr: silent, outputError: silent })
    .helpOption(false)
    .argument('[recipients...]')
    .option('--help')
    .option('-t')
    .option('-i')
    .option('-v')
    .option('-G')
    .option('-U')
    .option('-m')
    .option('-n')
    .option('--debug')
    .option('--debug-arg <flags>')
    .option('--queue')
    .option('--queue-arg <arg>')
    .option('--no-queue')
    .option('--init-spool')
    .option('--deliver-ids')
    .option('--remove-ids')
    .option('-f <sender>', '', rec('f'))
    .option('-r <sender>', '', rec('r'))
    .option('-F <fullname>', '', VALUE_CHECKS.F)
    .option('-b <mode>', '', VALUE_CHECKS.b)
    .option('-o <option>', '', collect, [])
    .option('-O <option=value>', '', collect, [])
    .option('-N <dsn>', '', VALUE_CHECKS.N)
    .option('-R <ret>', '', VALUE_CHECKS.R)
    .option('-V <envid>', '', VALUE_CHECKS.V)
    .option('-B <type>')
    .option('-C <file>')
    .option('-h <hops>')
    .option('-L <tag>')
    .option('-X <logfile>')
    .option('-e <mode>', '', collect, [])
    .option('-A <which>', '', collect, []);
}

type Result = { ok: true; opts: Record<string, unknown>; args: string[]; calls: string[] } | { ok: false; error: string };

function viaCommander(tokens: string[]): Result {
  const calls: string[] = [];
  const program = commanderProgram(calls);
  try {
    program.parse(tokens, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError || err instanceof SmarthostError) return { ok: false, error: err.message };
    throw err;
  }
  return { ok: true, opts: { ...program.opts() }, args: [...program.args], calls };
}

function viaReader(tokens: string[]): Result {
  const calls: string[] = [];
  try {
    const { opts, args } = readTokens(tokens, (v) => {
      calls.push(`?=${v}`);
      return v;
    });
    return { ok: true, opts, args, calls };
  } catch (err) {
    if (err instanceof SmarthostError) return { ok: false, error: err.message };
    throw err;
  }
}

const VOCAB = [
  '-t', '-i', '-v', '-ti', '-oi', '-odq', '-odi', '-oem', '-oep', '-f', '-fme@x', '-r', '-F', '-FCron', '-bm', '-bp', '-bs', '-bpc', '-b', 'm',
  '-d', '-d0.1', '-q', '-qf', '-q30m', '--', '-', '', 'a@x', 'b@y', '-x@z', '--help', '--no-queue', '--init-spool', '-M', '-Mrm', '-N', 'never',
  '-R', 'hdrs', '-V', 'env', '-B', '8BITMIME', '-C', '/c', '-h', '5', '-L', 'tag', '-X', '/l', '-O', 'IgnoreDots', '-e', 'q', '-A', 'c', '-ee', '-G', '-U', '-m', '-n',
];

/** A small deterministic generator (xorshift32) so a failure is reproducible. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

t.test('the reader stores what commander stored, on the same tokens', async (t) => {
  const rand = rng(0x5eed);
  let compared = 0;
  for (let n = 0; n < 3000; n++) {
    const argv = Array.from({ length: 1 + Math.floor(rand() * 7) }, () => VOCAB[Math.floor(rand() * VOCAB.length)]!);
    let tokens: string[];
    try {
      tokens = normalizeArgv(argv);
    } catch {
      continue; // refused by the pre-pass, before either reader
    }
    const want = viaCommander(tokens);
    const got = viaReader(tokens);
    if (!want.ok || !got.ok) {
      // the same value check refuses the same value first, with the same message
      if (!(!want.ok && !got.ok && want.error === got.error)) t.same(got, want, `tokens ${JSON.stringify(tokens)}`);
      compared++;
      continue;
    }
    const same =
      JSON.stringify(got.opts, Object.keys(got.opts).sort()) === JSON.stringify(want.opts, Object.keys(want.opts).sort()) &&
      JSON.stringify(got.args) === JSON.stringify(want.args) &&
      JSON.stringify(got.calls.map((c) => c.slice(2))) === JSON.stringify(want.calls.filter((c) => /^[fr]=/.test(c)).map((c) => c.slice(2)));
    if (!same) t.same({ opts: got.opts, args: got.args }, { opts: want.opts, args: want.args }, `tokens ${JSON.stringify(tokens)}`);
    compared++;
  }
  t.ok(compared > 1500, `compared ${compared} token lists`);
});

t.test('parseArgs errors and values through the real parsers', async (t) => {
  // values the custom parsers refuse must still be refused by name, in argv order
  const cases: [string[], RegExp | Record<string, unknown>][] = [
    [['-bx', 'a@x'], /unknown mode "-bx"/],
    [['-bd'], /-bd \(run as a daemon\) is not supported/],
    [['-N', 'sometimes', 'a@x'], /bad -N value "sometimes"/],
    [['-R', 'most', 'a@x'], /bad -R value "most"/],
    [['-F', 'a\nb', 'a@x'], /bad -F value .*control character/],
    [['-bp', '-bx'], /unknown mode "-bx"/],
    [['a@x', '-f', 'me@x', 'b@y'], { recipients: ['a@x', 'b@y'], sender: 'me@x' }],
    [['-f', 'one@x', '-r', 'two@x', 'a@x'], { sender: 'two@x' }],
    [['-q', '--no-queue', 'a@x'], { queueRun: false, noQueue: true }],
    [['--no-queue', '-q'], { queueRun: true, noQueue: false }],
    [['-bp', '-bm', 'a@x'], { mode: 'm' }],
    [['-f', '--', 'a@x'], { sender: '--', recipients: ['a@x'] }],
    [['-o', 'dq', '-odi', 'a@x'], { queueOnly: false, options: ['dq', 'di'] }],
  ];
  for (const [argv, want] of cases) {
    if (want instanceof RegExp) {
      let message = '(no error)';
      try {
        parseArgs(argv);
      } catch (e) {
        message = e instanceof SmarthostError ? e.message : String(e);
      }
      t.match(message, want, argv.join(' '));
    } else {
      const inv = parseArgs(argv) as unknown as Record<string, unknown>;
      t.same(Object.fromEntries(Object.keys(want).map((k) => [k, inv[k]])), want, argv.join(' '));
    }
  }
});
