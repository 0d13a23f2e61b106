// Checks the committed test PKI in fixtures/ca (made by fixtures/ca/make-certs.sh): names,
// issuer, key pairs and dates, so a regeneration that gets one wrong fails here first.
import t from 'tap';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

const read = (f: string): Buffer => readFileSync(new URL(`../fixtures/ca/${f}`, import.meta.url));
const cert = (name: string): X509Certificate => new X509Certificate(read(`${name}.pem`));
const ca = cert('ca');
const now = new Date();

t.test('the CA', async (t) => {
  t.equal(ca.ca, true, 'basicConstraints CA:TRUE');
  t.equal(ca.subject, ca.issuer, 'self-signed');
  t.match(ca.subject, /CN=send-smarthost test CA/);
  t.ok(ca.verify(ca.publicKey), 'self-signature verifies');
  t.ok(new Date(ca.validTo).getUTCFullYear() > 2100, `validTo ${ca.validTo} is after 2100`);
  t.ok(new Date(ca.validFrom) < now, 'already valid');
  t.ok(ca.checkPrivateKey(createPrivateKey(read('ca.key'))), 'ca.key matches');
});

// [name, subjectAltName, a name that must match, a name that must not match]
const leaves: [string, string, string, string][] = [
  ['dev-wildcard', 'DNS:*.dev.example.test', 'mail.dev.example.test', 'mail.example.local'],
  ['other', 'DNS:*.other.test', 'x.other.test', 'mail.dev.example.test'],
  ['target', 'DNS:mail.example.local', 'mail.example.local', 'mail.dev.example.test'],
  ['expired', 'DNS:*.dev.example.test', 'mail.dev.example.test', 'mail.example.local'],
  ['direct', 'DNS:smarthost.example.test', 'smarthost.example.test', 'mail.dev.example.test'],
];

for (const [name, san, good, bad] of leaves) {
  t.test(name, async (t) => {
    const c = cert(name);
    t.equal(c.subjectAltName, san, 'SAN');
    t.equal(c.ca, false, 'not a CA');
    t.equal(c.issuer, ca.subject, 'issuer is the CA');
    t.ok(c.checkIssued(ca), 'issued by the CA');
    t.ok(c.verify(ca.publicKey), 'signature verifies with the CA key');
    t.ok(c.checkPrivateKey(createPrivateKey(read(`${name}.key`))), `${name}.key matches`);
    t.type(c.checkHost(good), 'string', `names ${good}`);
    t.equal(c.checkHost(bad), undefined, `does not name ${bad}`);
    t.equal(c.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), true, 'extendedKeyUsage serverAuth');
    if (name === 'expired') {
      t.ok(new Date(c.validTo) < now, `validTo ${c.validTo} is in the past`);
    } else {
      t.ok(new Date(c.validFrom) < now, 'already valid');
      t.ok(new Date(c.validTo).getUTCFullYear() >= 2100, `validTo ${c.validTo} is decades away`);
    }
  });
}

// The RFC 9525 cases (lib/deliver/cert-name.ts; test/deliver/cert-name.ts): what the certificate
// holds, not what OpenSSL's checkHost makes of it (it accepts the partial wildcard and the CN).
const rfc9525: [string, string | undefined, RegExp][] = [
  ['q-partial', 'DNS:x*.q.test', /CN=x\*\.q\.test/],
  ['q-wildcard', 'DNS:*.q.test', /CN=\*\.q\.test/],
  ['cn-only', undefined, /CN=mail\.q\.test/],
  ['ip-literal', 'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1', /CN=127\.0\.0\.1/],
];
for (const [name, san, subject] of rfc9525) {
  t.test(name, async (t) => {
    const c = cert(name);
    t.equal(c.subjectAltName, san, san === undefined ? 'no subjectAltName extension at all' : 'SAN');
    t.match(c.subject, subject);
    t.ok(c.checkIssued(ca) && c.verify(ca.publicKey), 'signed by the committed CA');
    t.ok(c.checkPrivateKey(createPrivateKey(read(`${name}.key`))), `${name}.key matches`);
    t.ok(new Date(c.validTo).getUTCFullYear() >= 2100, `validTo ${c.validTo} is decades away`);
  });
}

t.test('dev-wildcard does not cover the bare domain or deeper names', async (t) => {
  const c = cert('dev-wildcard');
  t.equal(c.checkHost('dev.example.test'), undefined);
  t.equal(c.checkHost('a.mail.dev.example.test'), undefined);
});
