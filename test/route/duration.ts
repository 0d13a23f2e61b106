import t from 'tap';
import { formatDuration, parseDuration } from '../../lib/route/duration.js';

t.test('parseDuration', async (t) => {
  const rows: Array<[string, number | RegExp]> = [
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1m30s', 90_000],
    ['3h50m', 13_800_000],
    ['90m', 5_400_000],
    ['1s1m', 61_000], // Exim does not insist on an order
    ['0s', 0],
    ['30', 30_000], // a bare number is seconds (an extension: Exim wants a unit)
    ['0.5s', 500],
    ['1m2.25s', 62_250],
    ['1.5', 1500],
    [' 2s ', 2000],
    ['', /^bad time interval "" \(expected e\.g\. 30s, 5m, 1h30m, 2d\)$/],
    ['5x', /^bad time interval "5x"/],
    ['1.5m', /^bad time interval "1.5m"/], // only seconds take a fraction
    ['m', /^bad time interval "m"/],
    ['1m 30s', /^bad time interval "1m 30s"/],
    ['-5s', /^bad time interval "-5s"/],
    ['5S', /^bad time interval "5S"/],
    ['1m30', /^bad time interval "1m30"/],
    ['99999999999999999999w', /^bad time interval/],
  ];
  for (const [input, want] of rows) {
    if (want instanceof RegExp) t.throws(() => parseDuration(input), { message: want, code: 'E_CONFIG' }, JSON.stringify(input));
    else t.equal(parseDuration(input), want, JSON.stringify(input));
  }
});

t.test('formatDuration', async (t) => {
  const rows: Array<[number, string]> = [
    [0, '0s'],
    [500, '0.5s'],
    [1500, '1.5s'],
    [62_250, '1m2.25s'],
    [90_000, '1m30s'],
    [300_000, '5m'],
    [13_800_000, '3h50m'],
    [694_861_001, '1w1d1h1m1.001s'],
  ];
  for (const [ms, want] of rows) {
    t.equal(formatDuration(ms), want, String(ms));
    t.equal(parseDuration(want), ms, `${want} round-trips`);
  }
  t.throws(() => formatDuration(-1), RangeError);
});
