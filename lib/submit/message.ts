/**
 * The submit stage after the command line: read the message, then build the
 * SMTP envelope from the invocation and (with -t) the headers, and the data
 * to send.
 *
 * Message text is untrusted. It is kept as bytes: only the header block is
 * decoded (as UTF-8, for address parsing), and the data that leaves here is
 * the original bytes minus Bcc fields (line endings are normalised to CRLF
 * and dots stuffed later, by the SMTP layer).
 */
import { SmarthostError } from '../errors.js';
import { addressKey, normalizeAddress, parseAddressList, parseArgumentAddresses } from './address.js';
import type { Envelope, Invocation } from '../types.js';

/** One header field with its continuation lines, as byte offsets into the message. */
export interface HeaderField {
  /** The field name as written (compare case-insensitively). */
  name: string;
  /** The value after the colon, unfolded (line breaks removed, RFC 5322 §2.2.3), untrimmed. */
  value: string;
  /** Offset of the field's first byte. */
  start: number;
  /** Offset just past the field's last line terminator (continuations included). */
  end: number;
}

export interface HeaderScan {
  fields: HeaderField[];
  /** Offset where the header block ends (start of the blank line, or of the first body line). */
  headerEnd: number;
  /** Offset of the first body byte (after the blank line when there was one). */
  bodyStart: number;
  /** True when the header block was ended by a blank line. */
  separator: boolean;
}

/** RFC 5322 §2.2 field-name (printable ASCII except ':'); sendmail also allows blanks before the colon. */
const HEADER_RE = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/**
 * Read a stream to its end. All of stdin is read before anything connects, so
 * a slow producer (cronie streams job output) never holds an SMTP session open.
 *
 * @throws SmarthostError E_IO (kind 'io') when the stream fails;
 *   E_MESSAGE (kind 'data') when `opts.maxBytes` is given and exceeded.
 */
export async function readAll(stream: NodeJS.ReadableStream, opts: { maxBytes?: number } = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
      size += b.length;
      if (opts.maxBytes !== undefined && size > opts.maxBytes) {
        throw new SmarthostError('E_MESSAGE', 'data', `message larger than ${opts.maxBytes} bytes`);
      }
      chunks.push(b);
    }
  } catch (err) {
    if (err instanceof SmarthostError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new SmarthostError('E_IO', 'io', `reading the message failed: ${why}`, { cause: err });
  }
  return Buffer.concat(chunks, size);
}

/**
 * Without -i/-oi, sendmail ends the message at a line consisting of a single
 * `.` (LF or CRLF terminated, or at the end of input); that line and
 * everything after it are dropped, as sendmail does. Returns a view of `raw`.
 */
export function truncateAtDot(raw: Buffer): Buffer {
  let pos = 0;
  while (pos < raw.length) {
    const nl = raw.indexOf(0x0a, pos);
    const end = nl < 0 ? raw.length : nl;
    const len = end - pos;
    if (raw[pos] === 0x2e && (len === 1 || (len === 2 && raw[pos + 1] === 0x0d))) return raw.subarray(0, pos);
    if (nl < 0) break;
    pos = nl + 1;
  }
  return raw;
}

/**
 * Drop leading mbox `From ` separator lines (`From sender date`), as
 * Postfix's sendmail does; left in place, such a line is not a header and
 * would turn the real header block into body text.
 */
export function skipFromLines(raw: Buffer): Buffer {
  let pos = 0;
  while (raw.subarray(pos, pos + 5).toString('latin1') === 'From ') {
    const nl = raw.indexOf(0x0a, pos);
    if (nl < 0) return raw.subarray(raw.length);
    pos = nl + 1;
  }
  return raw.subarray(pos);
}

/** The next line from `pos`: LF, CRLF and a bare CR all end a line (the SMTP layer sends each as CRLF). */
function lineAt(buf: Buffer, pos: number): { contentEnd: number; next: number } {
  for (let i = pos; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x0a) return { contentEnd: i, next: i + 1 };
    if (c === 0x0d) return { contentEnd: i, next: buf[i + 1] === 0x0a ? i + 2 : i + 1 };
  }
  return { contentEnd: buf.length, next: buf.length };
}

/**
 * Find the header fields of a message, sendmail-style:
 * - the header block ends at the first empty line (LF, CRLF or bare CR);
 * - a line starting with a blank continues the previous field (unfolded);
 * - any other line that is not `name:` ends the header block and starts the
 *   body (there is then no separator); so a message whose first line is not
 *   a header is all body.
 * A bare CR ends a line here because the SMTP layer will send it as CRLF: a
 * `Bcc:` hidden behind a bare CR is still found and removed.
 */
export function scanHeaders(raw: Buffer): HeaderScan {
  const fields: HeaderField[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const { contentEnd, next } = lineAt(raw, pos);
    if (contentEnd === pos) return { fields, headerEnd: pos, bodyStart: next, separator: true };
    const line = raw.toString('utf8', pos, contentEnd);
    const last = fields[fields.length - 1];
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      last.value += line;
      last.end = next;
    } else {
      const m = HEADER_RE.exec(line);
      if (!m) return { fields, headerEnd: pos, bodyStart: pos, separator: false };
      fields.push({ name: m[1]!, value: line.slice(m[0].length), start: pos, end: next });
    }
    pos = next;
  }
  return { fields, headerEnd: raw.length, bodyStart: raw.length, separator: false };
}

/**
 * Split a message into its header text (decoded as UTF-8, without the blank
 * separator line) and its body bytes. See {@link scanHeaders} for where the
 * header block ends.
 */
export function splitHeaders(raw: Buffer): { headerText: string; body: Buffer } {
  const s = scanHeaders(raw);
  return { headerText: raw.toString('utf8', 0, s.headerEnd), body: raw.subarray(s.bodyStart) };
}

/** The unfolded values of every field named `name` (case-insensitive), in message order. */
export function headerValues(fields: HeaderField[], name: string): string[] {
  const n = name.toLowerCase();
  return fields.filter((f) => f.name.toLowerCase() === n).map((f) => f.value);
}

const RECIPIENT_FIELDS = new Set(['to', 'cc', 'bcc']);
/** Removed from the data always (not only with -t), as msmtp does by default: they must not reach anyone. */
const HIDDEN_FIELDS = new Set(['bcc', 'resent-bcc']);

/**
 * Build the SMTP envelope and the data for one message.
 *
 * - Without `inv.ignoreDots` (-i/-oi) a lone `.` line ends the message
 *   ({@link truncateAtDot}); leading mbox `From ` lines are dropped.
 * - Recipients: with -t, every address in every To, Cc and Bcc field (display
 *   names, comments and groups understood, `To: root` qualified), *plus* the
 *   argument addresses (Postfix/msmtp/nullmailer semantics; Exim instead
 *   removes argument addresses from the extracted list). Without -t, only the
 *   arguments, each of which may be an address list. Duplicates are dropped
 *   (domain compared case-insensitively), first spelling kept.
 * - Sender: `inv.sender` (-f/-r; '' is the null sender), else
 *   `<ctx.user>@<ctx.qualifyDomain>`. Every address is validated and
 *   unqualified ones get `@<ctx.qualifyDomain>`.
 * - Data: the original bytes, minus Bcc and Resent-Bcc fields with their
 *   continuation lines. When the header block was ended by a line that is
 *   neither a header nor blank (or the first line is no header at all), a
 *   blank line is inserted there, so the server splits header and body
 *   exactly where this parser did (sendmail likewise always writes the blank
 *   line); otherwise a stray `Bcc:` below the broken line could be taken as
 *   a header downstream.
 *
 * @throws SmarthostError E_ADDRESS (kind 'data') for any bad address, naming it;
 *   E_MESSAGE (kind 'data') with -t when no recipient was found;
 *   E_USAGE (kind 'usage') without -t when no recipient was given.
 */
export function prepareMessage(
  raw: Buffer,
  inv: Invocation,
  ctx: { qualifyDomain: string; user: string },
): { envelope: Envelope; data: Buffer } {
  const opts = { qualifyDomain: ctx.qualifyDomain };
  const sender =
    inv.sender !== undefined ? normalizeAddress(inv.sender, { ...opts, allowNull: true }) : normalizeAddress(ctx.user, opts);

  const msg = skipFromLines(inv.ignoreDots ? raw : truncateAtDot(raw));
  const scan = scanHeaders(msg);

  const found: string[] = [];
  if (inv.extractRecipients) {
    for (const f of scan.fields) {
      if (RECIPIENT_FIELDS.has(f.name.toLowerCase())) found.push(...parseAddressList(f.value, opts));
    }
  }
  for (const arg of inv.recipients) found.push(...parseArgumentAddresses(arg, opts));
  const seen = new Set<string>();
  const recipients = found.filter((a) => {
    const k = addressKey(a);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  if (recipients.length === 0) {
    if (inv.extractRecipients) throw new SmarthostError('E_MESSAGE', 'data', 'no recipients found in To, Cc or Bcc');
    throw new SmarthostError('E_USAGE', 'usage', 'Recipient names must be specified (as arguments, or with -t in To, Cc, Bcc)');
  }

  return { envelope: { sender, recipients }, data: buildData(msg, scan) };
}

/** The data bytes: hidden fields removed, a blank line inserted where a separator was missing. */
function buildData(msg: Buffer, scan: HeaderScan): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  for (const f of scan.fields) {
    if (!HIDDEN_FIELDS.has(f.name.toLowerCase())) continue;
    parts.push(msg.subarray(pos, f.start));
    pos = f.end;
  }
  parts.push(msg.subarray(pos, scan.headerEnd));
  if (!scan.separator && scan.bodyStart < msg.length) {
    parts.push(Buffer.from(usesCr(msg, scan.headerEnd) ? '\r\n' : '\n'));
  }
  parts.push(msg.subarray(scan.headerEnd));
  return Buffer.concat(parts);
}

/**
 * Whether the line ending before `at` (or, at offset 0, the first line ending)
 * contains a CR. After a bare CR the inserted CRLF still makes an empty line.
 */
function usesCr(msg: Buffer, at: number): boolean {
  if (at > 0) return msg[at - 1] === 0x0d || (at > 1 && msg[at - 2] === 0x0d);
  const nl = msg.indexOf(0x0a);
  return nl > 0 && msg[nl - 1] === 0x0d;
}
