/**
 * The main log for a process that cannot write it (an unprivileged
 * submitter): each event goes to its message's journal (store/journal.ts)
 * instead, and the next root queue run replays it here, validated field by
 * field, into the real main log (issue 9, points 7 and 8: every user's
 * arrivals, deliveries, deferrals and failures reach the main log, and
 * nothing of it goes to the user's stderr).
 *
 * Replaying trusts nothing in the journal: the message id is the journal's
 * name, the user in `<=` is the journal's owner, every string is checked
 * for its shape and rendered by the formatters (which escape controls), and
 * notes that would read as the spool owner's own actions (`removed by`,
 * `frozen`, `unfrozen by`) are not replayed.
 */
import { appendJournal } from '../store/journal.js';
import type { SpoolLayout } from '../store/spool.js';
import type { SpoolHeader } from '../store/header.js';
import type { QueueLog } from './mainlog.js';
import type { Attempt, RecipientResult, Stage } from '../types.js';

/** A QueueLog that appends to the journals; `ok()` says whether every event since the last call was written. */
export function journalLog(l: SpoolLayout, now: () => number): QueueLog & { ok(): boolean } {
  let failed = false;
  const put = (id: string, ev: object): void => {
    if (!appendJournal(l, id, ev)) failed = true;
  };
  const make = (stamp: () => number): QueueLog & { ok(): boolean } => ({
    arrival: (h, info) => put(h.id, { ev: 'arrival', at: h.arrival, sender: h.sender, size: h.size, ...(info?.bounceOf ? { bounceOf: info.bounceOf } : {}) }),
    recipient: (id, r, a) => put(id, { ev: 'rcpt', at: stamp(), r, ...(a ? { a } : {}) }),
    completed: (id) => put(id, { ev: 'completed', at: stamp() }),
    note: (id, text) => put(id, { ev: 'note', at: stamp(), text }),
    spoolFile: () => {
      failed = true; // not about one message: only the spool owner's runs say these
    },
    queueRun: () => {},
    at: (t) => make(() => t),
    ok: () => {
      const was = !failed;
      failed = false;
      return was;
    },
  });
  return make(now);
}

/**
 * A QueueLog that writes to `main` and, for an event `main` could not
 * write (`mainFailed()` gives the line it could not write, once), to
 * `journal`; a line neither could write goes to `lost` (stderr, as the
 * last resort: a full spool, no spool at all).
 */
export function teeLog(main: QueueLog, journal: QueueLog & { ok(): boolean }, mainFailed: () => string | undefined, lost: (line: string) => void): QueueLog {
  const each =
    <A extends unknown[]>(m: (q: QueueLog, ...a: A) => void) =>
    (...a: A): void => {
      m(main, ...a);
      const line = mainFailed();
      if (line === undefined) return;
      m(journal, ...a);
      if (!journal.ok()) lost(line);
    };
  const make = (main: QueueLog, journal: QueueLog & { ok(): boolean }): QueueLog => ({
    arrival: each((q, h: SpoolHeader, info?: { bounceOf?: string }) => q.arrival(h, info)),
    recipient: each((q, id: string, r: RecipientResult, a: Attempt | undefined) => q.recipient(id, r, a)),
    completed: each((q, id: string) => q.completed(id)),
    note: each((q, id: string, text: string) => q.note(id, text)),
    spoolFile: each((q, text: string, id?: string) => q.spoolFile(text, id)),
    queueRun: (e, f) => main.queueRun(e, f),
    at: (t) => make(main.at(t), journal),
  });
  return make(main, journal);
}

const STAGES = new Set<Stage>(['dns', 'connect', 'banner', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'done']);
const RESULTS = new Set(['delivered', 'deferred', 'failed']);
const isStr = (v: unknown, max = 2000): v is string => typeof v === 'string' && v.length <= max;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
/** Addresses and host names: no controls, no angle brackets, no spaces. */
const isToken = (v: unknown): v is string => isStr(v, 512) && !/[\u0000-\u0020\u007f<>]/.test(v);
const OWNER_NOTES = /^(removed by|unfrozen by|frozen:)/;

function recipientOf(v: unknown): RecipientResult | undefined {
  const r = v as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || !isToken(r.recipient) || !RESULTS.has(r.result as string) || !isStr(r.reason)) return undefined;
  return { recipient: r.recipient, result: r.result as RecipientResult['result'], reason: r.reason, ...(isToken(r.host) ? { host: r.host } : {}) };
}

function attemptOf(v: unknown): Attempt | undefined {
  const a = v as Record<string, unknown> | null;
  if (typeof a !== 'object' || a === null) return undefined;
  if (!isToken(a.queried) || !isToken(a.canonical) || !isToken(a.address) || !Number.isInteger(a.port) || !STAGES.has(a.stage as Stage) || !RESULTS.has(a.result as string) || !isStr(a.reason)) return undefined;
  const t = a.tls as Record<string, unknown> | undefined;
  const tls = t && isToken(t.protocol) && isToken(t.cipher) && typeof t.verified === 'boolean' ? { protocol: t.protocol, cipher: t.cipher, verified: t.verified } : undefined;
  return { queried: a.queried, canonical: a.canonical, address: a.address, port: a.port as number, stage: a.stage as Stage, result: a.result as Attempt['result'], reason: a.reason, ...(tls ? { tls } : {}) };
}

/**
 * Replay the events of message `id`'s journal into `log` (see the module
 * comment). `owner` is the journal file's owner. Returns whether an arrival
 * was among them and how many events were refused.
 */
export function replayJournal(id: string, events: unknown[], owner: { uid: number; user: string }, log: QueueLog): { arrival: boolean; refused: number } {
  let arrival = false;
  let refused = 0;
  for (const v of events) {
    const e = v as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || !isTime(e.at)) {
      refused++;
      continue;
    }
    const at = log.at(e.at);
    if (e.ev === 'arrival' && (e.sender === '' || isToken(e.sender)) && Number.isInteger(e.size) && (e.size as number) >= 0) {
      const h: SpoolHeader = { version: 1, id, sender: e.sender as string, recipients: [], done: [], arrival: e.at, size: e.size as number, attempts: 0, bounce: false, submitter: owner };
      at.arrival(h, isToken(e.bounceOf) ? { bounceOf: e.bounceOf } : undefined);
      arrival = true;
    } else if (e.ev === 'rcpt' && recipientOf(e.r)) {
      at.recipient(id, recipientOf(e.r)!, e.a === undefined ? undefined : attemptOf(e.a));
    } else if (e.ev === 'completed') {
      at.completed(id);
    } else if (e.ev === 'note' && isStr(e.text) && !OWNER_NOTES.test(e.text)) {
      at.note(id, e.text);
    } else refused++;
  }
  return { arrival, refused };
}
