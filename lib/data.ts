/**
 * A message's data, held in memory (most messages) or as a region of a file
 * (a message over {@link IN_MEMORY_MAX}: submitted ones are written to a
 * file as they are read, queued ones are read from the spool), so that a
 * 200 MiB message costs no more memory than a 50 MiB one: it is streamed
 * from standard input to a file and from the file to the socket (README,
 * Performance). Shared vocabulary, like types.ts; thin synchronous I/O.
 *
 * Data in a file is always final: CRLF line ends, header fields added
 * (hygiene.ts), so its size is its size on the wire and nothing reads it
 * whole except the rare paths that need a Buffer ({@link dataBuffer}: a
 * 7-bit conversion for a server without 8BITMIME, dead.letter).
 */
import { isAscii } from 'node:buffer';
import { closeSync, createReadStream, openSync, readSync, writeSync, type ReadStream } from 'node:fs';

/** Above this size a message is kept in a file, not in memory. */
export const IN_MEMORY_MAX = 1 << 20;

/** Chunk size of the copies and scans below. */
const CHUNK = 1 << 20;

export interface FileData {
  /** The file (in input/, tmp/, or a temporary file of the submission). */
  readonly path: string;
  /** An open descriptor of it to read instead of the path (a drop file, checked once when opened). */
  readonly fd?: number;
  /** Where the data starts in the file, and how long it is. */
  readonly offset: number;
  readonly size: number;
  /** Whether any byte is over 0x7f (BODY=8BITMIME), found when the data was written or first read. */
  readonly eightBit: boolean;
}

/** A message's data. */
export type MessageData = Buffer | FileData;

export const isFileData = (d: MessageData): d is FileData => !Buffer.isBuffer(d);

/** A region of a file as message data; whether it is 8-bit is found by reading it when not given. */
export function fileData(p: { path: string; fd?: number; offset: number; size: number; eightBit?: boolean }): FileData {
  if (p.eightBit !== undefined) return { ...p, eightBit: p.eightBit };
  let eightBit = false;
  eachChunk({ ...p, eightBit }, (chunk) => {
    if (!eightBit && !isAscii(chunk)) eightBit = true;
  });
  return { ...p, eightBit };
}

export const dataSize = (d: MessageData): number => (isFileData(d) ? d.size : d.length);

/** Fill `buf` from `fd` at `position` (pread until full or end of file); returns the bytes read. */
export function readFully(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Write all of `buf` to `fd`. */
export function writeFully(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
}

/** Read `length` bytes at `position` of a file region into `buf`. */
const readAt = (d: FileData, fd: number, buf: Buffer, position: number, length: number): number => readFully(fd, buf.subarray(0, length), d.offset + position);

/** Run `fn` with a descriptor of the region's file (its own, or one opened and closed here). */
function withFd<T>(d: FileData, fn: (fd: number) => T): T {
  if (d.fd !== undefined) return fn(d.fd);
  const fd = openSync(d.path, 'r');
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** The first `max` bytes (the header block for a bounce, a MIME shape). */
export const dataHead = (d: MessageData, max: number): Buffer => dataRange(d, 0, max);

/** The whole data in memory: only for the rare paths that need it (see the module comment). */
export function dataBuffer(d: MessageData): Buffer {
  return dataHead(d, isFileData(d) ? d.size : d.length);
}

/**
 * What nodemailer's send() takes: the Buffer, or a stream of the file region
 * (read again for each attempt), in chunks of 64 KiB. Each chunk is a new
 * buffer that lives until V8 collects it; V8 collects such garbage once it
 * reaches about 32 MiB, whatever the message's size, so the peak is flat (a
 * 50 MiB and a 200 MiB message: 94 MiB peak RSS each). 16 KiB chunks lower
 * the peak of a 50 MiB message to 83 MiB but not of a 200 MiB one (97 MiB),
 * and cost a third more time (README, Performance).
 */
export function dataSource(d: MessageData): Buffer | ReadStream {
  if (!isFileData(d)) return d;
  if (d.size === 0) return Buffer.alloc(0);
  const range = { start: d.offset, end: d.offset + d.size - 1, highWaterMark: 1 << 16 };
  const stream = d.fd !== undefined ? createReadStream('', { ...range, fd: d.fd, autoClose: false }) : createReadStream(d.path, range);
  return stream;
}

/** Call `fn` with each chunk of the data, in order (synchronous). */
export function eachChunk(d: MessageData, fn: (chunk: Buffer) => void): void {
  if (!isFileData(d)) {
    fn(d);
    return;
  }
  withFd(d, (fd) => {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(d.size, 1)));
    for (let pos = 0; pos < d.size; ) {
      const n = readAt(d, fd, buf, pos, Math.min(buf.length, d.size - pos));
      if (n === 0) throw Object.assign(new Error(`${d.path}: shorter than expected`), { code: 'EIO' });
      fn(buf.subarray(0, n));
      pos += n;
    }
  });
}

/** Write the data to `fd` (a spool file being written), chunk by chunk. */
export function writeData(fd: number, d: MessageData): void {
  eachChunk(d, (chunk) => writeFully(fd, chunk));
}

/** `length` bytes of the data from `position`. */
function dataRange(d: MessageData, position: number, length: number): Buffer {
  if (!isFileData(d)) return d.subarray(position, position + length);
  const buf = Buffer.alloc(Math.max(0, Math.min(length, d.size - position)));
  return buf.subarray(0, withFd(d, (fd) => readAt(d, fd, buf, position, buf.length)));
}

/** Whether two data are the same bytes (a drop file already queued by a run that crashed before removing it), compared chunk by chunk. */
export function sameData(a: MessageData, b: MessageData): boolean {
  if (dataSize(a) !== dataSize(b)) return false;
  let pos = 0;
  let same = true;
  eachChunk(b, (chunk) => {
    if (same && !dataRange(a, pos, chunk.length).equals(chunk)) same = false;
    pos += chunk.length;
  });
  return same;
}
