/**
 * A message received with `-bs` is prepared exactly as a piped one: the
 * envelope comes from MAIL FROM / RCPT TO (already validated and qualified by
 * bs.ts), and the data goes through the same {@link prepareMessage} (Bcc
 * removed, header block closed, and whatever else it does for piped mail),
 * with -i semantics (the data was dot-unstuffed already: a lone `.` line in
 * it is data) and without -t (SMTP gives the recipients).
 */
import { prepareMessage } from './message.js';
import type { Envelope, Invocation } from '../types.js';

/**
 * @throws SmarthostError as {@link prepareMessage} (E_ADDRESS, E_MESSAGE).
 */
export function prepareSmtpMessage(
  data: Buffer,
  envelope: Envelope,
  inv: Invocation,
  ctx: { qualifyDomain: string; user: string },
): { envelope: Envelope; data: Buffer } {
  const asPiped: Invocation = { ...inv, sender: envelope.sender, recipients: [...envelope.recipients], extractRecipients: false, ignoreDots: true };
  const prepared = prepareMessage(data, asPiped, ctx);
  // The SMTP envelope is authoritative (same addresses; kept as bs.ts normalised them).
  return { envelope: { ...prepared.envelope, sender: envelope.sender, recipients: [...envelope.recipients] }, data: prepared.data };
}
