import t, { type Test } from 'tap';
import { resolveHost, resolveRoute, shuffle, sortMx, type ResolveDeps, type RouteOptions } from '../../lib/route/resolve.js';
import { createDnsTransport } from '../../lib/route/dns.js';
import { formatExim, type TraceEvent } from '../../lib/report/trace.js';
import { zoneQuery, type ZoneQueryOptions } from '../../fixtures/peers/zone.js';
import { startDns, type FakeDnsOptions } from '../../fixtures/peers/fake-dns.js';
import type { HostSpec, Route } from '../../lib/types.js';

const host = (name: string, extra: Partial<HostSpec> = {}): HostSpec => ({ name, literal: false, mx: false, ...extra });
const bydns: RouteOptions = { lookup: 'bydns', family: 'any' };
const route = (hosts: HostSpec[], extra: Partial<Route> = {}): Route => ({ hosts, lookup: 'bydns', family: 'any', randomize: false, hostText: '', optionText: '', ...extra });

function deps(zone: string, opts: ZoneQueryOptions = {}, extra: Partial<ResolveDeps> = {}) {
  const { query, calls } = zoneQuery(zone, opts);
  const events: TraceEvent[] = [];
  const d: ResolveDeps = { query, tracer: (ev) => events.push(ev), ...extra };
  return { d, calls, events, lines: () => events.flatMap(formatExim) };
}

/** A random source that replays `values`. */
const replay = (...values: number[]) => () => values.shift() ?? 0;

t.test('IP literals need no DNS; TLS will verify against the IP', async (t) => {
  const { d, calls, lines } = deps('seed');
  t.same(await resolveHost(host('192.0.2.7', { literal: true, port: 2525 }), bydns, d), [
    { queried: '192.0.2.7', canonical: '192.0.2.7', chain: [], addresses: [{ address: '192.0.2.7', family: 4, ttl: 0 }], mx: -1, port: 2525 },
  ]);
  const [v6] = await resolveHost(host('[2001:db8::7]', { literal: true }), bydns, d);
  t.same(v6!.addresses, [{ address: '2001:db8::7', family: 6, ttl: 0 }]);
  t.equal(v6!.queried, '2001:db8::7');
  t.same(calls, []);
  t.same(lines(), ['192.0.2.7 192.0.2.7 mx=-1 ttl=0 (queried 192.0.2.7)', '2001:db8::7 2001:db8::7 mx=-1 ttl=0 (queried 2001:db8::7)']);
  await t.rejects(resolveHost(host('::1', { literal: true }), { lookup: 'bydns', family: 'ipv4_only' }, d), { code: 'E_DNS_NODATA', kind: 'perm', message: /ipv4_only/ });
  await t.rejects(resolveHost(host('mail.example.test', { literal: true }), bydns, d), { code: 'E_CONFIG' });
});

t.test('plain names: bydns and byname', async (t) => {
  const { d } = deps('seed');
  const [r] = await resolveHost(host('mail.dev.example.test', { port: 587 }), bydns, d);
  t.match(r, { queried: 'mail.dev.example.test', canonical: 'mail.example.local', mx: -1, port: 587 });
  const byname = await resolveHost(host('mail.dev.example.test'), { lookup: 'byname', family: 'any' }, { ...d, lookupByName: async () => [{ address: '127.0.0.9', family: 4, ttl: 0 }] });
  t.match(byname, [{ queried: 'mail.dev.example.test', canonical: 'mail.dev.example.test', addresses: [{ address: '127.0.0.9' }] }]);
});

t.test('name/MX: preference order, each exchange is its own queried name', async (t) => {
  const { d, lines } = deps('seed');
  const hosts = await resolveHost(host('dev.example.test', { mx: true, port: 2525 }), bydns, d);
  t.same(
    hosts.map((h) => [h.mx, h.queried, h.canonical, h.addresses.map((a) => a.address).join(), h.port]),
    [
      [10, 'mail.dev.example.test', 'mail.example.local', '127.0.0.1', 2525],
      [20, 'backup.dev.example.test', 'backup.dev.example.test', '127.0.0.2', 2525],
    ],
  );
  t.same(lines().slice(0, 4), ['looking up MX records for dev.example.test', 'DNS lookup of dev.example.test (MX) succeeded', 'finding IP address for mail.dev.example.test', 'doing DNS lookup']);
  t.ok(lines().includes('mail.example.local 127.0.0.1 mx=10 ttl=60 (queried mail.dev.example.test)'));

  // /MX is always a DNS lookup, even with byname (as Exim's host_find_bydns)
  const byname = await resolveHost(host('dev.example.test', { mx: true }), { lookup: 'byname', family: 'any' }, d);
  t.equal(byname.length, 2);
});

t.test('sortMx: by preference, stable, duplicates dropped, shuffled only when asked', async (t) => {
  const mx = (data: string, priority: number) => ({ data, priority });
  const recs = [mx('c', 20), mx('a', 10), mx('b', 10), mx('a', 30), mx('d', 20)];
  t.same(sortMx(recs).map((r) => `${r.priority}${r.data}`), ['10a', '10b', '20c', '20d']);
  t.same(sortMx(recs, replay(0, 0)).map((r) => `${r.priority}${r.data}`), ['10b', '10a', '20d', '20c'], 'equal preferences shuffled');
  t.same(shuffle([1, 2, 3], replay(0.99, 0.99)), [1, 2, 3]);
  t.same(shuffle([1, 2, 3], replay(0, 0)), [2, 3, 1]);
});

t.test('MX failures', async (t) => {
  await t.rejects(resolveHost(host('nullmx.example.test', { mx: true }), bydns, deps('seed').d), {
    code: 'E_DNS_NODATA',
    kind: 'perm',
    message: 'domain nullmx.example.test has a null MX (RFC 7505): it accepts no mail',
  });
  await t.rejects(resolveHost(host('smarthost.example.test', { mx: true }), bydns, deps('seed').d), { code: 'E_DNS_NODATA', kind: 'perm', message: /has no MX record/ });
  await t.rejects(resolveHost(host('nope.example.test', { mx: true }), bydns, deps('seed').d), { code: 'E_DNS_NXDOMAIN', kind: 'perm' });
  await t.rejects(resolveHost(host('dev.example.test', { mx: true }), bydns, deps('seed', { servfail: ['dev.example.test'] }).d), { code: 'E_DNS_SERVFAIL', kind: 'temp' });

  // one exchange fails: skipped, traced
  const one = deps('seed', { servfail: ['backup.dev.example.test'] });
  const hosts = await resolveHost(host('dev.example.test', { mx: true }), bydns, one.d);
  t.same(hosts.map((h) => h.queried), ['mail.dev.example.test']);
  t.ok(one.lines().some((l) => /^MX host backup\.dev\.example\.test skipped: DNS server fake failed \(SERVFAIL\)/.test(l)));

  // all fail: the temporary error wins over the permanent one
  const zone = [
    { name: 'mx.test', type: 'MX', data: 'gone.test', priority: 5 },
    { name: 'mx.test', type: 'MX', data: 'flaky.test', priority: 10 },
    { name: 'flaky.test', type: 'A', data: '127.0.0.1' },
  ];
  const { query } = zoneQuery(zone, { servfail: ['flaky.test'] });
  await t.rejects(resolveHost(host('mx.test', { mx: true }), bydns, { query, tracer: () => {} }), {
    code: 'E_DNS_SERVFAIL',
    kind: 'temp',
    message: /^no MX host of mx\.test could be resolved: DNS server fake failed \(SERVFAIL\) for flaky\.test/,
  });
  const { query: q2 } = zoneQuery(zone);
  const gone = zoneQuery(zone.slice(0, 1));
  await t.rejects(resolveHost(host('mx.test', { mx: true }), bydns, { query: gone.query, tracer: () => {} }), { code: 'E_DNS_NXDOMAIN', kind: 'perm' });
  t.equal((await resolveHost(host('mx.test', { mx: true }), bydns, { query: q2, tracer: () => {} })).length, 1);
});

t.test('resolveRoute: route order, failures collected, trace in route order', async (t) => {
  const { d, lines } = deps('seed', { delay: { 'mail.dev.example.test A': 40 } });
  const r = await resolveRoute(route([host('mail.dev.example.test'), host('nope.example.test'), host('smarthost.example.test'), host('127.0.0.5', { literal: true })], { family: 'ipv4_only' }), d);
  t.same(r.hosts.map((h) => h.queried), ['mail.dev.example.test', 'smarthost.example.test', '127.0.0.5']);
  t.same(r.failures.map((f) => [f.spec.name, f.error.code, f.error.kind]), [['nope.example.test', 'E_DNS_NXDOMAIN', 'perm']]);
  t.same(
    lines().filter((l) => l.startsWith('finding')),
    ['finding IP address for mail.dev.example.test', 'finding IP address for nope.example.test', 'finding IP address for smarthost.example.test'],
    'the slow first host still comes first',
  );

  const shuffled = await resolveRoute(route([host('127.0.0.1', { literal: true }), host('127.0.0.2', { literal: true })], { randomize: true }), {
    ...deps('seed').d,
    random: replay(0),
  });
  t.same(shuffled.hosts.map((h) => h.queried), ['127.0.0.2', '127.0.0.1'], 'randomize shuffles with the injected source');

  const buggy = resolveRoute(route([host('a.test')]), {
    query: async () => {
      throw new TypeError('bug');
    },
    tracer: () => {},
  });
  await t.rejects(buggy, TypeError, 'bugs are not failures');
});

// ---- against the fake DNS server, through the real transport ----

async function live(t: Test, zone: string, opts: FakeDnsOptions = {}) {
  const dns = await startDns(zone, opts);
  t.teardown(() => dns.close());
  const events: TraceEvent[] = [];
  const tracer = (ev: TraceEvent) => events.push(ev);
  const query = createDnsTransport({ servers: [{ address: dns.host, port: dns.port }], timeout: 300, retries: 0, tracer });
  return { dns, d: { query, tracer } as ResolveDeps, events, lines: () => events.flatMap(formatExim) };
}

t.test('fake-dns: the seed shape, with the exact trace', async (t) => {
  const { dns, d, lines } = await live(t, 'seed');
  const r = await resolveRoute(route([host('mail.dev.example.test')]), d);
  t.same(r.failures, []);
  t.same(r.hosts, [
    {
      queried: 'mail.dev.example.test',
      canonical: 'mail.example.local',
      chain: [{ name: 'mail.dev.example.test', target: 'mail.example.local', ttl: 300 }],
      addresses: [{ address: '127.0.0.1', family: 4, ttl: 60 }],
      mx: -1,
    },
  ]);
  const s = `127.0.0.1:${dns.port}`;
  t.same(lines(), [
    'finding IP address for mail.dev.example.test',
    'doing DNS lookup',
    `DNS query mail.dev.example.test (AAAA) to ${s} over UDP`,
    'DNS lookup of mail.dev.example.test (AAAA) succeeded',
    'CNAME found: change to mail.example.local',
    `DNS query mail.example.local (AAAA) to ${s} over UDP`,
    'DNS lookup of mail.example.local (AAAA) gave NO_DATA',
    `DNS query mail.dev.example.test (A) to ${s} over UDP`,
    'DNS lookup of mail.dev.example.test (A) succeeded',
    'CNAME found: change to mail.example.local',
    'fully qualified name = mail.dev.example.test',
    'mail.example.local 127.0.0.1 mx=-1 ttl=60 (queried mail.dev.example.test)',
  ]);
});

t.test('fake-dns: ipv4_only sends no AAAA query', async (t) => {
  const { dns, d } = await live(t, 'seed');
  const [r] = await resolveHost(host('mail.dev.example.test'), { lookup: 'bydns', family: 'ipv4_only' }, d);
  t.equal(r!.canonical, 'mail.example.local');
  t.same(dns.queries.map((q) => `${q.name} ${q.type}`), ['mail.dev.example.test A']);
});

t.test('fake-dns: a CNAME-only resolver makes us re-query the target', async (t) => {
  const { dns, d } = await live(t, 'seed', { cnameOnly: true });
  const [r] = await resolveHost(host('mail.dev.example.test'), { lookup: 'bydns', family: 'ipv4_only' }, d);
  t.match(r, { queried: 'mail.dev.example.test', canonical: 'mail.example.local', addresses: [{ address: '127.0.0.1', ttl: 60 }] });
  t.equal(r!.chain.length, 1);
  t.same(dns.queries.map((q) => `${q.name} ${q.type}`), ['mail.dev.example.test A', 'mail.example.local A']);
});

t.test('fake-dns: failures', async (t) => {
  const { d } = await live(t, 'seed', { servfail: ['smarthost.example.test'], silent: ['silent.example.test'] });
  const r = await resolveRoute(
    route([host('nope.example.test'), host('smarthost.example.test'), host('loop1.example.test'), host('chain0.example.test'), host('silent.example.test'), host('nullmx.example.test', { mx: true })]),
    d,
  );
  t.same(r.hosts, []);
  t.same(
    r.failures.map((f) => [f.spec.name, f.error.code, f.error.kind]),
    [
      ['nope.example.test', 'E_DNS_NXDOMAIN', 'perm'],
      ['smarthost.example.test', 'E_DNS_SERVFAIL', 'temp'],
      ['loop1.example.test', 'E_DNS_BAD_ANSWER', 'temp'],
      ['chain0.example.test', 'E_DNS_BAD_ANSWER', 'temp'],
      ['silent.example.test', 'E_DNS_TIMEOUT', 'temp'],
      ['nullmx.example.test', 'E_DNS_NODATA', 'perm'],
    ],
  );
  t.match(r.failures[3]!.error.message, /longer than 8 hops/);
});

t.test('fake-dns: IPv6 first by default, MX order', async (t) => {
  const v6 = await live(t, 'v6');
  const [dual] = await resolveHost(host('dual.dev.example.test'), bydns, v6.d);
  t.same(dual!.addresses.map((a) => `${a.family}:${a.address}`), ['6:::1', '4:127.0.0.1']);
  const seed = await live(t, 'seed');
  const mx = await resolveHost(host('dev.example.test', { mx: true }), bydns, seed.d);
  t.same(mx.map((h) => `${h.mx} ${h.queried} ${h.canonical}`), ['10 mail.dev.example.test mail.example.local', '20 backup.dev.example.test backup.dev.example.test']);
});
