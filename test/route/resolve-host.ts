import t from 'tap';
import { lookupType, orderedTracers, pickError, resolveByDns, resolveByName, systemLookup, type ResolveDeps } from '../../lib/route/resolve-host.js';
import { SmarthostError } from '../../lib/errors.js';
import { formatExim, type TraceEvent } from '../../lib/report/trace.js';
import { zoneQuery, type ZoneQueryOptions } from '../../fixtures/peers/zone.js';
import type { DnsQuery } from '../../lib/route/dns-packet.js';
import type { FamilyPolicy } from '../../lib/types.js';

function deps(zone: string, opts: ZoneQueryOptions = {}, extra: Partial<ResolveDeps> = {}) {
  const { query, calls } = zoneQuery(zone, opts);
  const events: TraceEvent[] = [];
  const d: ResolveDeps = { query, tracer: (ev) => events.push(ev), ...extra };
  return { d, calls, events, lines: () => events.flatMap(formatExim) };
}

const byDns = (name: string, family: FamilyPolicy, d: ResolveDeps) => resolveByDns(name, family, -1, undefined, d);

t.test('the seed: queried name kept, canonical recorded, exact trace', async (t) => {
  const { d, calls, lines } = deps('seed');
  const r = await byDns('mail.dev.example.test', 'any', d);
  t.same(r, {
    queried: 'mail.dev.example.test',
    canonical: 'mail.example.local',
    chain: [{ name: 'mail.dev.example.test', target: 'mail.example.local', ttl: 300 }],
    addresses: [{ address: '127.0.0.1', family: 4, ttl: 60 }],
    mx: -1,
  });
  t.same(calls, ['mail.dev.example.test AAAA', 'mail.dev.example.test A', 'mail.example.local AAAA']);
  t.same(lines(), [
    'finding IP address for mail.dev.example.test',
    'doing DNS lookup',
    'DNS lookup of mail.dev.example.test (AAAA) succeeded',
    'CNAME found: change to mail.example.local',
    'DNS lookup of mail.example.local (AAAA) gave NO_DATA',
    'DNS lookup of mail.dev.example.test (A) succeeded',
    'CNAME found: change to mail.example.local',
    'fully qualified name = mail.dev.example.test',
    'mail.example.local 127.0.0.1 mx=-1 ttl=60 (queried mail.dev.example.test)',
  ]);
});

t.test('the seed with ipv4_only: no AAAA query', async (t) => {
  const { d, calls, lines } = deps('seed');
  const r = await byDns('mail.dev.example.test', 'ipv4_only', d);
  t.equal(r.queried, 'mail.dev.example.test');
  t.equal(r.canonical, 'mail.example.local');
  t.same(calls, ['mail.dev.example.test A']);
  t.same(lines(), [
    'finding IP address for mail.dev.example.test',
    'doing DNS lookup',
    'DNS lookup of mail.dev.example.test (A) succeeded',
    'CNAME found: change to mail.example.local',
    'fully qualified name = mail.dev.example.test',
    'mail.example.local 127.0.0.1 mx=-1 ttl=60 (queried mail.dev.example.test)',
  ]);
});

t.test('a resolver that returns only the CNAME: the target is queried', async (t) => {
  const { d, calls, lines } = deps('seed', { cnameOnly: true });
  const r = await byDns('mail.dev.example.test', 'ipv4_only', d);
  t.same(calls, ['mail.dev.example.test A', 'mail.example.local A']);
  t.same(r.chain, [{ name: 'mail.dev.example.test', target: 'mail.example.local', ttl: 300 }]);
  t.same(r.addresses, [{ address: '127.0.0.1', family: 4, ttl: 60 }]);
  t.equal(r.queried, 'mail.dev.example.test');
  t.equal(r.canonical, 'mail.example.local');
  t.same(lines().slice(2, 5), ['DNS lookup of mail.dev.example.test (A) succeeded', 'CNAME found: change to mail.example.local', 'DNS lookup of mail.example.local (A) succeeded']);

  // ten hops, one per query: the limit counts over all queries
  const long = deps('seed', { cnameOnly: true });
  await t.rejects(byDns('chain0.example.test', 'ipv4_only', long.d), { code: 'E_DNS_BAD_ANSWER', kind: 'temp', message: /longer than 8 hops/ });
  t.equal(long.calls.length, 9, 'gave up after 8 hops');
  const ok = deps('seed', { cnameOnly: true }, { maxCnameHops: 10 });
  t.equal((await byDns('chain0.example.test', 'ipv4_only', ok.d)).chain.length, 10);
  // a loop, one hop per query
  const loop = deps('seed', { cnameOnly: true });
  await t.rejects(byDns('loop1.example.test', 'ipv4_only', loop.d), { code: 'E_DNS_BAD_ANSWER', kind: 'temp', message: /CNAME loop for loop1\.example\.test \(A\): loop1\.example\.test -> loop2\.example\.test -> loop1\.example\.test/ });
});

t.test('loops and long chains within one answer', async (t) => {
  const loop = deps('seed');
  await t.rejects(byDns('loop1.example.test', 'any', loop.d), { code: 'E_DNS_BAD_ANSWER', kind: 'temp' });
  t.match(loop.lines(), ['finding IP address for loop1.example.test', 'doing DNS lookup', /^DNS lookup of loop1\.example\.test \(AAAA\) gave FAILED: CNAME loop/, /^DNS lookup of loop1\.example\.test \(A\) gave FAILED: CNAME loop/]);
  await t.rejects(byDns('chain0.example.test', 'any', deps('seed').d), { code: 'E_DNS_BAD_ANSWER', message: /longer than 8 hops/ });
});

t.test('NXDOMAIN and NODATA are permanent', async (t) => {
  const nx = deps('seed');
  await t.rejects(byDns('nope.example.test', 'any', nx.d), { code: 'E_DNS_NXDOMAIN', kind: 'perm', message: 'host nope.example.test not found (NXDOMAIN)' });
  t.same(nx.lines().slice(2), ['DNS lookup of nope.example.test (AAAA) gave NXDOMAIN', 'DNS lookup of nope.example.test (A) gave NXDOMAIN']);

  const dangling = deps('seed');
  await t.rejects(byDns('dangling.example.test', 'ipv4_only', dangling.d), {
    code: 'E_DNS_NXDOMAIN',
    message: 'host dangling.example.test not found (NXDOMAIN) (CNAME dangling.example.test -> gone.example.test)',
  });
  t.same(dangling.lines().slice(2), ['DNS lookup of dangling.example.test (A) gave NXDOMAIN: CNAME target gone.example.test does not exist']);

  await t.rejects(byDns('nodata.example.test', 'any', deps('seed').d), { code: 'E_DNS_NODATA', kind: 'perm', message: 'host nodata.example.test has no AAAA or A record' });
  await t.rejects(byDns('nodata.example.test', 'ipv4_only', deps('seed').d), { code: 'E_DNS_NODATA', message: 'host nodata.example.test has no A record' });
  await t.rejects(byDns('v6.dev.example.test', 'ipv4_only', deps('v6').d), { code: 'E_DNS_NODATA' });
});

t.test('SERVFAIL and timeouts are temporary; temp beats perm', async (t) => {
  const sf = deps('seed', { servfail: ['smarthost.example.test'] });
  await t.rejects(byDns('smarthost.example.test', 'any', sf.d), { code: 'E_DNS_SERVFAIL', kind: 'temp', message: /SERVFAIL/ });
  t.same(sf.lines().slice(2), ['DNS lookup of smarthost.example.test (AAAA) gave SERVFAIL', 'DNS lookup of smarthost.example.test (A) gave SERVFAIL']);
  const to = deps('seed', { timeout: ['smarthost.example.test'] });
  await t.rejects(byDns('smarthost.example.test', 'ipv4_only', to.d), { code: 'E_DNS_TIMEOUT', kind: 'temp' });
  t.match(to.lines()[2], /^DNS lookup of smarthost\.example\.test \(A\) gave TIMEOUT: DNS query for/);

  // AAAA times out, A has NODATA: defer (Exim: v6_find_again)
  const mixed: DnsQuery = async (name, rrtype) => {
    if (rrtype === 'AAAA') throw new SmarthostError('E_DNS_TIMEOUT', 'temp', 'timed out');
    return { rcode: 0, rcodeName: 'NOERROR', aa: false, tc: false, ad: false, answers: [], server: 'x' };
  };
  await t.rejects(byDns('a.test', 'any', { query: mixed, tracer: () => {} }), { code: 'E_DNS_TIMEOUT', kind: 'temp' });
});

t.test('one family failing while the other has addresses: use them, trace it', async (t) => {
  const { query } = zoneQuery('v6');
  const flaky: DnsQuery = async (name, rrtype, tr) => {
    if (rrtype === 'AAAA') return { rcode: 2, rcodeName: 'SERVFAIL', aa: false, tc: false, ad: false, answers: [], server: 'x' };
    return query(name, rrtype, tr);
  };
  const events: TraceEvent[] = [];
  const r = await byDns('dual.dev.example.test', 'any', { query: flaky, tracer: (e) => events.push(e) });
  t.same(r.addresses.map((a) => a.address), ['127.0.0.1']);
  t.ok(events.some((e) => e.type === 'note' && /ignoring the temporary AAAA failure for dual\.dev\.example\.test/.test(e.text)), 'the failure is traced');
});

t.test('address order: IPv6 first, ipv4_prefer, ipv4_only; canonical through a CNAME', async (t) => {
  const any = await byDns('alias.dev.example.test', 'any', deps('v6').d);
  t.same(any.addresses, [
    { address: '::1', family: 6, ttl: 300 },
    { address: '127.0.0.1', family: 4, ttl: 300 },
  ]);
  t.equal(any.canonical, 'dual.dev.example.test');
  t.equal(any.queried, 'alias.dev.example.test');
  const prefer = await byDns('dual.dev.example.test', 'ipv4_prefer', deps('v6').d);
  t.same(prefer.addresses.map((a) => a.address), ['127.0.0.1', '::1']);
  const only = deps('v6');
  t.same((await byDns('dual.dev.example.test', 'ipv4_only', only.d)).addresses.map((a) => a.address), ['127.0.0.1']);
  t.same(only.calls, ['dual.dev.example.test A']);
});

t.test('the trace keeps AAAA before A even when A answers first', async (t) => {
  const { d, lines } = deps('v6', { delay: { 'dual.dev.example.test AAAA': 50 } });
  const transport: DnsQuery = async (name, rrtype, tr) => {
    tr?.({ type: 'dns-query', name, rrtype, server: 'fake', transport: 'udp' });
    return d.query(name, rrtype, tr);
  };
  await byDns('dual.dev.example.test', 'any', { ...d, query: transport });
  t.same(lines(), [
    'finding IP address for dual.dev.example.test',
    'doing DNS lookup',
    'DNS query dual.dev.example.test (AAAA) to fake over UDP',
    'DNS lookup of dual.dev.example.test (AAAA) succeeded',
    'DNS query dual.dev.example.test (A) to fake over UDP',
    'DNS lookup of dual.dev.example.test (A) succeeded',
    'fully qualified name = dual.dev.example.test',
    'dual.dev.example.test ::1 mx=-1 ttl=300 (queried dual.dev.example.test)',
    'dual.dev.example.test 127.0.0.1 mx=-1 ttl=300 (queried dual.dev.example.test)',
  ]);
});

t.test('odd rcodes and bugs', async (t) => {
  const notimp: DnsQuery = async () => ({ rcode: 4, rcodeName: 'NOTIMP', aa: false, tc: false, ad: false, answers: [], server: 'x' });
  await t.rejects(byDns('a.test', 'ipv4_only', { query: notimp, tracer: () => {} }), { code: 'E_DNS_SERVFAIL', kind: 'temp', message: /answered NOTIMP/ });
  const buggy: DnsQuery = async () => {
    throw new TypeError('bug');
  };
  await t.rejects(byDns('a.test', 'any', { query: buggy, tracer: () => {} }), TypeError, 'a bug is not turned into a DNS failure');
  const badName: DnsQuery = async (name) => {
    throw new SmarthostError('E_DNS_NXDOMAIN', 'perm', `invalid DNS name "${name}"`);
  };
  const r = await lookupType('a.test', 'A', { query: badName, tracer: () => {} }, () => {});
  t.match(r, { ok: false, result: 'NXDOMAIN' });
});

t.test('pickError', async (t) => {
  const nx = new SmarthostError('E_DNS_NXDOMAIN', 'perm', 'nx');
  const nd = new SmarthostError('E_DNS_NODATA', 'perm', 'nd');
  const to = new SmarthostError('E_DNS_TIMEOUT', 'temp', 'to');
  t.equal(pickError([nx, to], 'a', ['AAAA', 'A']), to, 'temp beats perm');
  t.equal(pickError([nd, nx], 'a', ['AAAA', 'A']), nx, 'NXDOMAIN beats NODATA');
  t.equal(pickError([undefined, nd], 'a', ['AAAA', 'A']), nd, 'a single NODATA is kept');
  t.match(pickError([nd, nd], 'a', ['AAAA', 'A']), { code: 'E_DNS_NODATA', message: 'host a has no AAAA or A record' });
  t.match(pickError([], 'a', ['A']), { code: 'E_INTERNAL' });
});

t.test('byname: the system resolver, canonical = queried', async (t) => {
  const events: TraceEvent[] = [];
  const d: ResolveDeps = {
    query: async () => {
      throw new Error('no DNS for byname');
    },
    tracer: (e) => events.push(e),
    lookupByName: async () => [
      { address: '127.0.0.1', family: 4, ttl: 0 },
      { address: '::1', family: 6, ttl: 0 },
    ],
  };
  const r = await resolveByName('mail.dev.example.test', 'any', 2525, d);
  t.same(r, {
    queried: 'mail.dev.example.test',
    canonical: 'mail.dev.example.test',
    chain: [],
    addresses: [
      { address: '::1', family: 6, ttl: 0 },
      { address: '127.0.0.1', family: 4, ttl: 0 },
    ],
    mx: -1,
    port: 2525,
  });
  t.same(events.flatMap(formatExim).slice(0, 3), ['finding IP address for mail.dev.example.test', 'calling host name lookup (byname)', 'fully qualified name = mail.dev.example.test']);

  const failing = (code: string): ResolveDeps => ({ ...d, lookupByName: async () => Promise.reject(Object.assign(new Error(code), { code })) });
  await t.rejects(resolveByName('x.test', 'any', undefined, failing('ENOTFOUND')), { code: 'E_DNS_NXDOMAIN', kind: 'perm' });
  await t.rejects(resolveByName('x.test', 'any', undefined, failing('EAI_AGAIN')), { code: 'E_DNS_SERVFAIL', kind: 'temp', message: /EAI_AGAIN/ });
  const v6only: ResolveDeps = { ...d, lookupByName: async () => [{ address: '::1', family: 6, ttl: 0 }] };
  await t.rejects(resolveByName('x.test', 'ipv4_only', undefined, v6only), { code: 'E_DNS_NODATA', kind: 'perm', message: 'host x.test has no IPv4 address' });
});

t.test('byname default: node:dns lookup (/etc/hosts)', async (t) => {
  const list = await systemLookup('localhost');
  t.ok(list.length > 0 && list.every((a) => a.ttl === 0 && (a.family === 4 || a.family === 6)), JSON.stringify(list));
  const r = await resolveByName('localhost', 'ipv4_only', undefined, { query: zoneQuery([]).query, tracer: () => {} });
  t.same(r.addresses.map((a) => a.address), ['127.0.0.1']);
});

t.test('orderedTracers', async (t) => {
  const out: string[] = [];
  const { tracers, end } = orderedTracers((e) => out.push(e.type === 'note' ? e.text : e.type), 3);
  const note = (i: number, text: string) => tracers[i]!({ type: 'note', text });
  note(2, 'c1');
  note(0, 'a1');
  note(1, 'b1');
  t.same(out, ['a1'], 'task 0 is live, the others held');
  end(2);
  note(0, 'a2');
  t.same(out, ['a1', 'a2']);
  end(0);
  t.same(out, ['a1', 'a2', 'b1'], 'task 1 released when task 0 ends');
  note(1, 'b2');
  t.same(out, ['a1', 'a2', 'b1', 'b2'], 'and now live');
  end(1);
  t.same(out, ['a1', 'a2', 'b1', 'b2', 'c1'], 'task 2 (already ended) flushed');
});
