/**
 * check's verdicts from session facts (lib/deliver/probe-report.ts), pure:
 * TLS mode, chain and name verdicts, the CNAME-target hint, AUTH results,
 * warnings, and the route's exit code as a delivery would have it. Each
 * report made here is validated against schema/check.schema.json too.
 */
import t, { type Test } from 'tap';
import { describeAddress, describeHost, nameHint, verdict } from '../../lib/deliver/probe-report.js';
import { newSessionFacts, type SessionFacts } from '../../lib/deliver/session-facts.js';
import { SmarthostError } from '../../lib/errors.js';
import type { Resolved } from '../../lib/types.js';
import type { CheckReport } from '../../lib/check-report.js';
import { schemaErrors } from '../../fixtures/peers/json-schema.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const host: Resolved = {
  queried: 'mail.dev.example.test',
  canonical: 'mx.example.net',
  chain: [
    { name: 'mail.dev.example.test', target: 'relay.example.net', ttl: 60 },
    { name: 'relay.example.net', target: 'mx.example.net', ttl: 30 },
  ],
  addresses: [{ address: '192.0.2.7', family: 4, ttl: 300 }],
  port: 587,
  mx: -1,
};
const address = host.addresses[0]!;
const cert = (altNames: string[], notAfter = '2031-01-01T00:00:00.000Z') => ({
  subject: '/CN=x',
  issuer: '/CN=CA',
  altNames,
  notBefore: '2020-01-01T00:00:00.000Z',
  notAfter,
  serialNumber: '01',
  sha256: 'AB:CD',
});
const facts = (over: Partial<SessionFacts>): SessionFacts => ({ ...newSessionFacts(), requireTls: true, verifyNames: true, implicitTls: false, ...over });
const tlsUp: Partial<SessionFacts> = {
  banner: '220 mx ESMTP',
  ehlo: [
    { secure: false, reply: '250-mx hello\n250-SIZE 1000\n250 STARTTLS' },
    { secure: true, reply: '250-mx hello\n250-SIZE 1000\n250 AUTH PLAIN LOGIN' },
  ],
  starttlsOffered: true,
  starttlsReply: '220 go ahead',
  sni: 'mail.dev.example.test',
  tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
};

/** A whole report around one address, checked against the schema. */
function report(t: Test, a: ReturnType<typeof describeAddress>): CheckReport {
  const hosts = [describeHost(host, 587, [a])];
  const r: CheckReport = { version: 1, command: 'check', checkedAt: new Date(NOW).toISOString(), config: '/x.conf', route: { hosts: 'mail.dev.example.test', options: '', from: 'argument' }, ...verdict(hosts, []), hosts, unresolved: [] };
  t.same(schemaErrors('check', r), [], 'conforms to the schema');
  return r;
}

t.test('a session that opened under STARTTLS with a matching name', async (t) => {
  const a = describeAddress({ host, address, facts: facts({ ...tlsUp, certificate: cert(['DNS:*.dev.example.test']), nameCheck: { name: 'mail.dev.example.test', ok: true, matched: 'DNS:*.dev.example.test' } }), elapsedMs: 12.4 }, NOW);
  t.match(a, { ok: true, stage: 'done', error: null, elapsedMs: 12, banner: '220 mx ESMTP' });
  t.same(a.ehlo[1], { secure: true, greeting: 'mx hello', extensions: { SIZE: '1000', AUTH: 'PLAIN LOGIN' } });
  t.same(a.tls, { mode: 'starttls', required: true, starttlsOffered: true, sni: 'mail.dev.example.test', protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
  t.match(a.verification, { chain: 'trusted', nameCheck: 'matched', matched: 'DNS:*.dev.example.test', names: ['mail.dev.example.test'] });
  t.same(a.auth, { offered: ['PLAIN', 'LOGIN'], configured: false, username: null, source: null, mechanism: null, result: 'not-configured' });
  t.equal(a.certificate?.daysLeft, 365);
  const r = report(t, a);
  t.match(r, { deliverable: true, exitCode: 0, reason: null, warnings: [] });
});

t.test('the CNAME target hint: any name along the chain, only when the certificate names it', async (t) => {
  t.match(nameHint(host, ['DNS:mx.example.net']), /^the certificate names the CNAME target mx\.example\.net, not mail\.dev\.example\.test: .*names mail\.dev\.example\.test, or route_data must name mx\.example\.net$/);
  t.match(nameHint(host, ['DNS:*.example.net']), /CNAME target relay\.example\.net, mx\.example\.net,/, 'a wildcard for the targets');
  t.equal(nameHint(host, ['DNS:*.other.test']), null);
  t.equal(nameHint({ ...host, chain: [] }, ['DNS:mx.example.net']), null, 'no CNAME: no hint');
});

t.test('a name mismatch, a refused chain, a pin mismatch, a skipped name check', async (t) => {
  const mismatch = describeAddress({
    host,
    address,
    facts: facts({ ...tlsUp, ehlo: tlsUp.ehlo!.slice(0, 1), certificate: cert(['DNS:mx.example.net']), nameCheck: { name: 'mail.dev.example.test', ok: false, reason: 'certificate does not name "mail.dev.example.test" (it has DNS:mx.example.net)' } }),
    error: new SmarthostError('E_TLS_VERIFY', 'temp', 'TLS verification failed', { stage: 'starttls' }),
    elapsedMs: 1,
  }, NOW);
  t.match(mismatch, { ok: false, stage: 'starttls', error: { code: 'E_TLS_VERIFY', kind: 'temp' } });
  t.match(mismatch.verification, { chain: 'trusted', nameCheck: 'mismatch', reason: /it has DNS:mx\.example\.net/, hint: /CNAME target mx\.example\.net/ });
  t.match(report(t, mismatch), { deliverable: false, exitCode: 75, reason: 'TLS verification failed' });

  const refused = describeAddress({ host, address, facts: facts({ ...tlsUp, certificate: cert(['DNS:x'], '2029-01-01T00:00:00.000Z'), chainError: 'CERT_HAS_EXPIRED' }), error: new SmarthostError('E_TLS_VERIFY', 'temp', 'expired', { stage: 'starttls' }), elapsedMs: 1 }, NOW);
  t.match(refused.verification, { chain: 'refused', chainError: 'CERT_HAS_EXPIRED', nameCheck: 'not-reached', hint: null });
  t.equal(refused.certificate?.daysLeft, -365);
  t.same(refused.warnings, [], 'an expired certificate is an error, not a warning');
  report(t, refused);

  const pinned = describeAddress({ host, address, facts: facts({ ...tlsUp, certificate: cert(['DNS:x']), pin: { ok: false } }), error: new SmarthostError('E_TLS_VERIFY', 'temp', 'pin', { stage: 'starttls' }), elapsedMs: 1 }, NOW);
  t.match(pinned.verification, { chain: 'trusted', pin: 'mismatch', nameCheck: 'not-reached' });
  report(t, pinned);

  const skipped = describeAddress({ host, address, facts: facts({ ...tlsUp, verifyNames: false, certificate: cert(['DNS:x']) }), elapsedMs: 1 }, NOW);
  t.match(skipped.verification, { chain: 'trusted', nameCheck: 'skipped' });
  t.same(skipped.warnings, ['the certificate name is not checked: the host is not in tls_verify_cert_hostnames']);
  t.same(report(t, skipped).warnings, ['mail.dev.example.test [192.0.2.7]: the certificate name is not checked: the host is not in tls_verify_cert_hostnames']);
});

t.test('no TLS: cleartext allowed (warning) or required (E_TLS_REQUIRED); implicit TLS', async (t) => {
  const plain = facts({ requireTls: false, banner: '220 x', ehlo: [{ secure: false, reply: '250-x\n250 SIZE 10' }], starttlsOffered: false });
  const open = describeAddress({ host, address, facts: plain, elapsedMs: 1 }, NOW);
  t.match(open, { ok: true, tls: { mode: 'none', required: false, starttlsOffered: false, sni: null }, verification: null, certificate: null });
  t.match(open.warnings, [/^no TLS: .* cleartext$/]);
  report(t, open);
  const required = describeAddress({ host, address, facts: { ...plain, requireTls: true }, error: new SmarthostError('E_TLS_REQUIRED', 'temp', 'no STARTTLS', { stage: 'starttls' }), elapsedMs: 1 }, NOW);
  t.match(required, { ok: false, tls: { mode: 'none', required: true }, warnings: [] });
  report(t, required);
  const implicit = describeAddress({ host, address, facts: facts({ implicitTls: true, banner: '220 x', ehlo: [{ secure: true, reply: '250-x\n250 AUTH PLAIN' }], sni: 'mail.dev.example.test', tls: { protocol: 'TLSv1.3', cipher: 'C' }, certificate: cert(['DNS:mail.dev.example.test']), nameCheck: { name: 'mail.dev.example.test', ok: true, matched: 'DNS:mail.dev.example.test' } }), elapsedMs: 1 }, NOW);
  t.match(implicit, { tls: { mode: 'implicit', starttlsOffered: null }, verification: { nameCheck: 'matched' }, auth: { offered: ['PLAIN'] } });
  report(t, implicit);
});

t.test('AUTH results', async (t) => {
  const auth = (a: SessionFacts['auth']) => describeAddress({ host, address, facts: facts({ ...tlsUp, auth: a }), elapsedMs: 1 }, NOW).auth;
  t.match(auth({ username: 'u', source: 'auth_username', attempted: true, mechanism: 'PLAIN', ok: true }), { configured: true, result: 'succeeded', mechanism: 'PLAIN', username: 'u' });
  t.match(auth({ username: 'u', source: 'auth_username', attempted: true, ok: false }), { result: 'failed', mechanism: null });
  t.match(auth({ username: 'u', source: 'auth_username', attempted: false, ok: false }), { result: 'not-reached' });
});

t.test('the route verdict: 0 with one address that works, 75 with a temporary failure, 69 when all are permanent', async (t) => {
  const ok = describeAddress({ host, address, facts: facts(tlsUp), elapsedMs: 1 }, NOW);
  const temp = describeAddress({ host, address, facts: facts({}), error: new SmarthostError('E_CONNECT', 'temp', 'refused', { stage: 'connect' }), elapsedMs: 1 }, NOW);
  const perm = describeAddress({ host, address, facts: facts({ banner: '554 go away' }), error: new SmarthostError('E_SMTP_PERM', 'perm', '554 go away', { stage: 'banner' }), elapsedMs: 1 }, NOW);
  const h = (...a: (typeof ok)[]) => [describeHost(host, 25, a)];
  t.match(verdict(h(temp, ok), []), { deliverable: true, exitCode: 0, reason: null });
  t.match(verdict(h(temp, perm), []), { deliverable: false, exitCode: 75, reason: 'refused; 554 go away' });
  t.match(verdict(h(perm), []), { exitCode: 69, reason: '554 go away' });
  t.match(verdict([], [{ name: 'nope.test', error: { code: 'E_DNS_NXDOMAIN', kind: 'perm', message: 'nope.test: NXDOMAIN' } }]), { exitCode: 69 });
  t.match(verdict([], [{ name: 'x.test', error: { code: 'E_DNS_SERVFAIL', kind: 'temp', message: 'SERVFAIL' } }]), { exitCode: 75 });
  t.match(verdict([], []), { deliverable: false, exitCode: 69, reason: 'no usable host in route_data' });
  t.equal(describeHost({ ...host, mx: 10 }, 25, []).mx, 10);
});

t.test('an expiry warning under 14 days only', async (t) => {
  const at = (days: number) => describeAddress({ host, address, facts: facts({ ...tlsUp, certificate: cert(['DNS:x'], new Date(NOW + days * 86_400_000).toISOString()), nameCheck: { name: 'mail.dev.example.test', ok: true, matched: 'DNS:x' } }), elapsedMs: 1 }, NOW).warnings;
  t.same(at(14), []);
  t.same(at(13.9), ['the certificate expires in 13 days (2030-01-14T21:36:00.000Z): under 14 days']);
  t.same(at(1.5), ['the certificate expires in 1 day (2030-01-02T12:00:00.000Z): under 14 days']);
});
