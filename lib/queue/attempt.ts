/**
 * One delivery attempt of one message, and what it means for the message's
 * state (shared by submissions and queue runs). The smarthost delivery comes
 * in through deps; this module records results, retry hints and the next
 * attempt time, and says which recipients failed now (for the bounce). It
 * writes nothing to the spool itself: the caller decides where the new
 * header goes.
 */
import type { MessageData } from '../data.js';
import { crashPoint } from '../store/crash.js';
import { HELD_BACK, hostsHeldBack, loadHints, saveHints, updateHints } from '../store/hints.js';
import { nextAttemptAt } from './retry.js';
import type { DoneRecipient, SpoolHeader } from '../store/header.js';
import type { QueueDeps } from './deps.js';
import type { Attempt, Outcome, RecipientResult } from '../types.js';

export interface AttemptResult {
  /** The new state: `recipients` holds only what is still pending. */
  header: SpoolHeader;
  /** Recipients that failed in this attempt (5xx, or the retry rules gave up). */
  failed: DoneRecipient[];
  /** Whether the smarthost was contacted at all (false: held back by the hints). */
  tried: boolean;
  /** The reason the pending recipients are still pending. */
  reason?: string;
  /** What the delivery said (no attempts when held back). */
  outcome: Outcome;
}

export { HELD_BACK };

/** The attempt that decided a recipient (pure). */
export function attemptFor(outcome: Outcome, r: RecipientResult): Attempt | undefined {
  const mine = outcome.attempts.filter((a) => a.queried === r.host || r.host === undefined);
  if (r.result === 'delivered') return [...mine].reverse().find((a) => a.result === 'delivered');
  return mine[mine.length - 1];
}

/**
 * Try to deliver `h`'s pending recipients now. Unless `forced`, hosts that
 * the retry hints mark as down are not contacted (the recipients stay
 * pending with {@link HELD_BACK}). When the retry rules give up, the pending
 * recipients fail with "retry timeout exceeded".
 */
export async function attemptDelivery(h: SpoolHeader, data: MessageData, deps: QueueDeps, forced: boolean): Promise<AttemptResult> {
  const now = deps.now();
  const hints = deps.hints ? deps.hints.load() : loadHints(deps.spool.db);
  const held = forced ? undefined : hostsHeldBack(hints, deps.hosts, now);
  let outcome: Outcome;
  if (held !== undefined) {
    outcome = { result: 'deferred', attempts: [], recipients: h.recipients.map((recipient) => ({ recipient, result: 'deferred', reason: HELD_BACK })) };
    deps.trace(`${h.id}: ${HELD_BACK}: not contacting ${deps.hosts.map((x) => `${x.name}:${x.port}`).join(', ')} before ${new Date(held).toISOString()}`);
  } else {
    outcome = await deps.deliver({ sender: h.sender, recipients: h.recipients, ...(h.dsn ? { dsn: h.dsn } : {}) }, data);
    if (outcome.recipients.some((r) => r.result === 'delivered')) crashPoint('delivered');
    if (outcome.attempts.length > 0) {
      const updated = updateHints(hints, outcome.attempts, now, (s) => nextAttemptAt(s, now, deps.rules));
      if (JSON.stringify(updated) !== JSON.stringify(hints)) {
        if (deps.hints) deps.hints.save(updated);
        else saveHints(deps.spool.db, updated);
      }
    }
  }
  const after = deps.now();
  const next: SpoolHeader = { ...h, done: [...h.done], recipients: [] };
  const failed: DoneRecipient[] = [];
  const pending: RecipientResult[] = [];
  for (const r of outcome.recipients) {
    deps.log.recipient(h.id, r, attemptFor(outcome, r));
    if (r.result === 'deferred') {
      pending.push(r);
      continue;
    }
    const d: DoneRecipient = { recipient: r.recipient, result: r.result, reason: r.reason, ...(r.host ? { host: r.host } : {}), at: after };
    next.done.push(d);
    if (r.result === 'failed') failed.push(d);
  }
  if (held === undefined) {
    next.attempts = h.attempts + 1;
  }
  if (pending.length === 0) {
    return { header: next, failed, tried: held === undefined, outcome };
  }
  const reason = pending[0]!.reason;
  next.lastError = reason;
  const state = { firstFailure: h.firstFailure ?? now, lastAttempt: h.lastAttempt ?? now, nextAttempt: h.nextAttempt };
  const when = nextAttemptAt(state, now, deps.rules);
  if (when === 'give-up') {
    for (const r of pending) {
      const d: DoneRecipient = { recipient: r.recipient, result: 'failed', reason: `retry timeout exceeded (last error: ${r.reason})`, at: after };
      deps.log.recipient(h.id, { recipient: r.recipient, result: 'failed', reason: d.reason }, undefined);
      next.done.push(d);
      failed.push(d);
    }
    return { header: next, failed, tried: held === undefined, reason, outcome };
  }
  next.recipients = pending.map((r) => r.recipient);
  next.firstFailure = state.firstFailure;
  if (held === undefined) next.lastAttempt = now;
  // held back: due when the host is worth trying again (this message was not tried)
  next.nextAttempt = held === undefined ? when : held;
  return { header: next, failed, tried: held === undefined, reason, outcome };
}
