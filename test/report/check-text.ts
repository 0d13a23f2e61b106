/**
 * The human layout of check (lib/report/check-text.ts), pure: the lines the
 * in-process and end-to-end tests do not reach (implicit TLS, a name not
 * checked, a pin, cleartext, an MX host, unresolved entries) and the paint.
 */
import t from 'tap';
import { renderCheck, type Paint } from '../../lib/report/check-text.js';
import { describeAddress, describeHost, verdict } from '../../lib/deliver/probe-report.js';
import { newSessionFacts, type SessionFacts } from '../../lib/deliver/session-facts.js';
import { SmarthostError } from '../../lib/errors.js';
import type { CheckHost, CheckReport } from '../../lib/check-report.js';
import type { Resolved } from '../../lib/types.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const resolved: Resolved = { queried: 'relay.example.test', canonical: 'relay.example.test', chain: [], addresses: [{ address: '192.0.2.1', family: 4, ttl: 30 }], port: 465, mx: 10 };
const cert = { subject: '/CN=relay.example.test', issuer: '/CN=CA', altNames: ['DNS:relay.example.test'], notBefore: '2029-01-01T00:00:00.000Z', notAfter: '2030-01-05T00:00:00.000Z', serialNumber: '01', sha256: 'AB' };

function report(facts: Partial<SessionFacts>, error?: SmarthostError, unresolved: CheckReport['unresolved'] = []): CheckReport {
  const a = describeAddress({ host: resolved, address: resolved.addresses[0]!, facts: { ...newSessionFacts(), requireTls: true, verifyNames: true, implicitTls: false, ...facts }, error, elapsedMs: 5 }, NOW);
  const hosts: CheckHost[] = [describeHost(resolved, 465, [a])];
  return { version: 1, command: 'check', checkedAt: '2030-01-01T00:00:00.000Z', config: '/etc/x.conf', route: { hosts: 'relay.example.test/MX', options: '', from: 'configuration' }, ...verdict(hosts, unresolved), hosts, unresolved };
}

t.test('implicit TLS, a name not checked, a pin, a certificate about to expire', async (t) => {
  const out = renderCheck(
    report({
      implicitTls: true,
      verifyNames: false,
      banner: '220 relay ESMTP',
      ehlo: [{ secure: true, reply: '250-relay\n250 AUTH PLAIN' }],
      sni: 'relay.example.test',
      tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
      certificate: cert,
      pin: { ok: true },
      auth: { username: 'me', source: 'auth_credentials_file /etc/creds:2', attempted: true, mechanism: 'PLAIN', ok: true },
    }),
  );
  t.match(out, /^route_data relay\.example\.test\/MX, from \/etc\/x\.conf\n\nhost relay\.example\.test \(MX 10\)\n {2}addresses {5}192\.0\.2\.1 \(ttl 30\)\n {2}\[192\.0\.2\.1\]:465\n/);
  t.match(out, /\n {4}TLS {9}implicit \(protocol = smtps\): TLSv1\.3 TLS_AES_128_GCM_SHA256, SNI relay\.example\.test\n/);
  t.match(out, /\n {4}verified {4}chain trusted; name not checked \(not in tls_verify_cert_hostnames\)\n {4}pin {9}server key matches tls_pin_sha256\n {4}EHLO {8}AUTH PLAIN\n/, 'implicit TLS: the EHLO comes after the handshake');
  t.match(out, /\n {6}valid {5}2029-01-01 to 2030-01-05 \(4 days left\)\n/);
  t.match(out, /\n {4}AUTH {8}PLAIN offered; as me \(auth_credentials_file \/etc\/creds:2\): succeeded with PLAIN\n/);
  t.match(out, /\n {4}warning {5}the certificate expires in 4 days/);
  t.match(out, /\n {4}warning {5}the certificate name is not checked/);
  t.match(out, /\n\ndelivery possible \(exit 0\)\n$/);
});

t.test('cleartext: STARTTLS not offered, allowed or required; unresolved entries', async (t) => {
  const plain = { banner: '220 x', ehlo: [{ secure: false, reply: '250-x\n250 SIZE 100' }], starttlsOffered: false };
  const allowed = renderCheck(report({ ...plain, requireTls: false }));
  t.match(allowed, /\n {4}EHLO {8}SIZE 100\n {4}STARTTLS {4}not offered\n {4}AUTH {8}not offered; no credentials configured for this host\n {4}warning {5}no TLS/);
  const required = renderCheck(
    report({ ...plain }, new SmarthostError('E_TLS_REQUIRED', 'temp', 'x [192.0.2.1]:465: TLS is required', { stage: 'starttls' }), [
      { name: 'gone.example.test', error: { code: 'E_DNS_NXDOMAIN', kind: 'perm', message: 'gone.example.test does not exist' } },
    ]),
  );
  t.match(required, /\n {4}STARTTLS {4}not offered \(required by hosts_require_tls\)\n {4}result {6}FAILED at starttls: x \[192\.0\.2\.1\]:465: TLS is required\n/);
  t.match(required, /\n\nhost gone\.example\.test: not resolved: gone\.example\.test does not exist\n\ndelivery not possible \(exit 75\): gone\.example\.test does not exist; x \[192\.0\.2\.1\]:465: TLS is required\n$/);
});

t.test('paint: every verdict word goes through it', async (t) => {
  const tag = (name: string) => (s: string) => `<${name}>${s}</${name}>`;
  const paint: Paint = { ok: tag('ok'), bad: tag('bad'), warn: tag('warn'), dim: (s) => s, bold: tag('b') };
  const out = renderCheck(report({ implicitTls: true, tls: { protocol: 'TLSv1.3', cipher: 'C' }, sni: 'relay.example.test', certificate: cert, nameCheck: { name: 'relay.example.test', ok: true, matched: 'DNS:relay.example.test' } }), paint);
  t.match(out, /<b>host relay\.example\.test<\/b>/);
  t.match(out, /relay\.example\.test: <ok>OK<\/ok>, subjectAltName DNS:relay\.example\.test/);
  t.match(out, /\(<warn>4 days left<\/warn>\)/);
  t.match(out, /<ok>delivery possible \(exit 0\)<\/ok>/);
});
