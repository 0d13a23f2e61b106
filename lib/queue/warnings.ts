/**
 * Delay warnings (Exim's delay_warning, deliver.c): when an attempt leaves
 * a message deferred and it has been in the queue longer than the next time
 * of the `delay_warning` list (default 24h), its sender gets an RFC 3464
 * report with `Action: delayed` for the recipients still pending, once per
 * interval: the header counts the warnings sent (Exim's warning count), and
 * one is sent only when the schedule says more are due than were sent.
 * Never for a bounce (or a warning), a message with the null sender or
 * MAILER-DAEMON's, a message whose DSN NOTIFY leaves out DELAY, or an
 * attempt that contacted no host (held back by the retry hints: Exim waits
 * for a real attempt, whose reason the warning can give). The warning is a
 * message from the null sender, queued and delivered like a bounce and
 * logged as Exim logs it: its arrival, `<= <> R=<id> …`.
 */
import type { MessageData } from '../data.js';
import { isBounce } from '../report/bounce.js';
import { enqueue, type Placement } from './enqueue.js';
import { newHeader, type SpoolHeader } from '../store/header.js';
import type { AttemptResult } from './attempt.js';
import type { QueueDeps } from './deps.js';

/**
 * How many warnings Exim's schedule wants sent after `queueTime` ms in the
 * queue, and the delay the last of them tells (pure). Past the last time of
 * the list, the gap between its last two times (or the one time) repeats:
 * `4h:8h:24h` warns at 4, 8, 24, 40, 56… hours.
 */
export function warningsDue(schedule: readonly number[], queueTime: number): { count: number; shown: number } {
  const n = schedule.length;
  let count = 0;
  while (count < n && queueTime >= schedule[count]!) count++;
  if (count === 0) return { count: 0, shown: 0 };
  let shown = schedule[count - 1]!;
  if (count >= n) {
    const gap = count > 1 ? shown - schedule[count - 2]! : shown;
    const extra = Math.floor((queueTime - schedule[n - 1]!) / gap);
    shown += gap * extra;
    count += extra;
  }
  return { count, shown };
}

/** The delay as the warning's subject tells it (Exim: minutes while the message is under two hours old, else hours). */
export function delayText(queueTime: number, shown: number): string {
  return queueTime < 2 * 3_600_000 ? `${Math.floor(shown / 60_000)} minutes` : `${Math.floor(shown / 3_600_000)} hours`;
}

/** Whether the sender of `h` may be warned at all (see the module comment; pure). */
export function mayWarn(h: SpoolHeader): boolean {
  if (h.bounce || isBounce(h.sender)) return false;
  const notify = h.dsn?.notify;
  return notify === undefined || notify.split(',').includes('DELAY');
}

/**
 * Send the delay warning that `res` (an attempt that left recipients
 * pending) calls for, if any. Returns the new count to record in the
 * header and where the warning was queued, or undefined when none is due
 * or it could not be queued (noted in the log; the next deferral tries
 * again). Never throws.
 */
export function warnOfDelay(h: SpoolHeader, res: AttemptResult, data: MessageData, deps: QueueDeps): { count: number; id: string; placement: Placement } | undefined {
  if (!res.tried || !mayWarn(h) || deps.delayWarning === undefined || deps.delayWarning.length === 0) return undefined;
  const queueTime = deps.now() - h.arrival;
  const { count, shown } = warningsDue(deps.delayWarning, queueTime);
  if (count <= (h.warnings ?? 0)) return undefined;
  const pending = res.outcome.recipients.filter((r) => r.result === 'deferred' && h.recipients.includes(r.recipient));
  if (pending.length === 0) return undefined;
  try {
    const dsn = deps.makeBounce({
      id: h.id,
      header: h,
      failed: pending.map((r) => ({ recipient: r.recipient, reason: r.reason, ...(r.host ? { host: r.host } : {}) })),
      data,
      delayed: delayText(queueTime, shown),
    });
    const wh = newHeader(deps.newId(), '', dsn.envelope.recipients, dsn.data.length, deps.now(), h.submitter);
    wh.bounce = true;
    const placement = enqueue(deps.spool, wh, dsn.data, deps.newId);
    deps.log.arrival(wh, { bounceOf: h.id });
    return { count, id: wh.id, placement };
  } catch (err) {
    deps.log.note(h.id, `cannot queue the delay warning: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
