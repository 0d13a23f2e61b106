/**
 * The notation of Exim's retry rules (spec "Retry configuration", "Retry rule
 * parameters"): `F,2h,15m; G,16h,1h,1.5; F,4d,6h`. Pure.
 *
 * It lives in the route stage because config.ts parses it; the queue stage
 * (lib/queue/retry.ts) re-exports it and computes the schedule.
 *
 * Differences from Exim, on purpose:
 *  - only F (fixed) and G (geometric) rules; Exim's H (random) is refused;
 *  - the cutoffs must grow from rule to rule (a rule whose cutoff is not later
 *    than the one before could never apply, so it is surely a mistake);
 *  - a G factor must be more than 1 (use F for a fixed interval) and at most 100.
 */
import { configError } from '../errors.js';
import { parseDuration } from './duration.js';
import type { RetryRule } from '../types.js';

/** The default, as in Exim's default configuration and send-smarthost.conf(5). */
export const DEFAULT_RETRY_RULES_TEXT = 'F,2h,15m; G,16h,1h,1.5; F,4d,6h';

const q = (s: string): string => JSON.stringify(s);

/** Longest cutoff or interval accepted: one year. */
const MAX_MS = 366 * 86_400_000;

/**
 * Parse a list of retry rules separated by semicolons. White space around
 * the rules and their parameters is ignored, as is a trailing semicolon. An
 * empty text gives no rules (Exim: no retries; a temporary error is final).
 *
 * @param where prefixed to messages (`<where>: …`), e.g. `file:line`; config.ts
 *   leaves it out and adds `file:line` itself.
 * @throws SmarthostError E_CONFIG quoting the bad rule or parameter, e.g.
 *   `bad retry rule "X,2h,15m": the first letter must be F (fixed) or G (geometric)`,
 *   `bad time "2x" in retry rule "F,2x,15m" (expected e.g. 30s, 5m, 1h30m, 2d)`.
 */
export function parseRetryRules(text: string, where?: string): RetryRule[] {
  const fail = (msg: string) => configError(where ? `${where}: ${msg}` : msg);
  const rules: RetryRule[] = [];
  for (const raw of text.split(';')) {
    const item = raw.trim();
    if (item === '') continue;
    const parts = item.split(',').map((p) => p.trim());
    const kind = parts[0]!;
    const time = (v: string | undefined, what: string): number => {
      if (v === undefined || v === '') throw fail(`retry rule ${q(item)} has no ${what}`);
      let ms: number;
      try {
        ms = parseDuration(v);
      } catch {
        throw fail(`bad time ${q(v)} in retry rule ${q(item)} (expected e.g. 30s, 5m, 1h30m, 2d)`);
      }
      if (ms <= 0) throw fail(`the ${what} in retry rule ${q(item)} must be more than 0, got ${q(v)}`);
      if (ms > MAX_MS) throw fail(`the ${what} in retry rule ${q(item)} is too long: ${q(v)} (at most 366d)`);
      return ms;
    };
    if (kind === 'H') throw fail(`retry rule ${q(item)}: H (random) rules are not supported; use G`);
    if (kind !== 'F' && kind !== 'G') {
      throw fail(`bad retry rule ${q(item)}: the first letter must be F (fixed) or G (geometric)`);
    }
    const want = kind === 'F' ? 3 : 4;
    if (parts.length > want) {
      throw fail(`retry rule ${q(item)} has too many parameters (${kind === 'F' ? 'F,<cutoff>,<interval>' : 'G,<cutoff>,<interval>,<factor>'})`);
    }
    const cutoff = time(parts[1], 'cutoff time');
    const interval = time(parts[2], 'interval');
    const prev = rules[rules.length - 1];
    if (prev && cutoff <= prev.cutoff) {
      throw fail(
        `the cutoff time in retry rule ${q(item)} is not later than that of ${q(prev.text)} (cutoffs count from the first failure, so they must grow)`,
      );
    }
    if (kind === 'F') {
      rules.push({ kind, cutoff, interval, text: item });
      continue;
    }
    const f = parts[3];
    if (f === undefined || f === '') throw fail(`retry rule ${q(item)} needs a factor (G,<cutoff>,<interval>,<factor>)`);
    const factor = /^\d+(\.\d+)?$/.test(f) ? Number(f) : NaN;
    if (!(factor > 1 && factor <= 100)) {
      throw fail(`bad factor ${q(f)} in retry rule ${q(item)} (a number more than 1 and at most 100; use F for a fixed interval)`);
    }
    rules.push({ kind, cutoff, interval, factor, text: item });
  }
  return rules;
}

/** The default rules, parsed: `F,2h,15m; G,16h,1h,1.5; F,4d,6h`. */
export const DEFAULT_RETRY_RULES: readonly RetryRule[] = Object.freeze(parseRetryRules(DEFAULT_RETRY_RULES_TEXT));
