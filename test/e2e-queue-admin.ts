/**
 * The queue's reports to senders and admins, through the built bundle
 * against the dns2 and smtp-server peers (issue 12): delay warnings
 * (delay_warning, with the test clock SEND_SMARTHOST_TEST_NOW), and
 * --init-spool making the log directory.
 */
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { message, run, setup } from '../fixtures/peers/queue-env.js';
import { testConfig } from '../fixtures/peers/run-cli.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

const HOURS = (h: number): NodeJS.ProcessEnv => ({ SEND_SMARTHOST_TEST_NOW: `+${h * 3600}` });

t.test('delay warnings: an RFC 3464 "delayed" report to the sender once per interval, logged as an arrival with R=', async (t) => {
  // the smarthost defers admin@ and takes everything else (the warnings to root@)
  const e = await setup(t, dns, { onRcpt: (a) => (a === 'admin@example.test' ? '451 4.7.1 greylisted' : undefined) }, ['delay_warning = 4h:8h']);
  t.equal((await run(['-C', e.conf, '-odi', 'admin@example.test'], { input: message('slow') })).code, 0);
  t.equal((await run(['-C', e.conf, '-odi', '-f', '', 'admin@example.test'], { input: message('null sender') })).code, 0);
  const [id, nul] = e.queued();
  t.equal((await run(['-C', e.conf, '-qf'], { env: HOURS(3) })).code, 0);
  t.equal(e.smtp.messages.length, 0, 'three hours: nothing yet');
  const q = await run(['-C', e.conf, '-qf'], { env: HOURS(5) });
  t.equal(q.code, 0, q.stderr);
  t.equal(e.smtp.messages.length, 1, 'after four hours: one warning, delivered in the same run; none for the null sender');
  const w = e.smtp.messages[0]!;
  t.same([w.from, w.to], ['', ['root@example.test']]);
  const text = w.data.toString();
  t.match(text, new RegExp(`\\r\\nSubject: Warning: message ${id} delayed 4 hours\\r\\n`));
  t.match(text, /\r\nContent-Type: multipart\/report; report-type=delivery-status;/);
  t.match(text, /\r\nAction: delayed\r\nStatus: 4\.\d\.\d\r\n/);
  t.match(text, /admin@example\.test\r\n +\S+ \[127\.0\.0\.1\]: 451 4\.7\.1 greylisted\r\n/, 'the reason, for people');
  t.match(text, /\r\nFinal-Recipient: rfc822; admin@example\.test\r\n/);
  t.match(text, /\r\nAuto-Submitted: auto-replied\r\n/);
  t.match(e.mainlog(), new RegExp(`(\\S+) <= <> R=${id} U=\\S+ P=local S=\\d+\\n[^]*\\1 => root@example\\.test`), 'logged as Exim does');
  t.notMatch(e.mainlog(), new RegExp(`R=${nul}`), 'never for the null sender');
  t.equal((await run(['-C', e.conf, '-qf'], { env: HOURS(7) })).code, 0);
  t.equal(e.smtp.messages.length, 1, 'once per interval');
  t.equal((await run(['-C', e.conf, '-qf'], { env: HOURS(9) })).code, 0);
  t.equal(e.smtp.messages.length, 2, 'the next time of the list: the next warning');
  t.match(e.smtp.messages[1]!.data.toString(), new RegExp(`Subject: Warning: message ${id} delayed 8 hours\\r\\n`));
  t.equal((await run(['-C', e.conf, '-qf'], { env: HOURS(11) })).code, 0);
  t.equal(e.smtp.messages.length, 2, 'past the list: its last gap (4 hours) repeats');
  t.equal((await run(['-C', e.conf, '-qf'], { env: HOURS(12) })).code, 0);
  t.equal(e.smtp.messages.length, 3);
  t.match((await run(['-C', e.conf, '-bP', 'delay_warning'])).stdout, /^delay_warning = 4h:8h\n$/);
});

t.test('--init-spool makes the log directory of log_file_path too, and says so; an existing one is left alone', async (t) => {
  const e = await setup(t, dns);
  const logDir = join(e.dir, 'logs', 'send-smarthost');
  const conf = testConfig({ route: 'smarthost.example.test', dnsPort: dns.port, smtpPort: e.smtp.port, extra: [`spool_directory = ${e.dir}/spool2`, `log_file_path = ${logDir}/mainlog`] });
  const r = await run(['-C', conf, '--init-spool']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /\/spool2\/incoming 1733\n/);
  const adm = process.getuid?.() === 0 && existsSync('/etc/group') && /^adm:/m.test(readFileSync('/etc/group', 'utf8'));
  const mode = adm ? '2750' : '0750';
  t.match(r.stdout, new RegExp(`\\n${logDir} ${mode} \\(the log directory${adm ? ', group adm' : ''}\\)\\n$`));
  t.equal(statSync(logDir).mode & 0o7777, Number.parseInt(mode, 8));
  const again = await run(['-C', conf, '--init-spool']);
  t.match(again.stdout, new RegExp(`\\n${logDir} ${mode} \\(the log directory: there already, left as it is\\)\\n$`));
  mkdirSync(join(e.dir, 'open'), { mode: 0o755 });
  const mine = testConfig({ route: 'smarthost.example.test', dnsPort: dns.port, smtpPort: e.smtp.port, extra: [`spool_directory = ${e.dir}/spool3`, `log_file_path = ${e.dir}/open/mainlog`] });
  t.equal((await run(['-C', mine, '--init-spool'])).code, 0);
  t.equal(statSync(join(e.dir, 'open')).mode & 0o7777, 0o755, 'a directory that was there keeps its mode');
});
