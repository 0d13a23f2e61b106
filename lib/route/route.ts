/**
 * route_data: an Exim manualroute routing rule without the domain pattern
 * (Exim spec "Routing rules in route_data", "Format of the list of hosts",
 * "Format of one host item", "How the options are used"). Pure.
 *
 *   route_data = <host list> [<option> ...]
 *
 * The host list is the first white-space-delimited word, or a double-quoted
 * string when it contains white space (`"a.example : b.example" bydns`;
 * backslash escapes as in Exim's string_dequote). It is an Exim list (colon
 * separated, `<X` changes the separator, a doubled separator is literal; see
 * lib/hostlist.ts). Items:
 *
 *   name             mail.example.com
 *   name::port       mail.example.com::587   (or name:port after `<;`)
 *   name/MX[::port]  example.com/MX          (the port comes last, as in Exim)
 *   IPv4 address     192.0.2.7, 192.0.2.7::2525
 *   [ip]:port        [192.0.2.7]::2525, `<; [2001:db8::7]:2525`
 *   [ip]             also accepted without a port (Exim wants a bare address then)
 *   IPv6 address     bare, in a `<;` list (`<; 2001:db8::7`) or with doubled colons
 *   +                randomize group boundary: ignored unless `randomize` (then an error)
 *
 * Options: bydns (default), byname, ipv4_only, ipv4_prefer, randomize,
 * no_randomize (default). Unlike Exim, options must be spelled in full (Exim
 * accepts prefixes such as "rand"), contradicting options are an error, and a
 * transport name is not an option.
 */

import { isIP } from './ip.js';
import { configError } from '../errors.js';
import { isHostName, splitListItems, type ListItem } from './hostlist.js';
import type { FamilyPolicy, HostSpec, Lookup, Route } from '../types.js';

/** The option words route_data accepts, in the order they are documented. */
export const ROUTE_OPTIONS = ['bydns', 'byname', 'ipv4_only', 'ipv4_prefer', 'randomize', 'no_randomize'] as const;

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of two
 * neighbouring letters (optimal string alignment), for "did you mean" hints:
 * `prot` is one edit from `port`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` when it is a near miss (distance ≤ 2 and
 * less than half the candidate's length; `-` counts as `_`, case ignored),
 * else undefined. Shared with lib/config.ts.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase().replace(/-/g, '_');
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c);
    if (d < bestD && d <= 2 && d < c.length / 2) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

const q = (s: string): string => JSON.stringify(s);

/** Split off the host list (a word, or a double-quoted string) from the options. */
function takeHostList(s: string): { hosts: string; rest: string } {
  if (s[0] !== '"') {
    const m = /^\S*/.exec(s)![0];
    return { hosts: m, rest: s.slice(m.length) };
  }
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r' };
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { hosts: out, rest: s.slice(i + 1) };
    if (c === '\\' && i + 1 < s.length) {
      const n = s[++i]!;
      out += escapes[n] ?? n;
    } else {
      out += c;
    }
  }
  throw configError(`unterminated quoted host list ${s}`);
}

function parsePort(text: string, raw: string): number {
  if (text === '') throw configError(`missing port after ":" in ${q(raw)}`);
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw configError(`bad port ${q(text)} in ${q(raw)} (1-65535)`);
  return n;
}

function withPort(spec: Omit<HostSpec, 'port'>, port: number | undefined): HostSpec {
  return port === undefined ? spec : { ...spec, port };
}

/** Parse one host item; `undefined` for a `+` group marker. */
function parseHostItem(item: ListItem, listText: string): HostSpec | undefined {
  const raw = item.raw;
  let body = item.value;
  if (body === '') throw configError(`empty item in host list ${q(listText)}`);
  if (body === '+') return undefined;
  if (body.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(body);
    if (!m) throw configError(`bad host list item ${q(raw)} (expected [address] or [address]:port)`);
    if (!isIP(m[1]!)) throw configError(`bad IP address "[${m[1]}]" in ${q(raw)}`);
    return withPort({ name: m[1]!, literal: true, mx: false }, m[2] === undefined ? undefined : parsePort(m[2], raw));
  }
  if (isIP(body) === 6) return { name: body, literal: true, mx: false };
  let port: number | undefined;
  const colon = body.lastIndexOf(':');
  if (colon >= 0) {
    const portText = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (body.includes(':')) {
      throw configError(`bad host list item ${q(raw)} (write an IPv6 address with a port as [address]:port)`);
    }
    port = parsePort(portText, raw);
  }
  let mx = false;
  if (/\/mx$/i.test(body)) {
    mx = true;
    body = body.slice(0, -3);
  }
  if (isIP(body)) {
    if (mx) throw configError(`"/MX" cannot follow an IP address in ${q(raw)}`);
    return withPort({ name: body, literal: true, mx: false }, port);
  }
  if (/^\d+$/.test(body) && port === undefined && !mx) {
    throw configError(`bad host list item ${q(raw)} (in a ":" list a port needs a doubled colon: host::${body})`);
  }
  if (/^[\d.]+$/.test(body)) throw configError(`bad IPv4 address ${q(body)} in ${q(raw)}`);
  if (!isHostName(body)) {
    const hint = body.includes('/') ? ' (the only "/" suffix is /MX)' : '';
    throw configError(`bad host name ${q(body)} in host list${hint}`);
  }
  return withPort({ name: body, literal: false, mx }, port);
}

type Group = 'lookup' | 'family' | 'randomize';
const OPTION_EFFECT: Record<(typeof ROUTE_OPTIONS)[number], [Group, Lookup | FamilyPolicy | boolean]> = {
  bydns: ['lookup', 'bydns'],
  byname: ['lookup', 'byname'],
  ipv4_only: ['family', 'ipv4_only'],
  ipv4_prefer: ['family', 'ipv4_prefer'],
  randomize: ['randomize', true],
  no_randomize: ['randomize', false],
};

/**
 * Parse a route_data value.
 *
 * @example parseRoute('mail.dev.example.test bydns ipv4_only')
 *   // { hosts: [{ name: 'mail.dev.example.test', literal: false, mx: false }],
 *   //   lookup: 'bydns', family: 'ipv4_only', randomize: false,
 *   //   hostText: 'mail.dev.example.test', optionText: 'bydns ipv4_only' }
 * @throws SmarthostError E_CONFIG with a one-line message quoting the bad
 *   token and no file:line prefix (lib/config.ts adds it), e.g.
 *   `empty host list`, `bad port "99999" in "host::99999" (1-65535)`,
 *   `unknown host option "ipv4only" (did you mean ipv4_only?)`,
 *   `conflicting host options "bydns" and "byname"`.
 */
export function parseRoute(text: string): Route {
  const { hosts: hostText, rest } = takeHostList(text.trim());
  const optionText = rest.trim();

  const chosen = new Map<Group, string>();
  const route = { lookup: 'bydns' as Lookup, family: 'any' as FamilyPolicy, randomize: false };
  for (const word of optionText === '' ? [] : optionText.split(/\s+/)) {
    const effect = (OPTION_EFFECT as Record<string, [Group, Lookup | FamilyPolicy | boolean]>)[word];
    if (effect === undefined) {
      const near = didYouMean(word, ROUTE_OPTIONS);
      const hint = near
        ? ` (did you mean ${near}?)`
        : /^[:;<[]|[:.]/.test(word)
          ? ' (a host list containing white space must be in double quotes)'
          : ` (expected one of ${ROUTE_OPTIONS.join(', ')})`;
      throw configError(`unknown host option ${q(word)}${hint}`);
    }
    const [group, value] = effect;
    const before = chosen.get(group);
    if (before !== undefined && before !== word) throw configError(`conflicting host options ${q(before)} and ${q(word)}`);
    chosen.set(group, word);
    if (group === 'lookup') route.lookup = value as Lookup;
    else if (group === 'family') route.family = value as FamilyPolicy;
    else route.randomize = value as boolean;
  }

  const items = splitListItems(hostText);
  const hosts: HostSpec[] = [];
  for (const item of items) {
    const spec = parseHostItem(item, hostText);
    if (spec) hosts.push(spec);
    else if (route.randomize) throw configError(`randomize groups ("+" items) are not supported in ${q(hostText)}`);
  }
  if (hosts.length === 0) throw configError('empty host list');
  return { hosts, ...route, hostText, optionText };
}
