import t from 'tap';
import { classifySmtpError, stageOfCommand } from '../../lib/deliver/smtp-errors.js';

const ctx = { queried: 'mail.dev.example.test', canonical: 'mail.example.local', address: '127.0.0.6', port: 25, requireTls: true };

t.test('stageOfCommand', async (t) => {
  const rows: [string, string, string][] = [
    ['EHLO', 'banner', 'ehlo'],
    ['STARTTLS', 'ehlo', 'starttls'],
    ['EHLO', 'starttls', 'starttls'],
    ['MAIL', 'ehlo', 'mail'],
    ['rcpt', 'mail', 'rcpt'],
    ['DATA', 'rcpt', 'data'],
    ['QUIT', 'data', 'done'],
    ['NOOP', 'mail', 'mail'],
  ];
  for (const [cmd, cur, want] of rows) t.equal(stageOfCommand(cmd, cur as never), want, `${cmd} from ${cur}`);
});

t.test('classifySmtpError', async (t) => {
  const rows: [object, string, string, string, RegExp][] = [
    [{ code: 'ESOCKET', originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'starttls', 'E_TLS_VERIFY', 'temp', /certificate does not name "mail\.dev\.example\.test"/],
    [{ code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED' }, 'starttls', 'E_TLS_VERIFY', 'temp', /not trusted \(CERT_HAS_EXPIRED\)/],
    [{ code: 'ETLS', response: '500 Error: command not recognized', responseCode: 500 }, 'starttls', 'E_TLS', 'temp', /STARTTLS failed: 500/],
    [{ code: 'ESOCKET', originalCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'connect', 'E_CONNECT', 'temp', /connection failed at connect: ECONNREFUSED/],
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, 'banner', 'E_TIMEOUT', 'temp', /timed out at banner/],
    [{ code: 'ETIMEDOUT', message: 'Connection timeout' }, 'connect', 'E_CONNECT', 'temp', /timed out at connect/],
    [{ code: 'EENVELOPE', command: 'MAIL FROM', response: '553 5.1.8 bad sender', responseCode: 553 }, 'mail', 'E_SMTP_PERM', 'perm', /MAIL FROM rejected: 553 5\.1\.8 bad sender/],
    [{ code: 'EMESSAGE', command: 'DATA', response: '451 4.3.0 try\nlater', responseCode: 451 }, 'data', 'E_SMTP_TEMP', 'temp', /451 4\.3\.0 try \/ later/],
    [{ code: 'ECONNECTION', response: '554 no service', responseCode: 554 }, 'banner', 'E_SMTP_PERM', 'perm', /banner: 554 no service/],
    [{ code: 'EPROTOCOL', message: 'Invalid greeting' }, 'banner', 'E_PROTOCOL', 'temp', /protocol error at banner/],
  ];
  for (const [err, stage, code, kind, re] of rows) {
    const e = classifySmtpError(err, stage as never, ctx);
    t.equal(e.code, code, `${JSON.stringify(err)} code`);
    t.equal(e.kind, kind, 'kind');
    t.match(e.message, re, 'message');
    t.match(e.message, /^mail\.example\.local \[127\.0\.0\.6\]:25: /, 'names the canonical host and address');
    t.notMatch(e.message, /\n/, 'one line');
    t.equal(e.detail.stage, stage);
  }
  const stripped = classifySmtpError({ code: 'ETLS', response: '500 unknown command', responseCode: 500 }, 'starttls', { ...ctx, starttlsOffered: false });
  t.equal(stripped.code, 'E_TLS_REQUIRED');
  t.match(stripped.message, /TLS is required \(hosts_require_tls\) but the server did not offer STARTTLS/);
});
