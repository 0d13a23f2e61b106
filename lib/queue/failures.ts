/**
 * What happens to recipients that failed for good (RFC 5321 §6.1: the sender
 * must be told). A message with a sender gets a bounce: a new message from
 * the null sender, built by deps.makeBounce (RFC 3464), queued like any
 * other (the caller delivers it at once when it went into input/). A bounce
 * is never bounced: the caller freezes it. Any other message with the null
 * sender (or MAILER-DAEMON) cannot be bounced either; its submitter's dead.letter gets it, as
 * sendmail does; when even that fails, the caller freezes the message.
 */
import type { MessageData } from '../data.js';
import { isBounce } from '../report/bounce.js';
import { enqueue, type Placement } from './enqueue.js';
import { newHeader, type DoneRecipient, type SpoolHeader } from '../store/header.js';
import type { QueueDeps } from './deps.js';

export type FailureAction =
  | { kind: 'bounce'; id: string; placement: Placement }
  | { kind: 'dead-letter'; path: string }
  /** Nothing could tell anyone: keep the message, frozen, for the admin. */
  | { kind: 'freeze'; reason: string };

/** Tell the sender about `failed` recipients of `h` (see the module comment). Never throws. */
export async function reportFailures(h: SpoolHeader, failed: DoneRecipient[], data: MessageData, deps: QueueDeps): Promise<FailureAction> {
  if (h.bounce) return { kind: 'freeze', reason: `delivery of a bounce failed: ${failed[0]?.reason ?? ''}` };
  if (isBounce(h.sender)) {
    try {
      const path = await deps.deadLetter(h.submitter, data, failed.map((f) => `<${f.recipient}>: ${f.reason}`).join('\n'));
      deps.log.note(h.id, `null sender: no bounce; message saved in ${path}`);
      return { kind: 'dead-letter', path };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return { kind: 'freeze', reason: `null sender and no dead.letter (${why})` };
    }
  }
  try {
    const dsn = deps.makeBounce({ id: h.id, header: h, failed: failed.map((f) => ({ recipient: f.recipient, reason: f.reason, ...(f.host ? { host: f.host } : {}) })), data });
    const bh = newHeader(deps.newId(), '', dsn.envelope.recipients, dsn.data.length, deps.now(), h.submitter);
    bh.bounce = true;
    const placement = enqueue(deps.spool, bh, dsn.data, deps.newId);
    deps.log.arrival(bh, { bounceOf: h.id });
    deps.log.note(h.id, `bounce ${bh.id} created for <${h.sender}>`);
    return { kind: 'bounce', id: bh.id, placement };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { kind: 'freeze', reason: `cannot create the bounce: ${why}` };
  }
}

/**
 * Freeze `h` (pure): the failed recipients go back to pending so -bp shows
 * them, with the reason in `frozen`.
 */
export function freeze(h: SpoolHeader, failed: DoneRecipient[], reason: string): SpoolHeader {
  const back = new Set(failed.map((f) => f.recipient));
  return {
    ...h,
    recipients: [...h.recipients, ...failed.map((f) => f.recipient).filter((r) => !h.recipients.includes(r))],
    done: h.done.filter((d) => !(back.has(d.recipient) && d.result === 'failed')),
    frozen: reason,
  };
}
