/**
 * Exim's operator commands on the queue, through the built bundle against
 * the dns2 and smtp-server peers (issue 12): -Mvh, -Mvb, -Mvl (a queued
 * message's header section, body and log lines), -Mf and -Mt (freeze,
 * thaw), -Mrm's line, -qff, delay warnings (delay_warning, with the test
 * clock SEND_SMARTHOST_TEST_NOW), and --init-spool making the log directory.
 * Who may use them is in test/e2e-queue.ts (another user: exit 77).
 */
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { LATER, message, run, setup } from '../fixtures/peers/queue-env.js';
import { testConfig } from '../fixtures/peers/run-cli.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

const HOURS = (h: number): NodeJS.ProcessEnv => ({ SEND_SMARTHOST_TEST_NOW: `+${h * 3600}` });

t.test('-Mvh, -Mvb, -Mvl: the header section, the body (LF line ends, bytes as they are), the log lines without the id', async (t) => {
  const e = await setup(t, dns, { onRcpt: () => '451 4.7.1 greylisted' });
  const sub = await run(['-C', e.conf, '-odi', 'admin@example.test'], { input: `${message('show')}café\n` });
  t.equal(sub.code, 0, sub.stderr);
  const [id] = e.queued();
  const vh = await run(['-C', e.conf, '-Mvh', id!]);
  t.equal(vh.code, 0, vh.stderr);
  t.match(vh.stdout, /^From: Cron <root@example\.test>\nTo: admin@example\.test\nSubject: job show\n(.+\n)*$/, 'the header lines, LF, nothing after them');
  t.match(vh.stdout, /\nMessage-ID: <[^>]+>\n/, 'with the fields added on submission');
  t.notMatch(vh.stdout, /body show|\r/);
  const vb = await run(['-C', e.conf, '-Mvb', id!]);
  t.equal(vb.code, 0, vb.stderr);
  t.equal(vb.stdout, 'body show\ncafé\n', 'the body only, 8-bit as it is');
  const vl = await run(['-C', e.conf, '-Mvl', id!]);
  t.equal(vl.code, 0, vl.stderr);
  t.match(vl.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d <= root@example\.test U=\S+ P=local S=\d+/, "Exim's msglog shape: the main log's line without the id");
  t.match(vl.stdout, /\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d == admin@example\.test R=smarthost T=remote_smtp defer \(-44\) /);
  t.notMatch(vl.stdout, new RegExp(id!), 'no id in the lines');

  const drop = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('dropped') });
  t.equal(drop.code, 0, drop.stderr);
  const [dropped] = e.drops();
  t.match((await run(['-C', e.conf, '-Mvh', dropped!])).stdout, /^From: Cron <root@example\.test>\n/, 'a drop file waiting in incoming/ too');
  t.equal((await run(['-C', e.conf, '-Mvb', dropped!])).stdout, 'body dropped\n');
  t.equal((await run(['-C', e.conf, '-Mvl', dropped!])).stdout, '', 'no line yet: its arrival is logged when it is first claimed');

  const missing = await run(['-C', e.conf, '-Mvh', '1aaaaa-000000-00']);
  t.equal(missing.code, 66);
  t.equal(missing.stderr, 'send-smarthost: message 1aaaaa-000000-00 is not in the queue\n');
  const two = await run(['-C', e.conf, '-Mvb', id!, dropped!]);
  t.equal(two.code, 64);
  t.equal(two.stderr, 'send-smarthost: -Mvb takes one message id\n');
});

t.test('-Mf, -Mt: listed frozen, passed over by -q and -qf; -M delivers and logs "Unfrozen by forced delivery"; -qff is logged as -qff', async (t) => {
  let answer: string | undefined = '451 later';
  const e = await setup(t, dns, { onRcpt: () => answer });
  for (const n of [1, 2]) t.equal((await run(['-C', e.conf, '-odi', 'admin@example.test'], { input: message(`frozen ${n}`) })).code, 0);
  const [a, b] = e.queued();
  const f = await run(['-C', e.conf, '-Mf', a!, b!]);
  t.equal(f.code, 0, f.stderr);
  t.equal(f.stdout, `Message ${a} is now frozen\nMessage ${b} is now frozen\n`, "Exim's lines");
  t.equal((await run(['-C', e.conf, '-Mf', a!])).stdout, `Message ${a} is already frozen\n`);
  const bp = await run(['-C', e.conf, '-bp']);
  t.match(bp.stdout, new RegExp(` ${a} <root@example\\.test> \\*\\*\\* frozen \\*\\*\\*\\n`));
  answer = undefined;
  t.equal((await run(['-C', e.conf, '-q'], { env: LATER })).code, 0);
  t.equal((await run(['-C', e.conf, '-qf'])).code, 0);
  t.equal(e.smtp.messages.length, 0, '-q and -qf pass frozen messages over');
  const m = await run(['-C', e.conf, '-M', a!]);
  t.equal(m.code, 0, m.stderr);
  t.equal(e.smtp.messages.length, 1, '-M delivers a frozen message');
  t.match(e.mainlog(), new RegExp(`${a} frozen by \\S+\\n[^]*${a} Unfrozen by forced delivery\\n[^]*${a} => admin@example\\.test`));
  const thaw = await run(['-C', e.conf, '-Mt', b!]);
  t.equal(thaw.stdout, `Message ${b} is no longer frozen\n`);
  t.match(e.mainlog(), new RegExp(`${b} unfrozen by \\S+\\n`));
  t.equal((await run(['-C', e.conf, '-Mt', b!])).stdout, `Message ${b} is not frozen\n`);
  t.equal((await run(['-C', e.conf, '-Mf', b!])).code, 0);
  const qff = await run(['-C', e.conf, '-qff']);
  t.equal(qff.code, 0, qff.stderr);
  t.equal(e.smtp.messages.length, 2, '-qff delivers frozen messages too');
  t.match(e.mainlog(), /Start queue run: pid=\d+ -qff\n[^]*Unfrozen by forced delivery\n[^]*End queue run: pid=\d+ -qff\n/);
  t.same(e.queued(), []);
  t.equal((await run(['-C', e.conf, '-Mf', a!])).code, 66, 'gone: not in the queue');
});

t.test('-Mf of a drop file: moved into input/ frozen, its arrival logged; -Mrm says "has been removed"', async (t) => {
  const e = await setup(t, dns, { onRcpt: () => undefined });
  t.equal((await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('drop') })).code, 0);
  const [id] = e.drops();
  t.equal((await run(['-C', e.conf, '-Mf', id!])).stdout, `Message ${id} is now frozen\n`);
  t.same(e.drops(), []);
  t.same(e.queued(), [id]);
  t.match(e.mainlog(), new RegExp(`${id} <= root@example\\.test U=\\S+ P=local S=\\d+\\n.*${id} frozen by \\S+\\n`));
  t.equal((await run(['-C', e.conf, '-q'])).code, 0);
  t.equal(e.smtp.messages.length, 0, 'passed over');
  const rm = await run(['-C', e.conf, '-Mrm', id!, '1aaaaa-000000-00']);
  t.equal(rm.code, 66, 'one of them was not there');
  t.equal(rm.stdout, `Message ${id} has been removed\n`, "Exim's line, for the one removed");
  t.equal(rm.stderr, 'send-smarthost: message 1aaaaa-000000-00 is not in the queue\n');
});

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
