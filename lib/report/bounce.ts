/**
 * The bounce: a delivery status notification (RFC 3464) for the sender of a
 * message that failed, built as bytes ready to send with the null sender.
 * Pure, except for the random MIME boundary (injectable).
 *
 * Shape (RFC 6522 multipart/report, RFC 3464 message/delivery-status):
 *   1. text/plain: what failed and what the server said, for people;
 *   2. message/delivery-status: Reporting-MTA, Arrival-Date, then per
 *      recipient Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code;
 *   3. text/rfc822-headers: the header block of the original (RFC 6522 §4),
 *      not its body.
 * Auto-Submitted: auto-replied (RFC 3834 §5) marks it as automatic, and the
 * envelope sender is null (RFC 5321 §4.5.5), so that it never bounces in turn.
 * Lines end in CRLF and none is longer than 998 octets (RFC 5322 §2.1.1).
 */

/** One recipient to report on. */
export interface BounceRecipient {
  recipient: string;
  /** For people: the server's reply, or why it was given up (`retry timeout exceeded`). */
  reason: string;
  /** The SMTP reply code, when a server answered. */
  code?: number;
  /** The host that answered (Remote-MTA: dns; …). */
  remoteMta?: string;
  /** The server's reply as received (Diagnostic-Code: smtp; …); defaults to `reason` when `code` is set. */
  diagnostic?: string;
  /** Default `failed`; `delayed` for a warning that retries go on. */
  action?: 'failed' | 'delayed';
  /** An explicit RFC 3463 status, e.g. `4.4.7` (delivery time expired); otherwise derived from the reply. */
  status?: string;
}

export interface BounceInput {
  /** The queue id of the message that failed (shown to the sender; R= in the log). */
  id: string;
  originalSender: string;
  /** The original envelope recipients, for the text (optional). */
  originalRecipients?: string[];
  failed: BounceRecipient[];
  /** The header block of the original message (anything after its first blank line is ignored). */
  originalHeaders: string;
  /** Our fully qualified name: Reporting-MTA and the From address's domain. */
  reportingMta: string;
  arrival: Date;
  now: Date;
  /** The domain of the bounce's Message-ID. */
  messageIdDomain: string;
  /** The MIME boundary (tests); random by default. */
  boundary?: string;
  /** A delay warning (every recipient `delayed`): how long the message has waited, as Exim's subject says it (`24 hours`). */
  delayedFor?: string;
}

export interface Bounce {
  envelope: { sender: ''; recipients: [string] };
  data: Buffer;
  /** The data holds 8-bit text (UTF-8 in the headers copied or a reply): send with BODY=8BITMIME where offered. */
  eightBit: boolean;
}

/** The most header bytes copied from the original (a header bomb must not make a huge bounce). */
export const MAX_HEADER_COPY = 64 * 1024;
/** RFC 5322 §2.1.1: at most 998 octets before CRLF. */
const MAX_LINE = 998;

const CRLF = '\r\n';
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * True for a sender that must never get a bounce: the null sender (`''` or
 * `<>`), which marks a bounce (RFC 5321 §4.5.5), and MAILER-DAEMON, which
 * would answer a bounce with another.
 */
export function isBounce(sender: string): boolean {
  const s = sender.trim();
  return s === '' || s === '<>' || /^mailer-daemon@/i.test(s) || /^mailer-daemon$/i.test(s);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** RFC 5322 §3.3 date-time in local time: `Sat, 28 Nov 2026 13:02:38 +0000`. */
export function rfc5322Date(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${DAYS[d.getDay()]}, ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

/** One line of text: CR, LF and other controls (except tab) become spaces. */
const oneLine = (s: string): string => s.replace(/\r\n|[\r\n]/g, ' ').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ');

/** Split `line` into pieces of at most `max` UTF-8 octets, preferring to break before white space; continuations start with white space. */
export function limitLine(line: string, max = MAX_LINE): string[] {
  if (max < 8) throw new RangeError(`limitLine: max ${max} is too small`);
  const out: string[] = [];
  let rest = line;
  while (Buffer.byteLength(rest) > max) {
    // the longest prefix that fits, in whole characters
    let cut = 0;
    let bytes = 0;
    for (const ch of rest) {
      const n = Buffer.byteLength(ch);
      if (bytes + n > max) break;
      bytes += n;
      cut += ch.length;
    }
    const ws = Math.max(rest.lastIndexOf(' ', cut), rest.lastIndexOf('\t', cut));
    if (ws > 0 && rest.slice(0, ws).trim() !== '') {
      out.push(rest.slice(0, ws));
      rest = rest.slice(ws); // starts with the white space: a fold
    } else {
      out.push(rest.slice(0, cut));
      rest = ` ${rest.slice(cut)}`;
    }
  }
  out.push(rest);
  return out;
}

/** Word-wrap prose to `width` columns after `indent`; long words stay whole (then limitLine applies). */
function wrap(text: string, indent: string, width = 76): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of oneLine(text).split(' ').filter((x) => x !== '')) {
    if (cur !== '' && indent.length + cur.length + 1 + w.length > width) {
      lines.push(indent + cur);
      cur = w;
    } else cur = cur === '' ? w : `${cur} ${w}`;
  }
  if (cur !== '') lines.push(indent + cur);
  return lines.flatMap((l) => limitLine(l));
}

/** A header field, folded at the commas of `items` when it grows past 78 columns. */
function listField(name: string, items: string[]): string[] {
  const lines: string[] = [];
  let cur = `${name}:`;
  items.forEach((item, i) => {
    const piece = `${item}${i < items.length - 1 ? ',' : ''}`;
    if (cur.length + 1 + piece.length > 78 && cur !== `${name}:`) {
      lines.push(cur);
      cur = ` ${piece}`;
    } else cur += ` ${piece}`;
  });
  lines.push(cur);
  return lines.flatMap((l) => limitLine(l));
}

/** The header block of the original: up to the first blank line, CRLF, lines limited, at most MAX_HEADER_COPY bytes. */
function headerCopy(headers: string): string[] {
  const out: string[] = [];
  let size = 0;
  for (const raw of headers.split(/\r\n|\r|\n/)) {
    if (raw.trim() === '') break;
    const line = raw.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, ' ');
    for (const piece of limitLine(line)) {
      size += Buffer.byteLength(piece) + 2;
      if (size > MAX_HEADER_COPY) return out;
      out.push(piece);
    }
  }
  return out;
}

const ENHANCED = /^\s*(\d)\d\d[ -]+([245])\.(\d{1,3})\.(\d{1,3})(?!\S)/;

/**
 * The RFC 3463 status of one recipient: `status` when given; else the
 * enhanced code of the reply (when its class matches the reply code's); else
 * `<class>.0.0` from the reply code; else 5.0.0 (failed) / 4.0.0 (delayed).
 * A delayed recipient always gets class 4.
 */
export function dsnStatus(r: BounceRecipient): string {
  const delayed = r.action === 'delayed';
  const fix = (s: string): string => (delayed ? s.replace(/^5/, '4') : s);
  if (r.status && /^[245]\.\d{1,3}\.\d{1,3}$/.test(r.status)) return fix(r.status);
  const text = r.diagnostic ?? r.reason;
  const m = ENHANCED.exec(text);
  const codeClass = r.code !== undefined ? String(Math.floor(r.code / 100)) : m?.[1];
  if (m && m[2] === codeClass) return fix(`${m[2]}.${m[3]}.${m[4]}`);
  const cls = codeClass ?? /^\s*([245])\d\d(?!\d)/.exec(text)?.[1];
  if (cls === '4' || cls === '5') return fix(`${cls}.0.0`);
  return delayed ? '4.0.0' : '5.0.0';
}

/** `rfc822; a@b`, or RFC 6533's `utf-8; …` for an internationalised address. */
const addrField = (a: string): string => (NON_ASCII.test(a) ? `utf-8; ${oneLine(a)}` : `rfc822; ${oneLine(a)}`);

function humanPart(p: BounceInput): string[] {
  const failed = p.failed.filter((f) => f.action !== 'delayed');
  const delayed = p.failed.filter((f) => f.action === 'delayed');
  const L: string[] = [`This message was generated by the mail delivery software at ${oneLine(p.reportingMta)}.`, ''];
  const describe = (f: BounceRecipient): string[] => {
    const lines = [`  ${oneLine(f.recipient)}`];
    if (f.remoteMta) lines.push(...wrap(`host ${f.remoteMta} said:`, '    '));
    lines.push(...wrap(f.diagnostic ?? f.reason, '    '));
    if (f.diagnostic && f.reason !== f.diagnostic) lines.push(...wrap(`(${f.reason})`, '    '));
    return lines;
  };
  if (failed.length > 0) {
    L.push(
      ...wrap('Your message could not be delivered to the recipients below. This is a permanent error: no further attempts will be made.', ''),
      '',
    );
    for (const f of failed) L.push(...describe(f), '');
  }
  if (delayed.length > 0) {
    const after = p.delayedFor ? ` after more than ${oneLine(p.delayedFor)} in the queue on ${oneLine(p.reportingMta)}` : '';
    L.push(...wrap(`Delivery to the recipients below has been delayed${after}. Attempts will go on; you need not send the message again yet.`, ''), '');
    for (const f of delayed) L.push(...describe(f), '');
  }
  if (p.originalRecipients && p.originalRecipients.length > 0) {
    L.push(...wrap(`The message was addressed to: ${p.originalRecipients.join(', ')}`, ''), '');
  }
  L.push(
    ...wrap(`The message arrived on ${rfc5322Date(p.arrival)} and had the queue id ${p.id}. Its header lines follow in the last part of this report.`, ''),
  );
  return L;
}

function statusPart(p: BounceInput): string[] {
  const L: string[] = [`Reporting-MTA: dns; ${oneLine(p.reportingMta)}`, `Arrival-Date: ${rfc5322Date(p.arrival)}`];
  for (const f of p.failed) {
    L.push('', `Final-Recipient: ${addrField(f.recipient)}`, `Action: ${f.action ?? 'failed'}`, `Status: ${dsnStatus(f)}`);
    if (f.remoteMta) L.push(`Remote-MTA: dns; ${oneLine(f.remoteMta)}`);
    const diag = f.diagnostic ?? (f.code !== undefined ? f.reason : undefined);
    if (diag !== undefined) L.push(...wrap(`Diagnostic-Code: smtp; ${diag}`, '').map((l, i) => (i === 0 ? l : ` ${l}`)));
    L.push(`Last-Attempt-Date: ${rfc5322Date(p.now)}`);
  }
  return L.flatMap((l) => limitLine(l));
}

/**
 * Build the bounce for `p.failed` (at least one recipient).
 * @throws Error when `failed` is empty or an injected boundary occurs in the content (a bug).
 */
export function buildBounce(p: BounceInput): Bounce {
  if (p.failed.length === 0) throw new Error('buildBounce: no recipient to report on');
  const human = humanPart(p);
  const status = statusPart(p);
  const copy = headerCopy(p.originalHeaders);
  const body = [...human, ...status, ...copy].join(CRLF);
  let boundary = p.boundary;
  for (let i = 0; boundary === undefined || body.includes(`--${boundary}`); i++) {
    if (p.boundary !== undefined || i >= 5) throw new Error('buildBounce: the MIME boundary occurs in the content');
    boundary = `=_dsn_${process.getBuiltinModule('node:crypto').randomBytes(12).toString('hex')}`; // node:crypto loaded only here (start-up time)
  }
  const humanEight = NON_ASCII.test(human.join(''));
  const statusEight = NON_ASCII.test(status.join(''));
  const copyEight = NON_ASCII.test(copy.join(''));
  const toEight = NON_ASCII.test(p.originalSender);
  const anyFailed = p.failed.some((f) => f.action !== 'delayed');
  const midMatch = /^message-id:[ \t]*(<[^<>\s]{1,900}>)/im.exec(copy.join(CRLF));
  const messageIdDomain = oneLine(p.messageIdDomain).replace(/[\s<>@]/g, '');
  const headers = [
    `From: Mail Delivery System <MAILER-DAEMON@${oneLine(p.reportingMta)}>`,
    ...limitLine(`To: ${oneLine(p.originalSender)}`),
    anyFailed ? 'Subject: Mail delivery failed: returning message to sender' : `Subject: Warning: message ${oneLine(p.id)} delayed${p.delayedFor ? ` ${oneLine(p.delayedFor)}` : ''}`,
    `Date: ${rfc5322Date(p.now)}`,
    `Message-ID: <${oneLine(p.id).replace(/[\s<>@]/g, '')}.${p.now.getTime().toString(36)}.dsn@${messageIdDomain}>`,
    ...(midMatch ? [`In-Reply-To: ${midMatch[1]}`, `References: ${midMatch[1]}`] : []),
    'Auto-Submitted: auto-replied',
    ...(anyFailed ? listField('X-Failed-Recipients', p.failed.filter((f) => f.action !== 'delayed').map((f) => oneLine(f.recipient))) : []),
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;`,
    `\tboundary="${boundary}"`,
    `Content-Transfer-Encoding: ${humanEight || statusEight || copyEight || toEight ? '8bit' : '7bit'}`,
  ];
  const part = (type: string, eight: boolean, description: string, lines: string[]): string[] => [
    `--${boundary}`,
    `Content-Type: ${type}`,
    `Content-Description: ${description}`,
    `Content-Transfer-Encoding: ${eight ? '8bit' : '7bit'}`,
    '',
    ...lines,
    '',
  ];
  const all = [
    ...headers,
    '',
    'This is a MIME-formatted message. Its report is in the parts below.',
    '',
    ...part(`text/plain; charset=${humanEight ? 'utf-8' : 'us-ascii'}`, humanEight, 'Notification', human),
    ...part(statusEight ? 'message/global-delivery-status' : 'message/delivery-status', statusEight, 'Delivery report', status),
    ...part(`text/rfc822-headers${copyEight ? '; charset=utf-8' : ''}`, copyEight, 'Undelivered message headers', copy),
    `--${boundary}--`,
    '',
  ];
  return {
    envelope: { sender: '', recipients: [p.originalSender] },
    data: Buffer.from(all.join(CRLF), 'utf8'),
    eightBit: humanEight || statusEight || copyEight || toEight,
  };
}
