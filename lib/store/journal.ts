/**
 * Journals: `incoming/<id>-J`, the main-log events of message `<id>` that
 * a process could not write to the main log itself (an unprivileged
 * submitter's -odi delivery or background deliverer; log_file_path is the
 * spool owner's). One JSON object per line, appended (O_APPEND, one write
 * per line), owned by the writer, mode 0600. The next root queue run reads
 * each journal under the store's rule (open.ts), validates every event
 * (report/journal-log.ts), renders it with its own formatter and removes
 * the journal: the id comes from the file's name and the user from its
 * owner, never from what the file says, and no text of it is copied into
 * the main log unchecked. Thin synchronous I/O.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isMessageId } from './ids.js';
import { noSpace } from './crash.js';
import { readChecked, type Expect } from './open.js';
import type { SpoolLayout } from './spool.js';

/** Longest journal read (a message's events are a few hundred bytes each). */
export const MAX_JOURNAL = 1 << 20;

export const journalPath = (l: SpoolLayout, id: string): string => join(l.incoming, `${id}-J`);

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Append one event to message `id`'s journal. Returns false when it cannot
 * be written (no drop directory, a full file system, a name planted by
 * someone else); never throws.
 */
export function appendJournal(l: SpoolLayout, id: string, event: object): boolean {
  if (!isMessageId(id)) return false;
  let fd: number;
  try {
    noSpace('journal');
    fd = openSync(journalPath(l, id), FLAGS, 0o600);
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1 || st.uid !== (process.geteuid?.() ?? st.uid)) return false;
    const buf = Buffer.from(JSON.stringify(event) + '\n');
    return writeSync(fd, buf) === buf.length;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Ids that have a journal in incoming/ (the spool owner can list it). */
export function listJournals(l: SpoolLayout): string[] {
  try {
    return readdirSync(l.incoming)
      .filter((n) => n.length === 18 && n.endsWith('-J') && isMessageId(n.slice(0, 16)))
      .map((n) => n.slice(0, 16))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Read message `id`'s journal under the store's rule: its owner's uid and
 * its lines parsed as JSON (lines that are not are left out). Undefined
 * when there is none. @throws Refused
 */
export function readJournal(l: SpoolLayout, id: string, expect: Expect = {}): { uid: number; events: unknown[] } | undefined {
  const r = readChecked(journalPath(l, id), expect, MAX_JOURNAL);
  if (!r) return undefined;
  const events: unknown[] = [];
  for (const line of r.buf.toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      /* a line cut by a crash, or garbage: not an event */
    }
  }
  return { uid: r.st.uid, events };
}
