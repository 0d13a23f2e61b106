/**
 * Retry hints per host and address (`db/retry-hints.json`, Exim's retry
 * database in spirit): when connecting to an address of the smarthost fails,
 * the failure and the next time worth trying are remembered under
 * `host:address+port` (Exim's `T:host:ip+port`: another port of the same
 * address may be another server), so that a queue run of many messages, or a new submission,
 * does not wait for the same dead host again and again. Hints are advice:
 * concurrent writers may overwrite each other (the last one wins), entries
 * expire, and forced deliveries (-qf, -M) ignore them. The decisions are
 * pure; loadHints/saveHints are the thin I/O.
 */
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { readChecked } from './open.js';
import type { Attempt } from '../types.js';

/** Reason given when the hints hold every host back (Exim's words). */
export const HELD_BACK = 'retry time not reached for any host';

export interface HostHint {
  /** First failure of this run of failures (ms). */
  firstFailure: number;
  lastAttempt: number;
  /** Not worth trying before this time (ms). */
  next: number;
  reason: string;
}

export type Hints = Record<string, HostHint>;

/** Entries are dropped this long after their `next` time even if nothing touched them. */
export const HINT_EXPIRY = 7 * 86_400_000;

/** Stages at which an attempt says something about the host rather than the message. */
const HOST_STAGES = new Set(['connect', 'banner', 'ehlo', 'starttls']);

export const hintKey = (host: string, address: string, port: number): string => `${host.toLowerCase()}:${address}+${port}`;

/** A host of the route as the hints know it: its name and the port it is tried on. */
export interface HintHost {
  name: string;
  port: number;
}

/**
 * Update hints from one delivery's attempts (pure): a host-level deferral
 * records or extends a hint, any attempt that got past the greeting and
 * EHLO clears it. `schedule` gives the next time from the hint's own
 * failure history (the message retry rules; 'give-up' means: do not hold
 * the host back any more).
 */
export function updateHints(
  hints: Hints,
  attempts: readonly Attempt[],
  now: number,
  schedule: (state: { firstFailure: number; lastAttempt: number; nextAttempt?: number }) => number | 'give-up',
): Hints {
  const out: Hints = { ...hints };
  for (const a of attempts) {
    const key = hintKey(a.queried, a.address, a.port);
    if (a.result === 'deferred' && HOST_STAGES.has(a.stage)) {
      const prev = out[key];
      const firstFailure = prev?.firstFailure ?? now;
      // the previous attempt and its scheduled time, so geometric rules really back off
      const next = schedule({ firstFailure, lastAttempt: prev?.lastAttempt ?? now, nextAttempt: prev?.next });
      out[key] = { firstFailure, lastAttempt: now, next: next === 'give-up' ? now : next, reason: a.reason };
    } else {
      delete out[key];
    }
  }
  for (const [k, h] of Object.entries(out)) if (now - h.next > HINT_EXPIRY) delete out[k];
  return out;
}

/**
 * Whether every host of the route is known to be down until later (pure):
 * each host name has at least one hint and all its hints are in the future.
 * Returns the earliest time one of them may be tried, or undefined when a
 * host may be tried now (or nothing is known about it).
 */
export function hostsHeldBack(hints: Hints, hosts: readonly HintHost[], now: number): number | undefined {
  if (hosts.length === 0) return undefined;
  let earliest = Infinity;
  for (const { name, port } of hosts) {
    const prefix = `${name.toLowerCase()}:`;
    const suffix = `+${port}`;
    const mine = Object.entries(hints).filter(([k]) => k.startsWith(prefix) && k.endsWith(suffix));
    if (mine.length === 0) return undefined;
    for (const [, h] of mine) {
      if (h.next <= now) return undefined;
      earliest = Math.min(earliest, h.next);
    }
  }
  return earliest;
}

const hintsPath = (dbDir: string): string => join(dbDir, 'retry-hints.json');

/** Read the hints; a missing, unreadable or damaged file is no hints. */
export function loadHints(dbDir: string): Hints {
  try {
    // under the store's rule (open.ts): a FIFO or a link there must neither block nor mislead a run
    const r = readChecked(hintsPath(dbDir), { owner: process.geteuid?.() ?? 0 });
    if (!r) return {};
    const v = JSON.parse(r.buf.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out: Hints = {};
    for (const [k, h] of Object.entries(v as Record<string, Partial<HostHint>>)) {
      // keys of older versions had no port (`host:address`): they would match no host, so they go
      if (!/\+\d+$/.test(k)) continue;
      if (typeof h?.next === 'number' && typeof h.firstFailure === 'number' && typeof h.lastAttempt === 'number') {
        out[k] = { firstFailure: h.firstFailure, lastAttempt: h.lastAttempt, next: h.next, reason: String(h.reason ?? '') };
      }
    }
    return out;
  } catch {
    return {};
  }
}

/** Where an attempt reads and writes the hints (QueueDeps.hints). */
export interface HintStore {
  load(): Hints;
  /** Write `hints` (only called when they changed). */
  save(hints: Hints): void;
}

/**
 * The hints of one queue run: read once at the start, kept in memory, and
 * written through (atomically) when an attempt changes them, instead of
 * being read again for every message. Concurrent writers are tolerated as
 * with the file itself: hints are advice, the last writer wins.
 */
export function runHintStore(dbDir: string): HintStore {
  let hints: Hints | undefined;
  return {
    load: () => (hints ??= loadHints(dbDir)),
    save: (h) => {
      hints = h;
      saveHints(dbDir, h);
    },
  };
}

/** Write the hints atomically (tmp in the same directory). Failures are ignored: hints are advice. */
export function saveHints(dbDir: string, hints: Hints): boolean {
  try {
    writeFileAtomic(hintsPath(dbDir), JSON.stringify(hints) + '\n', { tmpDir: dbDir, what: 'hints' });
    return true;
  } catch {
    return false;
  }
}
