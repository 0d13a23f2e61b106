/**
 * Exim time intervals (spec "Time intervals", readconf_readtime): a sequence
 * of numbers each followed by a unit letter, e.g. `30s`, `5m`, `1h30m`, `2d`,
 * `1w`. Pure; values in milliseconds.
 *
 * Differences from Exim, on purpose:
 *  - a bare number is seconds (`30` = `30s`); Exim rejects it;
 *  - white space around the whole value is ignored.
 * As in Exim's millisecond form, only seconds may have a fraction (`0.5s`,
 * `1m2.5s`), and the units may come in any order and repeat (`90m` is fine).
 */

import { configError } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const HINT = '(expected e.g. 30s, 5m, 1h30m, 2d)';

/**
 * Parse an Exim time interval into milliseconds (rounded to a whole ms).
 *
 * @throws SmarthostError E_CONFIG `bad time interval "<text>" (expected …)`
 *   for anything else (empty, unknown unit, a fraction on a unit other than
 *   `s`, a sign, a value too large to represent exactly).
 * @example parseDuration('1m30s') // 90000
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  const bad = () => configError(`bad time interval ${JSON.stringify(text)} ${HINT}`);
  if (t === '') throw bad();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(t)) {
    ms = Number(t) * 1000;
  } else {
    ms = 0;
    const re = /(\d+)(\.\d+)?([smhdw])/y;
    let pos = 0;
    while (pos < t.length) {
      re.lastIndex = pos;
      const m = re.exec(t);
      if (!m) throw bad();
      const [, whole, frac, unit] = m;
      if (frac !== undefined && unit !== 's') throw bad();
      ms += Number(`${whole}${frac ?? ''}`) * UNIT_MS[unit!]!;
      pos = re.lastIndex;
    }
  }
  ms = Math.round(ms);
  if (!Number.isSafeInteger(ms)) throw bad();
  return ms;
}

/**
 * Format milliseconds the way Exim prints intervals: `1h30m`, `45s`, `0s`;
 * a sub-second remainder is written as a fraction of seconds (`1.5s`).
 * `parseDuration(formatDuration(x)) === x` for every non-negative safe integer.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`formatDuration: bad value ${ms}`);
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    const size = UNIT_MS[unit]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest > 0 || out === '') {
    const secs = Math.floor(rest / 1000);
    const milli = rest % 1000;
    out += milli === 0 ? `${secs}s` : `${secs}.${String(milli).padStart(3, '0').replace(/0+$/, '')}s`;
  }
  return out;
}

/** The longest time option accepted: setTimeout overflows past 2^31 ms (~24.8 days). */
export const MAX_TIME_MS = 24 * 86_400_000;

/**
 * A time option's value (e.g. `dns_retrans`, `delivery_timeout`) in ms: Exim's
 * notation, more than 0, at most 24 days.
 * @throws SmarthostError E_CONFIG naming the option and quoting the value.
 */
export function parseTimeOption(v: string, name: string): number {
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch {
    throw configError(`bad time interval ${JSON.stringify(v)} for ${name} (expected e.g. 30s, 5m, 1h30m)`);
  }
  if (ms <= 0) throw configError(`${name} must be more than 0, got ${JSON.stringify(v)}`);
  if (ms > MAX_TIME_MS) throw configError(`${name} is too long: ${JSON.stringify(v)} (at most 24d)`);
  return ms;
}
