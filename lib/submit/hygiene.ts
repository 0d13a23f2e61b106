/**
 * Message hygiene for locally submitted mail, as sendmail and Postfix do it:
 * CRLF line ends, header lines within the 998-octet limit, body lines within
 * it too (or a quoted-printable body), and `Date`, `Message-ID` and `From`
 * added when missing. Pure: the clock, the unique id and the host name come
 * in as arguments.
 *
 * The message is untrusted; the -F full name is untrusted too (cli.ts has
 * already refused control characters in it, so it cannot inject a header).
 */
import { SmarthostError } from '../errors.js';
import { bodyToQuotedPrintable } from './eightbit.js';
import { scanHeaders } from './message.js';

/** RFC 5322 §2.1.1: at most 998 octets per line, CRLF excluded. */
export const MAX_LINE = 998;

export interface TidyOptions {
  /** The envelope sender ('' for the null sender). */
  sender: string;
  /** -F: the display name for an added From. */
  fullName?: string;
  /** For the From of a null-sender message (`MAILER-DAEMON@<qualifyDomain>`). */
  qualifyDomain: string;
  /** Right-hand side of an added Message-ID. */
  fqdn: string;
  now: Date;
  /** The local time zone, minutes east of UTC (`-now.getTimezoneOffset()`). */
  tzOffsetMinutes: number;
  /** Left-hand side of an added Message-ID; see {@link uniqueId}. */
  uniqueId: string;
}

export interface Tidied {
  data: Buffer;
  /** Header fields added, by name. */
  added: string[];
  /** What else was changed, for the trace. */
  notes: string[];
}

const CRLF = Buffer.from('\r\n');

/** Every line end as CRLF: a bare LF and a bare CR each become CRLF (as the SMTP layer would send them). */
export function toCrlf(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === 0x0d && data[i + 1] === 0x0a) i++;
    else if (c === 0x0d || c === 0x0a) {
      parts.push(data.subarray(from, i), CRLF);
      from = i + 1;
    }
  }
  if (parts.length === 0) return data;
  parts.push(data.subarray(from));
  return Buffer.concat(parts);
}
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 §3.3 date-time in the given zone: `Sat, 28 Nov 2026 14:02:37 +0100`. */
export function rfc5322Date(now: Date, tzOffsetMinutes: number): string {
  const t = new Date(now.getTime() + tzOffsetMinutes * 60_000);
  const sign = tzOffsetMinutes < 0 ? '-' : '+';
  const off = Math.abs(tzOffsetMinutes);
  return (
    `${DAYS[t.getUTCDay()]}, ${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${t.getUTCFullYear()} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} ${sign}${pad(Math.floor(off / 60))}${pad(off % 60)}`
  );
}

/** A Message-ID left-hand side: UTC time and random bytes (`20261128130237.9f86d081884c7d65`). */
export function uniqueId(now: Date, random: Buffer): string {
  const d = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${d}.${random.toString('hex')}`;
}

const ATEXT_WORDS = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?: [A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;

/**
 * A display name as RFC 5322 §3.2.5 phrase tokens: atoms as they are, other
 * printable ASCII as one quoted-string, anything else as RFC 2047 `B`
 * encoded-words of at most 75 characters, never splitting a character.
 */
export function displayNameTokens(name: string): string[] {
  const n = name.trim().replace(/\s+/g, ' ');
  if (n === '') return [];
  if (ATEXT_WORDS.test(n)) return n.split(' ');
  if (/^[\x20-\x7e]+$/.test(n)) return [`"${n.replace(/(["\\])/g, '\\$1')}"`];
  const words: string[] = [];
  let chunk = '';
  for (const ch of n) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`);
}

/** `Name: tokens`, folded before a token when a line would pass 78 characters (RFC 5322 §2.1.1). */
function fieldLine(name: string, tokens: string[]): string {
  let out = `${name}:`;
  let lineLen = out.length;
  for (const tok of tokens) {
    if (lineLen + 1 + tok.length > 78 && lineLen > name.length + 1) {
      out += `\r\n ${tok}`;
      lineLen = 1 + tok.length;
    } else {
      out += ` ${tok}`;
      lineLen += 1 + tok.length;
    }
  }
  return out;
}

/**
 * Fold one header line (latin1 text, no CRLF) of more than 998 octets at
 * white space (RFC 5322 §2.2.3), as late as possible, so every piece is
 * within the limit and no piece is only white space. Undefined when it
 * cannot be done.
 */
export function foldLongLine(line: string): string[] | undefined {
  const isWsp = (i: number): boolean => line[i] === ' ' || line[i] === '\t';
  let last = line.length - 1; // the last non-white character: a piece after a cut must reach it
  while (last >= 0 && isWsp(last)) last--;
  const out: string[] = [];
  let start = 0;
  while (line.length - start > MAX_LINE) {
    let first = start; // a piece before a cut must hold a non-white character
    while (first < line.length && isWsp(first)) first++;
    let cut = -1;
    for (let j = start + MAX_LINE; j > first; j--) {
      if (isWsp(j) && j <= last) {
        cut = j;
        break;
      }
    }
    if (cut < 0) return undefined;
    out.push(line.slice(start, cut));
    start = cut;
  }
  out.push(line.slice(start));
  return out;
}

/** Lines of `text` (CRLF-separated) longer than the limit. */
const hasLongLine = (text: string): boolean => text.split('\r\n').some((l) => l.length > MAX_LINE);

/** The first line of `data` from `start` (CRLF line ends) over the limit: its 0-based index from `start`, and length. */
function firstLongLine(data: Buffer, start: number): { index: number; length: number } | undefined {
  let index = 0;
  for (let pos = start; pos < data.length; index++) {
    const eol = data.indexOf(CRLF, pos);
    const end = eol < 0 ? data.length : eol;
    if (end - pos > MAX_LINE) return { index, length: end - pos };
    pos = end + 2;
  }
  return undefined;
}

const dataError = (msg: string): SmarthostError => new SmarthostError('E_MESSAGE', 'data', msg);

/**
 * Tidy one locally submitted message (the data from prepareMessage).
 *
 * 1. Line ends become CRLF (so the data, its size and a future spool copy
 *    are what goes on the wire).
 * 2. Body lines over 998 octets: the body is re-encoded as quoted-printable
 *    when it is a single text part ({@link bodyToQuotedPrintable}).
 * 3. Header lines over 998 octets are folded at white space.
 * 4. `Date` (local zone), `Message-ID` (`<uniqueId@fqdn>`) and `From` (the
 *    envelope sender, `-F` as display name; `MAILER-DAEMON@qualifyDomain`
 *    for the null sender) are appended to the header block when missing.
 *    Fields already present are never touched or duplicated.
 *
 * @throws SmarthostError E_MESSAGE (kind 'data', exit 65): a body line over
 *   the limit in a body that cannot be re-encoded (multipart, non-text,
 *   already encoded), or a header line with no white space to fold at;
 *   the message names the line and the reason.
 */
export function tidyMessage(input: Buffer, o: TidyOptions): Tidied {
  const notes: string[] = [];
  let data = toCrlf(input);
  if (data !== input) notes.push('bare LF/CR line ends converted to CRLF');

  let scan = scanHeaders(data);
  const headerLines = data.toString('latin1', 0, scan.headerEnd).split('\r\n').length - 1;
  const long = firstLongLine(data, scan.bodyStart);
  if (long) {
    const first = { n: long.index + headerLines + (scan.separator ? 2 : 1), length: long.length };
    const conv = bodyToQuotedPrintable(data);
    if ('problem' in conv) {
      throw dataError(`line ${first.n} of the message is ${first.length} octets, over the limit of ${MAX_LINE} (RFC 5322 §2.1.1), and the body cannot be re-encoded: ${conv.problem}`);
    }
    data = conv.data;
    scan = scanHeaders(data);
    notes.push(`body lines over ${MAX_LINE} octets (first: line ${first.n}, ${first.length} octets): body re-encoded as quoted-printable`);
  }

  const head = data.toString('latin1', 0, scan.headerEnd);
  if (hasLongLine(head)) {
    const lines = head.split('\r\n').map((line, i) => {
      if (line.length <= MAX_LINE) return line;
      const folded = foldLongLine(line);
      if (!folded) {
        const field = scan.fields.find((f) => data.toString('latin1', f.start, f.end).includes(line))?.name ?? '?';
        throw dataError(`line ${i + 1} of the message (header field ${field}) is ${line.length} octets, over the limit of ${MAX_LINE} (RFC 5322 §2.1.1), with no white space to fold it at`);
      }
      return folded.join('\r\n');
    });
    data = Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), data.subarray(scan.headerEnd)]);
    scan = scanHeaders(data);
    notes.push(`header lines over ${MAX_LINE} octets folded`);
  }

  const has = (name: string): boolean => scan.fields.some((f) => f.name.toLowerCase() === name);
  const add: string[] = [];
  const added: string[] = [];
  if (!has('date')) {
    add.push(`Date: ${rfc5322Date(o.now, o.tzOffsetMinutes)}`);
    added.push('Date');
  }
  if (!has('message-id')) {
    add.push(`Message-ID: <${o.uniqueId}@${DOT_ATOM.test(o.fqdn) ? o.fqdn : 'localhost'}>`);
    added.push('Message-ID');
  }
  if (!has('from')) {
    const addr = o.sender === '' ? `MAILER-DAEMON@${o.qualifyDomain}` : o.sender;
    const name = displayNameTokens(o.fullName ?? '');
    add.push(fieldLine('From', name.length ? [...name, `<${addr}>`] : [addr]));
    added.push('From');
  }
  if (add.length === 0) return { data, added, notes };
  const before = data.subarray(0, scan.headerEnd);
  const needsEol = before.length > 0 && before[before.length - 1] !== 0x0a;
  // a message that is all header (no blank line, no body) stays that way; otherwise the separator is kept
  const rest = data.subarray(scan.headerEnd);
  const text = (needsEol ? '\r\n' : '') + add.join('\r\n') + '\r\n';
  return { data: Buffer.concat([before, Buffer.from(text, 'utf8'), rest]), added, notes };
}
