/**
 * Background delivery (-odb, the default delivery_mode) end to end through
 * the built bundle: the caller spools one drop file and exits 0 at once; a
 * detached `--deliver-drop` child delivers, defers into the queue, or
 * bounces; -v and -d watch an interactive delivery instead; a submitter
 * who cannot write input/ is delivered from its drop file.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { canSwitchUser, LATER, message, run, setup, type Env } from '../fixtures/peers/queue-env.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

const BACKGROUND = ['delivery_mode = background'];

/** Poll `done` every 20 ms for at most 15 s (a detached child has no exit status to wait for). */
async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 750; i++) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return done();
}

const incoming = (e: Env): string[] => readdirSync(join(e.spool, 'incoming'));

t.test('default mode: exit 0 once spooled; the detached child delivers and cleans up', async (t) => {
  const e = await setup(t, dns, {}, []); // no delivery_mode: the default
  const sub = await run(['-C', e.conf, 'admin@example.test'], { input: message('bg') });
  t.equal(sub.code, 0, sub.stderr);
  t.equal(sub.stderr, '', 'nothing on stderr');
  t.ok(await until(() => e.smtp.messages.length === 1), 'delivered by the background child');
  t.match(e.smtp.messages[0]!.data.toString(), /Subject: job bg/);
  t.same(e.smtp.messages[0]!.to, ['admin@example.test']);
  t.ok(await until(() => /Completed/.test(e.mainlog())), 'the child logs Completed');
  t.same(incoming(e), [], 'no drop file or claim left');
  t.same(e.input(), [], 'nothing queued');
  const log = e.mainlog();
  const id = /(\S+) <= root@example\.test/.exec(log)?.[1] ?? /(\S+) <= /.exec(log)?.[1];
  t.ok(id, 'arrival logged');
  t.match(log, new RegExp(`${id} => admin@example\\.test`), 'delivery logged under the same id');
});

t.test('background + 451: the child leaves it queued with its retry time; -q delivers it later', async (t) => {
  let answer: string | undefined = '451 4.7.1 try later';
  const e = await setup(t, dns, { onRcpt: () => answer }, BACKGROUND);
  const sub = await run(['-C', e.conf, 'admin@example.test'], { input: message(451) });
  t.equal(sub.code, 0, sub.stderr);
  t.ok(await until(() => e.queued().length === 1 && !existsSync(join(e.spool, 'input', `${e.queued()[0]}-L`))), 'deferred into input/');
  const [id] = e.queued();
  const h = JSON.parse(readFileSync(join(e.spool, 'input', `${id}-H`), 'utf8')) as { attempts: number; nextAttempt?: number };
  t.equal(h.attempts, 1, 'one attempt made by the child');
  t.ok(h.nextAttempt, 'with its retry time');
  t.same(incoming(e), []);
  answer = undefined;
  const q = await run(['-C', e.conf, '-q'], { env: LATER });
  t.equal(q.code, 0, q.stderr);
  t.equal(e.smtp.messages.length, 1);
  t.same(e.input(), []);
});

t.test('background + 550: the sender gets a bounce (nobody is left to read an exit code)', async (t) => {
  const e = await setup(t, dns, { onRcpt: (a) => (a === 'admin@example.test' ? '550 5.1.1 no such user' : undefined) }, BACKGROUND);
  const sub = await run(['-C', e.conf, '-f', 'cron@example.test', 'admin@example.test'], { input: message(550) });
  t.equal(sub.code, 0, sub.stderr);
  t.ok(await until(() => e.smtp.messages.length === 1), 'a bounce was delivered');
  const bounce = e.smtp.messages[0]!;
  t.equal(bounce.from, '', 'null sender');
  t.same(bounce.to, ['cron@example.test']);
  t.match(bounce.data.toString(), /550 5\.1\.1 no such user/);
  t.ok(await until(() => e.input().length === 0), 'nothing left in the queue');
});

t.test('-v and -d watch the delivery: interactive, the result before the exit', async (t) => {
  const e = await setup(t, dns, {}, BACKGROUND);
  const v = await run(['-C', e.conf, '-v', 'admin@example.test'], { input: message('v') });
  t.equal(v.code, 0, v.stderr);
  t.equal(e.smtp.messages.length, 1, 'delivered before the caller got its exit status');
  t.match(v.stderr, /MAIL FROM|delivered/);
  const odb = await run(['-C', e.conf, '-v', '-odb', 'admin@example.test'], { input: message('v-odb') });
  t.equal(odb.code, 0, odb.stderr);
  t.match(odb.stderr, /spooled; delivering in the background \(-odb\)/, '-v -odb: background as asked, and says so');
  t.ok(await until(() => e.smtp.messages.length === 2));
  t.ok(await until(() => incoming(e).length === 0), 'the deliverer is done');
});

t.test('a bad address is refused at once; nothing is spooled', async (t) => {
  const e = await setup(t, dns, {}, BACKGROUND);
  const bad = await run(['-C', e.conf, 'admin@example.test\r\nBcc: x@evil.test'], { input: message('bad') });
  t.equal(bad.code, 65, bad.stderr);
  t.same(incoming(e), []);
  t.same(e.input(), []);
});

t.test('background without a usable spool delivers at once instead', async (t) => {
  const e = await setup(t, dns, {}, BACKGROUND);
  rmSync(e.spool, { recursive: true });
  writeFileSync(e.spool, 'not a directory\n');
  const sub = await run(['-C', e.conf, '-d', '-odb', 'admin@example.test'], { input: message('nospool') });
  t.equal(sub.code, 0, sub.stderr);
  t.equal(e.smtp.messages.length, 1, 'delivered in the caller\'s process');
  t.match(sub.stderr, /delivering now instead \(-odi\)/);
});

t.test('an unprivileged submitter: delivered from its drop file, the drop removed; its log lines reach the main log by the next root run', { skip: canSwitchUser }, async (t) => {
  const e = await setup(t, dns, {}, BACKGROUND);
  const sub = await run(['-C', e.conf, 'admin@example.test'], { input: message('nobody-bg'), as: 'nobody' });
  t.equal(sub.code, 0, sub.stderr);
  t.equal(sub.stderr, '', 'a successful submission prints nothing (point 8)');
  t.ok(await until(() => e.smtp.messages.length === 1), 'delivered by nobody\'s own background child');
  t.match(e.smtp.messages[0]!.data.toString(), /Subject: job nobody-bg/);
  t.ok(await until(() => incoming(e).length === 1 && incoming(e)[0]!.endsWith('-J')), 'drop file and claim removed; its journal waits');
  t.same(e.input(), [], 'never in input/ (nobody cannot write there)');
  t.equal(e.mainlog(), '', 'the deliverer (nobody) cannot write the main log');
  const q = await run(['-C', e.conf, '-q']);
  t.equal(q.code, 0, q.stderr);
  const log = e.mainlog();
  const id = incoming(e)[0] ?? /(\S+) <= /.exec(log)?.[1];
  t.match(log, /\S+ <= nobody@example\.test U=nobody P=local S=\d+/, 'the arrival, with the journal owner as U= (point 7)');
  t.match(log, new RegExp(`${id} => admin@example\\.test R=smarthost T=remote_smtp H=smarthost\\.example\\.test \\[127\\.0\\.0\\.1\\]:\\d+ X=TLS`), 'the delivery, rendered by root');
  t.match(log, new RegExp(`${id} Completed`));
  t.same(incoming(e), [], 'the journal is gone');
});

t.test('a journal that lies is not copied into the main log (point 7)', { skip: canSwitchUser }, async (t) => {
  const e = await setup(t, dns, {}, BACKGROUND);
  const sub = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('nobody-q'), as: 'nobody' });
  t.equal(sub.code, 0, sub.stderr);
  const [id] = incoming(e);
  // nobody writes a journal for its own message, with forged lines and an injected line break
  const forged = [
    { ev: 'note', at: Date.now(), text: 'removed by root' },
    { ev: 'rcpt', at: Date.now(), r: { recipient: 'x@y\n2026-01-01 00:00:00 1aaaaa-000000-00 => evil', result: 'delivered', reason: '250 ok' } },
    { ev: 'note', at: Date.now(), text: 'hello\nfake line' },
  ].map((x) => JSON.stringify(x)).join('\n') + '\n';
  const w = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'sh', '-c', `cat > ${join(e.spool, 'incoming', `${id}-J`)}`], { input: forged });
  t.equal(w.status, 0, w.stderr.toString());
  const q = await run(['-C', e.conf, '-q']);
  t.equal(q.code, 0, q.stderr);
  const log = e.mainlog();
  t.notMatch(log, /removed by root/, 'a note that would read as root\'s action is refused');
  t.notMatch(log, /=> evil/, 'an address with a line break is refused');
  t.match(log, new RegExp(`${id} hello\\\\nfake line`), 'free text is escaped, one line');
  t.match(log, new RegExp(`${id} journal \\S+: 2 events refused`));
  t.match(log, new RegExp(`${id} <= nobody@example\\.test U=nobody`), 'the message itself arrives as usual');
});

t.test('an unprivileged submitter + 451: the drop is rewritten with its retry state; a root run queues it', { skip: canSwitchUser }, async (t) => {
  let answer: string | undefined = '451 later';
  const e = await setup(t, dns, { onRcpt: () => answer }, BACKGROUND);
  const sub = await run(['-C', e.conf, 'admin@example.test'], { input: message('nobody-451'), as: 'nobody' });
  t.equal(sub.code, 0, sub.stderr);
  const drop = (): string | undefined => incoming(e).find((n) => /^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/.test(n));
  const attempted = (): boolean => {
    const d = drop();
    if (!d || incoming(e).includes(`${d}-L`)) return false;
    return (JSON.parse(readFileSync(join(e.spool, 'incoming', d), 'utf8').split('\n')[0]!) as { attempts: number }).attempts === 1;
  };
  t.ok(await until(attempted), 'the drop file records one attempt');
  const early = await run(['-C', e.conf, '-q']);
  t.equal(early.code, 0, early.stderr);
  t.equal(e.queued().length, 1, 'moved into input/ by the root run');
  t.equal(e.smtp.messages.length, 0, 'not due yet: the retry time came along');
  answer = undefined;
  const later = await run(['-C', e.conf, '-q'], { env: LATER });
  t.equal(later.code, 0, later.stderr);
  t.equal(e.smtp.messages.length, 1);
  t.match(e.mainlog(), /<= nobody@example\.test U=nobody/);
});
