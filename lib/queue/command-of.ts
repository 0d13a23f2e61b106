/**
 * Which queue command an invocation asks for. Its own file so that the
 * composition root can decide without loading the queue code (start-up cost).
 */
import type { MessageAction } from '../types.js';
import type { ListingStyle } from '../report/listing.js';

export type QueueCommand = 'init' | 'list' | 'count' | 'run' | MessageAction;

/** The -bp family (Exim's): -bp, -bpu, -bpa, -bpr and the combinations -bpru, -bpra. */
const LISTING = /^p[ura]*$/;

/** The queue command an invocation asks for, if any (pure). */
export function queueCommandOf(inv: { mode: string; queueRun: boolean; messageAction?: MessageAction; initSpool?: boolean }): QueueCommand | undefined {
  if (inv.initSpool) return 'init';
  if (inv.messageAction) return inv.messageAction;
  if (inv.mode === 'pc') return 'count';
  if (LISTING.test(inv.mode)) return 'list';
  if (inv.queueRun) return 'run';
  return undefined;
}

/** The listing style of a -bp mode (pure). */
export function listingStyle(mode: string): ListingStyle {
  const flags = mode.slice(1);
  return { undelivered: flags.includes('u'), generated: flags.includes('a'), unsorted: flags.includes('r') };
}
