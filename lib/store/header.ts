/**
 * The `-H` file of a spooled message: envelope and delivery state as one
 * JSON object (pure parse/serialise; spool.ts does the I/O). The data file
 * `-D` is written once and never changed; everything that changes lives here.
 */
import { SmarthostError } from '../errors.js';
import type { DsnRequest } from '../types.js';

/** A recipient that needs no more delivery attempts. */
export interface DoneRecipient {
  recipient: string;
  result: 'delivered' | 'failed';
  /** The server's reply or the local reason. */
  reason: string;
  host?: string;
  /** When it was decided (ms since the epoch). */
  at: number;
}

/**
 * A recipient as it was submitted: the address delivered to and, when an
 * alias generated it, the address given by the submitter (Exim's top-level
 * address, which -bp lists).
 */
export interface OriginalRecipient {
  address: string;
  parent?: string;
}

/** Who submitted a message: from the process (direct) or the drop file's owner (never from its content). */
export interface Submitter {
  uid: number;
  user: string;
}

export interface SpoolHeader {
  version: 1;
  id: string;
  /** Envelope sender; '' is the null sender. */
  sender: string;
  /** Recipients still to be delivered. */
  recipients: string[];
  /** Recipients delivered or failed, with their results. */
  done: DoneRecipient[];
  /**
   * Every recipient in the order submitted, with the top-level address of
   * those an alias generated (-bp lists them so); absent in files of older
   * versions. Only for listings: `recipients` and `done` decide delivery.
   */
  original?: OriginalRecipient[];
  /** Arrival (ms since the epoch). */
  arrival: number;
  /** Size of the data in bytes (the -D file, or a drop file's part after the envelope line). */
  size: number;
  /** CRC-32 of the data (crc.ts), checked before it is sent; absent in files of older versions (then only the size is checked). */
  crc?: number;
  /** First temporary failure, last attempt, next due attempt (ms); undefined before the first attempt. */
  firstFailure?: number;
  lastAttempt?: number;
  nextAttempt?: number;
  attempts: number;
  /** Set when the message is frozen: why. Frozen messages are listed, never delivered by -q. */
  frozen?: string;
  /** This message is a delivery status notification we generated: never bounce it. */
  bounce: boolean;
  submitter: Submitter;
  /** The last temporary error, for -bp and the log. */
  lastError?: string;
  /** How many delay warnings the sender was sent (Exim's warning count; delay_warning). */
  warnings?: number;
  /** DSN parameters from -N/-R/-V, sent again on every attempt. */
  dsn?: DsnRequest;
}

const bad = (where: string, what: string): SmarthostError => new SmarthostError('E_IO', 'temp', `${where}: bad spool header: ${what}`);

/** Characters never found in an envelope address we accept (controls, angle brackets). */
const BAD_ADDR = /[\u0000-\u001f\u007f<>]/;

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optNum = (v: unknown): boolean => v === undefined || isNum(v);

/** Most recipients one message may carry (a sanity bound on untrusted drop files). */
export const MAX_RECIPIENTS = 10_000;

/**
 * Check an object read from a header (or from a drop file's first line: then
 * untrusted) and return it typed. Unknown fields are dropped.
 * @throws SmarthostError E_IO `<where>: bad spool header: <what>`
 */
export function validateHeader(v: unknown, where: string): SpoolHeader {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(where, 'not an object');
  const o = v as Record<string, unknown>;
  if (o.version !== 1) throw bad(where, `unknown version ${JSON.stringify(o.version)}`);
  if (!isStr(o.id)) throw bad(where, 'no id');
  if (!isStr(o.sender) || BAD_ADDR.test(o.sender)) throw bad(where, 'bad sender');
  const rcpts = o.recipients;
  if (!Array.isArray(rcpts) || rcpts.length > MAX_RECIPIENTS || !rcpts.every((r) => isStr(r) && r !== '' && !BAD_ADDR.test(r))) {
    throw bad(where, 'bad recipients');
  }
  const done = o.done ?? [];
  if (!Array.isArray(done) || done.length > MAX_RECIPIENTS) throw bad(where, 'bad done list');
  const doneOk = done.every((d: unknown) => {
    const x = d as Record<string, unknown>;
    return typeof d === 'object' && d !== null && isStr(x.recipient) && (x.result === 'delivered' || x.result === 'failed') && isStr(x.reason) && isNum(x.at);
  });
  if (!doneOk) throw bad(where, 'bad done entry');
  if (!isNum(o.arrival) || !isNum(o.size) || !isNum(o.attempts)) throw bad(where, 'bad times or counters');
  if (o.crc !== undefined && !(isNum(o.crc) && Number.isInteger(o.crc) && o.crc >= 0 && o.crc <= 0xffffffff)) throw bad(where, 'bad crc');
  if (!optNum(o.firstFailure) || !optNum(o.lastAttempt) || !optNum(o.nextAttempt)) throw bad(where, 'bad retry times');
  if (o.frozen !== undefined && !isStr(o.frozen)) throw bad(where, 'bad frozen');
  if (o.lastError !== undefined && !isStr(o.lastError)) throw bad(where, 'bad lastError');
  if (o.warnings !== undefined && !(isNum(o.warnings) && Number.isInteger(o.warnings) && o.warnings >= 0)) throw bad(where, 'bad warnings');
  const original = originalOf(o.original);
  if (original === null) throw bad(where, 'bad original recipients');
  const sub = o.submitter as Record<string, unknown> | undefined;
  if (typeof sub !== 'object' || sub === null || !isNum(sub.uid) || !isStr(sub.user)) throw bad(where, 'bad submitter');
  return {
    version: 1,
    id: o.id,
    sender: o.sender,
    recipients: rcpts as string[],
    done: (done as DoneRecipient[]).map((d) => ({ recipient: d.recipient, result: d.result, reason: d.reason, ...(isStr(d.host) ? { host: d.host } : {}), at: d.at })),
    arrival: o.arrival,
    size: o.size,
    ...(o.crc !== undefined ? { crc: o.crc as number } : {}),
    firstFailure: o.firstFailure as number | undefined,
    lastAttempt: o.lastAttempt as number | undefined,
    nextAttempt: o.nextAttempt as number | undefined,
    attempts: o.attempts,
    frozen: o.frozen as string | undefined,
    bounce: o.bounce === true,
    submitter: { uid: sub.uid, user: sub.user },
    lastError: o.lastError as string | undefined,
    ...(o.warnings ? { warnings: o.warnings as number } : {}),
    ...(original ? { original } : {}),
    ...(dsnOf(o.dsn) ? { dsn: dsnOf(o.dsn) } : {}),
  };
}

const isAddr = (v: unknown): v is string => isStr(v) && v !== '' && !BAD_ADDR.test(v);

/** The `original` list checked (untrusted in a drop file): undefined when absent, null when malformed. */
function originalOf(v: unknown): OriginalRecipient[] | undefined | null {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > MAX_RECIPIENTS) return null;
  const out: OriginalRecipient[] = [];
  for (const e of v as unknown[]) {
    const x = e as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || !isAddr(x.address) || (x.parent !== undefined && !isAddr(x.parent))) return null;
    out.push({ address: x.address, ...(x.parent !== undefined ? { parent: x.parent as string } : {}) });
  }
  return out;
}

function dsnOf(v: unknown): DsnRequest | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const d: DsnRequest = {};
  if (isStr(o.notify) && /^[A-Z,]+$/.test(o.notify)) d.notify = o.notify;
  if (o.ret === 'HDRS' || o.ret === 'FULL') d.ret = o.ret;
  if (isStr(o.envid) && /^[\x21-\x7e]{1,100}$/.test(o.envid)) d.envid = o.envid;
  return Object.keys(d).length ? d : undefined;
}

/** Parse the text of a -H file. @throws SmarthostError E_IO (see validateHeader) */
export function parseHeader(text: string, where: string): SpoolHeader {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad(where, 'not JSON');
  }
  return validateHeader(v, where);
}

/** Serialise a header (one line of JSON and a newline). */
export function serializeHeader(h: SpoolHeader): string {
  return JSON.stringify(h) + '\n';
}

/**
 * A fresh header for a message that has just arrived; `parents` maps the
 * recipients that aliases generated to the address the submitter gave.
 */
export function newHeader(id: string, sender: string, recipients: string[], size: number, arrival: number, submitter: Submitter, parents?: Readonly<Record<string, string>>): SpoolHeader {
  const original = recipients.map((address): OriginalRecipient => (parents && Object.hasOwn(parents, address) ? { address, parent: parents[address]! } : { address }));
  return { version: 1, id, sender, recipients: [...recipients], done: [], original, arrival, size, attempts: 0, bounce: false, submitter };
}
