/**
 * Issue 10's reply defects end to end, through bin/send-smarthost (the
 * bundle, where nodemailer's DataStream is swapped for ours) against scripted
 * peers on loopback: a malformed reply, an unsolicited reply and a dripped
 * reply each defer the message (exit 75, no `=>` in the main log); before
 * the fixes the first two were logged delivered with exit 0, and the third
 * waited out the whole drip.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { startScriptSmtp, type SmtpScript } from '../fixtures/peers/script-smtp.js';
import { runCli, testConfig } from '../fixtures/peers/run-cli.js';

const MESSAGE = 'From: root@example.test\nTo: admin@example.test\nSubject: nightly\n\nall good\n';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

/** Run the CLI with -d against a scripted peer (plain SMTP, TLS not required). */
async function run(t: Test, script: SmtpScript, extra: string[] = []) {
  const peer = await startScriptSmtp(script);
  t.teardown(() => peer.close());
  const conf = testConfig({ route: `[127.0.0.1]::${peer.port}`, dnsPort: dns.port, smtpPort: peer.port, extra: ['hosts_require_tls =', ...extra] });
  const log = join(dirname(conf), 'mainlog');
  const started = Date.now();
  const res = await runCli(['-C', conf, '-d', 'admin@example.test'], MESSAGE);
  return { res, peer, took: Date.now() - started, mainlog: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

t.test('a malformed reply to the end of the data defers the message (was: => and exit 0)', async (t) => {
  const { res, mainlog } = await run(t, { dataEnd: '2500 looks like ok' });
  t.equal(res.code, 75, res.stderr);
  t.match(res.stderr, /deferred \(temporary failure; not delivered\): .*protocol error at data: the server sent an invalid reply: "2500 looks like ok"/);
  t.notMatch(mainlog, / => /, 'not logged as delivered');
  t.equal(mainlog, '', 'exit 75: the caller keeps the message, so nothing of it is logged (issue 9, point 7)');
  // with a spool the message is queued, and the deferral is logged
  const spool = join(mkdtempSync(join(tmpdir(), 'send-smarthost-wire-')), 'spool');
  t.teardown(() => rmSync(dirname(spool), { recursive: true, force: true }));
  const queued = await run(t, { dataEnd: '2500 looks like ok' }, [`spool_directory = ${spool}`]);
  t.equal(queued.res.code, 0, `queued: ${queued.res.stderr}`);
  t.notMatch(queued.mainlog, / => /);
  t.match(queued.mainlog, / == admin@example\.test .*invalid reply/);
});

t.test('a reply nobody asked for defers the message (was: the 250 taken for the end of the data)', async (t) => {
  const { res, peer, mainlog } = await run(t, { data: '354 go\n250 FAKE', dataEnd: '550 5.7.1 no' });
  t.equal(res.code, 75, res.stderr);
  t.match(res.stderr, /a reply when none was expected: "250 FAKE"/);
  t.notMatch(mainlog, / => /);
  t.equal(peer.bodies.length, 0, 'the message was not sent on');
});

t.test('command_timeout cuts a dripped reply (was: only delivery_timeout did)', async (t) => {
  const { res, took } = await run(t, { drip: { step: 'dataEnd', everyMs: 200 }, dataEnd: '250 2.0.0 Ok: queued as SCRIPT1, dripped slowly' }, ['command_timeout = 1s']);
  t.equal(res.code, 75, res.stderr);
  t.match(res.stderr, /timed out at data \(no complete reply to end of data within command_timeout 1s\)/);
  t.ok(took < 5000, `cut after about a second (${took} ms), not after the 10 s drip`);
});
