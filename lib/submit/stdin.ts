/**
 * Standard input read with read(2) on fd 0, without process.stdin: on a pipe
 * that stream loads node:net and the stream machinery, a few milliseconds
 * of every submission's start-up (README, Performance). A descriptor that
 * is non-blocking (EAGAIN: the caller left O_NONBLOCK set) is finished with
 * the stream. Thin I/O.
 */
import { readSync } from 'node:fs';
import { SmarthostError } from '../errors.js';

const CHUNK = 1 << 16;

/**
 * Read `fd` to its end. `rest` reads what is left through a stream when the
 * descriptor turns out to be non-blocking.
 * @throws SmarthostError E_IO naming the error; E_MESSAGE past `maxBytes`
 */
export async function readInput(fd: number, rest: () => Promise<Buffer>, opts: { maxBytes?: number } = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK);
    let n: number;
    try {
      n = readSync(fd, buf, 0, CHUNK, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        chunks.push(await rest());
        break;
      }
      if (code === 'EOF') break; // Windows pipes
      throw new SmarthostError('E_IO', 'io', `reading the message failed: ${code ?? String(err)}`, { cause: err });
    }
    if (n === 0) break;
    size += n;
    if (opts.maxBytes !== undefined && size > opts.maxBytes) throw new SmarthostError('E_MESSAGE', 'data', `message larger than ${opts.maxBytes} bytes`);
    chunks.push(n === CHUNK ? buf : buf.subarray(0, n));
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The message on standard input: read(2) on `io.stdinFd` when the entry gave one, else the stream. */
export async function readStdin(io: { stdin: NodeJS.ReadableStream; stdinFd?: number }): Promise<Buffer> {
  const { readAll } = await import('./message.js');
  return io.stdinFd === undefined ? readAll(io.stdin) : readInput(io.stdinFd, () => readAll(io.stdin));
}
