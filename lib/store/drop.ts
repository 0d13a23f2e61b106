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
import { dataSize, fileData, IN_MEMORY_MAX, readFully, sameData, type MessageData } from '../data.js';
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SmarthostError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from './atomic.js';
import { validateHeader, type SpoolHeader, type Submitter } from './header.js';
import { isMessageId } from './ids.js';
import { lockMessage, type Lock, type LockDeps } from './lock.js';
import type { Later } from './later.js';
import { ORPHAN_AGE, readData, readHeader, storeMessage, type SpoolLayout } from './spool.js';

/** Longest envelope line accepted from a drop file. */
const MAX_ENVELOPE = 1 << 20;

/** Write a drop file (`replace`: over the existing one of that id). @throws the fs error (EEXIST when the id is taken: pick another). */
export function writeDrop(l: SpoolLayout, header: SpoolHeader, data: MessageData, opts: { replace?: boolean } = {}): void {
  // the envelope as one JSON line, then the data
  writeFileAtomic(join(l.incoming, header.id), [JSON.stringify(header) + '\n', data], { tmpDir: l.incoming, what: 'drop', noReplace: !opts.replace });
}

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
  return buf.subarray(0, readFully(fd, buf, 0));
}

/** The validated envelope of an open drop file of `size` bytes, and where its data starts (only the envelope line is read). */
function readEnvelope(fd: number, size: number, where: string): { header: SpoolHeader; offset: number } {
  const head = readAllFd(fd, Math.min(size, MAX_ENVELOPE + 1));
  return { header: parseDrop(head, where).header, offset: head.indexOf(0x0a) + 1 };
}

export interface DropDeps {
  now: number;
  /** Login name of a uid (for the log and dead.letter); a numeric string when unknown. */
  userName: (uid: number) => string;
  /** A fresh message id, for a drop whose id is already used in input/. */
  newId: () => string;
}

/**
 * The drop files waiting in incoming/, by id (names shaped like message ids;
 * claims and temporary files are not), oldest name first. Temporary files
 * older than a day (a submitter killed while writing) are removed. Empty
 * when the directory cannot be read (not the spool owner, no spool).
 */
export function listDrops(l: SpoolLayout, now: number): string[] {
  let names: string[];
  try {
    names = readdirSync(l.incoming);
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const name of names) {
    if (isMessageId(name)) {
      ids.push(name);
      continue;
    }
    const path = join(l.incoming, name);
    try {
      // a claim (<id>-L) is only that old when its process is long gone; lockMessage handles a younger stale one
      if (now - statSync(path).mtimeMs > ORPHAN_AGE) unlinkSync(path);
    } catch {
      /* gone */
    }
  }
  return ids.sort();
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
  // the usual case first: nobody holds it
  const claim = lockMessage(l.incoming, name, lock);
  if (claim) return claim;
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
    if (owner === 0 || owner === me || owner === dropOwner) return undefined; // a real claim
    unlinkQuiet(path);
  } catch {
    /* released meanwhile */
  }
  return lockMessage(l.incoming, name, lock);
}

/**
 * Run `fn` on drop file `name` under its claim, the file read safely
 * ({@link readDrop}) and closed afterwards. `locked`: another process holds
 * the claim; `gone`: no such file (moved meanwhile); `refused`: a file that
 * cannot be read safely (`say` tells why). In a queue run (`later`) the claim
 * is released in the background, like a message's lock.
 */
export async function withDrop<T>(
  l: SpoolLayout,
  name: string,
  deps: { lock: LockDeps; say: (line: string) => void; later?: Later },
  fn: (drop: ReadDrop) => Promise<T>,
): Promise<T | 'locked' | 'gone' | 'refused'> {
  const claim = claimDrop(l, name, deps.lock);
  if (!claim) return 'locked';
  try {
    let drop: ReadDrop | undefined;
    try {
      drop = readDrop(join(l.incoming, name));
    } catch (err) {
      deps.say(`drop file refused: ${err instanceof Error ? err.message : String(err)}`);
      return 'refused';
    }
    if (!drop) return 'gone';
    try {
      return await fn(drop);
    } finally {
      drop.close();
    }
  } finally {
    if (deps.later) deps.later.unlink(claim.path);
    else claim.release();
  }
}

/**
 * The envelopes of the drop files in incoming/ for -bp (the spool owner can
 * list the directory; anyone else gets undefined). A file that cannot be
 * read safely or parsed is left out: the queue run that moves it reports it.
 */
export function peekDrops(l: SpoolLayout): SpoolHeader[] | undefined {
  let names: string[];
  try {
    names = readdirSync(l.incoming);
  } catch {
    return undefined;
  }
  const out: SpoolHeader[] = [];
  for (const name of names.filter(isMessageId)) {
    const path = join(l.incoming, name);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      continue;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.nlink !== 1) continue;
      const { header, offset } = readEnvelope(fd, st.size, path);
      out.push({ ...header, id: name, size: st.size - offset, frozen: undefined });
    } catch {
      /* damaged: reported by the queue run that moves it */
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

/** -Mrm of a message still in incoming/ (listed by -bp, not yet moved): remove its drop file under its claim. */
export function removeDrop(l: SpoolLayout, id: string, lock: LockDeps): 'removed' | 'locked' | 'missing' {
  if (!isMessageId(id) || !existsSync(join(l.incoming, id))) return 'missing';
  const claim = claimDrop(l, id, lock);
  if (!claim) return 'locked';
  try {
    unlinkSync(join(l.incoming, id));
    return 'removed';
  } catch {
    return 'missing';
  } finally {
    claim.release();
  }
}

/**
 * -Mrm by a user who is neither root nor the spool owner: only a drop file
 * of their own (owned by their uid) may go; any other id is `denied`, whether
 * or not it exists (they cannot list the queue either).
 */
export function removeOwnDrop(l: SpoolLayout, id: string, lock: LockDeps): 'removed' | 'locked' | 'denied' {
  try {
    const st = lstatSync(join(l.incoming, id));
    if (!st.isFile() || st.uid !== process.getuid?.()) return 'denied';
  } catch {
    return 'denied';
  }
  const r = removeDrop(l, id, lock);
  return r === 'missing' ? 'denied' : r;
}

/**
 * A drop file as read: its validated envelope, its data, and the uid that
 * owns it (the submitter). Data over IN_MEMORY_MAX stays in the file, read
 * through the descriptor that was checked (never the path again: the
 * submitter could put something else there); `close()` releases it.
 */
export interface ReadDrop {
  header: SpoolHeader;
  data: MessageData;
  uid: number;
  close(): void;
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
  let kept = false;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) {
      unlinkQuiet(path);
      throw new Error(`${path}: ${st.isFile() ? 'file with several links' : 'not a regular file'} refused and removed`);
    }
    if (st.size <= IN_MEMORY_MAX) return { ...parseDrop(readAllFd(fd, st.size), path), uid: st.uid, close: () => {} };
    // a large one: only the envelope line is read now
    const { header, offset } = readEnvelope(fd, st.size, path);
    const data = fileData({ path, fd, offset, size: st.size - offset });
    kept = true;
    return { header, data, uid: st.uid, close: () => closeSync(fd) };
  } finally {
    if (!kept) closeSync(fd);
  }
}

/**
 * The header a drop file is queued and delivered with: its id is the file's
 * name and its submitter the file's owner, whatever the file says; retry
 * state may come from the file (the submitter's background deliverer wrote
 * it), a freeze or a bounce flag never does.
 */
export function dropHeader(name: string, drop: ReadDrop, deps: Pick<DropDeps, 'now' | 'userName'>): SpoolHeader {
  const { header, data, uid } = drop;
  const submitter: Submitter = { uid, user: deps.userName(uid) };
  return { ...header, id: name, size: dataSize(data), submitter, arrival: Math.min(header.arrival, deps.now), frozen: undefined, bounce: false };
}

/** Whether a queued message in input/ has this id (a drop moved by a run that crashed before the unlink, or an id clash). */
export const queuedAlready = (l: SpoolLayout, id: string): boolean => existsSync(join(l.input, `${id}-H`));

/**
 * Move a read drop into input/ (the spool owner only): the owner's uid is
 * the submitter, whatever the file says. Returns the header as queued (a
 * new id when its own is taken), or undefined when an earlier run that
 * crashed before the unlink had queued it already. The drop file is removed.
 */
export function queueDrop(l: SpoolLayout, name: string, drop: ReadDrop, deps: DropDeps): SpoolHeader | undefined {
  const { data } = drop;
  let h: SpoolHeader | undefined;
  // a queued message with this id and the same data: moved by an earlier run that crashed before the unlink
  if (!sameMessage(l, name, data)) {
    h = dropHeader(name, drop, deps);
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

/** Whether message `id` is queued with exactly `data`. */
function sameMessage(l: SpoolLayout, id: string, data: MessageData): boolean {
  if (readHeader(l, id) === undefined) return false;
  try {
    return sameData(readData(l, id), data);
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
