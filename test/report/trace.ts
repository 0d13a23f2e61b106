import t from 'tap';
import { formatExim, maskSecrets, eximTracer, type TraceEvent } from '../../lib/report/trace.js';

t.test('the seed shape, with both names', async (t) => {
  const events: TraceEvent[] = [
    { type: 'route', hosts: 'mail.dev.example.test', options: 'bydns ipv4_only' },
    { type: 'dns-start', name: 'mail.dev.example.test', lookup: 'bydns' },
    { type: 'dns-result', name: 'mail.dev.example.test', rrtype: 'A', result: 'succeeded' },
    { type: 'cname', from: 'mail.dev.example.test', to: 'mail.example.local' },
    { type: 'fqdn', queried: 'mail.dev.example.test', canonical: 'mail.example.local' },
    { type: 'host', queried: 'mail.dev.example.test', canonical: 'mail.example.local', address: '127.0.0.6', family: 4, ttl: 60, mx: -1 },
    { type: 'connect', queried: 'mail.dev.example.test', canonical: 'mail.example.local', address: '127.0.0.6', port: 25 },
    { type: 'smtp-in', text: '250-mail.example.local Hello\n250-STARTTLS\n250 HELP' },
    { type: 'smtp-out', text: 'STARTTLS' },
    { type: 'tls-start', certName: 'mail.dev.example.test', sni: 'mail.dev.example.test', verifyNames: true },
    { type: 'tls-verify-error', address: '127.0.0.6', reason: 'x', dn: '/CN=mail.example.local', host: 'mail.dev.example.test' },
  ];
  const lines: string[] = [];
  const tr = eximTracer((l) => lines.push(l));
  events.forEach(tr);
  t.same(lines, [
    "original list of hosts = 'mail.dev.example.test' options = 'bydns ipv4_only'",
    'finding IP address for mail.dev.example.test',
    'doing DNS lookup',
    'DNS lookup of mail.dev.example.test (A) succeeded',
    'CNAME found: change to mail.example.local',
    'fully qualified name = mail.dev.example.test',
    'mail.example.local 127.0.0.6 mx=-1 ttl=60 (queried mail.dev.example.test)',
    'Connecting to mail.example.local [127.0.0.6]:25 ... (certificate name mail.dev.example.test)',
    '  SMTP<< 250-mail.example.local Hello',
    '         250-STARTTLS',
    '         250 HELP',
    '  SMTP>> STARTTLS',
    'Cert hostname to check: "mail.dev.example.test"',
    'Setting TLS SNI "mail.dev.example.test"',
    '[127.0.0.6] SSL verify error: certificate name mismatch: DN="/CN=mail.example.local" H="mail.dev.example.test"',
  ]);
});

t.test('AUTH secrets are masked whatever the emitter passes', async (t) => {
  t.equal(maskSecrets('AUTH PLAIN AGJvYgBzZWNyZXQ='), 'AUTH PLAIN ****');
  t.equal(maskSecrets('auth login dXNlcg=='), 'auth login ****');
  t.equal(maskSecrets('AUTH LOGIN'), 'AUTH LOGIN');
  t.same(formatExim({ type: 'smtp-out', text: 'AUTH PLAIN AGJvYgBzZWNyZXQ=' }), ['  SMTP>> AUTH PLAIN ****']);
  t.equal(maskSecrets('MAIL FROM:<a@b>'), 'MAIL FROM:<a@b>');
});

t.test('every event type renders to at least one line', async (t) => {
  const all: TraceEvent[] = [
    { type: 'dns-start', name: 'h', lookup: 'byname' },
    { type: 'dns-query', name: 'h', rrtype: 'AAAA', server: '127.0.0.1:53', transport: 'udp' },
    { type: 'dns-result', name: 'h', rrtype: 'AAAA', result: 'NO_DATA' },
    { type: 'dns-result', name: 'h', rrtype: 'A', result: 'SERVFAIL', detail: 'from 127.0.0.1' },
    { type: 'dns-truncated', name: 'h', rrtype: 'A' },
    { type: 'connected', address: '::1' },
    { type: 'tls-start', certName: 'h', sni: 'h', verifyNames: false },
    { type: 'tls-verify-ok', subject: '/CN=*.dev.example.test', certName: 'h', san: 'DNS:*.dev.example.test' },
    { type: 'tls-verify-error', address: '::1', reason: 'certificate has expired' },
    { type: 'tls-ok', protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    { type: 'attempt', queried: 'q', canonical: 'c', address: '::1', stage: 'rcpt', result: 'deferred', reason: '451 later' },
    { type: 'note', text: 'hello' },
  ];
  for (const ev of all) t.ok(formatExim(ev).length >= 1, ev.type);
  t.same(formatExim(all[2]!), ['DNS lookup of h (AAAA) gave NO_DATA']);
  t.same(formatExim(all[7]!), ['SSL verify ok: name "h" matches certificate /CN=*.dev.example.test (subjectAltName DNS:*.dev.example.test)']);
  t.same(formatExim(all[8]!), ['[::1] SSL verify error: certificate has expired']);
  t.match(formatExim(all[10]!)[0], /result DEFERRED at rcpt: 451 later/);
  t.same(formatExim(all[6]!), ['Cert hostname check skipped (not in tls_verify_cert_hostnames)', 'Setting TLS SNI "h"']);
});
