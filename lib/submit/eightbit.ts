/**
 * Re-encoding a message body as quoted-printable (RFC 2045 §6.7), for the two
 * cases where the body cannot travel as it is: a server without 8BITMIME
 * (RFC 6152 §3: convert to 7-bit or do not send) and lines over the 998-octet
 * limit (RFC 5322 §2.1.1, RFC 5321 §4.5.3.1.6).
 *
 * Only what can be converted without understanding the content is converted:
 * a single text part (no Content-Type, or text/*) in an identity encoding
 * (none, 7bit, 8bit, binary). Multipart bodies, other types, bodies already
 * encoded, and 8-bit header fields are refused with the reason, never
 * altered. QP decoding gives back the original bytes exactly.
 *
 * Pure; the data is expected with CRLF line ends (tidyMessage makes it so).
 */
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { scanHeaders, type HeaderField } from './message.js';

/** The MIME facts of a header block that decide whether the body can be re-encoded. */
export interface MimeShape {
  /** `type/subtype`, lower-cased; '' when there is no Content-Type (text/plain, RFC 2045 §5.2). */
  type: string;
  /** Content-Transfer-Encoding, lower-cased; '' when absent (7bit). */
  cte: string;
  mimeVersion: boolean;
}

export type Converted = { data: Buffer } | { problem: string };

const IDENTITY = new Set(['', '7bit', '8bit', 'binary']);

/** Read Content-Type, Content-Transfer-Encoding and MIME-Version (comments removed). */
export function mimeShape(fields: HeaderField[]): MimeShape {
  const last = (name: string): string | undefined => fields.filter((f) => f.name.toLowerCase() === name).pop()?.value;
  const clean = (v: string | undefined): string => (v ?? '').replace(/\([^()]*\)/g, '').trim().toLowerCase();
  return {
    type: clean(last('content-type')).split(';')[0]!.trim().replace(/\s+/g, ''),
    cte: clean(last('content-transfer-encoding')),
    mimeVersion: last('mime-version') !== undefined,
  };
}

const is8bit = (b: Buffer): boolean => b.some((c) => c > 0x7f);

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * Re-encode the body of a single-part text message as quoted-printable, with
 * soft line breaks so that no line exceeds 76 characters. The header gets
 * `Content-Transfer-Encoding: quoted-printable` (replacing any identity one),
 * `MIME-Version: 1.0` when missing, and — when there is no Content-Type and
 * the body is 8-bit — `Content-Type: text/plain; charset=utf-8` if the body
 * is valid UTF-8, else `charset=unknown-8bit` (RFC 1428 §3: the bytes are
 * kept, their charset is not guessed). An existing Content-Type is kept.
 */
export function bodyToQuotedPrintable(msg: Buffer): Converted {
  const scan = scanHeaders(msg);
  const shape = mimeShape(scan.fields);
  if (shape.type.startsWith('multipart/')) return { problem: `the message is ${shape.type} (only a single text part can be re-encoded)` };
  if (shape.type !== '' && !shape.type.startsWith('text/')) return { problem: `the body is ${shape.type} (only text can be re-encoded)` };
  if (!IDENTITY.has(shape.cte)) return { problem: `the body is declared "Content-Transfer-Encoding: ${shape.cte}" but is not valid for it` };

  const body = msg.subarray(scan.bodyStart);
  const parts: Buffer[] = [];
  let pos = 0;
  for (const f of scan.fields) {
    if (f.name.toLowerCase() !== 'content-transfer-encoding') continue;
    parts.push(msg.subarray(pos, f.start));
    pos = f.end;
  }
  parts.push(msg.subarray(pos, scan.headerEnd));
  const head = Buffer.concat(parts);
  const added: string[] = [];
  if (head.length > 0 && head[head.length - 1] !== 0x0a) added.push('');
  if (!shape.mimeVersion) added.push('MIME-Version: 1.0');
  if (shape.type === '' && is8bit(body)) added.push(`Content-Type: text/plain; charset=${isUtf8(body) ? 'utf-8' : 'unknown-8bit'}`);
  added.push('Content-Transfer-Encoding: quoted-printable');
  const encoded = qpWrap(qpEncode(body), 76);
  return { data: Buffer.concat([head, Buffer.from(added.join('\r\n') + '\r\n\r\n' + encoded, 'latin1')]) };
}

/**
 * The 7-bit form of an 8-bit message, for a server without 8BITMIME.
 * Header fields with 8-bit bytes are refused (they would need RFC 2047
 * encoded-words, or SMTPUTF8), naming the first such field.
 */
export function toSevenBit(msg: Buffer): Converted {
  const scan = scanHeaders(msg);
  const bad = scan.fields.find((f) => is8bit(msg.subarray(f.start, f.end)));
  if (bad) return { problem: `8-bit characters in the ${bad.name} header field` };
  if (!is8bit(msg.subarray(scan.bodyStart))) return { data: msg };
  return bodyToQuotedPrintable(msg);
}
