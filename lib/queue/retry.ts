/**
 * When to try a deferred message again, by Exim's retry rules (spec "Retry
 * configuration"; the computation follows Exim's retry_update). Pure.
 *
 * After an attempt fails temporarily at time `now`:
 *  - the message has been failing for `now - firstFailure`;
 *  - the rule in force is the first whose cutoff is not less than that;
 *  - if there is none (the last cutoff has passed), the message gives up:
 *    its pending recipients fail and the sender gets a bounce;
 *  - F: the next attempt is `now + interval`;
 *  - G: the next gap is the previous gap times the factor, but at least the
 *    rule's interval. The previous gap is the shorter of the one scheduled
 *    (`nextAttempt - lastAttempt`) and the one that really passed
 *    (`now - lastAttempt`), so a late queue run does not stretch the
 *    schedule and a forced run (-qf) shortens it;
 *  - no gap is longer than 24 hours (Exim's retry_interval_max default).
 *
 * With the default `F,2h,15m; G,16h,1h,1.5; F,4d,6h` and attempts made on
 * time, the failures fall at 0, 15m, 30m … 2h (every 15 minutes), then 2h15m,
 * 3h15m, 4h45m, 7h, 10h22m30s, 15h26m15s, 23h1m52.5s, then every 6 hours to
 * 95h1m52.5s; the attempt at 101h1m52.5s is past 4 days: a failure then
 * gives up. (test/queue/retry.ts lists the whole schedule.)
 */
import type { RetryRule } from '../types.js';

export { DEFAULT_RETRY_RULES, DEFAULT_RETRY_RULES_TEXT, parseRetryRules } from '../route/retry-rules.js';

/** The longest gap between two attempts (Exim's retry_interval_max default). */
export const MAX_RETRY_INTERVAL = 24 * 3_600_000;

/** What a message's spool header remembers about its failures (ms since the epoch). */
export interface RetryState {
  /** When the first temporary failure happened (for the first failure: `now`). */
  firstFailure: number;
  /** The attempt before the one that just failed (for the first failure: `now`). */
  lastAttempt: number;
  /** The time that earlier attempt scheduled for this one, when known. */
  nextAttempt?: number;
}

/**
 * The time of the next attempt after a temporary failure at `now`, or
 * `'give-up'` when the message has been failing for longer than the last
 * rule's cutoff (or there are no rules: Exim then treats temporary errors as
 * permanent). Call it before storing `now` as the new `lastAttempt`.
 */
export function nextAttemptAt(state: RetryState, now: number, rules: readonly RetryRule[]): number | 'give-up' {
  const failing = Math.max(0, now - state.firstFailure);
  const rule = rules.find((r) => failing <= r.cutoff);
  if (!rule) return 'give-up';
  let gap: number;
  if (rule.kind === 'F') {
    gap = rule.interval;
  } else {
    const actual = now - state.lastAttempt;
    const predicted = state.nextAttempt === undefined ? actual : state.nextAttempt - state.lastAttempt;
    const last = Math.min(actual, predicted);
    gap = last < rule.interval ? rule.interval : Math.round(last * rule.factor);
  }
  return now + Math.min(gap, MAX_RETRY_INTERVAL);
}

/**
 * The attempts a message would get if every one failed and was made exactly
 * when due: the times of the failed attempts (ms after the first failure,
 * starting with 0) and the time of the last one, after which it gave up.
 * For documentation, -bp style listings and tests. Bounded by `maxAttempts`.
 */
export function retrySchedule(rules: readonly RetryRule[], maxAttempts = 10_000): { attempts: number[]; giveUp: number } {
  const attempts: number[] = [];
  let state: RetryState = { firstFailure: 0, lastAttempt: 0 };
  let now = 0;
  for (let i = 0; i < maxAttempts; i++) {
    attempts.push(now);
    const next = nextAttemptAt(state, now, rules);
    if (next === 'give-up') return { attempts, giveUp: now };
    state = { firstFailure: 0, lastAttempt: now, nextAttempt: next };
    now = next;
  }
  throw new RangeError(`retrySchedule: more than ${maxAttempts} attempts`);
}
