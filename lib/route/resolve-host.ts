/**
 * Turning one host name into addresses, the way Exim's manualroute does:
 * `bydns` (AAAA and A over our own transport, CNAMEs followed, both names
 * kept) or `byname` (the system resolver). Logic only: the DNS query and
 * the system lookup come in through `deps`.
 */
import { lookup } from 'node:dns/promises';
import { SmarthostError } from '../errors.js';
import type { TraceEvent, Tracer } from '../report/trace.js';
import type { DnsQuery, DnsRecord, RrType } from './dns-packet.js';
import { DEFAULT_MAX_CNAME_HOPS, followCnames, orderAddresses } from './cname.js';
import type { CnameHop, FamilyPolicy, Resolved, ResolvedAddress } from '../types.js';

export interface ResolveDeps {
  /** The DNS transport (lib/dns.ts) or a fake. */
  query: DnsQuery;
  /** The system resolver for `byname`; default: node:dns lookup with `{ all: true }`. */
  lookupByName?: (name: string) => Promise<ResolvedAddress[]>;
  tracer: Tracer;
  /** Longest CNAME chain followed, over all queries of one lookup (default 8). */
  maxCnameHops?: number;
  /** Source of randomness for `randomize` (default Math.random). */
  random?: () => number;
  /** The queries ask for DNSSEC (dns.ts `dnssec`): results record whether they were authenticated. */
  dnssec?: boolean;
}

type DnsResult = TraceEvent & { type: 'dns-result' };

/**
 * One record type looked up for one name, CNAMEs followed. `secure`: every
 * answer it took (each CNAME hop, the records, or the denial of NXDOMAIN and
 * NO_DATA) came back with the AD bit; false for a failure of the lookup.
 */
export type TypeLookup =
  | { ok: true; canonical: string; chain: CnameHop[]; records: DnsRecord[]; secure: boolean }
  | { ok: false; result: DnsResult['result']; error: SmarthostError; secure: boolean };

/**
 * Look up `rrtype` records of `name`, following CNAMEs; when an answer ends
 * at a CNAME without the target's records, query the target (hops and loop
 * detection carry over between queries). Traces `dns-result` and `cname`
 * events. Never throws a SmarthostError: failures come back classified.
 */
export async function lookupType(name: string, rrtype: RrType, deps: ResolveDeps, tracer: Tracer): Promise<TypeLookup> {
  const maxHops = deps.maxCnameHops ?? DEFAULT_MAX_CNAME_HOPS;
  let current = name;
  let chain: CnameHop[] = [];
  let secure = true;
  let last: { ad: boolean; aa: boolean } | undefined;
  const dnssec = (): { dnssec?: { ad: boolean; aa: boolean } } => (deps.dnssec && last ? { dnssec: last } : {});
  const fail = (result: DnsResult['result'], error: SmarthostError, detail?: string): TypeLookup => {
    tracer({ type: 'dns-result', name: current, rrtype, result, ...(detail ? { detail } : {}), ...dnssec() });
    const denial = result === 'NXDOMAIN' || result === 'NO_DATA';
    return { ok: false, result, error, secure: denial && secure };
  };
  const via = (): string => (chain.length ? ` (CNAME ${[name, ...chain.map((h) => h.target)].join(' -> ')})` : '');
  for (;;) {
    let res;
    try {
      res = await deps.query(current, rrtype, tracer);
    } catch (e) {
      if (!(e instanceof SmarthostError)) throw e;
      const result = e.code === 'E_DNS_TIMEOUT' ? 'TIMEOUT' : e.code === 'E_DNS_NXDOMAIN' ? 'NXDOMAIN' : 'FAILED';
      return fail(result, e, e.message);
    }
    last = { ad: res.ad, aa: res.aa };
    secure &&= res.ad;
    if (res.rcode === 2) {
      last = undefined;
      return fail('SERVFAIL', new SmarthostError('E_DNS_SERVFAIL', 'temp', `DNS server ${res.server} failed (SERVFAIL) for ${current} (${rrtype})${via()}`, { host: name }));
    }
    if (res.rcode !== 0 && res.rcode !== 3) {
      last = undefined;
      return fail('FAILED', new SmarthostError('E_DNS_SERVFAIL', 'temp', `DNS server ${res.server} answered ${res.rcodeName} for ${current} (${rrtype})`, { host: name }), res.rcodeName);
    }
    let f;
    try {
      f = followCnames(res.answers, current, rrtype, maxHops, chain);
    } catch (e) {
      if (!(e instanceof SmarthostError)) throw e;
      return fail('FAILED', e, e.message);
    }
    if (res.rcode === 3 && f.records.length === 0) {
      // RFC 6604: with a CNAME chain, NXDOMAIN is about the end of the chain.
      chain = f.chain;
      const detail = f.canonical !== current ? `CNAME target ${f.canonical} does not exist` : undefined;
      return fail('NXDOMAIN', new SmarthostError('E_DNS_NXDOMAIN', 'perm', `host ${name} not found (NXDOMAIN)${via()}`, { host: name }), detail);
    }
    const newHops = f.chain.slice(chain.length);
    if (f.records.length === 0 && newHops.length === 0) {
      return fail('NO_DATA', new SmarthostError('E_DNS_NODATA', 'perm', `host ${name} has no ${rrtype} record${via()}`, { host: name }));
    }
    tracer({ type: 'dns-result', name: current, rrtype, result: 'succeeded', ...dnssec() });
    for (const h of newHops) tracer({ type: 'cname', from: h.name, to: h.target });
    chain = f.chain;
    if (f.records.length > 0 || f.complete) {
      return { ok: true, canonical: f.canonical, chain, records: f.records, secure };
    }
    current = f.canonical; // the resolver gave only the CNAME: ask for the target
  }
}

/**
 * Resolve `name` by DNS: AAAA and A in parallel (only A with `ipv4_only`),
 * traced in a fixed order (AAAA then A) whatever order the answers arrive in.
 * One family failing while the other has addresses is only traced.
 * @throws SmarthostError E_DNS_NXDOMAIN / E_DNS_NODATA (perm); E_DNS_SERVFAIL,
 *   E_DNS_TIMEOUT, E_DNS_BAD_ANSWER (temp) — a temporary failure of either
 *   family wins over a permanent one of the other, as in Exim (host.c).
 */
export async function resolveByDns(name: string, family: FamilyPolicy, mx: number, port: number | undefined, deps: ResolveDeps): Promise<Resolved> {
  deps.tracer({ type: 'dns-start', name, lookup: 'bydns' });
  const types: RrType[] = family === 'ipv4_only' ? ['A'] : ['AAAA', 'A'];
  const seq = orderedTracers(deps.tracer, types.length);
  const results = await Promise.all(types.map((t, i) => lookupType(name, t, deps, seq.tracers[i]!).finally(() => seq.end(i))));
  const byType = new Map(types.map((t, i) => [t, results[i]!]));
  const addrs = (t: RrType, fam: 4 | 6): ResolvedAddress[] => {
    const r = byType.get(t);
    return r?.ok ? r.records.map((rec) => ({ address: rec.data, family: fam, ttl: rec.ttl })) : [];
  };
  const addresses = orderAddresses(addrs('AAAA', 6), addrs('A', 4), family);
  if (addresses.length === 0) throw pickError(results.map((r) => (r.ok ? undefined : r.error)), name, types);
  const preferred = (family === 'any' ? ['AAAA', 'A'] : ['A', 'AAAA']) as RrType[];
  const first = preferred.map((t) => byType.get(t)).find((r): r is TypeLookup & { ok: true } => !!r?.ok)!;
  for (const [t, r] of byType) {
    if (!r.ok && r.error.kind !== 'perm') deps.tracer({ type: 'note', text: `ignoring the temporary ${t} failure for ${name}: using the addresses found` });
  }
  // DANE needs the addresses (and every CNAME on the way) authenticated: each lookup that gave some (RFC 7672 §2.2.2)
  const secure = deps.dnssec === true && results.every((r) => !r.ok || r.records.length === 0 || r.secure);
  return finish({ queried: name, canonical: first.canonical, chain: first.chain, addresses, mx, ...(port !== undefined ? { port } : {}), ...(secure ? { secure } : {}) }, deps.tracer);
}

/** The most temporary error; between permanent ones NXDOMAIN beats NODATA. */
export function pickError(errors: (SmarthostError | undefined)[], name: string, types: string[]): SmarthostError {
  const errs = errors.filter((e): e is SmarthostError => !!e);
  const temp = errs.find((e) => e.kind !== 'perm');
  if (temp) return temp;
  const nx = errs.find((e) => e.code === 'E_DNS_NXDOMAIN');
  if (nx) return nx;
  if (errs.length > 1 && errs.every((e) => e.code === 'E_DNS_NODATA')) {
    return new SmarthostError('E_DNS_NODATA', 'perm', `host ${name} has no ${types.join(' or ')} record`, { host: name });
  }
  return errs[0] ?? new SmarthostError('E_INTERNAL', 'software', `no address and no error for ${name}`);
}

/** The system resolver (getaddrinfo: /etc/hosts, nsswitch). It does not report the canonical name. */
export async function systemLookup(name: string): Promise<ResolvedAddress[]> {
  const list = await lookup(name, { all: true, verbatim: true });
  return list.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4, ttl: 0 }));
}

/**
 * Resolve `name` with the system resolver. The canonical name is the
 * queried name (getaddrinfo's AI_CANONNAME is not exposed by Node), TTL 0.
 * @throws SmarthostError E_DNS_NXDOMAIN (perm) for ENOTFOUND/ENODATA,
 *   E_DNS_NODATA (perm) when the family policy leaves nothing, E_DNS_SERVFAIL
 *   (temp) for EAI_AGAIN and other failures.
 */
export async function resolveByName(name: string, family: FamilyPolicy, port: number | undefined, deps: ResolveDeps): Promise<Resolved> {
  deps.tracer({ type: 'dns-start', name, lookup: 'byname' });
  let list: ResolvedAddress[];
  try {
    list = await (deps.lookupByName ?? systemLookup)(name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'failed';
    deps.tracer({ type: 'note', text: `host name lookup of ${name} failed: ${code}` });
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new SmarthostError('E_DNS_NXDOMAIN', 'perm', `host ${name} not found (${code})`, { host: name, cause: e });
    throw new SmarthostError('E_DNS_SERVFAIL', 'temp', `host name lookup of ${name} failed (${code})`, { host: name, cause: e });
  }
  const addresses = orderAddresses(list.filter((a) => a.family === 6), list.filter((a) => a.family === 4), family);
  if (addresses.length === 0) {
    deps.tracer({ type: 'note', text: `host name lookup of ${name} gave no usable address` });
    throw new SmarthostError('E_DNS_NODATA', 'perm', `host ${name} has no ${family === 'ipv4_only' ? 'IPv4 ' : ''}address`, { host: name });
  }
  return finish({ queried: name, canonical: name, chain: [], addresses, mx: -1, ...(port !== undefined ? { port } : {}) }, deps.tracer);
}

/** Trace the fully qualified (queried) name and one line per address. */
export function finish(r: Resolved, tracer: Tracer): Resolved {
  tracer({ type: 'fqdn', queried: r.queried, canonical: r.canonical });
  for (const a of r.addresses) {
    tracer({ type: 'host', queried: r.queried, canonical: r.canonical, address: a.address, family: a.family, ttl: a.ttl, mx: r.mx });
  }
  return r;
}

/**
 * Tracers for `n` concurrent tasks whose events must come out in task order:
 * task 0 streams live; a later task's events are held until every earlier
 * task has called `end`.
 */
export function orderedTracers(sink: Tracer, n: number): { tracers: Tracer[]; end: (i: number) => void } {
  const held: TraceEvent[][] = Array.from({ length: n }, () => []);
  const ended: boolean[] = Array.from({ length: n }, () => false);
  let live = 0;
  const tracers = held.map((buf, i): Tracer => (ev) => (i === live ? sink(ev) : buf.push(ev)));
  const end = (i: number): void => {
    ended[i] = true;
    while (live < n && ended[live]) {
      live++;
      if (live < n) for (const ev of held[live]!.splice(0)) sink(ev);
    }
  };
  return { tracers, end };
}
