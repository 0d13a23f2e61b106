/**
 * The main log's sink: appends lines to log_file_path (see log.ts for the
 * line formats), falling back to another sink when the file cannot be written.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** A sink for log lines. */
export type LogSink = (line: string) => void;

/**
 * The main log file as a sink. Each line is appended with its own
 * open(O_APPEND|O_CREAT|O_NOFOLLOW, 0640) / write / close, so concurrent
 * processes never interleave inside a line and a rotated log (logrotate
 * without copytruncate) is followed at once. The parent directory is created
 * (mode 0750) when missing and possible. When the file cannot be written (an
 * unprivileged submitter, a full disk, a symlink in its place) the line goes
 * to `fallback` instead; this never throws.
 */
export function openMainLog(path: string, fallback: LogSink): LogSink {
  let triedDir = false;
  const append = (text: string): void => {
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0);
    const fd = openSync(path, flags, 0o640);
    try {
      if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
      const buf = Buffer.from(text);
      let off = 0;
      for (let i = 0; off < buf.length && i < 100; i++) off += writeSync(fd, buf, off);
      if (off < buf.length) throw new Error('short write');
    } finally {
      closeSync(fd);
    }
  };
  return (line: string): void => {
    // The formatters escape; this guards lines built elsewhere: one call, one line.
    const text = `${line.replace(/[\r\n]+$/, '').replace(/\r?\n|\r/g, '\\n')}\n`;
    try {
      append(text);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !triedDir) {
        triedDir = true;
        try {
          mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
          append(text);
          return;
        } catch {
          // fall through to the fallback
        }
      }
    }
    try {
      fallback(line);
    } catch {
      // a sink never throws
    }
  };
}
