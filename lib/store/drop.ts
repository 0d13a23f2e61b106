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
 * each drop file under the store's rule (open.ts: no symlink followed, no
 * FIFO blocking, a regular file with one link: a hard link to another user's
 * file would otherwise smuggle that file into a message), checks that its
 * envelope names it and that its data has the recorded size and CRC-32,
 * records the file's OWNER uid as the submitter (never what the file says),
 * and moves the message into input/ with the usual atomic writes before
 * unlinking the drop. What it refuses goes to corrupt/ (quarantine.ts).
 */
import { dataSize, fileData, IN_MEMORY_MAX, sameData, type MessageData } from '../data.js';
import { closeSync, existsSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SmarthostError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from './atomic.js';
import { validateHeader, type SpoolHeader, type Submitter } from './header.js';
import { isMessageId } from './ids.js';
import { tryLock, unlinkSafe, type Lock, type LockDeps } from './lock.js';
import type { Later } from './later.js';
import { openChecked, readHead, Refused } from './open.js';
import { moveAside, type Aside } from './quarantine.js';
import { dataMismatch, ORPHAN_AGE, readData, readHeader, sealHeader, storeMessage, type SpoolLayout } from './spool.js';

/** Longest envelope line accepted from a drop file. */
const MAX_ENVELOPE = 1 << 20;

/**
 * Write a drop file (`replace`: over the existing one of that id); its
 * envelope records the data's size and CRC-32.
 * @throws the fs error (EEXIST when the id is taken: pick another).
 */
export function writeDrop(l: SpoolLayout, header: SpoolHeader, data: MessageData, opts: { replace?: boolean } = {}): void {
  sealHeader(header, data);
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

/** The validated envelope of an open drop file of `size` bytes, and where its data starts (only the envelope line is read). */
function readEnvelope(fd: number, size: number, where: string): { header: SpoolHeader; offset: number } {
  const head = readHead(fd, Math.min(size, MAX_ENVELOPE + 1));
  return { header: parseDrop(head, where).header, offset: head.indexOf(0x0a) + 1 };
}

export interface DropDeps {
  now: number;
  /** Login name of a uid (for the log and dead.letter); a numeric string when unknown. */
  userName: (uid: number) => string;
  /** A fresh message id, for a drop whose id is already used in input/. */
  newId: () => string;
}

/** A journal's name in incoming/ (journal.ts): `<id>-J`. */
export const isJournalName = (n: string): boolean => n.length === 18 && n.endsWith('-J') && isMessageId(n.slice(0, 16));

/**
 * The drop files waiting in incoming/, by id (names shaped like message ids;
 * claims, journals and temporary files are not), oldest name first.
 * Temporary files and claims older than a day (a submitter killed while
 * writing, a deliverer killed) are removed. Empty when the directory cannot
 * be read (not the spool owner, no spool).
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
    if (isJournalName(name)) continue; // read by the queue run (journal.ts)
    const path = join(l.incoming, name);
    try {
      // lstat: never follow a name a user made. A claim is only that old when its process is long gone.
      const st = lstatSync(path);
      if (now - st.mtimeMs > ORPHAN_AGE) {
        if (st.isDirectory()) moveAside(l, path, now);
        else unlinkSync(path);
      }
    } catch {
      /* gone */
    }
  }
  return ids.sort();
}

/** A name planted where a claim goes, and what became of it (for the log). */
export interface Planted {
  path: string;
  what: string;
  aside: Aside | { removed: true };
}

/**
 * The claim on drop file `name`: its lock `incoming/<name>-L` (a symlink,
 * lock.ts), which the submitter's background deliverer (-odb) and queue
 * runners both take, so a drop file is moved or delivered by one process at
 * a time. incoming/ is writable by all: a name there that is not a symlink
 * (a FIFO, a directory, a file), or a symlink owned by neither root, this
 * process's user nor the drop file's owner, was planted; it is never opened
 * or followed. The spool owner (`owner`) moves it aside (`planted` is told)
 * and takes the claim; anyone else leaves it (the next root run clears it).
 */
export function claimDrop(l: SpoolLayout, name: string, deps: { lock: LockDeps; owner: boolean; now: number; planted?: (p: Planted) => void }): Lock | undefined {
  const path = join(l.incoming, `${name}-L`);
  const me = process.getuid?.() ?? 0;
  for (let round = 0; round < 3; round++) {
    const r = tryLock(path, deps.lock);
    if ('lock' in r) return r.lock;
    const seen = r.seen;
    if (!seen || seen.kind === 'gone') return undefined;
    if (seen.kind === 'lock') {
      let dropOwner: number | undefined;
      try {
        dropOwner = lstatSync(join(l.incoming, name)).uid;
      } catch {
        /* no drop file: nothing to protect */
      }
      if (seen.uid === 0 || seen.uid === me || seen.uid === dropOwner) return undefined; // a real claim, held
    }
    // planted: not ours to honour
    const what = seen.kind === 'lock' ? `claim owned by uid ${seen.uid}` : `${seen.what} owned by uid ${seen.uid}`;
    if (deps.owner) {
      const aside: Aside = seen.kind === 'foreign' ? moveAside(l, path, deps.now) : (unlinkSafe(path), { removed: true });
      deps.planted?.({ path, what, aside });
      if ('left' in aside) return undefined;
    } else if (seen.uid === me) {
      unlinkSafe(path);
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** A drop file that could not be used: why, and what became of it (the spool owner moves it to corrupt/). */
export interface DropRefusal {
  path: string;
  why: string;
  aside?: Aside;
}

/**
 * Run `fn` on drop file `name` under its claim, the file read under the
 * store's rule ({@link readDrop}) and closed afterwards. `locked`: another
 * process holds the claim; `gone`: no such file (moved meanwhile); a
 * {@link DropRefusal}: a file that cannot be used (not a regular file with
 * one link, damaged, misnamed, data not as its envelope says), moved to
 * corrupt/ by the spool owner. In a queue run (`later`) the claim is
 * released in the background, like a message's lock.
 */
export async function withDrop<T>(
  l: SpoolLayout,
  name: string,
  deps: { lock: LockDeps; owner: boolean; now: number; later?: Later; planted?: (p: Planted) => void },
  fn: (drop: ReadDrop) => Promise<T>,
): Promise<T | 'locked' | 'gone' | DropRefusal> {
  const claim = claimDrop(l, name, deps);
  if (!claim) return 'locked';
  try {
    let drop: ReadDrop | undefined;
    const path = join(l.incoming, name);
    try {
      drop = readDrop(path, name);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      return { path, why: err.message.replace(`${path}: `, ''), ...(deps.owner ? { aside: moveAside(l, path, deps.now) } : {}) };
    }
    if (!drop) return 'gone';
    try {
      return await fn(drop);
    } finally {
      drop.close();
    }
  } finally {
    if (deps.later && claim.path) deps.later.unlink(claim.path);
    else claim.release();
  }
}

/**
 * The envelopes of the drop files in incoming/ for -bp (the spool owner can
 * list the directory; anyone else gets undefined). A file that cannot be
 * read under the store's rule or parsed is left out: the queue run moves it
 * to corrupt/ and says so.
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
    let o;
    try {
      o = openChecked(path);
    } catch {
      continue;
    }
    if (!o) continue;
    try {
      const { header, offset } = readEnvelope(o.fd, o.st.size, path);
      if (header.id === name) out.push({ ...header, id: name, size: o.st.size - offset, frozen: undefined });
    } catch {
      /* damaged: moved aside by the queue run */
    } finally {
      closeSync(o.fd);
    }
  }
  return out;
}

/** -Mrm of a message still in incoming/ (listed by -bp, not yet moved): remove its drop file under its claim. */
export function removeDrop(l: SpoolLayout, id: string, deps: { lock: LockDeps; owner: boolean; now: number }): 'removed' | 'locked' | 'missing' {
  if (!isMessageId(id) || !existsSync(join(l.incoming, id))) return 'missing';
  const claim = claimDrop(l, id, deps);
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
export function removeOwnDrop(l: SpoolLayout, id: string, deps: { lock: LockDeps; now: number }): 'removed' | 'locked' | 'denied' {
  try {
    const st = lstatSync(join(l.incoming, id));
    if (!st.isFile() || st.uid !== process.getuid?.()) return 'denied';
  } catch {
    return 'denied';
  }
  const r = removeDrop(l, id, { ...deps, owner: false });
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
 * Read drop file `path` (named `name`) under the store's rule (open.ts): no
 * symlink followed, no FIFO blocking, a regular file with one link; its
 * envelope's id must be its name, and its data must have the size and
 * CRC-32 the envelope records. Undefined when it is gone (moved meanwhile).
 * @throws Refused naming the path and the problem (the file is left in place)
 */
export function readDrop(path: string, name: string): ReadDrop | undefined {
  const o = openChecked(path);
  if (!o) return undefined;
  const { fd, st } = o;
  let kept = false;
  try {
    let header: SpoolHeader;
    let data: MessageData;
    try {
      if (st.size <= IN_MEMORY_MAX) ({ header, data } = parseDrop(readHead(fd, st.size), path));
      else {
        // a large one: only the envelope line is read now, the data through the checked descriptor
        const env = readEnvelope(fd, st.size, path);
        header = env.header;
        data = fileData({ path, fd, offset: env.offset, size: st.size - env.offset });
      }
    } catch (err) {
      throw new Refused(path, 'damaged', (err as Error).message.replace(`${path}: `, ''));
    }
    if (header.id !== name) throw new Refused(path, 'damaged', `holds the id ${JSON.stringify(header.id)}, not its name's`);
    const why = dataMismatch(header, data);
    if (why) throw new Refused(path, 'damaged', why);
    kept = st.size > IN_MEMORY_MAX;
    return { header, data, uid: st.uid, close: kept ? () => closeSync(fd) : () => {} };
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
 * Move a read drop into input/ (the spool owner only), with `header` (the
 * state an attempt settled in) or the drop's own (dropHeader: the owner's
 * uid is the submitter, whatever the file says). Returns the header as queued (a
 * new id when its own is taken), or undefined when an earlier run that
 * crashed before the unlink had queued it already. The drop file is removed.
 */
export function queueDrop(l: SpoolLayout, name: string, drop: ReadDrop, deps: DropDeps, header?: SpoolHeader): SpoolHeader | undefined {
  const { data } = drop;
  let h: SpoolHeader | undefined;
  // a queued message with this id and the same data: moved by an earlier run that crashed before the unlink
  if (!sameMessage(l, name, data)) {
    h = header ? { ...header, id: name } : dropHeader(name, drop, deps);
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
  try {
    const h = readHeader(l, id);
    return h !== undefined && sameData(readData(l, h), data);
  } catch {
    return false;
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
