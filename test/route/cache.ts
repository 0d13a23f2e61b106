import t from 'tap';
import { FAILURE_CACHE_MAX, RUN_CACHE_MAX, resolutionLifetime, routeCache } from '../../lib/route/cache.js';
import { SmarthostError } from '../../lib/errors.js';
import type { RouteResolution } from '../../lib/route/resolve.js';

const res = (ttls: number[], chainTtl?: number, failed = false): RouteResolution => ({
  hosts: [
    {
      queried: 'mail.example.test',
      canonical: 'mx.example.test',
      chain: chainTtl === undefined ? [] : [{ name: 'mail.example.test', target: 'mx.example.test', ttl: chainTtl }],
      addresses: ttls.map((ttl, i) => ({ address: `192.0.2.${i + 1}`, family: 4, ttl })),
      mx: -1,
    },
  ],
  failures: failed ? [{ spec: { name: 'other.example.test', literal: false, mx: false }, error: new SmarthostError('E_DNS_TIMEOUT', 'temp', 'timeout') }] : [],
});

t.test('lifetime: the smallest TTL, capped; unknown TTLs count as the cap; failures kept briefly', async (t) => {
  t.equal(resolutionLifetime(res([300, 20])), 20_000);
  t.equal(resolutionLifetime(res([300], 5)), 5_000, 'the CNAME hop counts');
  t.equal(resolutionLifetime(res([86_400])), RUN_CACHE_MAX);
  t.equal(resolutionLifetime(res([0])), RUN_CACHE_MAX, 'byname lookups have no TTL');
  t.equal(resolutionLifetime(res([300], undefined, true)), FAILURE_CACHE_MAX);
  t.equal(resolutionLifetime({ hosts: [], failures: [] }), RUN_CACHE_MAX);
});

t.test('the cache answers until the lifetime ends, then looks up again; a throwing lookup is not kept', async (t) => {
  let now = 1000;
  let lookups = 0;
  const cache = routeCache(() => now);
  const lookup = async () => (lookups++, res([30]));
  t.same(await cache.get(lookup), { resolution: res([30]), cached: false });
  now += 29_999;
  t.equal((await cache.get(lookup)).cached, true);
  t.equal(lookups, 1);
  now += 1;
  t.equal((await cache.get(lookup)).cached, false, 'TTL over');
  t.equal(lookups, 2);
  now += 60_000;
  await t.rejects(cache.get(async () => Promise.reject(new Error('boom'))), /boom/);
  t.equal((await cache.get(lookup)).cached, false, 'nothing cached from the failed lookup');
});
