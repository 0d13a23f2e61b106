/**
 * SMTP service extensions: read them from the EHLO reply, and decide — before
 * MAIL is sent — what one transaction may declare and whether the server can
 * take the message at all. Pure: the session (smtp.ts) only runs the plan.
 *
 * What the server is sent is untrusted input here (the EHLO reply); the
 * decisions err on the side of not sending: an extension counts as offered
 * only when its keyword starts an EHLO line (RFC 5321 §4.1.1.1).
 */
import { dataBuffer, isFileData, type MessageData } from '../data.js';
import { SmarthostError } from '../errors.js';
import type { DsnRequest, Envelope } from '../types.js';

/** Keyword (upper-case) → parameters as written (`SIZE` → `52428800`, `AUTH` → `PLAIN LOGIN`). */
export type Extensions = ReadonlyMap<string, string>;

/**
 * Parse a (possibly multi-line) EHLO reply into its extensions. The first line
 * is the greeting, not an extension; lines that are not `250` are ignored.
 * A HELO reply or an empty string gives no extensions.
 */
export function parseEhlo(reply: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = reply.split(/\r?\n/);
  for (const line of lines.slice(1)) {
    const m = /^250[ -]([A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](.*))?$/.exec(line.trim());
    if (m) out.set(m[1]!.toUpperCase(), (m[2] ?? '').trim());
  }
  return out;
}

/** The converter for a server without 8BITMIME: the 7-bit message, or why there cannot be one. */
export type Downgrade = (data: Buffer) => { data: Buffer } | { problem: string };

export interface PlanInput {
  envelope: Envelope;
  data: MessageData;
  extensions: Extensions;
  /** How the server is named in messages (`mail.example.local [192.0.2.7]:25`). */
  where: string;
  /** The queried host name, for the reader of the error. */
  queried: string;
  /** Re-encodes an 8-bit message as 7-bit (injected: the MIME knowledge lives in the submit stage). */
  downgrade?: Downgrade;
}

/** What one transaction sends: MAIL parameters, the data, and notes for the trace. */
export interface TransactionPlan {
  data: MessageData;
  /** SIZE= value (RFC 1870): octets with CRLF line ends, before dot-stuffing. */
  size: number;
  /** BODY=8BITMIME (RFC 6152). */
  use8BitMime: boolean;
  /** The envelope has non-ASCII addresses and the server offers SMTPUTF8 (RFC 6531). */
  smtpUtf8: boolean;
  /** DSN parameters, only when the server offers DSN (RFC 3461). */
  dsn?: DsnRequest;
  /** Decisions worth a trace line. */
  notes: string[];
}

/** True when any byte is outside 7-bit ASCII. */
export function has8bit(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) if (data[i]! > 0x7f) return true;
  return false;
}

/**
 * The size as RFC 1870 §3 counts it: every line ending as CRLF (a bare LF or
 * CR becomes two octets on the wire), without dot-stuffing or the final dot.
 */
export function wireSize(data: Buffer): number {
  let size = data.length;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === 0x0a && data[i - 1] !== 0x0d) size++;
    else if (c === 0x0d && data[i + 1] !== 0x0a) size++;
  }
  return size;
}

/** RFC 5321 §2.3.1 / RFC 6531: an address needs SMTPUTF8 when it has any non-ASCII character. */
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Decide the transaction for one server, before MAIL is sent.
 *
 * - SMTPUTF8: a non-ASCII envelope address needs the server to offer it.
 * - 8BITMIME: 8-bit data is declared `BODY=8BITMIME` when offered; otherwise
 *   it is converted with `downgrade` (RFC 6152 §3: convert or do not send),
 *   and never sent as 8-bit to a 7-bit server.
 * - SIZE: declared when offered; a message over the advertised limit
 *   (RFC 1870 §6, a limit of 0 means none) is not offered to that server.
 * - DSN: passed on when offered; otherwise dropped with a trace note and the
 *   message sent anyway (RFC 3461 §5.2.2 would have a relaying MTA send a
 *   "relayed" DSN for NOTIFY=SUCCESS; that is not done here).
 *
 * @throws SmarthostError E_EXTENSION (kind 'perm'): the server cannot take
 *   this message. Another host may: deliver.ts tries the next one, and the
 *   message fails only when none can.
 */
export function planTransaction(p: PlanInput): TransactionPlan {
  const { envelope, extensions: ext } = p;
  const notes: string[] = [];
  const refuse = (why: string) => new SmarthostError('E_EXTENSION', 'perm', `${p.where}: ${why}`, { host: p.queried, stage: 'mail' });

  const utf8 = [envelope.sender, ...envelope.recipients].find((a) => NON_ASCII.test(a));
  if (utf8 !== undefined && !ext.has('SMTPUTF8')) {
    throw refuse(`${p.queried} does not offer SMTPUTF8, needed for ${JSON.stringify(utf8)} (RFC 6531)`);
  }

  let data = p.data;
  let use8BitMime = false;
  if (isFileData(data) ? data.eightBit : has8bit(data)) {
    if (ext.has('8BITMIME')) {
      use8BitMime = true;
    } else {
      // a message kept in a file is read whole for this (rare: smarthosts offer 8BITMIME)
      const down = p.downgrade ? p.downgrade(dataBuffer(data)) : { problem: 'no converter' };
      if ('problem' in down) {
        throw refuse(`${p.queried} does not offer 8BITMIME and the 8-bit message cannot be converted to 7-bit: ${down.problem}`);
      }
      if (has8bit(down.data)) throw refuse(`${p.queried} does not offer 8BITMIME and the conversion left 8-bit data (a bug)`);
      data = down.data;
      notes.push(`${p.queried} does not offer 8BITMIME: 8-bit body converted to quoted-printable`);
    }
  }

  // data in a file has CRLF line ends already (lib/data.ts)
  const size = isFileData(data) ? data.size : wireSize(data);
  if (ext.has('SIZE')) {
    const limit = Number(/^\d+$/.test(ext.get('SIZE')!) ? ext.get('SIZE') : 0);
    if (limit > 0 && size > limit) {
      throw refuse(`message is ${size} bytes, ${p.queried} accepts at most ${limit} (SIZE)`);
    }
  }

  let dsn: DsnRequest | undefined;
  if (envelope.dsn && (envelope.dsn.notify || envelope.dsn.ret || envelope.dsn.envid)) {
    if (ext.has('DSN')) dsn = envelope.dsn;
    else notes.push(`${p.queried} does not offer DSN: NOTIFY/RET/ENVID (-N/-R/-V) not sent`);
  }
  return { data, size, use8BitMime, smtpUtf8: utf8 !== undefined, dsn, notes };
}
