/**
 * Reading the aliases file and its :include: files (the thin I/O part;
 * parsing is in aliases.ts, expansion in alias-expand.ts).
 *
 * send-smarthost runs as the submitting user, so an include file may well be
 * unreadable for that user: include files are read here, but a read error is
 * only recorded, and becomes an error when a recipient actually needs that
 * include (alias-expand.ts). A syntax error in the aliases file or in an
 * include file that could be read is always an error.
 */
import { readFile } from 'node:fs';
import { existsSync } from 'node:fs';
import { configError, describeErrno } from '../errors.js';
import { parseAliases, parseIncludeList, type AliasTarget } from './aliases.js';
import type { IncludeResult, LoadedAliases } from './alias-expand.js';

/** The aliases file used when system_aliases_file is not set, if it exists. */
export const DEFAULT_ALIASES_FILE = '/etc/aliases';

/** Bound on the number of include files read for one aliases file. */
const MAX_INCLUDE_FILES = 100;

export type ReadText = (path: string) => Promise<string>;

// node:fs, not node:fs/promises (which loads readline and more: start-up time)
const defaultRead: ReadText = (path) => new Promise((resolve, reject) => readFile(path, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));

/**
 * Which aliases file to use: `setting` undefined → /etc/aliases if it exists
 * (`exists` is injectable), `''` → none, otherwise that file (which must exist).
 */
export function aliasesFileFor(setting: string | undefined, exists: (p: string) => boolean = existsSync): { path: string; mustExist: boolean } | undefined {
  if (setting === '') return undefined;
  if (setting !== undefined) return { path: setting, mustExist: true };
  return exists(DEFAULT_ALIASES_FILE) ? { path: DEFAULT_ALIASES_FILE, mustExist: false } : undefined;
}

/**
 * Read and parse an aliases file and the :include: files it names
 * (nested includes too, at most 100 files).
 *
 * @returns undefined when the file is optional and does not exist.
 * @throws SmarthostError E_CONFIG `cannot read <path>: <reason>` for the
 *   aliases file itself, or any parse error (`<file>:<line>: …`) of the file
 *   or of a readable include file.
 */
export async function loadAliases(path: string, opts: { mustExist: boolean; read?: ReadText }): Promise<LoadedAliases | undefined> {
  const read = opts.read ?? defaultRead;
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    if (!opts.mustExist && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configError(`cannot read aliases file ${path}: ${describeErrno(err)}`);
  }
  const entries = parseAliases(text, path);
  const includes = new Map<string, IncludeResult>();
  const pending: string[] = [];
  const want = (targets: Iterable<AliasTarget>): void => {
    for (const t of targets) if (t.kind === 'include' && !includes.has(t.path) && !pending.includes(t.path)) pending.push(t.path);
  };
  for (const e of entries.values()) want(e.targets);
  while (pending.length > 0) {
    const inc = pending.shift()!;
    if (includes.size >= MAX_INCLUDE_FILES) throw configError(`${path}: more than ${MAX_INCLUDE_FILES} :include: files`);
    let incText: string;
    try {
      incText = await read(inc);
    } catch (err) {
      includes.set(inc, { error: `cannot read: ${describeErrno(err)}` });
      continue;
    }
    const targets = parseIncludeList(incText, inc);
    includes.set(inc, { targets });
    want(targets);
  }
  return { file: path, entries, includes };
}

/**
 * The aliases of a configuration: system_aliases_file (see
 * {@link aliasesFileFor}) loaded, or undefined when there is none.
 * @throws SmarthostError E_CONFIG as {@link loadAliases}.
 */
export async function systemAliases(setting: string | undefined): Promise<LoadedAliases | undefined> {
  const f = aliasesFileFor(setting);
  return f ? loadAliases(f.path, { mustExist: f.mustExist }) : undefined;
}

/**
 * What `-bi` (newaliases) says after checking the aliases file (pure):
 * `<file>: N aliases` on stdout, and a warning per include file that could
 * not be read (it may be readable by the user mail is sent as).
 */
export function newaliasesReport(aliases: LoadedAliases | undefined): { stdout: string; warnings: string[] } {
  if (!aliases) return { stdout: 'no aliases file (system_aliases_file): nothing to check\n', warnings: [] };
  const n = aliases.entries.size;
  const warnings: string[] = [];
  for (const [path, inc] of aliases.includes) if ('error' in inc) warnings.push(`:include:${path}: ${inc.error}`);
  return { stdout: `${aliases.file}: ${n} alias${n === 1 ? '' : 'es'}\n`, warnings };
}
