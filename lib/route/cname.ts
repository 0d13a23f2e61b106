/**
 * Pure decisions over DNS answers: following a CNAME chain inside one answer
 * (keeping both ends: the queried name for TLS, the canonical name for the
 * record), and Exim's order of a host's addresses.
 */
import { SmarthostError } from '../errors.js';
import type { DnsRecord } from './dns-packet.js';
import type { CnameHop, FamilyPolicy, ResolvedAddress } from '../types.js';

/** Exim gives up after 10 rounds (dns.c "CNAME loop for %s encountered"); we allow 8 hops by default. */
export const DEFAULT_MAX_CNAME_HOPS = 8;

export interface CnameResult {
  /** Where the chain ended: the owner name of `records`. */
  canonical: string;
  /** Every hop from the queried name to `canonical`, including `prior` hops. */
  chain: CnameHop[];
  /** The records of the wanted type at `canonical` (answer order). */
  records: DnsRecord[];
  /**
   * False when the chain ends in a CNAME whose target has neither records nor
   * a CNAME in this answer: the caller must query the target itself (some
   * resolvers return only the CNAME; Exim then re-queries, dns.c dns_lookup).
   */
  complete: boolean;
}

const lc = (s: string): string => s.toLowerCase().replace(/\.$/, '');

/**
 * Follow the CNAME chain for `qname` through `answers`, in any record order
 * and case-insensitively. Records for names that are not on the chain are
 * ignored (untrusted: a server may add anything to an answer). When the
 * queried name has both records of `rrtype` and a CNAME (invalid, RFC 2181
 * §10.1) the records win, as in Exim. Asking for `CNAME` itself follows nothing.
 *
 * `prior` holds hops already followed in earlier answers (when re-querying a
 * target); they count toward `maxHops` and toward loop detection, and come
 * first in the returned chain.
 *
 * A loop or an over-long chain is `temp`, not `perm`: it is a broken zone
 * that its owner can fix, and Exim treats it the same way (dns_lookup returns
 * DNS_FAIL, which host_find_bydns turns into HOST_FIND_AGAIN, i.e. defer).
 *
 * @throws SmarthostError E_DNS_BAD_ANSWER (temp) on a CNAME loop, a chain longer
 *   than `maxHops`, or a name with two different CNAME targets.
 */
export function followCnames(
  answers: readonly DnsRecord[],
  qname: string,
  rrtype: string,
  maxHops: number = DEFAULT_MAX_CNAME_HOPS,
  prior: readonly CnameHop[] = [],
): CnameResult {
  const chain = [...prior];
  const start = chain.length > 0 ? lc(chain[0]!.name) : lc(qname);
  const seen = new Set([start, ...chain.map((h) => lc(h.target))]);
  let name = lc(qname);
  for (;;) {
    const here = name;
    const records = answers.filter((r) => lc(r.name) === here && r.type === rrtype);
    if (records.length > 0 || rrtype === 'CNAME') return { canonical: name, chain, records, complete: true };
    const cnames = answers.filter((r) => lc(r.name) === here && r.type === 'CNAME');
    if (cnames.length === 0) return { canonical: name, chain, records: [], complete: chain.length === prior.length };
    const target = lc(cnames[0]!.data);
    if (cnames.some((c) => lc(c.data) !== target)) {
      throw new SmarthostError('E_DNS_BAD_ANSWER', 'temp', `DNS answer for ${start} (${rrtype}) has two CNAMEs for ${name}`);
    }
    const path = [start, ...chain.map((h) => h.target), target].join(' -> ');
    if (seen.has(target)) {
      throw new SmarthostError('E_DNS_BAD_ANSWER', 'temp', `CNAME loop for ${start} (${rrtype}): ${path}`);
    }
    if (chain.length >= maxHops) {
      throw new SmarthostError('E_DNS_BAD_ANSWER', 'temp', `CNAME chain for ${start} (${rrtype}) is longer than ${maxHops} hops: ${path}`);
    }
    chain.push({ name, target, ttl: cnames[0]!.ttl });
    seen.add(target);
    name = target;
  }
}

/**
 * Order one host's addresses as Exim does: IPv6 before IPv4 by default (Exim
 * looks up AAAA first and gives IPv6 addresses the lower sort keys,
 * host.c set_address_from_dns), IPv4 first with `ipv4_prefer`, IPv4 alone
 * with `ipv4_only`. Within a family the answer order is kept (Exim shuffles
 * it; we stay deterministic). Duplicates (same address) are dropped, keeping
 * the first.
 */
export function orderAddresses(v6: readonly ResolvedAddress[], v4: readonly ResolvedAddress[], policy: FamilyPolicy): ResolvedAddress[] {
  const list = policy === 'ipv4_only' ? v4 : policy === 'ipv4_prefer' ? [...v4, ...v6] : [...v6, ...v4];
  const seen = new Set<string>();
  return list.filter((a) => {
    const key = a.address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
