/**
 * `isIP` with the answers of node:net's, without its cost on the start-up
 * path: the first call of net.isIPv6 compiles a large regular expression
 * (≈ 4 ms, measured with --cpu-prof) and node:net itself loads the stream
 * machinery. Every configuration parse asks about host names and `ip:port`
 * items, none of which can be IPv6: textual IPv6 always has at least two
 * colons (RFC 4291 §2.2: eight groups, or `::`). Only such strings go to
 * node:net; dotted quads are checked here with the same grammar as
 * node:net (four decimal octets 0-255, no leading zeros). Pure.
 */

/**
 * A dotted quad as node:net accepts it: four decimal octets 0-255 without
 * leading zeros. Scanned by hand: a regular expression costs ≈ 0.3 ms to
 * compile at its first use, on every start.
 */
function isIPv4(s: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++parts > 4) return false;
      digits = 0;
      value = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39) return false;
    if (digits === 1 && value === 0) return false; // a leading zero
    value = value * 10 + (c - 0x30);
    if (++digits > 3) return false;
  }
  return parts === 4;
}

/** 4, 6 or 0, exactly as node:net's isIP. */
export function isIP(s: string): 0 | 4 | 6 {
  const first = s.indexOf(':');
  if (first !== -1 && s.indexOf(':', first + 1) !== -1) return process.getBuiltinModule('node:net').isIPv6(s) ? 6 : 0;
  if (first !== -1) return 0;
  return isIPv4(s) ? 4 : 0;
}
