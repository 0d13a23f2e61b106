/**
 * Standard input read with read(2) on fd 0, without process.stdin: on a pipe
 * that stream loads node:net and the stream machinery, a few milliseconds
 * of every submission's start-up (README, Performance). A descriptor that
 * is non-blocking (EAGAIN: the caller left O_NONBLOCK set) is finished with
 * the stream. Input over IN_MEMORY_MAX goes on into a file as it is read
 * (large.ts takes it from there), so memory stays flat whatever the size.
 * Thin I/O.
 */
import { closeSync, readSync, unlinkSync } from 'node:fs';
import { SmarthostError } from '../errors.js';
import { IN_MEMORY_MAX, readFully, writeFully } from '../data.js';
import { tempFile, type RawFile } from './large.js';

const CHUNK = 1 << 16;

/** What was read: the whole input, or (over IN_MEMORY_MAX, with a `spillDir`) a file holding it. */
export type Input = Buffer | RawFile;

export const isRawFile = (i: Input): i is RawFile => !Buffer.isBuffer(i);

/**
 * Read `fd` to its end. `rest` reads what is left through a stream when the
 * descriptor turns out to be non-blocking. With `spillDir` (asked only
 * then), input over IN_MEMORY_MAX is copied into a private file there (removed again should
 * reading fail).
 * @throws SmarthostError E_IO naming the error
 */
export async function readInput(fd: number, rest: () => Promise<Buffer>, opts: { spillDir?: () => string } = {}): Promise<Input> {
  const chunks: Buffer[] = [];
  let size = 0;
  let spill: { path: string; fd: number; written: number } | undefined;
  let reuse: Buffer | undefined; // once spilling: one buffer for every read (no garbage per chunk)
  let dir: string | undefined;
  let full = false; // the spill's file system is full: the rest is held in memory
  /**
   * Put `chunk` into the spill file; when its file system is full (ENOSPC,
   * EDQUOT), take what the file holds back into memory and go on there: a
   * message that could be delivered at once (-odi) is not refused for want
   * of a temporary file (issue 9, point 12).
   */
  const toSpill = (chunk: Buffer): void => {
    const s = spill!;
    try {
      writeFully(s.fd, chunk);
      s.written += chunk.length;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw err;
      const back = Buffer.allocUnsafe(s.written);
      readFully(s.fd, back, 0);
      closeSync(s.fd);
      unlinkSync(s.path);
      spill = undefined;
      reuse = undefined;
      full = true;
      chunks.push(back, Buffer.from(chunk));
    }
  };
  try {
    for (;;) {
      const buf = reuse ?? Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          const more = await rest();
          if (spill) toSpill(more);
          else chunks.push(more);
          size += more.length;
          break;
        }
        if (code === 'EOF') break; // Windows pipes
        throw new SmarthostError('E_IO', 'io', `reading the message failed: ${code ?? String(err)}`, { cause: err });
      }
      if (n === 0) break;
      size += n;
      const chunk = n === CHUNK ? buf : buf.subarray(0, n);
      if (spill) {
        toSpill(chunk);
        continue;
      }
      chunks.push(chunk);
      if (opts.spillDir !== undefined && size > IN_MEMORY_MAX && !full) {
        // from here on the input goes to a file: a large message is never held whole
        dir = opts.spillDir();
        try {
          spill = { ...tempFile(dir, 'input'), written: 0 };
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOSPC' && code !== 'EDQUOT') throw err;
          full = true; // no room even for the file: held in memory
          continue;
        }
        const held = chunks.splice(0);
        reuse = Buffer.allocUnsafe(CHUNK);
        for (const c of held) if (spill) toSpill(c);
        else chunks.push(c);
      }
    }
  } catch (err) {
    if (spill) {
      closeSync(spill.fd);
      unlinkSync(spill.path);
    }
    if (err instanceof SmarthostError) throw err;
    // the temporary file (ENOSPC, EACCES): the message was not accepted, the caller keeps it
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new SmarthostError('E_IO', 'temp', `cannot keep the message in ${dir ?? 'a temporary file'}: ${code}`, { cause: err });
  }
  if (spill) {
    closeSync(spill.fd);
    return { path: spill.path, size };
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The message on standard input: read(2) on `io.stdinFd` when the entry gave one, else the stream (always in memory). */
export async function readStdin(io: { stdin: NodeJS.ReadableStream; stdinFd?: number }, spillDir?: () => string): Promise<Input> {
  const { readAll } = await import('./message.js');
  return io.stdinFd === undefined ? readAll(io.stdin) : readInput(io.stdinFd, () => readAll(io.stdin), spillDir === undefined ? {} : { spillDir });
}
