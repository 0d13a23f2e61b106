/**
 * The reply to the final `.` of a `-bs` message (pure): the exit code that
 * delivery would have given a piped message, as an SMTP reply.
 */
import { printable } from './bs-params.js';

/** What delivery of one accepted message gave: a sysexits code and a one-line reason. */
export interface DeliveryResult {
  code: number;
  reason: string;
  /** A queue or message id, when there is one. */
  id?: string;
}

const reply = (code: number, text: string): string => `${code} ${text}\r\n`;

/** The reply text for a delivery result (pure). Exit codes: sysexits(3). */
export function finalReply(r: DeliveryResult): string {
  const flat = r.reason.replace(/\s+/g, ' ').trim().replace(/[^\x20-\x7e]/g, '?');
  const reason = (flat.length > 400 ? `${flat.slice(0, 400)}...` : flat) || 'delivery failed';
  switch (r.code) {
    case 0:
      return reply(250, `2.0.0 OK${r.id ? ` id=${printable(r.id)}` : ''}`);
    case 75: // EX_TEMPFAIL
      return reply(451, `4.3.0 ${reason}`);
    case 78: // EX_CONFIG: a local configuration problem, fixable without the client
      return reply(451, `4.3.5 ${reason}`);
    case 69: // EX_UNAVAILABLE
      return reply(550, `5.0.0 ${reason}`);
    case 65: // EX_DATAERR
      return reply(554, `5.6.0 ${reason}`);
    default: // 64, 70, 74: local trouble; the client may try again
      return reply(451, `4.3.0 ${reason}`);
  }
}
