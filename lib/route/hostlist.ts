/**
 * Exim list syntax and Exim-style host lists (hosts_require_tls,
 * tls_verify_cert_hostnames). Pure: no DNS, no files.
 *
 * List syntax (Exim spec "List construction", "Changing list separators",
 * "Empty items in lists"): items are separated by `:`; a doubled separator is
 * one literal separator character (`::::1` is `::1`); a list that starts with
 * `<` and a punctuation character uses that character instead (`<; ::1 ; 10.0.0.1`);
 * white space around items is ignored; a trailing empty item is dropped.
 *
 * Host list items (Exim spec "Host lists"): `*`, an IP address, a CIDR network
 * (`192.0.2.0/24`, `2001:db8::/32`), `*.example.com` / `*example.com` (the name
 * ends with …), `^regex` (case-insensitive), a plain host name, each optionally
 * negated with `!`. The first item that matches decides; at the end of the list
 * the answer is "no", unless the last item was negated (Exim: a list ending
 * with a negative item behaves as if `: *` followed it).
 *
 * One deliberate difference: Exim matches a plain host name by looking up its
 * addresses and comparing them with the host's IP address. Here a plain name
 * is compared (case-insensitively, ignoring a trailing dot) with the host's
 * name, which for send-smarthost is always the name written in route_data (the
 * queried name, never a CNAME target). This keeps matching pure and
 * predictable. File names, `@`, `@[]`, `+named` lists and lookups are not
 * supported and are rejected.
 */

import { isIP } from './ip.js';
import { configError } from '../errors.js';
import type { HostPattern } from '../types.js';

/** One list item: `value` after separator undoubling and trimming, `raw` as written. */
export interface ListItem {
  value: string;
  raw: string;
}

const isPunct = (c: string | undefined): boolean => c !== undefined && /^[!-/:-@[-`{-~]$/.test(c);

/**
 * Split an Exim list into items, keeping each item's raw text for messages.
 * Never throws. `''` → `[]`; `':'` → one empty item; `'a : : b'` → a, '', b.
 */
export function splitListItems(text: string): ListItem[] {
  let s = text.trimStart();
  let sep = ':';
  if (s[0] === '<' && isPunct(s[1])) {
    sep = s[1]!;
    s = s.slice(2);
  }
  const items: ListItem[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && /\s/.test(s[pos]!)) pos++;
    if (pos >= s.length) break;
    const start = pos;
    let value = '';
    let end = s.length;
    while (pos < s.length) {
      const c = s[pos]!;
      if (c === sep) {
        if (s[pos + 1] === sep) {
          value += sep;
          pos += 2;
          end = pos;
          continue;
        }
        end = pos;
        pos++;
        break;
      }
      value += c;
      pos++;
      end = pos;
    }
    items.push({ value: value.trim(), raw: s.slice(start, end).trim() });
  }
  return items;
}

/** Split an Exim list into its item values (see splitListItems). */
export function splitList(text: string): string[] {
  return splitListItems(text).map((i) => i.value);
}

const NAME_RE = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$/i;

/** True for a syntactically valid host name (letters, digits, `-`, `_`, dots; optional trailing dot). */
export function isHostName(name: string): boolean {
  return name.length > 0 && name.length <= 254 && NAME_RE.test(name);
}

const normName = (n: string): string => n.toLowerCase().replace(/\.$/, '');

function parseItem(item: ListItem): HostPattern {
  let v = item.value;
  const text = item.raw;
  let negated = false;
  if (v.startsWith('!')) {
    negated = true;
    v = v.slice(1).trimStart();
  }
  // Messages quote the item as written, without its "!".
  const q = JSON.stringify(text.replace(/^!\s*/, ''));
  if (v === '*') return { kind: 'any', negated, text };
  if (v === '') return { kind: 'empty', negated, text };
  if (v.startsWith('^')) {
    try {
      new RegExp(v, 'i');
    } catch (e) {
      throw configError(`bad regular expression ${q} in host list: ${(e as Error).message}`);
    }
    return { kind: 'regex', negated, text, source: v };
  }
  if (v.startsWith('*')) {
    const suffix = v.slice(1);
    const bare = suffix.replace(/^\./, '');
    if (bare === '' || !isHostName(bare)) throw configError(`bad wildcard ${q} in host list (expected e.g. *.example.com)`);
    return { kind: 'suffix', negated, text, suffix: normName(suffix) };
  }
  if (v.startsWith('/')) throw configError(`file names are not supported in host lists: ${q}`);
  if (v.startsWith('+')) throw configError(`named lists and "+" items are not supported in host lists: ${q}`);
  if (v.startsWith('@')) throw configError(`"@" items are not supported in host lists: ${q}`);
  if (v.includes(';')) throw configError(`lookups are not supported in host lists: ${q}`);
  const slash = v.lastIndexOf('/');
  const addr = slash >= 0 ? v.slice(0, slash) : v;
  const family = isIP(addr);
  if (family === 4 || family === 6) {
    const max = family === 4 ? 32 : 128;
    let prefix = max;
    if (slash >= 0) {
      const m = v.slice(slash + 1);
      if (!/^\d{1,3}$/.test(m) || Number(m) > max) throw configError(`bad mask "/${m}" in ${q} (0-${max})`);
      prefix = Number(m);
    }
    return { kind: 'net', negated, text, address: addr, prefix, family };
  }
  if (/^[\d.]+(\/.*)?$/.test(v)) throw configError(`malformed IPv4 address or address mask ${q}`);
  if (v.includes(':')) throw configError(`bad host list item ${q} (neither an IP address nor a host name)`);
  if (!isHostName(v)) throw configError(`bad host name ${q} in host list`);
  return { kind: 'name', negated, text, name: normName(v) };
}

/**
 * Parse an Exim host list into patterns. An empty list (or only white space)
 * gives `[]`, which matches nothing.
 *
 * @throws SmarthostError E_CONFIG naming the bad item, e.g.
 *   `malformed IPv4 address or address mask "192.0.2/24"`,
 *   `bad mask "/33" in "192.0.2.0/33" (0-32)`, `bad host name "a b" in host list`.
 */
export function parseHostList(text: string): HostPattern[] {
  try {
    return splitListItems(text).map(parseItem);
  } catch (e) {
    // "2001:db8::/32" in a colon list falls apart into "2001", "db8:/32": say why.
    if (!text.trimStart().startsWith('<') && /[0-9a-f]:[0-9a-f]*:/i.test(text) && e instanceof Error) {
      e.message += ' (IPv6 addresses in a ":" list need doubled colons, or start the list with "<;")';
    }
    throw e;
  }
}

/** The host being checked: the queried name (as in route_data) and/or its IP address. */
export interface HostSubject {
  name?: string;
  address?: string;
}

/** IP address → 4 or 16 bytes; IPv4-mapped IPv6 becomes IPv4 (as Exim does). */
function ipBytes(address: string): number[] | undefined {
  const a = address.replace(/%.*$/, '');
  const fam = isIP(a);
  if (fam === 4) return a.split('.').map(Number);
  if (fam !== 6) return undefined;
  let s = a;
  const tail = s.slice(s.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const [b0, b1, b2, b3] = tail.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, s.length - tail.length)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  const bytes = groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 255];
  });
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255;
  return mapped ? bytes.slice(12) : bytes;
}

function inNet(address: string, p: Extract<HostPattern, { kind: 'net' }>): boolean {
  const a = ipBytes(address);
  const n = ipBytes(p.address);
  if (!a || !n || a.length !== n.length) return false;
  // A pattern written as IPv4-mapped IPv6 was shortened to 4 bytes: shorten its prefix too.
  let bits = n.length === 4 && p.family === 6 ? Math.max(0, p.prefix - 96) : p.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 255 : (0xff << (8 - bits)) & 255;
    if ((a[i]! & mask) !== (n[i]! & mask)) return false;
  }
  return true;
}

function matchOne(p: HostPattern, host: HostSubject): boolean {
  const name = host.name === undefined || host.name === '' ? undefined : normName(host.name);
  switch (p.kind) {
    case 'any':
      return true;
    case 'empty':
      return false;
    case 'name':
      return name === p.name;
    case 'suffix':
      return name !== undefined && name.endsWith(p.suffix);
    case 'regex':
      return host.name !== undefined && new RegExp(p.source, 'i').test(host.name);
    case 'net':
      return host.address !== undefined && inNet(host.address, p);
  }
}

/** The answer and why, shaped for an Exim-like trace: `yes (matched "*")`, `no (end of list)`. */
export interface HostListVerdict {
  match: boolean;
  /** The deciding item, or undefined when the end of the list was reached. */
  item?: HostPattern;
  why: string;
}

/** Check a host against a parsed host list and say why (first match wins; Exim end-of-list rule). */
export function hostListVerdict(patterns: readonly HostPattern[], host: HostSubject): HostListVerdict {
  for (const p of patterns) {
    if (matchOne(p, host)) {
      return { match: !p.negated, item: p, why: `matched ${JSON.stringify(p.text)}` };
    }
  }
  const last = patterns[patterns.length - 1];
  const match = last !== undefined && last.negated;
  return { match, why: match ? 'end of list, last item negated' : 'end of list' };
}

/**
 * True when the host is in the set the list defines. Name patterns only match
 * when `name` is given, address patterns only when `address` is given.
 */
export function matchHostList(patterns: readonly HostPattern[], host: HostSubject): boolean {
  return hostListVerdict(patterns, host).match;
}
