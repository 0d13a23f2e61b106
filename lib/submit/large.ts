/**
 * A piped message over IN_MEMORY_MAX, accepted without holding it: standard
 * input was copied as it came into a raw file (stdin.ts); here the header
 * section (at most IN_MEMORY_MAX) goes through the same preparation as a
 * small message (message.ts: -t, Bcc removed; finish.ts: Date, Message-ID,
 * From, CRLF, folding), and the body is copied after it into the final file
 * line by line: every line end made CRLF, a lone `.` line ending the message
 * unless -i, 8-bit bytes noted. A body line over 998 octets needs the whole
 * body re-encoded (hygiene.ts): such a message is read into memory and
 * prepared as a small one, the one case where a large message is held whole.
 */
import { isAscii } from 'node:buffer';
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SmarthostError } from '../errors.js';
import { IN_MEMORY_MAX, readFully, writeFully, type FileData } from '../data.js';
import { scanHeaders } from './message.js';
import { MAX_LINE } from './hygiene.js';

/** A raw input copied to a file (stdin.ts). */
export interface RawFile {
  path: string;
  size: number;
}

const CHUNK = 1 << 20;

/** The header section of a raw file: the bytes up to and including the empty line (or up to the first non-header line). */
export function rawHeader(raw: RawFile): { head: Buffer; bodyStart: number; separator: boolean } {
  const fd = openSync(raw.path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(raw.size, IN_MEMORY_MAX));
    const n = readFully(fd, buf, 0);
    const scan = scanHeaders(buf.subarray(0, n));
    if (scan.bodyStart >= n && raw.size > n) throw new SmarthostError('E_MESSAGE', 'data', `the header section is over ${IN_MEMORY_MAX} octets`);
    return { head: buf.subarray(0, scan.bodyStart), bodyStart: scan.bodyStart, separator: scan.separator };
  } finally {
    closeSync(fd);
  }
}

export type BodyCopy = { size: number; eightBit: boolean } | { longLine: true };

/**
 * Copy the body (the raw file from `from`, `chunk` octets at a time) to `out` with CRLF line ends,
 * stopping at a lone `.` line unless `ignoreDots` (as truncateAtDot does:
 * `afterLf` says whether the body starts after an LF). Stops early with
 * `longLine` when a line is over MAX_LINE octets (the caller then re-encodes
 * the whole message in memory).
 */
export function copyBody(raw: RawFile, from: number, out: number, ignoreDots: boolean, chunk = CHUNK, afterLf = true): BodyCopy {
  const fd = openSync(raw.path, 'r');
  // two buffers for the whole copy (no garbage per chunk): the input (an unfinished line, then a chunk)
  // and the output (at most twice the input: every line end could be a bare LF made CRLF)
  const input = Buffer.allocUnsafe(MAX_LINE + 2 + chunk);
  const output = Buffer.allocUnsafe(2 * input.length);
  let outLen = 0;
  let size = 0;
  let eightBit = false;
  const emit = (from: number, to: number): void => {
    outLen += input.copy(output, outLen, from, to);
  };
  const crlf = (): void => {
    output[outLen++] = 0x0d;
    output[outLen++] = 0x0a;
  };
  const flush = (): void => {
    const b = output.subarray(0, outLen);
    writeFully(out, b);
    if (!eightBit && !isAscii(b)) eightBit = true;
    size += b.length;
    outLen = 0;
  };
  try {
    let carry = 0; // an unfinished line at the start of `input` (at most MAX_LINE octets and a CR waiting for its LF)
    for (let pos = from; ; ) {
      const n = pos < raw.size ? readFully(fd, input.subarray(carry, carry + Math.min(chunk, raw.size - pos)), pos) : 0;
      const eof = n === 0;
      pos += n;
      const end = carry + n;
      let seg = 0; // start of what is not yet emitted
      let lineStart = 0;
      // from line end to line end with indexOf (memchr), not byte by byte: a third of the time of the copy
      const view = input.subarray(0, end);
      let nextCr = view.indexOf(0x0d);
      for (let i = view.indexOf(0x0a); ; ) {
        if (nextCr !== -1 && (i === -1 || nextCr < i)) i = nextCr; // the nearer of the next LF and the next CR
        if (i === -1) break;
        const c = input[i];
        if (c === 0x0d && i + 1 === end && !eof) break; // a CR at the end: its LF may follow
        const length = i - lineStart;
        if (length > MAX_LINE) return { longLine: true };
        const crlfEnd = c === 0x0d && i + 1 < end && input[i + 1] === 0x0a;
        // sendmail's end of message: a line '.' between two LFs (a bare CR does not end a line for it; '.\r' at the very end does)
        const lfEnd = c === 0x0a || crlfEnd || (c === 0x0d && eof && i + 1 === end);
        if (!ignoreDots && lfEnd && afterLf && length === 1 && input[lineStart] === 0x2e) {
          emit(seg, lineStart);
          flush();
          return { size, eightBit };
        }
        afterLf = lfEnd;
        if (crlfEnd) i++; // CRLF: stays as it is, in the current slice
        else {
          emit(seg, i); // a bare LF or CR becomes CRLF
          crlf();
          seg = i + 1;
        }
        lineStart = i + 1;
        if (nextCr !== -1 && nextCr < lineStart) nextCr = view.indexOf(0x0d, lineStart);
        i = view.indexOf(0x0a, lineStart);
      }
      emit(seg, lineStart);
      flush();
      carry = end - lineStart;
      if (carry > MAX_LINE + 1) return { longLine: true };
      input.copy(input, 0, lineStart, end);
      if (eof) {
        // the last line without a line end stays so (toCrlf does the same); a lone '.' there ends the message too
        if (carry > 0 && (ignoreDots || !afterLf || !(carry === 1 && input[0] === 0x2e))) {
          emit(0, carry);
          flush();
        }
        return { size, eightBit };
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** A private temporary file for a message being prepared, in `dir`. */
export function tempFile(dir: string, what: string): { path: string; fd: number } {
  for (let i = 0; ; i++) {
    const path = join(dir, `send-smarthost-${what}-${process.pid}-${Date.now().toString(36)}-${i}`);
    try {
      return { path, fd: openSync(path, 'wx+', 0o600) }; // read and write: a spill may be taken back into memory (stdin.ts)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i > 100) throw err;
    }
  }
}

/**
 * The final file of a large message: `header` (prepared, CRLF) then the body
 * of `raw` from `bodyStart`. Undefined when a body line is too long (see
 * the module comment). The raw file is left to the caller.
 */
export function writeLarge(raw: RawFile, header: Buffer, bodyStart: number, ignoreDots: boolean, dir: string, afterLf = true): FileData | undefined {
  const out = tempFile(dir, 'message');
  let ok = false;
  try {
    writeFully(out.fd, header);
    const body = copyBody(raw, bodyStart, out.fd, ignoreDots, CHUNK, afterLf);
    if ('longLine' in body) return undefined;
    ok = true;
    return { path: out.path, offset: 0, size: header.length + body.size, eightBit: !isAscii(header) || body.eightBit };
  } finally {
    closeSync(out.fd);
    if (!ok) unlinkSync(out.path);
  }
}
