/**
 * The route's DNS answers, reused for the messages of one queue run instead
 * of being looked up again for each one. Loosely bound by the records' TTLs
 * (a run is short): an answer is reused for its smallest TTL, at most
 * {@link RUN_CACHE_MAX}; an answer that holds failures for at most
 * {@link FAILURE_CACHE_MAX}, so that a DNS outage costs one timeout per
 * period rather than one per message. A lookup that throws is not kept.
 */
import type { RouteResolution } from './resolve.js';

/** Longest reuse of a successful resolution (ms). */
export const RUN_CACHE_MAX = 60_000;
/** Longest reuse of a resolution with failures (ms). */
export const FAILURE_CACHE_MAX = 10_000;

/** How long `r` may be reused (pure): the smallest known TTL, capped; 0-TTL (unknown) records count as the cap. */
export function resolutionLifetime(r: RouteResolution): number {
  let ms = r.failures.length > 0 ? FAILURE_CACHE_MAX : RUN_CACHE_MAX;
  for (const h of r.hosts) {
    for (const ttl of [...h.chain.map((c) => c.ttl), ...h.addresses.map((a) => a.ttl)]) {
      if (ttl > 0) ms = Math.min(ms, ttl * 1000);
    }
  }
  return ms;
}

export interface RouteCache {
  /** The cached resolution while it is fresh, else the result of `resolve` (then cached). */
  get(resolve: () => Promise<RouteResolution>): Promise<{ resolution: RouteResolution; cached: boolean }>;
}

/** A cache for one route (one configuration), for one queue run. */
export function routeCache(now: () => number): RouteCache {
  let entry: { resolution: RouteResolution; until: number } | undefined;
  return {
    async get(resolve) {
      if (entry && now() < entry.until) return { resolution: entry.resolution, cached: true };
      entry = undefined;
      const resolution = await resolve();
      entry = { resolution, until: now() + resolutionLifetime(resolution) };
      return { resolution, cached: false };
    },
  };
}
