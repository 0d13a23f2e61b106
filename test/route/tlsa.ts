/**
 * Where TLSA records are looked for, and when DANE applies (lib/route/tlsa.ts,
 * RFC 7672 §2.2), against an in-memory resolver whose signed zones answer
 * with AD as a validating resolver would.
 */
import t from 'tap';
import { zoneQuery, type ZoneRecord } from '../../fixtures/peers/zone.js';
import { resolveRoute } from '../../lib/route/resolve.js';
import { lookupTlsa, usableTlsa } from '../../lib/route/tlsa.js';
import { parseRoute } from '../../lib/route/route.js';
import type { TraceEvent } from '../../lib/report/trace.js';

const HEX = 'ab'.repeat(32);
const ZONE: ZoneRecord[] = [
  { name: 'direct.signed.test', type: 'A', data: '192.0.2.1' },
  { name: '_25._tcp.direct.signed.test', type: 'TLSA', data: `3 1 1 ${HEX}` },
  // a secure chain, records at the target
  { name: 'alias.signed.test', type: 'CNAME', data: 'target.signed.test' },
  { name: 'target.signed.test', type: 'A', data: '192.0.2.2' },
  { name: '_25._tcp.target.signed.test', type: 'TLSA', data: `2 0 1 ${HEX}` },
  // a secure chain, records only at the name asked for
  { name: 'alias2.signed.test', type: 'CNAME', data: 'bare.signed.test' },
  { name: 'bare.signed.test', type: 'A', data: '192.0.2.3' },
  { name: '_25._tcp.alias2.signed.test', type: 'TLSA', data: `3 1 1 ${HEX}` },
  // a chain leaving the signed zone
  { name: 'out.signed.test', type: 'CNAME', data: 'host.plain.test' },
  { name: 'host.plain.test', type: 'A', data: '192.0.2.4' },
  { name: '_25._tcp.host.plain.test', type: 'TLSA', data: `3 1 1 ${HEX}` },
  // signed addresses, TLSA under an insecure delegation
  { name: 'deleg.signed.test', type: 'A', data: '192.0.2.5' },
  { name: '_25._tcp.deleg.signed.test', type: 'TLSA', data: `3 1 1 ${HEX}` },
  // only unusable records
  { name: 'pkix.signed.test', type: 'A', data: '192.0.2.6' },
  { name: '_25._tcp.pkix.signed.test', type: 'TLSA', data: `1 1 1 ${HEX}` },
  { name: '_25._tcp.pkix.signed.test', type: 'TLSA', data: `0 0 1 ${HEX}` },
  // no TLSA at all
  { name: 'none.signed.test', type: 'A', data: '192.0.2.7' },
  // a bogus TLSA answer (the validating resolver says SERVFAIL)
  { name: 'bogus.signed.test', type: 'A', data: '192.0.2.8' },
  // MX: an insecure MX RRset pointing into the signed zone
  { name: 'plain.test', type: 'MX', data: 'direct.signed.test', priority: 10 },
];
const OPTS = { signed: ['signed.test'], unsigned: ['_tcp.deleg.signed.test'], servfail: ['_25._tcp.bogus.signed.test'], timeout: ['_25._tcp.slow.signed.test'] };

async function tlsa(route: string, opts = OPTS) {
  const events: TraceEvent[] = [];
  const { query, calls } = zoneQuery([...ZONE, { name: 'slow.signed.test', type: 'A', data: '192.0.2.9' }], opts);
  const deps = { query, tracer: (e: TraceEvent) => void events.push(e), dnssec: true };
  const { hosts, failures } = await resolveRoute(parseRoute(route), deps);
  if (failures.length) throw failures[0]!.error;
  const r = await lookupTlsa(hosts[0]!, 25, deps);
  return { r, host: hosts[0]!, calls: calls.filter((c) => c.endsWith(' TLSA')), events };
}

t.test('a signed host with TLSA records: DANE, the host itself the base', async (t) => {
  const { r, host, calls, events } = await tlsa('direct.signed.test');
  t.equal(host.secure, true);
  t.match(r, { state: 'secure', base: 'direct.signed.test', usable: [{ usage: 3, selector: 1, mtype: 1, data: HEX }] });
  t.same(calls, ['_25._tcp.direct.signed.test TLSA']);
  t.match(events.at(-1), { type: 'dane', state: 'secure', base: 'direct.signed.test', usable: 1 });
});

t.test('a secure CNAME chain: the expanded name first, then the name asked for (RFC 7672 §2.2.2)', async (t) => {
  const a = await tlsa('alias.signed.test');
  t.match(a.r, { state: 'secure', base: 'target.signed.test' });
  t.same(a.calls, ['_25._tcp.target.signed.test TLSA'], 'found at the expanded name: the original is not asked');
  const b = await tlsa('alias2.signed.test');
  t.match(b.r, { state: 'secure', base: 'alias2.signed.test' });
  t.same(b.calls, ['_25._tcp.bare.signed.test TLSA', '_25._tcp.alias2.signed.test TLSA']);
});

t.test('an insecure link anywhere: no DANE, and no TLSA lookup at all', async (t) => {
  const a = await tlsa('out.signed.test');
  t.notOk(a.host.secure, 'the chain leaves the signed zone');
  t.match(a.r, { state: 'none', why: 'insecure' });
  t.same(a.calls, [], 'records in the insecure zone are not even asked for');
  const b = await tlsa('host.plain.test');
  t.match(b.r, { state: 'none', why: 'insecure' });
  const mx = await tlsa('plain.test/MX');
  t.equal(mx.host.queried, 'direct.signed.test');
  t.notOk(mx.host.secure, 'an exchange from an unsigned MX RRset is not secure, however signed its own zone');
  t.match(mx.r, { state: 'none', why: 'insecure' });
});

t.test('TLSA records in an insecure zone are ignored', async (t) => {
  const { r } = await tlsa('deleg.signed.test');
  t.match(r, { state: 'none', why: 'insecure', reason: /_25\._tcp\.deleg\.signed\.test: not DNSSEC-authenticated/ });
});

t.test('no TLSA records (an authenticated denial): DANE does not apply', async (t) => {
  const { r } = await tlsa('none.signed.test');
  t.match(r, { state: 'none', why: 'absent' });
});

t.test('only PKIX-TA/PKIX-EE records: unusable for SMTP (§3.1.3)', async (t) => {
  const { r } = await tlsa('pkix.signed.test');
  t.match(r, { state: 'none', why: 'unusable' });
  t.equal(usableTlsa({ usage: 3, selector: 1, mtype: 1, data: '' }), true);
  t.equal(usableTlsa({ usage: 2, selector: 0, mtype: 2, data: '' }), true);
  t.equal(usableTlsa({ usage: 1, selector: 1, mtype: 1, data: '' }), false);
  t.equal(usableTlsa({ usage: 3, selector: 2, mtype: 1, data: '' }), false);
  t.equal(usableTlsa({ usage: 3, selector: 1, mtype: 3, data: '' }), false);
});

t.test('a bogus answer (SERVFAIL) or a timeout is a temporary failure, never a reason to do without DANE', async (t) => {
  const bogus = await tlsa('bogus.signed.test');
  t.match(bogus.r, { state: 'failed' });
  if (bogus.r.state === 'failed') {
    t.equal(bogus.r.error.kind, 'temp');
    t.match(bogus.r.error.message, /TLSA lookup of _25\._tcp\.bogus\.signed\.test failed \(SERVFAIL\)/);
  }
  const slow = await tlsa('slow.signed.test');
  t.match(slow.r, { state: 'failed', error: { kind: 'temp' } });
});

t.test('an IP literal has no TLSA records; without dnssec nothing is secure', async (t) => {
  const lit = await tlsa('[192.0.2.1]');
  t.match(lit.r, { state: 'none', why: 'literal' });
  const { query } = zoneQuery(ZONE, OPTS);
  const { hosts } = await resolveRoute(parseRoute('direct.signed.test'), { query, tracer: () => {} });
  t.notOk(hosts[0]!.secure, 'not asked for DNSSEC: not secure, whatever the resolver says');
});
