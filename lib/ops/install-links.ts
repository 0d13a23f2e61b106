/**
 * `send-smarthost --install-links [--prefix DIR] [--force] [--undo]`: make
 * the names other programs call a sendmail by point at send-smarthost:
 * /usr/sbin/sendmail, /usr/lib/sendmail (MIME::Lite and older scripts),
 * /usr/bin/mailq and /usr/bin/newaliases (the program name selects -bp and
 * -bi). A name that is already something else (another MTA's binary or its
 * link) is left alone unless --force, which keeps it as
 * `<name>.before-send-smarthost` for --undo to put back. Every change is
 * atomic: a new link is made under a temporary name and renamed over the old
 * one, so there is no moment without a sendmail. The decisions are pure
 * ({@link decide}); {@link installLinks} does the few file operations.
 */
import { existsSync, linkSync, lstatSync, mkdirSync, readlinkSync, realpathSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The names, relative to the prefix (default `/`). */
export const LINK_NAMES = ['usr/sbin/sendmail', 'usr/lib/sendmail', 'usr/bin/mailq', 'usr/bin/newaliases'] as const;

/** Suffix of the kept original. */
export const BACKUP_SUFFIX = '.before-send-smarthost';

/** What is found at a name. */
export type Found =
  | { kind: 'absent' }
  /** A link (or file) that resolves to send-smarthost itself. */
  | { kind: 'ours' }
  /** Something else: `what` says what, for the message. */
  | { kind: 'other'; what: string };

export type Action =
  | { do: 'create' }
  | { do: 'nothing'; why: string }
  | { do: 'replace'; keep: string }
  | { do: 'refuse'; why: string }
  | { do: 'remove' }
  | { do: 'restore'; from: string };

/** What to do with one name (pure). */
export function decide(path: string, found: Found, backupExists: boolean, opts: { force: boolean; undo: boolean }): Action {
  const backup = `${path}${BACKUP_SUFFIX}`;
  if (opts.undo) {
    if (found.kind === 'other') return { do: 'nothing', why: `is ${found.what}, not send-smarthost: left alone` };
    if (backupExists) return { do: 'restore', from: backup };
    return found.kind === 'ours' ? { do: 'remove' } : { do: 'nothing', why: 'is not there' };
  }
  if (found.kind === 'absent') return { do: 'create' };
  if (found.kind === 'ours') return { do: 'nothing', why: 'already points at send-smarthost' };
  if (!opts.force) return { do: 'refuse', why: `is ${found.what}; --force replaces it and keeps it as ${backup}` };
  if (backupExists) return { do: 'refuse', why: `is ${found.what}, and ${backup} exists already: move one of them away first` };
  return { do: 'replace', keep: backup };
}

/** Inspect a name without following it further than to tell whether it is ours. */
function inspect(path: string, target: string): Found {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return { kind: 'absent' };
  }
  let real: string | undefined;
  try {
    real = realpathSync(path);
  } catch {
    /* a dangling link */
  }
  if (real === target) return { kind: 'ours' };
  if (st.isSymbolicLink()) return { kind: 'other', what: `a link to ${readlinkSync(path)}` };
  return { kind: 'other', what: st.isFile() ? 'a program (another MTA?)' : 'not a file' };
}

/** A symlink to `target` placed at `path` atomically (made under a temporary name, renamed over). */
function placeLink(target: string, path: string): void {
  const tmp = `${path}.send-smarthost-new.${process.pid}`;
  symlinkSync(target, tmp);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

/** A copy of the name at `path` as `backup`: the same link, or a hard link of the same file (the original stays in place). */
function keep(path: string, backup: string): void {
  if (lstatSync(path).isSymbolicLink()) symlinkSync(readlinkSync(path), backup);
  else linkSync(path, backup);
}

export interface LinkResult {
  path: string;
  action: Action;
  /** Set when the action failed. */
  error?: string;
}

/**
 * Install (or with `undo` remove) the links under `prefix`, pointing at
 * `target` (the real path of send-smarthost's entry). Returns what happened
 * to each name; never throws for one name's failure.
 */
export function installLinks(target: string, opts: { prefix?: string; force: boolean; undo: boolean }): LinkResult[] {
  const real = realpathSync(target);
  const root = resolve(opts.prefix ?? '/');
  return LINK_NAMES.map((name) => {
    const path = join(root, name);
    const action = decide(path, inspect(path, real), existsSync(`${path}${BACKUP_SUFFIX}`) || isLink(`${path}${BACKUP_SUFFIX}`), opts);
    try {
      switch (action.do) {
        case 'create':
          mkdirSync(dirname(path), { recursive: true });
          placeLink(real, path);
          break;
        case 'replace':
          keep(path, action.keep);
          placeLink(real, path);
          break;
        case 'remove':
          unlinkSync(path);
          break;
        case 'restore':
          renameSync(action.from, path);
          break;
      }
    } catch (err) {
      return { path, action, error: (err as NodeJS.ErrnoException).code ?? String(err) };
    }
    return { path, action };
  });
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** One line per name, for the operator. */
export function describe(r: LinkResult, target: string): string {
  const a = r.action;
  const what =
    a.do === 'create' ? `-> ${target}: created`
    : a.do === 'replace' ? `-> ${target}: replaced (the old one kept as ${a.keep})`
    : a.do === 'remove' ? 'removed'
    : a.do === 'restore' ? `restored from ${a.from}`
    : a.do === 'nothing' ? a.why
    : `refused: ${a.why}`;
  return r.error ? `${r.path}: ${a.do} failed: ${r.error}` : `${r.path} ${what}`;
}
