/**
 * Damaged and refused spool files are moved to `corrupt/` (Postfix's name;
 * mode 0700, the spool owner's), once: they are no longer warned about on
 * every run, the main log says so in one line (the caller's), and -bp lists
 * what is there. Only the spool owner moves files (the directory is its);
 * the name in corrupt/ is the original one, with `.<ms>` added when that is
 * taken. A hard link is not moved but unlinked: the name was planted, and
 * keeping it would keep another user's file alive. Thin synchronous I/O.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SpoolLayout } from './spool.js';

/** What became of a refused name. */
export type Aside = { moved: string } | { removed: true } | { left: string };

/**
 * Move `path` (a name in input/ or incoming/) into corrupt/. Never throws:
 * what could not be moved is `left` with the reason.
 */
export function moveAside(l: SpoolLayout, path: string, now: number): Aside {
  try {
    const st = lstatSync(path);
    if (st.isFile() && st.nlink > 1) {
      unlinkSync(path);
      return { removed: true };
    }
  } catch (err) {
    return { left: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  try {
    mkdirSync(l.corrupt, { mode: 0o700 });
  } catch {
    /* there already (or the rename below says why not) */
  }
  let dest = join(l.corrupt, basename(path));
  if (existsSync(dest)) dest = `${dest}.${now}`;
  try {
    renameSync(path, dest);
    return { moved: dest };
  } catch (err) {
    return { left: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

/** Words for the log line: `moved to <path>`, `removed`, `left in place (<why>)`. */
export const asideText = (a: Aside): string => ('moved' in a ? `moved to ${a.moved}` : 'removed' in a ? 'removed (a hard link)' : `left in place (${a.left})`);

/** The names in corrupt/, sorted; empty when there is none or it cannot be read. */
export function listCorrupt(l: SpoolLayout): string[] {
  try {
    return readdirSync(l.corrupt).sort();
  } catch {
    return [];
  }
}
