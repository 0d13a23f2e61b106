/**
 * -Mvh, -Mvb and -Mvl (Exim's): print one queued message's header section,
 * its body, or its lines of the main log. For the spool owner only (the
 * caller checks), and read-only: nothing is locked or moved, as in Exim.
 *
 * Every spool file is read under the store's rule (open.ts): a message in
 * input/ through readHeader/readData (its header's id must be its name, its
 * data the size and CRC-32 recorded), a drop file in incoming/ through
 * readDrop (untrusted: no link followed, no FIFO waited on, one link, its
 * envelope naming it); a file that fails is reported, never printed. The
 * text is printed with the LF line ends of Exim's spool files (the message
 * is kept with CRLF, as it is sent).
 *
 * -Mvl: see report/message-log.ts. The lines come from the main log
 * (log_file_path), from the one rotated before it (`<log_file_path>.1`, as
 * logrotate's delaycompress leaves it) when there is one, and from the
 * message's journal (incoming/<id>-J: what an unprivileged process could not
 * write to the main log yet), rendered as the next queue run will write them.
 */
import { closeSync, existsSync, lstatSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { dataHead, dataSize, eachChunk, type MessageData } from '../data.js';
import { EX } from '../errors.js';
import { readDrop } from '../store/drop.js';
import { readJournal } from '../store/journal.js';
import { openChecked, Refused } from '../store/open.js';
import { readData, readHeader } from '../store/spool.js';
import { replayJournal } from '../report/journal-log.js';
import { queueLog } from '../report/mainlog.js';
import { mergeByTime, messageLogLine } from '../report/message-log.js';
import type { QueueDeps } from './deps.js';

export type ShowWhat = 'header' | 'body' | 'log';

export interface ShowIo {
  /** Standard output, text. */
  out: (text: string) => void;
  /** Standard output, bytes (a body need not be UTF-8). */
  bytes: (chunk: Buffer) => void;
  /** The main log (log_file_path), for -Mvl. */
  logFile: string;
}

/** Print `what` of queued message `id`; returns the exit code (66: not in the queue, 74: its files were refused). */
export function showMessage(id: string, what: ShowWhat, deps: QueueDeps, io: ShowIo): number {
  const l = deps.spool;
  const inInput = existsSync(join(l.input, `${id}-H`));
  const dropPath = join(l.incoming, id);
  if (!inInput && !existsSync(dropPath)) {
    deps.say(`message ${id} is not in the queue`);
    return EX.NOINPUT;
  }
  try {
    if (what === 'log') return showLog(id, inInput, deps, io);
    let data: MessageData;
    let close = (): void => {};
    if (inInput) {
      const h = readHeader(l, id);
      if (!h) {
        deps.say(`message ${id} is not in the queue`);
        return EX.NOINPUT;
      }
      data = readData(l, h);
    } else {
      const drop = readDrop(dropPath, id);
      if (!drop) {
        deps.say(`message ${id} is not in the queue`);
        return EX.NOINPUT;
      }
      ({ data, close } = drop);
    }
    try {
      const { headerEnd, bodyStart } = sections(data);
      const lf = lfWriter(io.bytes);
      if (what === 'header') lf.push(dataHead(data, headerEnd));
      else eachRange(data, bodyStart, dataSize(data), (chunk) => lf.push(chunk));
      lf.end();
    } finally {
      close();
    }
    return EX.OK;
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    deps.say(`message ${id}: ${err.message}: not shown (the next queue run moves it to ${l.corrupt})`);
    return EX.IOERR;
  }
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** Where the header section ends (after its last CRLF) and the body starts (after the empty line); no empty line: all header. */
export function sections(data: MessageData): { headerEnd: number; bodyStart: number } {
  const size = dataSize(data);
  for (let n = 1 << 16; ; n *= 16) {
    const head = dataHead(data, n);
    if (head[0] === 0x0d && head[1] === 0x0a) return { headerEnd: 0, bodyStart: 2 };
    const i = head.indexOf(CRLF2);
    if (i >= 0) return { headerEnd: i + 2, bodyStart: i + 4 };
    if (head.length >= size) return { headerEnd: size, bodyStart: size };
  }
}

/** Call `fn` with the bytes of [start, end) of the data, chunk by chunk. */
function eachRange(data: MessageData, start: number, end: number, fn: (chunk: Buffer) => void): void {
  let pos = 0;
  eachChunk(data, (chunk) => {
    const from = Math.max(start - pos, 0);
    const to = Math.min(end - pos, chunk.length);
    if (to > from) fn(chunk.subarray(from, to));
    pos += chunk.length;
  });
}

/** A writer that turns CRLF into LF across chunk boundaries (a CR at the end of a chunk waits for the next). */
export function lfWriter(write: (chunk: Buffer) => void): { push(chunk: Buffer): void; end(): void } {
  let carry = false;
  return {
    push(chunk) {
      let buf = carry ? Buffer.concat([Buffer.from('\r'), chunk]) : chunk;
      carry = buf.length > 0 && buf[buf.length - 1] === 0x0d;
      if (carry) buf = buf.subarray(0, -1);
      const parts: Buffer[] = [];
      let from = 0;
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n', i + 2)) {
        parts.push(buf.subarray(from, i));
        from = i + 1; // keep the LF
      }
      parts.push(buf.subarray(from));
      const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (out.length > 0) write(out);
    },
    end() {
      if (carry) write(Buffer.from('\r'));
      carry = false;
    },
  };
}

/** -Mvl: the message's lines of the main log (the rotated one first) and of its journal, merged by time. */
function showLog(id: string, inInput: boolean, deps: QueueDeps, io: ShowIo): number {
  const sources: string[][] = [];
  for (const file of [`${io.logFile}.1`, io.logFile]) {
    try {
      sources.push(logLinesOf(file, id));
    } catch (err) {
      if (err instanceof Refused) deps.say(`${err.message}: not read`);
      else throw err;
    }
  }
  sources.push(journalLines(id, inInput, deps));
  for (const line of mergeByTime(...sources)) io.out(`${line}\n`);
  return EX.OK;
}

/** Message `id`'s lines in log file `file` (none when it does not exist), read under the store's rule in 1 MiB chunks. */
function logLinesOf(file: string, id: string): string[] {
  const o = openChecked(file);
  if (!o) return [];
  const lines: string[] = [];
  const key = Buffer.from(id);
  const buf = Buffer.allocUnsafe(1 << 20);
  let rest = Buffer.alloc(0);
  try {
    for (let pos = 0; ; ) {
      const n = readSync(o.fd, buf, 0, buf.length, pos);
      pos += n;
      const text = n === 0 ? rest : Buffer.concat([rest, buf.subarray(0, n)]);
      const last = n === 0 ? text.length : text.lastIndexOf(0x0a) + 1;
      // only the chunks that hold the id are split into lines
      if (text.subarray(0, last).indexOf(key) >= 0) {
        for (const line of text.subarray(0, last).toString('utf8').split('\n')) {
          const m = messageLogLine(line, id);
          if (m !== undefined) lines.push(m);
        }
      }
      // (a line of over 16 MiB is no log line: dropped)
      rest = text.length - last > 1 << 24 ? Buffer.alloc(0) : Buffer.from(text.subarray(last));
      if (n === 0) break;
    }
  } finally {
    closeSync(o.fd);
  }
  return lines;
}

/** The lines message `id`'s journal will give the main log (rendered, not written), when it has one its owner wrote. */
function journalLines(id: string, inInput: boolean, deps: QueueDeps): string[] {
  const l = deps.spool;
  let owner: number | undefined;
  try {
    owner = inInput ? readHeader(l, id)?.submitter.uid : lstatSync(join(l.incoming, id)).uid;
  } catch {
    return [];
  }
  if (owner === undefined) return [];
  let j;
  try {
    j = readJournal(l, id, { owner });
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    deps.say(`journal ${err.message}: not read`);
    return [];
  }
  if (!j) return [];
  const lines: string[] = [];
  replayJournal(id, j.events, { uid: j.uid, user: deps.userName(j.uid) }, queueLog((line) => lines.push(line), deps.now, deps.userName(j.uid)));
  return lines.map((line) => messageLogLine(line, id)).filter((x): x is string => x !== undefined);
}
