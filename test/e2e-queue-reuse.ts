/**
 * Queue runs over one reused connection, through the built bundle
 * (bin/send-smarthost) against the smtp-server peer: one connection and one
 * DNS lookup for a run of many messages, each delivered exactly once and
 * taken out of the spool; a session that breaks in the middle of a run
 * loses nothing and delivers nothing twice.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { startSmtp, type FakeSmtp, type FakeSmtpOptions } from '../fixtures/peers/fake-smtp.js';
import { BIN, NODE, testConfig, withoutTapHooks } from '../fixtures/peers/run-cli.js';
import { initSpool, spoolLayout, storeMessage } from '../lib/store/spool.js';
import { newHeader } from '../lib/store/header.js';
import { IdAllocator } from '../lib/store/ids.js';

interface Run {
  code: number | null;
  stderr: string;
}

/** Run the bundle without tap's hooks (they slow every CLI start down). */
function run(args: string[]): Promise<Run> {
  const env = withoutTapHooks(process.env);
  return new Promise((resolve, reject) => {
    const child = spawn(NODE[0]!, [...NODE.slice(1), BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, NO_COLOR: '1' }, cwd: '/' });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

interface Env {
  conf: string;
  smtp: FakeSmtp;
  queued: () => string[];
  input: () => string[];
  mainlog: () => string;
  /** Queue `n` messages (Subject: job <prefix><i>) directly in the spool. */
  fill: (n: number, prefix: string) => void;
}

async function setup(t: Test, smtp: FakeSmtpOptions = {}): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-reuse-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const server = await startSmtp({ cert: 'direct', ...smtp });
  t.teardown(() => server.close());
  const spool = join(dir, 'spool');
  const log = join(dir, 'mainlog');
  const conf = testConfig({ route: 'smarthost.example.test', dnsPort: dns.port, smtpPort: server.port, extra: [`spool_directory = ${spool}`, `log_file_path = ${log}`] });
  chmodSync(join(conf, '..'), 0o755);
  const layout = spoolLayout(spool);
  initSpool(layout);
  const ids = new IdAllocator(process.pid, Date.now);
  const input = (): string[] => readdirSync(layout.input).sort();
  return {
    conf,
    smtp: server,
    input,
    queued: () => input().filter((n) => n.endsWith('-H')).map((n) => n.slice(0, -2)),
    mainlog: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    fill: (n, prefix) => {
      for (let i = 0; i < n; i++) {
        const data = Buffer.from(`From: Cron <root@example.test>\r\nTo: admin@example.test\r\nSubject: job ${prefix}${i}\r\n\r\nbody ${i}\r\n`);
        storeMessage(layout, newHeader(ids.next(), 'root@example.test', ['admin@example.test'], data.length, Date.now(), { uid: 0, user: 'root' }), data);
      }
    },
  };
}

const subjects = (smtp: FakeSmtp): string[] => smtp.messages.map((m) => /Subject: job (\S+)/.exec(m.data.toString())?.[1] ?? '?');

t.test('a run of 50 messages: one connection, one DNS lookup, each message once, spool empty', async (t) => {
  const e = await setup(t);
  e.fill(50, 'r');
  const queriesBefore = dns.queries.length;
  const q = await run(['-C', e.conf, '-qf']);
  t.equal(q.code, 0, q.stderr);
  t.equal(e.smtp.sessions.length, 1, 'one connection for the whole run');
  t.ok(e.smtp.sessions[0]!.secure, 'under TLS');
  t.same(subjects(e.smtp).sort(), Array.from({ length: 50 }, (_, i) => `r${i}`).sort(), 'each message exactly once');
  t.same(e.input(), [], 'every message left the spool');
  const lookups = dns.queries.slice(queriesBefore).filter((q) => /smarthost\.example\.test/i.test(q.name));
  t.ok(lookups.length > 0 && lookups.length <= 2, `the route was resolved once (A, maybe AAAA), not per message: ${lookups.length}`);
  t.equal((e.mainlog().match(/ => admin@example\.test /g) ?? []).length, 50, 'one => line per message');
  t.equal((e.mainlog().match(/ Completed/g) ?? []).length, 50);
});

t.test('421 and a dropped connection at RCPT of a reused session: that message goes over a new connection at once', async (t) => {
  let rcpts = 0;
  const e = await setup(t, { onRcpt: () => (++rcpts === 8 ? '421 4.3.2 shutting down' : undefined) });
  e.fill(20, 'd');
  const q = await run(['-C', e.conf, '-qf']);
  t.equal(q.code, 0, q.stderr);
  t.same(subjects(e.smtp).sort(), Array.from({ length: 20 }, (_, i) => `d${i}`).sort(), 'each message exactly once (none of the refused one had been sent)');
  t.equal(e.smtp.sessions.length, 2, 'a new connection after the drop, then reused again');
  t.same(e.input(), []);
});

t.test('421 at the end of the data: that message stays queued (it may have arrived); the rest go over a new connection', async (t) => {
  let n = 0;
  const e = await setup(t, { onMessage: () => (++n === 5 ? '421 4.3.2 shutting down' : undefined) });
  e.fill(20, 'x');
  const q = await run(['-C', e.conf, '-qf']);
  t.equal(q.code, 0, q.stderr);
  const got = subjects(e.smtp);
  t.equal(got.length, 19, 'the others delivered');
  t.equal(new Set(got).size, 19, 'nothing delivered twice');
  t.equal(e.queued().length, 1, 'the refused one is still queued, not lost');
  t.ok(e.smtp.sessions.length >= 2 && e.smtp.sessions.length <= 3, `a new connection after the drop, not one per message: ${e.smtp.sessions.length}`);
  t.match(e.mainlog(), /== admin@example\.test .*421 4\.3\.2 shutting down/);
  const again = await run(['-C', e.conf, '-qf']);
  t.equal(again.code, 0, again.stderr);
  t.same(subjects(e.smtp).sort(), Array.from({ length: 20 }, (_, i) => `x${i}`).sort(), 'the next run delivers it, once');
  t.same(e.input(), []);
});
