import t from 'tap';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { tlsOptionsFor, renderDn, type VerifyReport } from '../../lib/deliver/tls.js';

const pem = (n: string) => readFileSync(new URL(`../../fixtures/ca/${n}.pem`, import.meta.url), 'utf8');
/** The parts of a PeerCertificate that checkServerIdentity reads. */
function peer(name: string): PeerCertificate {
  const x = new X509Certificate(pem(name));
  const subject = Object.fromEntries(x.subject.split('\n').map((l) => l.split('=') as [string, string]));
  return { subject, subjectaltname: x.subjectAltName } as unknown as PeerCertificate;
}

t.test('SNI and identity are the queried name, whatever host Node passes', async (t) => {
  const reports: VerifyReport[] = [];
  const o = tlsOptionsFor({ queried: 'mail.dev.example.test', verifyNames: true, ca: 'CA', onVerify: (r) => reports.push(r) });
  t.equal(o.servername, 'mail.dev.example.test');
  t.equal(o.rejectUnauthorized, true);
  t.equal(o.ca, 'CA');
  t.equal(o.minVersion, 'TLSv1.2');
  t.equal(o.checkServerIdentity!('127.0.0.6', peer('dev-wildcard')), undefined, 'wildcard for the queried name passes although Node passes the IP');
  const err = o.checkServerIdentity!('mail.dev.example.test', peer('target'));
  t.ok(err, 'a certificate naming only the CNAME target fails');
  t.equal((err as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  t.match(reports, [{ ok: true, name: 'mail.dev.example.test' }, { ok: false, dn: '/CN=mail.example.local', name: 'mail.dev.example.test' }]);
});

t.test('the CNAME target is never what is checked', async (t) => {
  const o = tlsOptionsFor({ queried: 'mail.dev.example.test', verifyNames: true });
  t.ok(o.checkServerIdentity!('mail.example.local', peer('target')), 'even when Node is handed the target name');
  t.notOk('ca' in o, 'no ca: Node default roots');
});

t.test('outside tls_verify_cert_hostnames: no name check, chain still verified', async (t) => {
  const o = tlsOptionsFor({ queried: 'mail.dev.example.test', verifyNames: false });
  t.equal(o.checkServerIdentity!('x', peer('other')), undefined);
  t.equal(o.rejectUnauthorized, true);
});

t.test('an IP literal gets no SNI (RFC 6066) and is checked as an IP', async (t) => {
  const o = tlsOptionsFor({ queried: '127.0.0.1', verifyNames: true });
  t.equal(o.servername, undefined);
  t.ok(o.checkServerIdentity!('127.0.0.1', peer('dev-wildcard')));
});

t.test('renderDn', async (t) => {
  t.equal(renderDn({ CN: '*.dev.example.test' } as never), '/CN=*.dev.example.test');
  t.equal(renderDn({ C: 'US', O: 'Let', CN: 'x' } as never), '/C=US/O=Let/CN=x');
  t.equal(renderDn(undefined), '');
});

// Issue 10, defects 1 and 2: Node's checkServerIdentity accepted these.
t.test('a partial-label wildcard names nothing (RFC 9525 §6.3), not even an A-label', async (t) => {
  for (const queried of ['xyz.q.test', 'xn--bcher-kva.q.test']) {
    const reports: VerifyReport[] = [];
    const o = tlsOptionsFor({ queried, verifyNames: true, onVerify: (r) => reports.push(r) });
    const err = o.checkServerIdentity!(queried, peer('q-partial'));
    t.ok(err, `x*.q.test does not name ${queried}`);
    t.equal((err as NodeJS.ErrnoException | undefined)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    t.match(reports, [{ ok: false, name: queried }]);
  }
});

t.test('no CN fallback: a certificate without a DNS subjectAltName names nothing', async (t) => {
  const o = tlsOptionsFor({ queried: 'mail.q.test', verifyNames: true });
  const err = o.checkServerIdentity!('mail.q.test', peer('cn-only'));
  t.ok(err, 'CN=mail.q.test is not used');
  t.match(err?.message, /certificate has no DNS subjectAltName/);
});
