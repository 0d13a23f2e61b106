/**
 * tls_verify_certificates = system (the default) end to end: the OS bundle is
 * the file SSL_CERT_FILE names (as OpenSSL tools honour it), here a temporary
 * one. A server whose certificate chains to a CA in that bundle is accepted;
 * when the bundle does not hold the test CA, the same server is refused
 * (nothing delivered, exit 75), although Node's own roots are still there.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { startSmtp } from '../fixtures/peers/fake-smtp.js';
import { CA, runCli, writeConfig } from '../fixtures/peers/run-cli.js';

const MESSAGE = 'From: root@example.test\nTo: admin@example.test\nSubject: trust\n\nhello\n';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

/** A temporary "OS bundle": some public roots, and the test CA when `withTestCa`. */
function osBundle(withTestCa: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-trust-'));
  const file = join(dir, 'ca-certificates.crt');
  const pems = [...rootCertificates.slice(0, 5), ...(withTestCa ? [readFileSync(CA, 'utf8')] : []), ...rootCertificates.slice(5, 10)];
  writeFileSync(file, pems.join('\n'));
  return file;
}

async function deliverWith(bundle: string) {
  const smtp = await startSmtp({ cert: 'dev-wildcard' });
  const conf = writeConfig([
    'route_data = mail.dev.example.test bydns ipv4_only',
    `port = ${smtp.port}`,
    `dns_servers = 127.0.0.1:${dns.port}`,
    // tls_verify_certificates not set: the default is system
    'helo_data = client.example.test',
    'qualify_domain = example.test',
    'system_aliases_file =',
    'queue_deferred = false',
  ]);
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE, { SSL_CERT_FILE: bundle, NODE_EXTRA_CA_CERTS: '' });
  await smtp.close();
  return { res, delivered: smtp.messages.length };
}

t.test('a CA in the OS bundle is trusted', async (t) => {
  const { res, delivered } = await deliverWith(osBundle(true));
  t.equal(res.code, 0, 'exit 0');
  if (res.code !== 0) t.comment(res.stderr);
  t.equal(delivered, 1);
  t.match(res.stderr, /SSL verify ok: name "mail\.dev\.example\.test" matches certificate/);
});

t.test('a CA missing from the OS bundle is not trusted', async (t) => {
  const { res, delivered } = await deliverWith(osBundle(false));
  t.equal(res.code, 75, 'exit 75');
  t.equal(delivered, 0, 'nothing delivered');
  t.match(res.stderr, /SSL verify error: .*(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
});
