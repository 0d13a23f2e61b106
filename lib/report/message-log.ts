/**
 * A message's log as -Mvl prints it (pure). Exim keeps a per-message log in
 * msglog/ whose lines are the main log's without the id (`2026-11-28
 * 13:02:39 == bob@example.net R=… defer (-44) …`); send-smarthost keeps no
 * second copy of each line (a write per event and message on the delivery
 * path, and one more file per message for the store to check): -Mvl picks
 * the message's lines out of the main log instead and prints them in that
 * shape.
 */

/** `YYYY-MM-DD HH:MM:SS ` (20 characters), the start of every main-log line (log.ts, logStamp). */
const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d $/;

/** The message-log form of a main-log line when it is message `id`'s (its id right after the time stamp), else undefined. */
export function messageLogLine(line: string, id: string): string | undefined {
  if (line.length <= 21 + id.length || line[20 + id.length] !== ' ' || !line.startsWith(id, 20) || !STAMP.test(line.slice(0, 20))) return undefined;
  return line.slice(0, 20) + line.slice(21 + id.length);
}

/**
 * Merge message-log lines from several sources (the rotated log, the
 * current one, a journal not yet rendered) by their time stamps, keeping
 * each source's order for lines of the same second.
 */
export function mergeByTime(...sources: readonly string[][]): string[] {
  return sources
    .flat()
    .map((line, i) => ({ line, i }))
    .sort((a, b) => (a.line.slice(0, 19) < b.line.slice(0, 19) ? -1 : a.line.slice(0, 19) > b.line.slice(0, 19) ? 1 : a.i - b.i))
    .map((x) => x.line);
}
