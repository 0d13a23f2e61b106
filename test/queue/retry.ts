import t from 'tap';
import { DEFAULT_RETRY_RULES, MAX_RETRY_INTERVAL, nextAttemptAt, parseRetryRules, retrySchedule } from '../../lib/queue/retry.js';
import { defaultConfig, parseConfig } from '../../lib/route/config.js';
import { formatDuration, parseDuration } from '../../lib/route/duration.js';

const H = 3_600_000;
const M = 60_000;
const D = 24 * H;

t.test('parseRetryRules', async (t) => {
  t.strictSame(parseRetryRules('F,2h,15m; G,16h,1h,1.5; F,4d,6h'), [
    { kind: 'F', cutoff: 2 * H, interval: 15 * M, text: 'F,2h,15m' },
    { kind: 'G', cutoff: 16 * H, interval: H, factor: 1.5, text: 'G,16h,1h,1.5' },
    { kind: 'F', cutoff: 4 * D, interval: 6 * H, text: 'F,4d,6h' },
  ]);
  t.strictSame(DEFAULT_RETRY_RULES, parseRetryRules('F,2h,15m; G,16h,1h,1.5; F,4d,6h'), 'the default');
  t.ok(Object.isFrozen(DEFAULT_RETRY_RULES));
  const ok: Array<[string, unknown[]]> = [
    ['', []],
    ['  ;  ', []],
    ['F,1d,1h;', [{ kind: 'F', cutoff: D, interval: H, text: 'F,1d,1h' }]],
    [' F , 1d , 1h ', [{ kind: 'F', cutoff: D, interval: H, text: 'F , 1d , 1h' }]],
    ['G,8h,10m,2', [{ kind: 'G', cutoff: 8 * H, interval: 10 * M, factor: 2, text: 'G,8h,10m,2' }]],
    ['F,30m,5m;F,1h,10m', [{ kind: 'F', cutoff: 30 * M, interval: 5 * M, text: 'F,30m,5m' }, { kind: 'F', cutoff: H, interval: 10 * M, text: 'F,1h,10m' }]],
  ];
  for (const [text, want] of ok) t.strictSame(parseRetryRules(text), want, JSON.stringify(text));
  const bad: Array<[string, string]> = [
    ['X,2h,15m', 'bad retry rule "X,2h,15m": the first letter must be F (fixed) or G (geometric)'],
    ['f,2h,15m', 'bad retry rule "f,2h,15m": the first letter must be F (fixed) or G (geometric)'],
    ['H,2h,15m,2', 'retry rule "H,2h,15m,2": H (random) rules are not supported; use G'],
    ['F,2x,15m', 'bad time "2x" in retry rule "F,2x,15m" (expected e.g. 30s, 5m, 1h30m, 2d)'],
    ['F,2h', 'retry rule "F,2h" has no interval'],
    ['F', 'retry rule "F" has no cutoff time'],
    ['F,2h,', 'retry rule "F,2h," has no interval'],
    ['F,2h,15m,3', 'retry rule "F,2h,15m,3" has too many parameters (F,<cutoff>,<interval>)'],
    ['G,2h,15m', 'retry rule "G,2h,15m" needs a factor (G,<cutoff>,<interval>,<factor>)'],
    ['G,2h,15m,1', 'bad factor "1" in retry rule "G,2h,15m,1" (a number more than 1 and at most 100; use F for a fixed interval)'],
    ['G,2h,15m,x', 'bad factor "x" in retry rule "G,2h,15m,x" (a number more than 1 and at most 100; use F for a fixed interval)'],
    ['G,2h,15m,1.5,9', 'retry rule "G,2h,15m,1.5,9" has too many parameters (G,<cutoff>,<interval>,<factor>)'],
    ['F,0s,15m', 'the cutoff time in retry rule "F,0s,15m" must be more than 0, got "0s"'],
    ['F,2h,0', 'the interval in retry rule "F,2h,0" must be more than 0, got "0"'],
    ['F,400d,1h', 'the cutoff time in retry rule "F,400d,1h" is too long: "400d" (at most 366d)'],
    ['F,4d,6h; F,2h,15m', 'the cutoff time in retry rule "F,2h,15m" is not later than that of "F,4d,6h" (cutoffs count from the first failure, so they must grow)'],
    ['F,2h,15m; F,2h,30m', 'the cutoff time in retry rule "F,2h,30m" is not later than that of "F,2h,15m" (cutoffs count from the first failure, so they must grow)'],
  ];
  for (const [text, msg] of bad) t.throws(() => parseRetryRules(text), { code: 'E_CONFIG', kind: 'config', message: msg }, text);
  t.throws(() => parseRetryRules('X', 'my.conf:3'), { message: /^my\.conf:3: bad retry rule "X"/ }, 'where is prefixed');
});

t.test('the config options', async (t) => {
  const d = defaultConfig();
  t.strictSame(d.retryRules, DEFAULT_RETRY_RULES);
  t.not(d.retryRules, DEFAULT_RETRY_RULES, 'a copy');
  t.equal(d.logFilePath, '/var/log/send-smarthost/mainlog');
  const c = parseConfig('retry_rules = F,1h,5m; F,1d,1h\nlog_file_path = /var/log/mail/ss.log\n', '/x.conf');
  t.strictSame(
    c.retryRules.map((r) => r.text),
    ['F,1h,5m', 'F,1d,1h'],
  );
  t.equal(c.logFilePath, '/var/log/mail/ss.log');
  t.strictSame(parseConfig('retry_rules =\n', '/x.conf').retryRules, [], 'empty: no retries');
  t.throws(() => parseConfig('port = 25\nretry_rules = F,2h,15m; Q,1d,1h\n', '/x.conf'), {
    code: 'E_CONFIG',
    message: '/x.conf:2: bad retry rule "Q,1d,1h": the first letter must be F (fixed) or G (geometric)',
  });
  t.throws(() => parseConfig('log_file_path = mainlog\n', '/x.conf'), {
    message: '/x.conf:1: log_file_path must be an absolute path, got "mainlog"',
  });
  t.throws(() => parseConfig('log_file_path =\n', '/x.conf'), { message: /^\/x\.conf:1: option "log_file_path" needs a value/ });
});

t.test('nextAttemptAt: one step at a time', async (t) => {
  const rules = DEFAULT_RETRY_RULES;
  const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
  // [first failure, last attempt, scheduled, now] (offsets from T0) → expected offset or give-up
  const rows: Array<[string, number, number, number | undefined, number, number | 'give-up']> = [
    ['first failure', 0, 0, undefined, 0, 15 * M],
    ['F rule mid-way', 0, 45 * M, 60 * M, 60 * M, 75 * M],
    ['F rule at its cutoff (inclusive, as Exim)', 0, 105 * M, 2 * H, 2 * H, 2 * H + 15 * M],
    ['first G step: gap was 15m < 1h, so 1h', 0, 2 * H, 2 * H + 15 * M, 2 * H + 15 * M, 3 * H + 15 * M],
    ['G step: 1h × 1.5', 0, 2 * H + 15 * M, 3 * H + 15 * M, 3 * H + 15 * M, 4 * H + 45 * M],
    ['G step after a late run: the scheduled gap counts', 0, 2 * H + 15 * M, 3 * H + 15 * M, 5 * H, 6 * H + 30 * M],
    ['G step after a forced early run: the real gap counts', 0, 3 * H + 15 * M, 4 * H + 45 * M, 3 * H + 15 * M + 20 * M, 4 * H + 35 * M],
    ['G step without the scheduled time: the real gap', 0, 3 * H + 15 * M, undefined, 4 * H + 45 * M, 7 * H],
    ['last F rule', 0, 17 * H, 23 * H, 23 * H, 29 * H],
    ['at 4 days exactly: one more', 0, 90 * H, 96 * H, 96 * H, 102 * H],
    ['past 4 days: give up', 0, 95 * H, 101 * H, 101 * H, 'give-up'],
    ['a month later (queue runner was off): give up', 0, 10 * H, 16 * H, 30 * D, 'give-up'],
    ['clock went backwards: treated as a first failure', 60 * M, 60 * M, undefined, 0, 15 * M],
  ];
  for (const [name, first, last, next, now, want] of rows) {
    const state = { firstFailure: T0 + first, lastAttempt: T0 + last, ...(next === undefined ? {} : { nextAttempt: T0 + next }) };
    const got = nextAttemptAt(state, T0 + now, rules);
    t.equal(got === 'give-up' ? got : formatDuration(got - T0), want === 'give-up' ? want : formatDuration(want), name);
  }
  t.equal(nextAttemptAt({ firstFailure: T0, lastAttempt: T0 }, T0, []), 'give-up', 'no rules: no retries');
  const huge = parseRetryRules('G,300d,1h,10');
  t.equal(nextAttemptAt({ firstFailure: 0, lastAttempt: 10 * H, nextAttempt: 20 * H }, 20 * H, huge), 20 * H + MAX_RETRY_INTERVAL, 'no gap over 24h');
});

t.test('the whole default schedule', async (t) => {
  const { attempts, giveUp } = retrySchedule(DEFAULT_RETRY_RULES);
  const want = [
    // F,2h,15m: every 15 minutes up to and including 2h
    '0s', '15m', '30m', '45m', '1h', '1h15m', '1h30m', '1h45m', '2h',
    // G,16h,1h,1.5: the first gap is 1h (15m is less than the start interval), then ×1.5
    '2h15m', '3h15m', '4h45m', '7h', '10h22m30s', '15h26m15s',
    // 15h26m15s is within 16h, so its gap is still geometric: 5h3m45s × 1.5 = 7h35m37.5s
    '23h1m52.5s',
    // F,4d,6h: every 6 hours while at most 4 days have passed
    '1d5h1m52.5s', '1d11h1m52.5s', '1d17h1m52.5s', '1d23h1m52.5s',
    '2d5h1m52.5s', '2d11h1m52.5s', '2d17h1m52.5s', '2d23h1m52.5s',
    '3d5h1m52.5s', '3d11h1m52.5s', '3d17h1m52.5s', '3d23h1m52.5s',
    // 3d23h1m52.5s is within 4d: one more attempt, 6 hours later, past the cutoff: give up
    '4d5h1m52.5s',
  ];
  t.strictSame(attempts.map(formatDuration), want);
  t.equal(attempts.length, 29, '29 attempts in all');
  t.equal(formatDuration(giveUp), '4d5h1m52.5s', 'gives up at the first failure after 4 days');
  t.ok(giveUp > 4 * D && attempts[attempts.length - 2]! <= 4 * D);
  for (let i = 1; i < attempts.length; i++) t.ok(attempts[i]! > attempts[i - 1]!, `attempt ${i} is later`);
  t.equal(parseDuration('4d5h1m52.5s'), 101 * H + M + 52_500);
});

t.test('retrySchedule of other rules', async (t) => {
  t.strictSame(retrySchedule([]), { attempts: [0], giveUp: 0 }, 'no rules: the first failure is final');
  t.strictSame(retrySchedule(parseRetryRules('F,1h,30m')).attempts.map(formatDuration), ['0s', '30m', '1h', '1h30m']);
  t.strictSame(retrySchedule(parseRetryRules('G,1d,1h,2')).attempts.map(formatDuration), ['0s', '1h', '3h', '7h', '15h', '1d7h']);
  t.throws(() => retrySchedule(parseRetryRules('F,366d,1s'), 100), RangeError, 'bounded');
});
