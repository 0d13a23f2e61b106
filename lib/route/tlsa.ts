/**
 * Where a host's TLSA records are, and whether DANE applies (RFC 7672
 * §2.2). Logic only: the queries go through `deps` (the DNS transport asked
 * with the DO bit, so a validating resolver's AD bit says what is
 * authenticated; we do not validate signatures ourselves, as Exim and
 * Postfix do not).
 *
 *  - The host's address records (and every CNAME leading to them, and the MX
 *    RRset for a `/MX` host) must be authenticated, else DANE does not apply.
 *  - TLSA records are looked up at `_<port>._tcp.<base>`: with a CNAME chain
 *    (necessarily secure by then) first at the CNAME-expanded name, then at
 *    the name the route asked for (§2.2.2); the base that has them is the
 *    TLSA base domain, which the client sends as SNI (§8.1).
 *  - An authenticated TLSA RRset is used; records of usage PKIX-TA(0) and
 *    PKIX-EE(1), or with an unknown selector or matching type, are unusable
 *    (§3.1.3) and ignored.
 *  - An answer that is not authenticated (an insecure zone) is ignored, as
 *    an authenticated denial is: DANE does not apply there.
 *  - A lookup that fails (SERVFAIL, which a validating resolver returns for
 *    a bogus answer, or a timeout) is never a reason to do without DANE: the
 *    host cannot be used now (§2.1.1), a temporary failure.
 */
import { SmarthostError } from '../errors.js';
import { tlsaText, type TlsaData } from './dns-packet.js';
import { lookupType, type ResolveDeps } from './resolve-host.js';
import type { Resolved } from '../types.js';

/** Why DANE does not apply to a host (for the trace, `check`, and hosts_require_dane's refusal). */
export type NoDane = 'literal' | 'insecure' | 'absent' | 'unusable';

export type TlsaLookup =
  /** Verify by these records (`usable`: DANE-TA(2) and DANE-EE(3) with known selector and matching type). */
  | { state: 'secure'; base: string; records: TlsaData[]; usable: TlsaData[] }
  | { state: 'none'; why: NoDane; reason: string }
  | { state: 'failed'; error: SmarthostError };

/** A record DANE for SMTP can use (RFC 7672 §3.1): DANE-TA(2) or DANE-EE(3), selector 0/1, matching type 0/1/2. Pure. */
export function usableTlsa(t: TlsaData): boolean {
  return (t.usage === 2 || t.usage === 3) && (t.selector === 0 || t.selector === 1) && (t.mtype === 0 || t.mtype === 1 || t.mtype === 2);
}

/** The TLSA owner name for a base domain and port. */
export const tlsaName = (base: string, port: number): string => `_${port}._tcp.${base}`;

/**
 * Look up the TLSA records for `host` on `port` (see the module comment).
 * Traces a `dane` event with the conclusion. Never throws a SmarthostError.
 */
export async function lookupTlsa(host: Resolved, port: number, deps: ResolveDeps): Promise<TlsaLookup> {
  const done = (r: TlsaLookup): TlsaLookup => {
    const ev =
      r.state === 'secure'
        ? { state: r.state, base: r.base, records: r.records.map((x) => `${tlsaText(x)}${usableTlsa(x) ? '' : ' (unusable)'}`), usable: r.usable.length }
        : { state: r.state, reason: r.state === 'failed' ? r.error.message : r.reason };
    deps.tracer({ type: 'dane', queried: host.queried, port, ...ev });
    return r;
  };
  if (host.addresses.every((a) => a.address === host.queried)) {
    return done({ state: 'none', why: 'literal', reason: `${host.queried} is an IP address: there are no TLSA records for it` });
  }
  if (!host.secure) {
    return done({ state: 'none', why: 'insecure', reason: `the address records of ${host.queried}${host.chain.length ? ' (or its CNAME chain)' : ''} are not DNSSEC-authenticated` });
  }
  const bases = host.chain.length > 0 ? [host.canonical, host.queried] : [host.queried];
  const seen: string[] = [];
  let insecure = false;
  for (const base of bases) {
    const owner = tlsaName(base, port);
    const r = await lookupType(owner, 'TLSA', deps, deps.tracer);
    if (!r.ok && r.result !== 'NXDOMAIN' && r.result !== 'NO_DATA') {
      const error = new SmarthostError(r.error.code, 'temp', `TLSA lookup of ${owner} failed (${r.result}): ${r.error.message}; a DANE host is not used without its records`, { host: host.queried, cause: r.error });
      return done({ state: 'failed', error });
    }
    if (!r.secure) {
      insecure = true;
      seen.push(`${owner}: not DNSSEC-authenticated`);
      continue;
    }
    if (!r.ok || r.records.length === 0) {
      seen.push(`${owner}: none`);
      continue;
    }
    const records = r.records.map((x) => x.tlsa).filter((x): x is TlsaData => x !== undefined);
    const usable = records.filter(usableTlsa);
    if (usable.length === 0) return done({ state: 'none', why: 'unusable', reason: `the TLSA records at ${owner} are all unusable for SMTP (PKIX-TA/PKIX-EE or unknown parameters, RFC 7672 §3.1.3)` });
    return done({ state: 'secure', base, records, usable });
  }
  return done(insecure ? { state: 'none', why: 'insecure', reason: seen.join('; ') } : { state: 'none', why: 'absent', reason: `no TLSA records (${seen.join('; ')})` });
}
