/**
 * The resolver: a route's host list → hosts with addresses, each keeping the
 * name it was queried under (for TLS) and the canonical name the CNAME chain
 * ended at (for the record). IP literals, `name/MX` entries and plain names
 * (`bydns` or `byname`). Logic only; lookups come in through `deps`.
 */
import { isIP } from './ip.js';
import { SmarthostError } from '../errors.js';
import type { HostSpec, Resolved, Route } from '../types.js';
import { lookupType, orderedTracers, resolveByDns, resolveByName, type ResolveDeps } from './resolve-host.js';

export { orderedTracers, systemLookup, type ResolveDeps } from './resolve-host.js';

export type RouteOptions = Pick<Route, 'lookup' | 'family'> & Partial<Pick<Route, 'randomize'>>;

/**
 * Resolve one host list entry. A plain name or literal yields one host;
 * `name/MX` yields one host per usable MX exchange, in preference order.
 * @throws SmarthostError E_DNS_NXDOMAIN / E_DNS_NODATA (perm; also a null MX,
 *   RFC 7505), E_DNS_SERVFAIL / E_DNS_TIMEOUT / E_DNS_BAD_ANSWER (temp).
 */
export async function resolveHost(spec: HostSpec, route: RouteOptions, deps: ResolveDeps): Promise<Resolved[]> {
  if (spec.literal) return [resolveLiteral(spec, route, deps)];
  if (spec.mx) return resolveMx(spec, route, deps);
  if (route.lookup === 'byname') return [await resolveByName(spec.name, route.family, spec.port, deps)];
  return [await resolveByDns(spec.name, route.family, -1, spec.port, deps)];
}

/** An IP literal needs no DNS; TLS then verifies against the IP itself. */
function resolveLiteral(spec: HostSpec, route: RouteOptions, deps: ResolveDeps): Resolved {
  const address = spec.name.replace(/^\[(.*)\]$/, '$1');
  const v = isIP(address.replace(/%.*$/, '')) as 0 | 4 | 6;
  if (v === 0) throw new SmarthostError('E_CONFIG', 'config', `"${spec.name}" is not an IP address`);
  if (v === 6 && route.family === 'ipv4_only') {
    throw new SmarthostError('E_DNS_NODATA', 'perm', `IPv6 literal [${address}] excluded by ipv4_only`, { host: address });
  }
  const r: Resolved = { queried: address, canonical: address, chain: [], addresses: [{ address, family: v, ttl: 0 }], mx: -1 };
  if (spec.port !== undefined) r.port = spec.port;
  deps.tracer({ type: 'host', queried: address, canonical: address, address, family: v, ttl: 0, mx: -1 });
  return r;
}

/**
 * `name/MX`: the MX records of `name` (always by DNS, as Exim's
 * host_find_bydns), sorted by preference; equal preferences keep the answer
 * order, or are shuffled with `randomize`. Each exchange is then resolved by
 * DNS under its own name (the name TLS verifies). Exchanges that fail are
 * skipped while others work; when all fail, the most temporary error wins.
 */
async function resolveMx(spec: HostSpec, route: RouteOptions, deps: ResolveDeps): Promise<Resolved[]> {
  const { name } = spec;
  deps.tracer({ type: 'note', text: `looking up MX records for ${name}` });
  const mx = await lookupType(name, 'MX', deps, deps.tracer);
  if (!mx.ok) throw mx.error;
  // RFC 7505: a lone MX with the root as exchange means "no mail here".
  const real = mx.records.filter((r) => r.data !== '');
  if (real.length === 0) throw new SmarthostError('E_DNS_NODATA', 'perm', `domain ${name} has a null MX (RFC 7505): it accepts no mail`, { host: name });
  const sorted = sortMx(real, route.randomize ? (deps.random ?? Math.random) : undefined);
  const seq = orderedTracers(deps.tracer, sorted.length);
  const settled = await Promise.allSettled(
    sorted.map((r, i) => {
      const sub = { ...deps, tracer: seq.tracers[i]! };
      return resolveByDns(r.data, route.family, r.priority ?? 0, spec.port, sub)
        .catch((e: unknown) => {
          if (e instanceof SmarthostError) sub.tracer({ type: 'note', text: `MX host ${r.data} skipped: ${e.message}` });
          throw e;
        })
        .finally(() => seq.end(i));
    }),
  );
  const hosts: Resolved[] = [];
  const errors: SmarthostError[] = [];
  for (const s of settled) {
    // an MX RRset that is not authenticated leaves no exchange secure (RFC 7672 §2.2.1)
    if (s.status === 'fulfilled' && !mx.secure) delete s.value.secure;
    if (s.status === 'fulfilled') hosts.push(s.value);
    else if (s.reason instanceof SmarthostError) errors.push(s.reason);
    else throw s.reason;
  }
  if (hosts.length > 0) return hosts;
  const temp = errors.find((e) => e.kind !== 'perm');
  const worst = temp ?? errors[0]!;
  throw new SmarthostError(worst.code, worst.kind, `no MX host of ${name} could be resolved: ${worst.message}`, { host: name, cause: worst });
}

/** Sort MX records by preference (stable); shuffle equal preferences when `random` is given. */
export function sortMx<T extends { data: string; priority?: number }>(records: readonly T[], random?: () => number): T[] {
  const seen = new Set<string>();
  const unique = [...records]
    .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0))
    .filter((r) => (seen.has(r.data) ? false : (seen.add(r.data), true)));
  if (!random) return unique;
  const out: T[] = [];
  for (let i = 0; i < unique.length; ) {
    let j = i;
    while (j < unique.length && unique[j]!.priority === unique[i]!.priority) j++;
    out.push(...shuffle(unique.slice(i, j), random));
    i = j;
  }
  return out;
}

/** Fisher–Yates with an injectable random source. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export interface RouteResolution {
  /** Usable hosts in route order (MX hosts in preference order within their entry). */
  hosts: Resolved[];
  /** Entries that yielded no host, with why. */
  failures: { spec: HostSpec; error: SmarthostError }[];
}

/**
 * Resolve every entry of `route` (in parallel; the trace stays in route
 * order). With `randomize` the entries are shuffled first (Exim's
 * hosts_randomize). Never throws a SmarthostError: failed entries are in
 * `failures`, for the caller to turn into a deferral or a bounce.
 */
export async function resolveRoute(route: Route, deps: ResolveDeps): Promise<RouteResolution> {
  const specs = route.randomize ? shuffle(route.hosts, deps.random ?? Math.random) : route.hosts;
  const seq = orderedTracers(deps.tracer, specs.length);
  const results = await Promise.all(
    specs.map((spec, i) =>
      resolveHost(spec, route, { ...deps, tracer: seq.tracers[i]! })
        .then((hosts) => ({ spec, hosts }), (error: unknown) => ({ spec, error }))
        .finally(() => seq.end(i)),
    ),
  );
  const out: RouteResolution = { hosts: [], failures: [] };
  for (const r of results) {
    if ('hosts' in r) out.hosts.push(...r.hosts);
    else if (r.error instanceof SmarthostError) out.failures.push({ spec: r.spec, error: r.error });
    else throw r.error;
  }
  return out;
}
