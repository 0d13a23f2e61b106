/**
 * Does a server certificate name the host we asked for? RFC 9525 (which
 * obsoletes RFC 6125), for a client with one reference identifier: the
 * queried name of the route (never the CNAME target, never the address).
 * Pure; tls.ts runs it on the certificate Node hands to checkServerIdentity.
 *
 * - A host name (DNS-ID) is compared with the dNSName entries of the
 *   subjectAltName only, label by label, ASCII case-insensitively (§6.3); a
 *   U-label in the reference is converted to its A-label first. One trailing
 *   dot on either side is ignored.
 * - A wildcard is valid only as the complete left-most label (`*.q.test`),
 *   once, with at least two labels after it; it matches exactly one label
 *   (§6.3). Any other `*` (`x*.q.test`, `*x.q.test`, `a.*.q.test`) makes that
 *   entry invalid: it is ignored. A wildcard never matches an A-label
 *   (`xn--…`): an internationalized name is matched only exactly, so one
 *   wildcard cannot vouch for look-alike names (RFC 6125 §7.2, RFC 9525 §7.1).
 * - An IP literal (IP-ID) is compared octet for octet with the iPAddress
 *   entries only (§6.4); a dNSName that spells the address does not count.
 * - The subject's Common Name is never used (RFC 9525 §1.3, no CN-ID): a
 *   certificate without a dNSName names no host.
 * - Other entry types (email, URI, …) are not identifiers of a mail server here.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** One subjectAltName entry: `type` as Node writes it (`DNS`, `IP Address`, `email`, …). */
export interface AltName {
  type: string;
  value: string;
}

export type NameMatch =
  /** `matched`: the entry that names the host, as `DNS:*.q.test` or `IP Address:127.0.0.1`. */
  | { ok: true; matched: string }
  | { ok: false; reason: string };

/**
 * Node's rendering of a certificate's subjectAltName (`PeerCertificate.subjectaltname`:
 * `DNS:a.test, IP Address:127.0.0.1`) as entries. Node writes a value holding a
 * separator or a quote as a JSON string (`DNS:"a\u002c DNS:b.test"`), so a
 * certificate cannot smuggle a second entry into one. An entry that cannot be
 * read ends the list (what was read so far is kept). Pure.
 */
export function parseAltNames(text: string | undefined): AltName[] {
  const out: AltName[] = [];
  if (!text) return out;
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon < 0) break;
    const type = text.slice(at, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(colon + 1));
      if (!m) break;
      try {
        value = JSON.parse(m[0]) as string;
      } catch {
        break;
      }
      end = colon + 1 + m[0].length;
    } else {
      const sep = text.indexOf(', ', colon + 1);
      end = sep < 0 ? text.length : sep;
      value = text.slice(colon + 1, end);
    }
    out.push({ type, value });
    if (end < text.length && !text.startsWith(', ', end)) break;
    at = end + 2;
  }
  return out;
}

/** The octets of an IPv4 or IPv6 address in text form; undefined when it is neither. Pure. */
export function ipOctets(text: string): number[] | undefined {
  // without a colon it cannot be IPv6, and net.isIPv6's first call costs ≈ 4 ms (see tls.ts)
  if (!text.includes(':')) return isIPv4(text) ? text.split('.').map(Number) : undefined;
  if (!isIPv6(text)) return undefined;
  let s = text.toLowerCase();
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    // an embedded IPv4 address (::ffff:192.0.2.1) is the last 32 bits
    tail = ipOctets(s.slice(lastColon + 1)) ?? [];
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const groups = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = groups(rest);
  const words = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const lower = (s: string): string => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
const unroot = (s: string): string => (s.endsWith('.') ? s.slice(0, -1) : s);
const isALabel = (label: string): boolean => label.startsWith('xn--');

/** The reference host name as lower-case A-labels, or why it cannot be checked. */
function referenceLabels(reference: string): string[] | string {
  let name = unroot(reference);
  // U-labels → A-labels (RFC 9525 §6.3); '' when not a valid IDN. node:url only for such a name.
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) name = process.getBuiltinModule('node:url').domainToASCII(name);
  const labels = lower(name).split('.');
  if (name === '' || !labels.every((l) => LABEL.test(l))) return `"${reference}" is not a host name a certificate can be checked against`;
  return labels;
}

/** A dNSName entry as labels ('*' first for a wildcard), or why the entry is ignored. */
function presentedLabels(value: string): string[] | string {
  const labels = lower(unroot(value)).split('.');
  const [first, ...rest] = labels;
  if (first === '*') {
    if (rest.some((l) => l.includes('*'))) return 'more than one wildcard';
    if (rest.length < 2) return 'a wildcard needs at least two labels after it';
    if (!rest.every((l) => LABEL.test(l))) return 'not a valid host name';
    return labels;
  }
  if (value.includes('*')) return 'a wildcard must be the whole left-most label (RFC 9525 section 6.3)';
  if (!labels.every((l) => LABEL.test(l))) return 'not a valid host name';
  return labels;
}

/**
 * Whether a certificate with these subjectAltName entries names `reference`
 * (RFC 9525 §6, the rules above). On a mismatch, `reason` says why in words:
 * `certificate has no DNS subjectAltName`, the entries it has, and which of
 * them were ignored and why. Pure.
 */
export function matchName(reference: string, altNames: readonly AltName[]): NameMatch {
  const ip = ipOctets(reference);
  if (ip) {
    const ips = altNames.filter((a) => a.type === 'IP Address');
    if (ips.length === 0) return { ok: false, reason: `certificate has no iPAddress subjectAltName (a DNS name never matches the IP address ${reference})` };
    const hit = ips.find((a) => ipOctets(a.value)?.join('.') === ip.join('.'));
    if (hit) return { ok: true, matched: `IP Address:${hit.value}` };
    return { ok: false, reason: `certificate does not name the IP address ${reference} (it has ${ips.map((a) => `IP Address:${a.value}`).join(', ')})` };
  }
  const ref = referenceLabels(reference);
  if (typeof ref === 'string') return { ok: false, reason: ref };
  const dns = altNames.filter((a) => a.type === 'DNS');
  if (dns.length === 0) return { ok: false, reason: 'certificate has no DNS subjectAltName' };
  const notes: string[] = [];
  for (const entry of dns) {
    const pattern = presentedLabels(entry.value);
    if (typeof pattern === 'string') {
      notes.push(`DNS:${entry.value} ignored: ${pattern}`);
      continue;
    }
    if (pattern.length !== ref.length || !pattern.every((l, i) => i === 0 || l === ref[i])) {
      notes.push(`DNS:${entry.value}`);
      continue;
    }
    if (pattern[0] === ref[0]) return { ok: true, matched: `DNS:${entry.value}` };
    if (pattern[0] === '*') {
      if (!isALabel(ref[0]!)) return { ok: true, matched: `DNS:${entry.value}` };
      notes.push(`DNS:${entry.value} ignored: a wildcard never matches the A-label "${ref[0]}"`);
      continue;
    }
    notes.push(`DNS:${entry.value}`);
  }
  return { ok: false, reason: `certificate does not name "${unroot(reference)}" (it has ${notes.join('; ')})` };
}
