/**
 * The spool on disk (send-smarthost(8), SPOOL):
 *
 *     <spool_directory>/        0755  owned by root or the spool user
 *       input/                  0700  <id>-D (data, written once), <id>-H (state), <id>-L (lock)
 *       tmp/                    0700  temporary files, renamed into input/
 *       incoming/               1733  drop files of unprivileged submitters (drop.ts), their
 *                                     claims <id>-L and journals <id>-J (journal.ts)
 *       db/                     0700  retry-hints.json (hints.ts)
 *       corrupt/                0700  damaged or refused files, moved aside (quarantine.ts)
 *
 * A message is in the queue iff its -H exists. Placement order: -D first,
 * then -H; removal: -H first, then -D. A -D without -H (a crash in between)
 * is removed by queue runs once it is a day old. Every file is read under
 * one rule (open.ts): no symlink followed, no FIFO blocking, a regular file
 * with one link and the expected owner; the id inside a header must be its
 * name's, and the data must have the size and CRC-32 its envelope records,
 * or the file is refused (Refused) and moved aside. Thin synchronous node:fs I/O.
 */
import { tmpdir } from 'node:os';
import { fileData, IN_MEMORY_MAX, type MessageData } from '../data.js';
import { accessSync, chmodSync, chownSync, closeSync, constants, lstatSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SmarthostError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { crashPoint } from './crash.js';
import { dataCrc } from './crc.js';
import { parseHeader, serializeHeader, type SpoolHeader } from './header.js';
import { openChecked, readChecked, readHead, Refused } from './open.js';
import { shortOfSpace, type Reserve } from './space.js';
import { isMessageId } from './ids.js';
import type { Later } from './later.js';

export interface SpoolLayout {
  root: string;
  input: string;
  tmp: string;
  incoming: string;
  db: string;
  corrupt: string;
}

/** A day: orphan data files and stale temporary files older than this are removed by queue runs. */
export const ORPHAN_AGE = 86_400_000;

export function spoolLayout(root: string): SpoolLayout {
  return { root, input: join(root, 'input'), tmp: join(root, 'tmp'), incoming: join(root, 'incoming'), db: join(root, 'db'), corrupt: join(root, 'corrupt') };
}

const errno = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

/**
 * Create the spool with its modes (`--init-spool`, run by the admin). Existing
 * directories get their modes (and owner, when given) corrected. Returns one
 * line per directory for the caller to print.
 * @throws SmarthostError E_IO (kind 'io') when a directory cannot be made.
 */
export function initSpool(l: SpoolLayout, owner?: { uid: number; gid: number }): string[] {
  const dirs: [string, number][] = [
    [l.root, 0o755],
    [l.input, 0o700],
    [l.tmp, 0o700],
    [l.incoming, 0o1733],
    [l.db, 0o700],
    [l.corrupt, 0o700],
  ];
  const out: string[] = [];
  for (const [dir, mode] of dirs) {
    try {
      mkdirSync(dir, { recursive: true });
      if (owner) chownSync(dir, owner.uid, owner.gid);
      chmodSync(dir, mode); // after mkdir: the umask does not apply to chmod
    } catch (err) {
      throw new SmarthostError('E_IO', 'io', `cannot create ${dir}: ${errno(err)}`, { cause: err });
    }
    out.push(`${dir} ${mode.toString(8).padStart(4, '0')}`);
  }
  return out;
}

/** How this process can queue a message: write input/ itself, leave a drop file, or not at all. */
export type SpoolAccess = { how: 'direct' } | { how: 'drop' } | { how: 'none'; reason: string };

/**
 * Where a submission keeps a large message while it is prepared and sent
 * (lib/submit/large.ts): the spool's tmp/ for the spool owner (debris there
 * is cleaned by queue runs), else (and when the spool is short of space,
 * space.ts) the system's temporary directory.
 */
export function scratchDir(l: SpoolLayout, reserve?: Reserve): string {
  return spoolAccess(l).how === 'direct' && !(reserve && shortOfSpace(l, reserve, IN_MEMORY_MAX)) ? l.tmp : tmpdir();
}

/** Decide how to queue (checks access(2) with the real uid, which is also the one that writes). */
export function spoolAccess(l: SpoolLayout): SpoolAccess {
  const can = (dir: string): boolean => {
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  };
  if (can(l.input) && can(l.tmp)) return { how: 'direct' };
  if (can(l.incoming)) return { how: 'drop' };
  let reason = 'not writable';
  try {
    statSync(l.incoming);
  } catch (err) {
    reason = errno(err) === 'ENOENT' ? `${l.incoming} does not exist (run send-smarthost --init-spool)` : errno(err);
  }
  return { how: 'none', reason: `cannot write the spool ${l.root}: ${reason}` };
}

const dataPath = (l: SpoolLayout, id: string): string => join(l.input, `${id}-D`);
const headerPath = (l: SpoolLayout, id: string): string => join(l.input, `${id}-H`);

/**
 * Who may own a file in input/: root, this process's user, or the owner of
 * input/ itself (a spool made for a dedicated user with --init-spool); no
 * one else can create a file in that 0700 directory, so anything else was
 * put there by hand and is refused.
 */
export function spoolOwner(l: SpoolLayout): (uid: number) => boolean {
  let dirOwner = -1;
  try {
    dirOwner = lstatSync(l.input).uid;
  } catch {
    /* no input/: nothing to read anyway */
  }
  const me = process.geteuid?.() ?? 0;
  return (uid) => uid === 0 || uid === me || uid === dirOwner;
}

/**
 * Record the data's size and CRC-32 in `header` (every envelope the store
 * writes carries them, whatever the caller put there).
 */
export function sealHeader(header: SpoolHeader, data: MessageData): SpoolHeader {
  header.size = dataLength(data);
  header.crc = dataCrc(data);
  return header;
}

const dataLength = (d: MessageData): number => (Buffer.isBuffer(d) ? d.length : d.size);

/**
 * Put a new message in the queue: -D (never replacing one: EEXIST means the id
 * is taken, and the caller picks another), then -H, which records the
 * data's size and CRC-32.
 * @throws the fs error (EEXIST when the id is in use).
 */
export function storeMessage(l: SpoolLayout, header: SpoolHeader, data: MessageData): void {
  sealHeader(header, data);
  writeFileAtomic(dataPath(l, header.id), data, { tmpDir: l.tmp, what: 'D', noReplace: true });
  writeFileAtomic(headerPath(l, header.id), serializeHeader(header), { tmpDir: l.tmp, what: 'H' });
}

/** Replace a message's -H atomically (only ever the -H of `header.id`). @throws the fs error */
export function writeHeader(l: SpoolLayout, header: SpoolHeader): void {
  writeFileAtomic(headerPath(l, header.id), serializeHeader(header), { tmpDir: l.tmp, what: 'H' });
}

/**
 * Read a message's -H under the store's rule; undefined when it is not (or no
 * longer) in the queue.
 * @throws Refused: not a regular file of the spool owner with one link, not
 *   a valid header (`damaged`), or a header whose id is not its name's
 *   (`damaged`: a copy under another name must never act on that message).
 */
export function readHeader(l: SpoolLayout, id: string): SpoolHeader | undefined {
  if (!isMessageId(id)) return undefined;
  const path = headerPath(l, id);
  const r = readChecked(path, { owner: spoolOwner(l) });
  if (!r) return undefined;
  let h: SpoolHeader;
  try {
    h = parseHeader(r.buf.toString('utf8'), path);
  } catch (err) {
    throw new Refused(path, 'damaged', (err as Error).message.replace(`${path}: `, ''));
  }
  if (h.id !== id) throw new Refused(path, 'damaged', `holds the id ${JSON.stringify(h.id)}, not its name's`);
  return h;
}

/**
 * Whether `data` is what `h` recorded: its size, and its CRC-32 when the
 * envelope has one (older files only have the size). Undefined when it is,
 * else why not.
 */
export function dataMismatch(h: SpoolHeader, data: MessageData): string | undefined {
  const size = dataLength(data);
  if (size !== h.size) return `data is ${size} bytes, its envelope says ${h.size}`;
  if (h.crc !== undefined) {
    const crc = dataCrc(data);
    if (crc !== h.crc) return `data CRC-32 ${crc.toString(16).padStart(8, '0')} differs from its envelope's ${h.crc.toString(16).padStart(8, '0')}`;
  }
  return undefined;
}

/**
 * A message's data, checked under the store's rule and against its header
 * (size, CRC-32): in memory up to IN_MEMORY_MAX, else read from the -D file
 * as it is sent (lib/data.ts).
 * @throws Refused (`damaged` for a size or CRC mismatch, `missing` when there is no -D)
 */
export function readData(l: SpoolLayout, h: SpoolHeader): MessageData {
  const path = dataPath(l, h.id);
  const o = openChecked(path, { owner: spoolOwner(l) });
  if (!o) throw new Refused(path, 'damaged', 'no data file');
  let data: MessageData;
  try {
    const size = o.st.size;
    data = size > IN_MEMORY_MAX ? fileData({ path, offset: 0, size }) : readHead(o.fd, size);
  } finally {
    closeSync(o.fd);
  }
  const why = dataMismatch(h, data);
  if (why) throw new Refused(path, 'damaged', why);
  return data;
}

/** Size of a message's data file, or undefined when it is missing. */
export function dataSize(l: SpoolLayout, id: string): number | undefined {
  try {
    return lstatSync(dataPath(l, id)).size;
  } catch {
    return undefined;
  }
}

/**
 * Ids of the queued messages (those with a -H), oldest first.
 * @throws SmarthostError E_IO when input/ cannot be read.
 */
export function listMessages(l: SpoolLayout): string[] {
  let names: string[];
  try {
    names = readdirSync(l.input);
  } catch (err) {
    if (errno(err) === 'ENOENT') return [];
    throw new SmarthostError('E_IO', 'temp', `cannot read the spool ${l.input}: ${errno(err)}`, { cause: err });
  }
  return names
    .filter((n) => n.endsWith('-H') && isMessageId(n.slice(0, -2)))
    .map((n) => n.slice(0, -2))
    .sort();
}

const unlinkIfThere = (p: string): boolean => {
  try {
    unlinkSync(p);
    return true;
  } catch (err) {
    if (errno(err) === 'ENOENT') return false;
    throw err;
  }
};

/**
 * Take a message out of the queue: -H first (from then on it is not queued),
 * then -D. Returns false when it was not queued. @throws the fs error
 *
 * The directory is not fsynced: placing a message must be durable (a lost
 * placement is a lost message), removing one need not be. A crash that
 * forgets the removal brings the message back, and the next run delivers it
 * again: a possible duplicate, never a loss (Exim and Postfix make the same
 * trade). The fsync cost a third of a queue run's time (README, Performance).
 * With `later` (a queue run), -H and -D are renamed into tmp/ and unlinked
 * there in the background (later.ts): unlink(2) frees the inode, which costs
 * ten times a rename, and would hold up the run.
 */
export function removeMessage(l: SpoolLayout, id: string, later?: Later): boolean {
  const had = removeSpoolFile(l, headerPath(l, id), later);
  crashPoint('removed-H');
  removeSpoolFile(l, dataPath(l, id), later);
  return had;
}

/**
 * Remove a spool file (of input/ or incoming/): at once, or with `later` (a
 * queue run) renamed into tmp/ and unlinked there in the background.
 * Returns false when it was not there. @throws the fs error
 */
export function removeSpoolFile(l: SpoolLayout, path: string, later?: Later): boolean {
  if (!later) return unlinkIfThere(path);
  // rename(2) into tmp/ is atomic like unlink(2) and costs a tenth of it (the inode is freed later)
  const done = join(l.tmp, `${basename(path)}.done`);
  try {
    renameSync(path, done);
  } catch (err) {
    if (errno(err) === 'ENOENT') return false;
    // no room for the new name in tmp/ (a full file system): unlinking needs none
    if (errno(err) === 'ENOSPC' || errno(err) === 'EDQUOT') return unlinkIfThere(path);
    throw err;
  }
  later.unlink(done);
  return true;
}

/**
 * Remove debris older than {@link ORPHAN_AGE}: -D files without a -H (a crash
 * between the two placements), locks of messages that are gone, temporary
 * lock files, and files left in tmp/. Returns what was removed.
 */
export function cleanOrphans(l: SpoolLayout, now: number): string[] {
  const removed: string[] = [];
  const old = (p: string): boolean => {
    try {
      return now - lstatSync(p).mtimeMs > ORPHAN_AGE; // lstat: a lock is a symlink (lock.ts), never followed
    } catch {
      return false;
    }
  };
  const names = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  const input = new Set(names(l.input));
  for (const n of input) {
    const id = n.slice(0, 16);
    // a data file or lock without its message, or a lock's temporary file (lock.ts; `new`: older versions)
    const debris = ((n.endsWith('-D') || n.endsWith('-L')) && n.length === 18 && !input.has(`${id}-H`)) || /-L\.(new|stale)\.\d+$/.test(n);
    if (debris && old(join(l.input, n)) && unlinkIfThere(join(l.input, n))) removed.push(join(l.input, n));
  }
  for (const n of names(l.tmp)) {
    if (old(join(l.tmp, n)) && unlinkIfThere(join(l.tmp, n))) removed.push(join(l.tmp, n));
  }
  return removed;
}
