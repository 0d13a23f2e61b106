/**
 * `send-smarthost check` through the shipped binary (run `node build.mjs`
 * first): the entry routes the subcommand to dist/ops.cjs, the JSON on
 * stdout conforms to schema/check.schema.json, -d puts the Exim-style trace
 * on stderr, the route argument needs no configuration file for the route,
 * and no mail is sent.
 */
import t from 'tap';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { startRecordingSmtp } from '../fixtures/peers/record-smtp.js';
import { runCli, testConfig, writeConfig, CA } from '../fixtures/peers/run-cli.js';
import { schemaErrors } from '../fixtures/peers/json-schema.js';
import type { CheckReport } from '../lib/check-report.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

t.test('check --json through bin/send-smarthost: a CNAME with the right certificate', async (t) => {
  const smtp = await startRecordingSmtp({ cert: 'dev-wildcard', disableReverseLookup: true });
  t.teardown(() => smtp.close());
  const conf = testConfig({ route: 'mail.dev.example.test', dnsPort: dns.port, smtpPort: smtp.port });
  const r = await runCli(['check', '--json', '-C', conf]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const doc = JSON.parse(r.stdout) as CheckReport;
  t.same(schemaErrors('check', doc), []);
  t.match(doc.hosts[0]!.addresses[0]!.verification, { names: ['mail.dev.example.test'], nameCheck: 'matched', matched: 'DNS:*.dev.example.test' });
  t.same([smtp.mail.length, smtp.messages.length], [0, 0], 'no MAIL FROM, no DATA');
});

t.test('check with a route argument and -O options only (no route in any file), -d trace on stderr', async (t) => {
  const smtp = await startRecordingSmtp({ cert: 'target', disableReverseLookup: true });
  t.teardown(() => smtp.close());
  // a file without route_data, port or dns_servers: they come from the command line
  const conf = writeConfig([`tls_verify_certificates = ${CA}`, 'connect_timeout = 5s', 'command_timeout = 5s']);
  const r = await runCli(['check', '-C', conf, '-O', `port=${smtp.port}`, '-O', `dns_servers=127.0.0.1:${dns.port}`, '-d', 'mail.dev.example.test bydns ipv4_only']);
  t.equal(r.code, 75, 'the certificate names only the CNAME target: what a delivery would exit with');
  t.match(r.stdout, /^route_data mail\.dev\.example\.test \(bydns ipv4_only\), from the command line\n/);
  t.match(r.stdout, /verified {4}mail\.dev\.example\.test: FAILED: certificate does not name "mail\.dev\.example\.test" \(it has DNS:mail\.example\.local\)/);
  t.match(r.stdout, /the certificate names the CNAME target mail\.example\.local, not mail\.dev\.example\.test/);
  t.match(r.stderr, /Cert hostname to check: "mail\.dev\.example\.test"/, '-d: the trace');
  t.match(r.stderr, /SMTP>> QUIT|SSL verify error/);
  t.notMatch(r.stderr, /SMTP>> MAIL/);
  t.same([smtp.mail.length, smtp.messages.length], [0, 0]);
});

t.test('called as send-smarthost only: "check" after a flag is a recipient, as sendmail has it', async (t) => {
  const conf = writeConfig(['route_data = 127.0.0.1', 'port = 1', 'queue_deferred = false', 'delivery_mode = interactive', 'system_aliases_file =']);
  const r = await runCli(['-C', conf, '-odi', 'check'], 'Subject: x\n\nbody\n');
  t.equal(r.code, 75, 'a submission to the local user "check", deferred (nobody on port 1)');
  t.notMatch(r.stdout, /route_data/);
});
