/**
 * Atomic file placement for the spool (OpenSMTPD queue_fs.c's O_EXCL → fsync →
 * rename): write a temporary file created with O_EXCL ('wx') and mode 0600,
 * fsync it, move it into place, fsync the directory. A reader therefore sees
 * either the old file or the complete new one, after a crash as well.
 * node:fs only, synchronous: one open/write/fsync/close, one rename (or
 * link + unlink), one directory fsync per file.
 */
import { writeData, type MessageData } from '../data.js';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crashPoint, noSpace } from './crash.js';

/**
 * fsync a directory so that a rename or unlink in it is durable. Errors other
 * than EINVAL/EISDIR/EBADF propagate, except EACCES when `placed` is given:
 * a submitter may not read the drop directory (mode 1733), so it cannot open
 * it to fsync it; it fsyncs the file it has just placed instead, which on
 * journalling file systems (ext4, xfs) commits the transaction that holds the
 * new directory entry as well.
 */
export function fsyncDir(dir: string, placed?: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (err) {
    if (placed === undefined || (err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    const f = openSync(placed, 'r');
    try {
      fsyncSync(f);
    } finally {
      closeSync(f);
    }
    return;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    // some file systems refuse fsync on a directory; the rename is still atomic
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF') throw err;
  } finally {
    closeSync(fd);
  }
}

export interface AtomicOptions {
  /** Directory for the temporary file (same file system as `path`). */
  tmpDir: string;
  /** Name of the crash-point group (`D`, `H`, `drop`, …), see crash.ts. */
  what: string;
  /**
   * Never replace an existing file: place it with link(2), which fails with
   * EEXIST, instead of rename(2). Used for the data file, whose name is the
   * final guard of message-id uniqueness.
   */
  noReplace?: boolean;
  /** Mode of the new file; default 0600. */
  mode?: number;
}

/**
 * Write `content` to `path` atomically: a string, message data (a file's
 * region is copied chunk by chunk, never held whole), or several of them
 * in order.
 * @throws the fs error (EEXIST from a noReplace placement, ENOSPC, EACCES, …);
 *   the temporary file is removed on failure.
 */
export function writeFileAtomic(path: string, content: string | MessageData | (string | MessageData)[], opts: AtomicOptions): void {
  const tmp = join(opts.tmpDir, `${basename(path)}.${process.pid}`);
  crashPoint(`${opts.what}:before-tmp`);
  noSpace(`${opts.what}:open`);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o600);
  let placed = false;
  try {
    try {
      noSpace(`${opts.what}:write`);
      for (const part of Array.isArray(content) ? content : [content]) writeData(fd, typeof part === 'string' ? Buffer.from(part) : part);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    crashPoint(`${opts.what}:after-tmp`);
    if (opts.noReplace) {
      linkSync(tmp, path);
      placed = true;
      unlinkSync(tmp);
    } else {
      renameSync(tmp, path);
      placed = true;
    }
    crashPoint(`${opts.what}:after-rename`);
    fsyncDir(dirname(path), path);
  } finally {
    if (!placed) {
      try {
        unlinkSync(tmp);
      } catch {
        /* already gone */
      }
    }
  }
}
