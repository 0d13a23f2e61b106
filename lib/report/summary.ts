/**
 * What the caller is told on stderr after a delivery run (pure): one line per
 * recipient that was not delivered, and with -v/-d the delivered ones too.
 */
import type { Attempt, Outcome } from '../types.js';

export function summarize(outcome: Outcome, verbose: boolean): string[] {
  const lines: string[] = [];
  for (const r of outcome.recipients) {
    if (r.result === 'delivered' && !verbose) continue;
    const via = r.host ? ` via ${r.host}` : '';
    const what = r.result === 'deferred' ? 'deferred (temporary failure; not delivered)' : r.result;
    lines.push(`<${r.recipient}>: ${what}${via}: ${r.reason}`);
  }
  const tried = describeAttempts(outcome);
  if (tried) lines.push(tried);
  return lines;
}

/** `canonical [address]:port: ` (the prefix session errors start with), removed when repeated. */
const prefixOf = (a: Attempt): string => `${a.canonical} [${a.address}]:${a.port}: `;

/** One attempt as `name (canonical) [address]:port at stage: reason` (`name: reason` when there is no address). */
export function describeAttempt(a: Attempt): string {
  const reason = a.reason.startsWith(prefixOf(a)) ? a.reason.slice(prefixOf(a).length) : a.reason;
  if (a.address === '') return `${a.queried}: ${reason}`;
  const names = a.canonical !== a.queried ? `${a.queried} (${a.canonical})` : a.queried;
  return `${names} [${a.address}]:${a.port} at ${a.stage}: ${reason}`;
}

/**
 * When a run was not fully delivered and more than one host or address was
 * tried, every failed attempt in order, with its reason, on one line:
 * `all 3 attempts failed: a [192.0.2.1]:25 at connect: …; b …`. Pure.
 */
export function describeAttempts(outcome: Outcome): string | undefined {
  if (outcome.result === 'delivered') return undefined;
  const failed = outcome.attempts.filter((a) => a.result !== 'delivered');
  if (failed.length < 2) return undefined;
  const head = failed.length === outcome.attempts.length ? `all ${failed.length} attempts failed` : `${failed.length} of ${outcome.attempts.length} attempts failed`;
  return `${head}: ${failed.map(describeAttempt).join('; ')}`;
}
