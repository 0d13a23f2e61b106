/**
 * The last step of local submission, after prepareMessage: tidy the message
 * (hygiene.ts) and attach the DSN request (dsn.ts) to the envelope. Pure; the
 * caller passes the clock, random bytes for the Message-ID and the host name.
 */
import { dsnRequest } from './dsn.js';
import { tidyMessage, uniqueId } from './hygiene.js';
import type { Envelope, Invocation } from '../types.js';

export interface FinishContext {
  qualifyDomain: string;
  fqdn: string;
  now: Date;
  /** Random bytes for the Message-ID (8 are plenty). */
  random: Buffer;
  /** Minutes east of UTC; default: the process's local zone at `now`. */
  tzOffsetMinutes?: number;
}

/**
 * Tidy `prepared.data` and attach -N/-R/-V to the envelope (unless it already
 * carries a DSN request).
 * @throws SmarthostError E_MESSAGE (exit 65) from tidyMessage: an over-long
 *   line that can be neither folded nor re-encoded.
 */
export function finishMessage(
  prepared: { envelope: Envelope; data: Buffer },
  inv: Invocation,
  ctx: FinishContext,
): { envelope: Envelope; data: Buffer; notes: string[] } {
  const tidy = tidyMessage(prepared.data, {
    sender: prepared.envelope.sender,
    fullName: inv.fullName,
    qualifyDomain: ctx.qualifyDomain,
    fqdn: ctx.fqdn,
    now: ctx.now,
    tzOffsetMinutes: ctx.tzOffsetMinutes ?? -ctx.now.getTimezoneOffset(),
    uniqueId: uniqueId(ctx.now, ctx.random),
  });
  const envelope: Envelope = { ...prepared.envelope };
  // a DSN request already in the envelope (MAIL/RCPT parameters of a -bs dialogue) wins over -N/-R/-V
  const dsn = dsnRequest(inv);
  if (dsn && !envelope.dsn) envelope.dsn = dsn;
  const notes = [...tidy.notes];
  if (tidy.added.length) notes.push(`added header fields: ${tidy.added.join(', ')}`);
  return { envelope, data: tidy.data, notes };
}
