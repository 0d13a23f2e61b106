/**
 * Per-message locks: `input/<id>-L`, holding `<pid> <start time>`, created
 * atomically with its content (written to a private file, then link(2)ed into
 * place: EEXIST means someone holds it). The start time is field 22 of /proc/<pid>/stat
 * (clock ticks since boot), so a lock whose pid died, or whose pid now
 * belongs to another process (pid reuse), is recognised as stale. A stale
 * lock is taken over by renaming it to a unique name — only one process can
 * rename a given file — checking that the renamed file is the stale one that
 * was judged, and then creating a fresh lock with O_EXCL again. Where /proc
 * is missing, only the pid is checked. A crashed runner therefore never
 * leaves a message stuck.
 */
import { closeSync, linkSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The start time of a process, or undefined when unknown (no /proc, or no such process). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may contain spaces: split after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 overall: fields 3.. are rest[0..]
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (signal 0). EPERM means it exists but is someone else's. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockDeps {
  pid: number;
  alive: (pid: number) => boolean;
  startTime: (pid: number) => string | undefined;
  /**
   * A file in the same directory that holds this process's lock text (see
   * {@link lockTemplate}; made on first use, undefined when it cannot be):
   * each lock is then one link(2) of it instead of create + write + link +
   * unlink.
   */
  template?: () => string | undefined;
}

/** The real probes; this process's own start time is read once (it is written into every lock it takes). */
export const realLockDeps = (): LockDeps => {
  let own: { value: string | undefined } | undefined;
  return {
    pid: process.pid,
    alive: pidAlive,
    startTime: (pid) => (pid === process.pid ? (own ??= { value: processStartTime(pid) }).value : processStartTime(pid)),
  };
};

/** Is the lock content `text` held by a live process? (pure apart from the injected probes) */
export function lockIsLive(text: string, deps: LockDeps): boolean {
  const m = /^(\d+)(?: (\S+))?\s*$/.exec(text);
  if (!m) return false; // damaged (e.g. a crash before the write): stale
  const pid = Number(m[1]);
  if (!deps.alive(pid)) return false;
  const recorded = m[2];
  if (recorded === undefined || recorded === '-') return true;
  const now = deps.startTime(pid);
  return now === undefined || now === recorded;
}

export interface Lock {
  path: string;
  release(): void;
}

const lockText = (deps: LockDeps): string => `${deps.pid} ${deps.startTime(deps.pid) ?? '-'}\n`;

function tryCreate(path: string, deps: LockDeps): Lock | undefined {
  const template = deps.template?.();
  if (template !== undefined) {
    try {
      linkSync(template, path);
      return { path, release: () => unlinkSafe(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      // ENOENT: the template is gone (removed as debris): lock the ordinary way
    }
  }
  // write the content first, then link(2) it into place: the lock never exists empty,
  // and link fails with EEXIST when another process holds the name
  const tmp = `${path}.new.${deps.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, lockText(deps));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  } finally {
    unlinkSafe(tmp);
  }
  return { path, release: () => unlinkSafe(path) };
}

/**
 * Lock message `id` in `inputDir`; undefined when a live process holds it.
 * @throws the fs error for anything but EEXIST/ENOENT.
 */
export function lockMessage(inputDir: string, id: string, deps: LockDeps = realLockDeps()): Lock | undefined {
  const path = join(inputDir, `${id}-L`);
  for (let round = 0; round < 3; round++) {
    const lock = tryCreate(path, deps);
    if (lock) return lock;
    let seen: string;
    try {
      seen = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
      throw err;
    }
    if (lockIsLive(seen, deps)) return undefined;
    // stale: move it aside under a name only we use; only one taker can win this rename
    const aside = `${path}.stale.${deps.pid}`;
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // someone else took it over
      throw err;
    }
    let moved = '';
    try {
      moved = readFileSync(aside, 'utf8');
    } catch {
      /* vanished: treat as the stale one */
    }
    if (moved !== '' && moved !== seen) {
      // we moved a fresh lock that replaced the stale one in between: put it back if we can
      try {
        linkSync(aside, path);
      } catch {
        /* a newer lock exists already */
      }
      unlinkSafe(aside);
      return undefined;
    }
    unlinkSafe(aside);
  }
  return undefined;
}

/**
 * For a queue run: a file `input/run-L.new.<pid>` holding this process's lock
 * text, whose links become the run's locks. All locks of a process have the
 * same content, so they may share one inode; releasing a lock unlinks one
 * name. The file is made when the first lock is taken (a run that locks
 * nothing writes nothing in input/, which the .path unit watches); when it
 * cannot be made, locks are made the ordinary way. `remove()` at the end of
 * the run; a crashed run's template is removed by the next run
 * ({@link cleanLockTemplates}).
 */
export function lockTemplate(inputDir: string, deps: LockDeps): { deps: LockDeps; remove(): void } {
  const path = join(inputDir, `run-L.new.${deps.pid}`);
  let made: boolean | undefined;
  const make = (): string | undefined => {
    if (made === undefined) {
      made = false;
      try {
        unlinkSafe(path);
        const fd = openSync(path, 'wx', 0o600);
        try {
          writeSync(fd, lockText(deps));
        } finally {
          closeSync(fd);
        }
        made = true;
      } catch {
        unlinkSafe(path);
      }
    }
    return made ? path : undefined;
  };
  return { deps: { ...deps, template: make }, remove: () => made && unlinkSafe(path) };
}

/**
 * Remove the lock templates of runners that are gone (killed in the middle
 * of a run); returns the paths removed. Their locks are stale already and
 * taken over as usual.
 */
export function cleanLockTemplates(inputDir: string, deps: LockDeps): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(inputDir);
  } catch {
    return removed;
  }
  for (const n of names) {
    if (!/^run-L\.new\.\d+$/.test(n)) continue;
    const path = join(inputDir, n);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    if (!lockIsLive(text, deps)) {
      unlinkSafe(path);
      removed.push(path);
    }
  }
  return removed;
}

function unlinkSafe(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    /* gone */
  }
}
