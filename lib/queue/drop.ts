/**
 * The drop directory for submitters who cannot write input/ (the Postfix
 * maildrop idea without a setgid helper). `incoming/` is mode 1733: anyone
 * may create files in it, nobody but the spool owner may list it, and the
 * sticky bit stops users from removing or renaming each other's files.
 *
 * A submitter writes ONE file, `incoming/<id>` (0600, owned by the
 * submitter): a JSON envelope line, then the message data. It is written to
 * a private temporary name first and link(2)ed into place, so a queue run
 * never sees half a file. The queue runner (root or the spool owner) opens
 * each drop file without following symlinks and without blocking on FIFOs,
 * refuses anything but a regular file with one link (a hard link to another
 * user's file would otherwise smuggle that file into a message), records the
 * file's OWNER uid as the submitter (never what the file says), and moves the
 * message into input/ with the usual atomic writes before unlinking the drop.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SmarthostError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from './atomic.js';
import { validateHeader, type SpoolHeader, type Submitter } from './header.js';
import { isMessageId } from './ids.js';
import { lockMessage, type Lock, type LockDeps } from './lock.js';
import { ORPHAN_AGE, readData, readHeader, storeMessage, type SpoolLayout } from './spool.js';

/** Longest envelope line accepted from a drop file. */
const MAX_ENVELOPE = 1 << 20;

/** Write a drop file. @throws the fs error (EEXIST when the id is taken: pick another). */
export function writeDrop(l: SpoolLayout, header: SpoolHeader, data: Buffer): void {
  writeFileAtomic(join(l.incoming, header.id), serializeDrop(header, data), { tmpDir: l.incoming, what: 'drop', noReplace: true });
}

/** A drop file's content: the envelope as one JSON line, then the data. */
export const serializeDrop = (header: SpoolHeader, data: Buffer): Buffer => Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), data]);

/** Split a drop file into its validated envelope and data (pure). @throws SmarthostError E_IO */
export function parseDrop(buf: Buffer, where: string): { header: SpoolHeader; data: Buffer } {
  const nl = buf.indexOf(0x0a);
  if (nl < 0 || nl > MAX_ENVELOPE) throw new SmarthostError('E_IO', 'temp', `${where}: bad drop file: no envelope line`);
  let v: unknown;
  try {
    v = JSON.parse(buf.subarray(0, nl).toString('utf8'));
  } catch {
    throw new SmarthostError('E_IO', 'temp', `${where}: bad drop file: envelope is not JSON`);
  }
  return { header: validateHeader(v, where), data: buf.subarray(nl + 1) };
}

function readAllFd(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

export interface DropResult {
  /** Messages moved into input/ (their ids may differ from the drop names). */
  accepted: SpoolHeader[];
  /** One line per drop file that was refused or failed. */
  problems: string[];
}

export interface DropDeps {
  now: number;
  /** Login name of a uid (for the log and dead.letter); a numeric string when unknown. */
  userName: (uid: number) => string;
  /** A fresh message id, for a drop whose id is already used in input/. */
  newId: () => string;
  lock: LockDeps;
}

/**
 * Move drop files into the queue. Only names shaped like message ids are
 * taken; temporary files older than a day are removed.
 */
export function acceptDrops(l: SpoolLayout, deps: DropDeps): DropResult {
  const out: DropResult = { accepted: [], problems: [] };
  let names: string[];
  try {
    names = readdirSync(l.incoming);
  } catch {
    return out; // no drop directory, or not ours to read
  }
  for (const name of names) {
    const path = join(l.incoming, name);
    if (!isMessageId(name)) {
      try {
        if (deps.now - statSync(path).mtimeMs > ORPHAN_AGE) unlinkSync(path);
      } catch {
        /* gone */
      }
      continue;
    }
    acceptDrop(l, name, deps, out);
  }
  return out;
}

/**
 * Move the drop file `incoming/<name>` into input/ under its claim lock
 * (`incoming/<name>-L`, {@link claimDrop}); nothing when another process
 * holds the claim (a background deliverer, another runner).
 */
export function acceptDrop(l: SpoolLayout, name: string, deps: DropDeps, out: DropResult): void {
  const claim = claimDrop(l, name, deps.lock);
  if (!claim) return;
  try {
    acceptOne(l, name, join(l.incoming, name), deps, out);
  } finally {
    claim.release();
  }
}

/**
 * The claim on drop file `name`: its lock `incoming/<name>-L`, which the
 * submitter's background deliverer (-odb) and queue runners both take, so a
 * drop file is moved or delivered by one process at a time. A claim lock
 * owned by neither root, this process's user nor the drop file's owner was
 * planted by another user (incoming/ is writable by all) and is removed
 * before the lock is taken.
 */
export function claimDrop(l: SpoolLayout, name: string, lock: LockDeps): Lock | undefined {
  const path = join(l.incoming, `${name}-L`);
  try {
    const owner = lstatSync(path).uid;
    const me = process.getuid?.() ?? 0;
    let dropOwner: number | undefined;
    try {
      dropOwner = lstatSync(join(l.incoming, name)).uid;
    } catch {
      /* no drop file: nothing to protect */
    }
    if (owner !== 0 && owner !== me && owner !== dropOwner) unlinkQuiet(path);
  } catch {
    /* no claim yet */
  }
  return lockMessage(l.incoming, name, lock);
}

/** A drop file as read: its validated envelope, its data, and the uid that owns it (the submitter). */
export interface ReadDrop {
  header: SpoolHeader;
  data: Buffer;
  uid: number;
}

/**
 * Read drop file `path` safely: without following a symlink, without
 * blocking on a FIFO, refusing anything but a regular file with one link
 * (such files are removed). Undefined when it is gone (moved meanwhile).
 * @throws Error naming the path and the problem
 */
export function readDrop(path: string): ReadDrop | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') unlinkQuiet(path); // a symlink: never followed, removed (only the link goes)
    throw new Error(`${path}: ${code === 'ELOOP' ? 'symbolic link refused and removed' : `cannot open: ${code}`}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) {
      unlinkQuiet(path);
      throw new Error(`${path}: ${st.isFile() ? 'file with several links' : 'not a regular file'} refused and removed`);
    }
    return { ...parseDrop(readAllFd(fd, st.size), path), uid: st.uid };
  } finally {
    closeSync(fd);
  }
}

/**
 * Move a read drop into input/ (the spool owner only): the owner's uid is
 * the submitter, whatever the file says. Returns the header as queued (a
 * new id when its own is taken), or undefined when an earlier run that
 * crashed before the unlink had queued it already. The drop file is removed.
 */
export function queueDrop(l: SpoolLayout, name: string, drop: ReadDrop, deps: Pick<DropDeps, 'now' | 'userName' | 'newId'>): SpoolHeader | undefined {
  const { header, data, uid } = drop;
  const submitter: Submitter = { uid, user: deps.userName(uid) };
  let h: SpoolHeader | undefined;
  // a queued message with this id and the same data: moved by an earlier run that crashed before the unlink
  if (!sameMessage(l, name, data)) {
    // retry state may come from the drop (its background deliverer wrote it); a freeze or a bounce flag never does
    h = { ...header, id: name, size: data.length, submitter, arrival: Math.min(header.arrival, deps.now), frozen: undefined, bounce: false };
    try {
      storeMessage(l, h, data);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      h.id = deps.newId(); // the id is used by another message (or a half-moved copy): take a new one
      storeMessage(l, h, data);
    }
  }
  unlinkSync(join(l.incoming, name));
  fsyncDir(l.incoming);
  return h;
}

function acceptOne(l: SpoolLayout, name: string, path: string, deps: DropDeps, out: DropResult): void {
  try {
    const drop = readDrop(path);
    if (!drop) return; // moved by another runner meanwhile
    const h = queueDrop(l, name, drop, deps);
    if (h) out.accepted.push(h);
  } catch (err) {
    out.problems.push(err instanceof Error && err.message.startsWith(path) ? err.message : `${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Whether message `id` is queued with exactly `data`. */
function sameMessage(l: SpoolLayout, id: string, data: Buffer): boolean {
  if (readHeader(l, id) === undefined) return false;
  try {
    return readData(l, id).equals(data);
  } catch {
    return false;
  }
}

function unlinkQuiet(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    /* gone */
  }
}

/** Login name of `uid` from passwd(5) text (pure); the number as a string when absent. */
export function userNameFromPasswd(passwd: string, uid: number): string {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && Number(f[2]) === uid && f[0] !== '') return f[0]!;
  }
  return String(uid);
}
