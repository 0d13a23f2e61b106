/**
 * tls_pin_sha256 and the other TLS client options: the SPKI digest agrees with
 * openssl's, a pin is checked in addition to (never instead of) chain and name
 * verification, and a live session with a matching and a wrong pin.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { checkPin, pinText, spkiSha256 } from '../../lib/deliver/pin.js';
import { tlsOptionsFor } from '../../lib/deliver/tls.js';
import { openSession } from '../../lib/deliver/smtp.js';
import { SmarthostError } from '../../lib/errors.js';
import { formatExim, type TraceEvent } from '../../lib/report/trace.js';
import { startSmtp } from '../../fixtures/peers/fake-smtp.js';
import { sessionParams } from '../../fixtures/peers/session.js';

const der = (n: string): Buffer => new X509Certificate(readFileSync(new URL(`../../fixtures/ca/${n}.pem`, import.meta.url))).raw;
// computed independently: openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256
const DEV_WILDCARD_B64 = 'xbmaCLCnAJDInfi6eGYKrXzqatMsHq9Jj4orvkC1vgI=';
const DEV_WILDCARD_HEX = Buffer.from(DEV_WILDCARD_B64, 'base64').toString('hex');
const OTHER_HEX = 'f58ab8d9b44241935cf9c46214a7ad7eb7bb846fd984937ec1f0228fcf095589';

t.test('spkiSha256 is the digest openssl computes; pinText is the RFC 7469 form', async (t) => {
  t.equal(spkiSha256(der('dev-wildcard')), DEV_WILDCARD_HEX);
  t.equal(spkiSha256(der('other')), OTHER_HEX);
  t.equal(pinText(DEV_WILDCARD_HEX), `sha256//${DEV_WILDCARD_B64}`);
  t.same(checkPin(der('dev-wildcard'), [OTHER_HEX, DEV_WILDCARD_HEX]), { ok: true, got: DEV_WILDCARD_HEX, want: [OTHER_HEX, DEV_WILDCARD_HEX] });
  t.match(checkPin(der('other'), [DEV_WILDCARD_HEX]), { ok: false, got: OTHER_HEX });
  t.match(checkPin(undefined, [DEV_WILDCARD_HEX]), { ok: false, got: '' });
  t.match(checkPin(Buffer.from('junk'), [DEV_WILDCARD_HEX]), { ok: false, got: '' });
});

function peer(name: string): PeerCertificate {
  const x = new X509Certificate(readFileSync(new URL(`../../fixtures/ca/${name}.pem`, import.meta.url)));
  const subject = Object.fromEntries(x.subject.split('\n').map((l) => l.split('=') as [string, string]));
  return { subject, subjectaltname: x.subjectAltName, raw: x.raw } as unknown as PeerCertificate;
}

t.test('tlsOptionsFor: pin in addition to the name check; other TLS options passed through', async (t) => {
  const pins: string[] = [];
  const o = tlsOptionsFor({ queried: 'mail.dev.example.test', verifyNames: true, pins: [DEV_WILDCARD_HEX], onPin: (r) => pins.push(r.got), minVersion: 'TLSv1.3', ciphers: 'ECDHE+AESGCM', cert: 'C', key: 'K' });
  t.equal(o.minVersion, 'TLSv1.3');
  t.equal(o.ciphers, 'ECDHE+AESGCM');
  t.equal(o.cert, 'C');
  t.equal(o.key, 'K');
  t.equal(o.checkServerIdentity!('x', peer('dev-wildcard')), undefined, 'pin and name both fine');
  const wrongKey = o.checkServerIdentity!('x', peer('other'));
  t.equal((wrongKey as NodeJS.ErrnoException).code, 'ERR_TLS_PIN_MISMATCH');
  t.match(wrongKey!.message, `sha256//${Buffer.from(OTHER_HEX, 'hex').toString('base64')}`);
  t.match(wrongKey!.message, DEV_WILDCARD_B64, 'both digests in the message');
  // a matching pin does not excuse a wrong name
  const o2 = tlsOptionsFor({ queried: 'mail.dev.example.test', verifyNames: true, pins: [OTHER_HEX] });
  t.equal((o2.checkServerIdentity!('x', peer('other')) as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  // the pin is checked even outside tls_verify_cert_hostnames
  const o3 = tlsOptionsFor({ queried: 'mail.dev.example.test', verifyNames: false, pins: [DEV_WILDCARD_HEX] });
  t.ok(o3.checkServerIdentity!('x', peer('other')));
  t.equal(tlsOptionsFor({ queried: 'a.example', verifyNames: true }).minVersion, 'TLSv1.2', 'default minimum TLSv1.2');
  t.same(pins, [DEV_WILDCARD_HEX, OTHER_HEX]);
});

const params = sessionParams;

t.test('live: matching pin delivers; wrong pin is E_TLS_VERIFY with both digests in the trace', async (t) => {
  const smtp = await startSmtp({ cert: 'dev-wildcard' });
  t.teardown(() => smtp.close());
  const ok: TraceEvent[] = [];
  const s = await openSession(params(smtp.port, ok, { tlsExtra: { pins: [OTHER_HEX, DEV_WILDCARD_HEX] } }));
  await s.send({ sender: 'a@example.test', recipients: ['b@example.test'] }, Buffer.from('Subject: x\r\n\r\nhi\r\n'));
  await s.quit();
  t.equal(smtp.messages.length, 1);
  t.ok(ok.flatMap(formatExim).includes(`TLS server key matches tls_pin_sha256: sha256//${DEV_WILDCARD_B64}`));

  const bad: TraceEvent[] = [];
  let err: unknown;
  try {
    await openSession(params(smtp.port, bad, { tlsExtra: { pins: [OTHER_HEX] } }));
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof SmarthostError);
  const e = err as SmarthostError;
  t.equal(e.code, 'E_TLS_VERIFY');
  t.equal(e.kind, 'temp');
  t.match(e.message, /TLS verification failed: .*not in tls_pin_sha256/);
  const lines = bad.flatMap(formatExim);
  const mismatch = lines.filter((l) => l.includes('pin mismatch'));
  t.equal(mismatch.length, 1, 'traced once');
  t.match(mismatch[0], `got sha256//${DEV_WILDCARD_B64}, want sha256//${Buffer.from(OTHER_HEX, 'hex').toString('base64')}`);
  t.notOk(bad.some((ev) => ev.type === 'smtp-out' && ev.text.startsWith('MAIL')), 'no MAIL after a pin mismatch');
  t.equal(smtp.messages.length, 1);
});

t.test('tls_min_version TLSv1.3 against a TLSv1.2-only server fails the handshake', async (t) => {
  const smtp = await startSmtp({ cert: 'dev-wildcard', maxVersion: 'TLSv1.2' } as never);
  t.teardown(() => smtp.close());
  let err: unknown;
  try {
    await openSession(params(smtp.port, [], { tlsExtra: { minVersion: 'TLSv1.3' } }));
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof SmarthostError);
  t.match((err as SmarthostError).code, /^E_TLS/);
  const s = await openSession(params(smtp.port, [], { tlsExtra: { minVersion: 'TLSv1.2' } }));
  t.equal(s.tls?.protocol, 'TLSv1.2');
  await s.quit();
});
