/**
 * The one rule for every file the store reads (issue 9): a spool file is
 * opened with O_NOFOLLOW | O_NONBLOCK (a symlink is refused, never
 * followed; a FIFO never blocks the open) and what was opened is checked
 * with fstat before a byte is read: a regular file, one link (a hard link
 * would smuggle another file in), the expected owner. Anything else is a
 * {@link Refused} error naming the path and the problem; the caller moves
 * the name aside (quarantine.ts) and goes on. Thin synchronous node:fs I/O.
 *
 * Locks are not files that are read: they are symlinks whose target is
 * the holder's text, read with readlink(2), which neither follows nor
 * blocks (lock.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Why a spool file was refused (the file is not read). */
export type RefusedWhy = 'symbolic link' | 'not a regular file' | 'several links' | 'wrong owner' | 'unreadable' | 'damaged';

/** A spool file that the store will not read: see the module comment. */
export class Refused extends Error {
  constructor(
    readonly path: string,
    readonly why: RefusedWhy,
    detail?: string,
  ) {
    super(`${path}: ${why}${detail ? ` (${detail})` : ''}`);
    this.name = 'Refused';
  }
}

export interface Opened {
  fd: number;
  st: Stats;
}

/** What the opener expects of the file: its owner (a uid, or a test), by default anyone. */
export interface Expect {
  owner?: number | ((uid: number) => boolean);
}

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Open `path` for reading under the store's rule. Undefined when it does not
 * exist. The caller closes `fd`.
 * @throws Refused (the name is left where it is: the caller decides)
 */
export function openChecked(path: string, expect: Expect = {}): Opened | undefined {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw new Refused(path, 'symbolic link');
    // a directory opens (O_RDONLY) and is refused by fstat below; EACCES, ENXIO (a socket)…
    throw new Refused(path, 'unreadable', code);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Refused(path, 'not a regular file', kindOf(st));
    if (st.nlink !== 1) throw new Refused(path, 'several links', `${st.nlink}`);
    const { owner } = expect;
    if (owner !== undefined && !(typeof owner === 'number' ? st.uid === owner : owner(st.uid))) throw new Refused(path, 'wrong owner', `uid ${st.uid}`);
    return { fd, st };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** What a non-regular file is, in a word (for the log line). */
export function kindOf(st: Stats): string {
  return st.isDirectory() ? 'directory' : st.isFIFO() ? 'FIFO' : st.isSymbolicLink() ? 'symbolic link' : st.isSocket() ? 'socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'device' : 'file';
}

/** Read up to `max` bytes from the start of an open file (a short file gives fewer). */
export function readHead(fd: number, max: number): Buffer {
  const buf = Buffer.allocUnsafe(max);
  let got = 0;
  while (got < max) {
    const n = readSync(fd, buf, got, max - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * Read a whole spool file under the rule (at most `max` bytes: a file that
 * is longer is refused as damaged by the caller's parser anyway).
 * Undefined when it does not exist. @throws Refused
 */
export function readChecked(path: string, expect: Expect = {}, max = 1 << 24): { buf: Buffer; st: Stats } | undefined {
  const o = openChecked(path, expect);
  if (!o) return undefined;
  try {
    return { buf: readHead(o.fd, Math.min(o.st.size, max)), st: o.st };
  } finally {
    closeSync(o.fd);
  }
}
