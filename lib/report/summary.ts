/**
 * What the caller is told on stderr after a delivery run (pure): one line per
 * recipient that was not delivered, and with -v/-d the delivered ones too.
 */
import type { Outcome } from '../types.js';

export function summarize(outcome: Outcome, verbose: boolean): string[] {
  const lines: string[] = [];
  for (const r of outcome.recipients) {
    if (r.result === 'delivered' && !verbose) continue;
    const via = r.host ? ` via ${r.host}` : '';
    const what = r.result === 'deferred' ? 'deferred (temporary failure; not delivered)' : r.result;
    lines.push(`<${r.recipient}>: ${what}${via}: ${r.reason}`);
  }
  return lines;
}
