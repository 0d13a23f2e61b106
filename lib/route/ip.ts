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

/** One decimal octet as node:net accepts it: 0-255 without leading zeros. */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** 4, 6 or 0, exactly as node:net's isIP. */
export function isIP(s: string): 0 | 4 | 6 {
  const first = s.indexOf(':');
  if (first !== -1 && s.indexOf(':', first + 1) !== -1) return process.getBuiltinModule('node:net').isIPv6(s) ? 6 : 0;
  if (first !== -1) return 0;
  return IPV4.test(s) ? 4 : 0;
}
