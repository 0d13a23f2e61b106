/**
 * The aliases file (`/etc/aliases` format, aliases(5) of sendmail and
 * Postfix), parsed purely: text in, entries out. Expansion is in
 * alias-expand.ts, file reading in aliases-load.ts.
 *
 * Syntax accepted:
 *  - `name: target, target, ...`; the name is a local part (no `@`),
 *    optionally in double quotes, matched case-insensitively;
 *  - a line starting with white space continues the previous entry;
 *  - empty and white-space-only lines, and lines whose first non-blank
 *    character is `#`, are ignored (they do not end an entry);
 *  - targets are separated by commas outside double quotes; a target is an
 *    address (`admin@example.com`, `<admin@example.com>`, `Admin
 *    <admin@example.com>`, an unqualified `admin`, a quoted local part such as
 *    `"quoted, name"`), `\name` (deliver to `name` without expanding it
 *    further), `:include:/path` (the addresses listed in that file), or a
 *    pipe `|command` / file `/path` target (quoted or not), which a smarthost
 *    client cannot deliver: those are kept here and skipped, with a warning,
 *    at expansion time.
 *
 * Untrusted input: the file is written by the administrator, but its text
 * ends up in traces and errors, so every quoted token goes through quote().
 * Addresses are only checked for syntax here; they are qualified later.
 */
import { configError } from '../errors.js';
import { normalizeAddress, quote } from './address.js';

/** One right-hand-side item of an alias or an include file, with where it was written. */
export type AliasTarget = { file: string; line: number } & (
  | { kind: 'address'; address: string; noExpand: boolean }
  | { kind: 'pipe'; command: string }
  | { kind: 'file'; path: string }
  | { kind: 'include'; path: string }
);

/** One alias: `name` as written, its targets, and where it was defined. */
export interface AliasEntry {
  name: string;
  targets: AliasTarget[];
  file: string;
  line: number;
}

/** Parsed aliases, keyed by the lower-cased name. */
export type AliasMap = Map<string, AliasEntry>;

/** Syntax-only check domain: parseAliases knows no qualify_domain. */
const CHECK_DOMAIN = 'syntax.invalid';

/** Split a list at commas outside double quotes (backslash escapes inside quotes). */
function splitItems(text: string, where: string): string[] {
  const items: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuote && c === '\\' && i + 1 < text.length) {
      cur += c + text[++i]!;
      continue;
    }
    if (c === '"') inQuote = !inQuote;
    if (c === ',' && !inQuote) {
      items.push(cur);
      cur = '';
    } else cur += c;
  }
  if (inQuote) throw configError(`${where}: unterminated quoted string`);
  items.push(cur);
  return items.map((s) => s.trim());
}

/** `"text"` → `text` (escapes undone); anything else unchanged. */
function unquoteWhole(item: string): string {
  if (item.length >= 2 && item.startsWith('"') && item.endsWith('"')) return item.slice(1, -1).replace(/\\(.)/g, '$1');
  return item;
}

/**
 * Parse one target item. Pure.
 * @throws SmarthostError E_CONFIG `<where>: …` for an empty item, an empty
 *   pipe or include, a relative include path, or a malformed address.
 */
export function parseTarget(raw: string, file: string, line: number): AliasTarget {
  const where = `${file}:${line}`;
  if (raw === '') throw configError(`${where}: empty target (two commas in a row, or a trailing comma)`);
  const at = { file, line };
  const item = unquoteWhole(raw);
  if (item.startsWith('|')) {
    if (item.slice(1).trim() === '') throw configError(`${where}: empty pipe command`);
    return { ...at, kind: 'pipe', command: item.slice(1).trim() };
  }
  if (/^:include:/i.test(item)) {
    const path = item.slice(':include:'.length).trim();
    if (!path.startsWith('/')) throw configError(`${where}: :include: needs an absolute path, got ${quote(path)}`);
    return { ...at, kind: 'include', path };
  }
  if (item.startsWith('/')) return { ...at, kind: 'file', path: item };
  let text = raw;
  let noExpand = false;
  if (text.startsWith('\\')) {
    noExpand = true;
    text = text.slice(1);
  }
  // `Name <addr>`: the address is what is inside the angle brackets.
  const angle = /<([^<>]*)>\s*$/.exec(text);
  if (angle && !text.startsWith('"')) text = angle[1]!;
  try {
    normalizeAddress(text, { qualifyDomain: CHECK_DOMAIN });
  } catch (err) {
    throw configError(`${where}: ${(err as Error).message}`);
  }
  return { ...at, kind: 'address', address: text.trim(), noExpand };
}

/** Logical lines: [text, first physical line number]. Comment and blank lines are skipped. */
function* logicalLines(text: string, file: string): Generator<[string, number]> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
  let cur: [string, number] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const trimmed = l.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (/^[ \t]/.test(l)) {
      if (!cur) throw configError(`${file}:${i + 1}: continuation line (starting with white space) before any alias`);
      cur[0] += ' ' + trimmed;
      continue;
    }
    if (cur) yield cur;
    cur = [trimmed, i + 1];
  }
  if (cur) yield cur;
}

/**
 * Parse an aliases file. `file` is only used in messages and recorded in
 * each entry (traces name `file:line`).
 *
 * @returns the entries keyed by lower-cased name.
 * @throws SmarthostError E_CONFIG `<file>:<line>: <what>`: no colon, an empty
 *   or domain-qualified name, a name defined twice, an alias without targets,
 *   an unterminated quote, or a bad target (see {@link parseTarget}).
 */
export function parseAliases(text: string, file: string): AliasMap {
  const map: AliasMap = new Map();
  for (const [line, n] of logicalLines(text, file)) {
    const where = `${file}:${n}`;
    const m = /^("(?:[^"\\]|\\.)*"|[^:\s"]+)\s*:(.*)$/s.exec(line);
    if (!m) throw configError(`${where}: expected "name: address, ...", got ${quote(line.length > 60 ? line.slice(0, 60) + '...' : line)}`);
    const name = unquoteWhole(m[1]!);
    if (name === '') throw configError(`${where}: empty alias name`);
    if (name.includes('@')) throw configError(`${where}: alias name ${quote(name)} has a domain; names are local parts only`);
    const key = name.toLowerCase();
    const first = map.get(key);
    if (first) throw configError(`${where}: alias ${quote(name)} is defined twice (first on line ${first.line})`);
    const rhs = m[2]!.trim();
    if (rhs === '') throw configError(`${where}: alias ${quote(name)} has no targets`);
    const targets = splitItems(rhs, where).map((item) => parseTarget(item, file, n));
    map.set(key, { name, targets, file, line: n });
  }
  return map;
}

/**
 * Parse an `:include:` file: targets separated by commas or line breaks,
 * `#` comment lines ignored (sendmail's include format). Pure.
 * @throws SmarthostError E_CONFIG `<file>:<line>: <what>` for a bad target.
 */
export function parseIncludeList(text: string, file: string): AliasTarget[] {
  const out: AliasTarget[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    for (const item of splitItems(t, where)) {
      if (item === '') continue; // a trailing comma at the end of a line is common in lists
      out.push(parseTarget(item, file, i + 1));
    }
  }
  return out;
}
