/**
 * Alias expansion (pure): map local recipients through the aliases file.
 *
 * Which recipients are local: those whose domain is one of `localDomains`
 * (compared case-insensitively). main passes qualify_domain, this host's
 * FQDN and `localhost`: unqualified addresses have already been qualified
 * with qualify_domain (address.ts), so `root`, `root@<fqdn>` and
 * `root@localhost` all reach the `root` alias. Any other domain is never
 * aliased. Names match case-insensitively (as in sendmail and Postfix).
 *
 * Rules:
 *  - a target address is qualified like any other address, and expanded
 *    again if it is local and an alias (recursively);
 *  - `\name` is delivered as `name@qualify_domain` without further expansion;
 *  - a name that reaches itself again (`a: a, b` or `a → b → a`) stops
 *    expanding there and is kept as an address, as sendmail does for
 *    self-references, so no recipient ever disappears in a loop;
 *  - nesting deeper than `maxDepth` (10, sendmail's MaxAliasRecursion) and
 *    more than `maxRecipients` results are errors;
 *  - pipe and file targets cannot be delivered by a smarthost client: they
 *    are skipped with a warning; an alias left with no deliverable address at
 *    all is an error (the recipient would be lost otherwise);
 *  - results are deduplicated (domain case-insensitive), first spelling kept.
 */
import { configError, SmarthostError } from '../errors.js';
import { addressKey, normalizeAddress, quote } from './address.js';
import type { AliasMap, AliasTarget } from './aliases.js';
import type { Tracer } from '../report/trace.js';
import type { Envelope } from '../types.js';

/** An :include: file as loaded: its targets, or why it could not be read. */
export type IncludeResult = { targets: AliasTarget[] } | { error: string };

/** An aliases file with its include files (see aliases-load.ts). */
export interface LoadedAliases {
  file: string;
  entries: AliasMap;
  includes: Map<string, IncludeResult>;
}

export interface ExpandOptions {
  qualifyDomain: string;
  /** Domains whose addresses are looked up in the aliases (any case). */
  localDomains: readonly string[];
  /** Alias and include nesting bound; default 10. */
  maxDepth?: number;
  /** Bound on the number of resulting recipients; default 1000. */
  maxRecipients?: number;
}

/** One step of an alias expansion: the alias address that led to a recipient, and where that alias is defined. */
export interface AliasStep {
  address: string;
  where: string;
}

export interface Expansion {
  recipients: string[];
  /** For each recipient that came from an alias: the aliases it came through, nearest first (what -bt prints as `<--` lines). */
  origins: Map<string, AliasStep[]>;
  /** Trace lines: `root@host -> admin@example.com (/etc/aliases:3)`. */
  notes: string[];
  /** Lines for stderr (skipped pipe/file targets). */
  warnings: string[];
}

/** The local part of a normalised address, quotes removed, lower-cased, when its domain is local. */
function localKey(addr: string, local: Set<string>): string | undefined {
  const at = addr.lastIndexOf('@');
  if (at < 0 || !local.has(addr.slice(at + 1).toLowerCase())) return undefined;
  let lp = addr.slice(0, at);
  if (lp.startsWith('"') && lp.endsWith('"')) lp = lp.slice(1, -1).replace(/\\(.)/g, '$1');
  return lp.toLowerCase();
}

/**
 * Expand `recipients` (normalised addresses) through `aliases`.
 *
 * @throws SmarthostError E_CONFIG (kind 'config') `<file>:<line>: …` for an
 *   alias whose targets are only pipes/files, an unreadable or bad :include:
 *   file that is needed, a target address that does not parse, nesting
 *   deeper than maxDepth, or more than maxRecipients results.
 */
export function expandAliases(recipients: readonly string[], aliases: LoadedAliases | undefined, opts: ExpandOptions): Expansion {
  const out: string[] = [];
  const seen = new Set<string>();
  const notes: string[] = [];
  const warnings: string[] = [];
  const origins = new Map<string, AliasStep[]>();
  if (!aliases || aliases.entries.size === 0) return { recipients: [...recipients], origins, notes, warnings };
  const local = new Set(opts.localDomains.map((d) => d.toLowerCase()));
  const maxDepth = opts.maxDepth ?? 10;
  const maxRecipients = opts.maxRecipients ?? 1000;

  const emit = (addr: string, via: readonly AliasStep[]): void => {
    const k = addressKey(addr);
    if (seen.has(k)) return;
    seen.add(k);
    if (out.length >= maxRecipients) throw configError(`${aliases.file}: alias expansion gives more than ${maxRecipients} recipients`);
    out.push(addr);
    if (via.length > 0) origins.set(addr, [...via]);
  };

  const tooDeep = (where: string, path: readonly string[]): SmarthostError =>
    configError(`${where}: aliases nested deeper than ${maxDepth} levels (${path.join(' -> ')})`);

  /** Expand one address found at nesting `depth` through the aliases `via` (nearest first); returns how many deliverable addresses it produced. */
  const expand = (addr: string, chain: readonly string[], depth: number, via: readonly AliasStep[]): number => {
    const key = localKey(addr, local);
    const entry = key === undefined ? undefined : aliases.entries.get(key);
    if (key === undefined || !entry) {
      emit(addr, via);
      return 1;
    }
    if (chain.includes(key)) {
      notes.push(`alias loop ${[...chain, key].join(' -> ')}: ${addr} kept as an address`);
      emit(addr, via);
      return 1;
    }
    const path = [...chain, key];
    if (depth >= maxDepth) throw tooDeep(`${entry.file}:${entry.line}`, path);
    let produced = 0;
    const walk = (targets: readonly AliasTarget[], depth: number, includes: readonly string[]): void => {
      for (const t of targets) {
        const where = `${t.file}:${t.line}`;
        switch (t.kind) {
          case 'pipe':
          case 'file': {
            const what = t.kind === 'pipe' ? `pipe ${quote('|' + t.command)}` : `file ${quote(t.path)}`;
            warnings.push(`${where}: alias ${quote(entry.name)}: ${what} cannot be delivered through a smarthost; skipped`);
            notes.push(`${addr} -> ${what} skipped (${where})`);
            break;
          }
          case 'include': {
            if (includes.includes(t.path)) throw configError(`${where}: :include:${t.path} includes itself`);
            if (depth >= maxDepth) throw tooDeep(where, [...path, `:include:${t.path}`]);
            const inc = aliases.includes.get(t.path);
            if (!inc) throw new SmarthostError('E_INTERNAL', 'software', `${where}: :include:${t.path} was not loaded`);
            if ('error' in inc) throw configError(`${where}: :include:${t.path}: ${inc.error}`);
            notes.push(`${addr} -> :include:${t.path} (${where})`);
            walk(inc.targets, depth + 1, [...includes, t.path]);
            break;
          }
          case 'address': {
            let target: string;
            try {
              target = normalizeAddress(t.address, { qualifyDomain: opts.qualifyDomain });
            } catch (err) {
              throw configError(`${where}: ${(err as Error).message}`);
            }
            notes.push(`${addr} -> ${target} (${where})`);
            const step = [{ address: addr, where }, ...via];
            if (t.noExpand) {
              emit(target, step);
              produced++;
            } else produced += expand(target, path, depth, step);
            break;
          }
        }
      }
    };
    walk(entry.targets, depth + 1, []);
    if (produced === 0) {
      throw configError(
        `${entry.file}:${entry.line}: alias ${quote(entry.name)} (for ${addr}) has no address a smarthost can deliver to (pipe and file targets are skipped)`,
      );
    }
    return produced;
  };

  for (const r of recipients) expand(r, [], 0, []);
  return { recipients: out, origins, notes, warnings };
}

/**
 * Apply the aliases to an envelope's recipients for main: local domains are
 * qualify_domain, this host's FQDN and `localhost`; each step goes to the
 * trace as a note, skipped pipe/file targets to `warn`.
 * @throws SmarthostError E_CONFIG as {@link expandAliases}.
 */
export function applyAliases(
  envelope: Envelope,
  aliases: LoadedAliases | undefined,
  ctx: { qualifyDomain: string; fqdn: string; tracer: Tracer; warn: (line: string) => void },
): Envelope {
  if (!aliases) return envelope;
  const x = expandAliases(envelope.recipients, aliases, {
    qualifyDomain: ctx.qualifyDomain,
    localDomains: [ctx.qualifyDomain, ctx.fqdn, 'localhost'],
  });
  for (const text of x.notes) ctx.tracer({ type: 'note', text });
  for (const w of x.warnings) ctx.warn(w);
  // each generated address's top-level address: the last alias it came through
  const parents = Object.fromEntries([...x.origins].filter(([, via]) => via.length > 0).map(([address, via]) => [address, via[via.length - 1]!.address]));
  return { ...envelope, recipients: x.recipients, ...(x.origins.size > 0 ? { parents } : {}) };
}
