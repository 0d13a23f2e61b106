/**
 * The main log's sink: appends lines to log_file_path (see log.ts for the
 * line formats), falling back to another sink when the file cannot be written.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { noSpace } from '../store/crash.js';

/** A sink for log lines. */
export type LogSink = (line: string) => void;

/** How long an open log file is written to before it is opened again (a rotated log is followed within this). */
export const REOPEN_MS = 1000;

/**
 * The main log file as a sink. Lines are appended with O_APPEND, one write
 * per line, so concurrent processes never interleave inside a line. The file
 * is opened (O_APPEND|O_CREAT|O_NOFOLLOW, 0640) for the first line and kept
 * open for {@link REOPEN_MS}: a queue run writes two lines per message, and an
 * open/fstat/close around each cost a tenth of its time. A rotated log
 * (logrotate without copytruncate) is therefore followed within a second; a
 * process that writes one line and exits is unaffected. The parent directory
 * is created (mode 0750) when missing and possible. When the file cannot be
 * written (an unprivileged submitter, a full disk, a symlink in its place)
 * the line goes to `fallback` instead; this never throws. `now` is for tests.
 */
export function openMainLog(path: string, fallback: LogSink, now: () => number = Date.now): LogSink {
  let triedDir = false;
  let open: { fd: number; until: number } | undefined;
  const close = (): void => {
    if (open) closeSync(open.fd);
    open = undefined;
  };
  const descriptor = (): number => {
    const t = now();
    if (open && t < open.until) return open.fd;
    close();
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0);
    const fd = openSync(path, flags, 0o640);
    try {
      if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    open = { fd, until: t + REOPEN_MS };
    return fd;
  };
  const append = (text: string): void => {
    try {
      noSpace('log');
      const fd = descriptor();
      const buf = Buffer.from(text);
      let off = 0;
      for (let i = 0; off < buf.length && i < 100; i++) off += writeSync(fd, buf, off);
      if (off < buf.length) throw new Error('short write');
    } catch (err) {
      close(); // the next line opens the file afresh
      throw err;
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
