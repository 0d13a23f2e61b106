/**
 * Which queue command an invocation asks for. Its own file so that the
 * composition root can decide without loading the queue code (start-up cost).
 */

export type QueueCommand = 'init' | 'list' | 'count' | 'run' | 'deliver' | 'remove' | 'drop';

/** The queue command an invocation asks for, if any (pure). */
export function queueCommandOf(inv: { mode: string; queueRun: boolean; messageAction?: 'deliver' | 'remove' | 'drop'; initSpool?: boolean }): QueueCommand | undefined {
  if (inv.initSpool) return 'init';
  if (inv.messageAction === 'remove') return 'remove';
  if (inv.messageAction === 'deliver') return 'deliver';
  if (inv.messageAction === 'drop') return 'drop';
  if (inv.mode === 'p') return 'list';
  if (inv.mode === 'pc') return 'count';
  if (inv.queueRun) return 'run';
  return undefined;
}
