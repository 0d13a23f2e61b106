/**
 * The queue end to end, through the built bundle (bin/send-smarthost) against
 * the dns2 and smtp-server peers: deferred then delivered, crash safety at
 * every step (SIGKILL through the test-only SEND_SMARTHOST_TEST_CRASH hook and
 * from the server's side), two runners at once, bounces, frozen bounces, and
 * an unprivileged submitter (user nobody) when the machine allows it.
 * Clocks are moved with SEND_SMARTHOST_TEST_NOW (test-only), never slept.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { canSwitchUser, LATER, message, run, setup } from '../fixtures/peers/queue-env.js';
import { testConfig } from '../fixtures/peers/run-cli.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

t.test('deferred (451), listed by -bp, then delivered by -q; log == then =>', async (t) => {
  let answer: string | undefined = '451 4.7.1 greylisted, try later';
  const e = await setup(t, dns, { onRcpt: () => answer }, [], true);
  const sub = await run(['-C', e.conf, 'admin@example.test'], { input: message(1) });
  t.equal(sub.code, 0, `a deferred message that was queued exits 0: ${sub.stderr}`);
  t.equal(sub.stderr, '', 'nothing on stderr without -v');
  const [id] = e.queued();
  t.ok(id, 'in the queue');
  t.same(e.input(), [`${id}-D`, `${id}-H`]);
  const bp = await run(['-C', e.conf, '-bp']);
  t.equal(bp.code, 0);
  t.match(bp.stdout, new RegExp(`^ 0m +\\d+ ${id} <root@example\\.test>\\n {10}admin@example\\.test\\n\\n$`));
  const bpc = await run(['-C', e.conf, '-bpc']);
  t.equal(bpc.stdout, '1\n');
  const early = await run(['-C', e.conf, '-q']);
  t.equal(early.code, 0);
  t.equal(e.smtp.messages.length, 0, 'not due yet: -q leaves it');
  answer = undefined;
  const q = await run(['-C', e.conf, '-q'], { env: LATER });
  t.equal(q.code, 0, q.stderr);
  t.equal(e.smtp.messages.length, 1, 'delivered');
  t.match(e.smtp.messages[0]!.data.toString(), /Subject: job 1/);
  t.same(e.input(), [], 'spool empty');
  t.equal((await run(['-C', e.conf, '-bp'])).stdout, '', 'empty queue: no output');
  const log = e.mainlog();
  t.match(log, new RegExp(`${id} <= root@example\\.test U=\\S+ P=local S=\\d+`));
  t.match(log, new RegExp(`${id} == admin@example\\.test R=smarthost T=remote_smtp defer \\(-44\\) H=smarthost\\.example\\.test \\[127\\.0\\.0\\.1\\]:${e.smtp.port}: .*451 4\\.7\\.1 greylisted`));
  t.match(log, new RegExp(`${id} => admin@example\\.test R=smarthost T=remote_smtp H=smarthost\\.example\\.test \\[127\\.0\\.0\\.1\\]:${e.smtp.port} X=TLSv1\\.3:\\S+ CV=yes certname=smarthost\\.example\\.test C="250 Ok: queued as FAKE1"`));
  t.ok(log.indexOf(`${id} ==`) < log.indexOf(`${id} =>`), '== before =>');
  t.match(log, new RegExp(`${id} Completed`));
  t.match(log, /Start queue run: pid=\d+\n[^]*End queue run: pid=\d+/);
});

t.test('-odq queues without trying; -v says why; --no-queue keeps exit 75', async (t) => {
  const e = await setup(t, dns, { onRcpt: () => '451 later' });
  const odq = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message(2) });
  t.equal(odq.code, 0);
  t.equal(e.smtp.sessions.length, 0, 'no connection');
  t.equal(e.drops().length, 1, 'one drop file in incoming/ (the next queue run moves it)');
  const [dropped] = e.drops();
  const listed = await run(['-C', e.conf, '-bp']);
  t.match(listed.stdout, new RegExp(`^ 0m +\\d+ ${dropped} <root@example\\.test>\\n {10}admin@example\\.test\\n\\n$`), '-bp lists it like a queued message');
  t.equal((await run(['-C', e.conf, '-bpc'])).stdout, '1\n');
  const v = await run(['-C', e.conf, '-v', 'admin@example.test'], { input: message(3) });
  t.equal(v.code, 0);
  t.match(v.stderr, /message \S+ queued for <admin@example\.test>: .*451 later/);
  const nq = await run(['-C', e.conf, '--no-queue', 'admin@example.test'], { input: message(4) });
  t.equal(nq.code, 75);
  t.match(nq.stderr, /deferred \(temporary failure; not delivered\)/);
  t.equal(e.queued().length + e.drops().length, 2, '--no-queue spooled nothing');
  const rm = await run(['-C', e.conf, '-Mrm', ...e.queued(), ...e.drops()]);
  t.equal(rm.code, 0, rm.stderr);
  t.same(e.input(), []);
  t.same(readdirSync(join(e.spool, 'incoming')), [], '-Mrm removes a drop file too');
  t.match(e.mainlog(), new RegExp(`${dropped} removed by \\S+\\n.*${dropped} Completed`));
  t.match(e.mainlog(), /removed by \S+\n.*Completed/);
  const missing = await run(['-C', e.conf, '-M', '1aaaaa-000000-00']);
  t.equal(missing.code, 66);
  t.match(missing.stderr, /message 1aaaaa-000000-00 is not in the queue/);
});

t.test('a spool that cannot be written: exit 75, the caller keeps the message', async (t) => {
  const e = await setup(t, dns, { onRcpt: () => '451 later' });
  // a spool below a regular file: it can neither be written nor made
  const conf = testConfig({ route: 'smarthost.example.test', dnsPort: dns.port, smtpPort: e.smtp.port, extra: [`spool_directory = ${e.log}-is-a-file/spool`, `log_file_path = ${e.log}`] });
  writeFileSync(`${e.log}-is-a-file`, '');
  const r = await run(['-C', conf, 'admin@example.test'], { input: message(5) });
  t.equal(r.code, 75);
  t.match(r.stderr, /cannot create .*-is-a-file\/spool: ENOTDIR; message not queued/);
  t.match(r.stderr, /<admin@example\.test>: deferred \(temporary failure; not delivered\)/);
  if (process.getuid?.() === 0) {
    // root makes a missing spool on first use
    const conf2 = testConfig({ route: 'smarthost.example.test', dnsPort: dns.port, smtpPort: e.smtp.port, extra: [`spool_directory = ${e.dir}/made-on-demand`, `log_file_path = ${e.log}`] });
    const r2 = await run(['-C', conf2, 'admin@example.test'], { input: message(6) });
    t.equal(r2.code, 0, r2.stderr);
    t.equal(statSync(join(e.dir, 'made-on-demand', 'incoming')).mode & 0o7777, 0o1733);
    t.equal(readdirSync(join(e.dir, 'made-on-demand', 'input')).filter((n) => n.endsWith('-H')).length, 1);
  }
});

t.test('crash safety: SIGKILL at every step of a submission', async (t) => {
  let answer: string | undefined;
  const e = await setup(t, dns, { onRcpt: () => answer });
  let queuedTotal = 0;
  // a deferral is queued in input/ (-D, then -H); -odq writes one drop file
  const steps: [string, string[], string[], string][] = [
    ['deferred', ['admin@example.test'], ['D:before-tmp', 'D:after-tmp', 'D:after-rename', 'H:before-tmp', 'H:after-tmp', 'H:after-rename'], 'H:after-rename'],
    ['-odq', ['-odq', 'admin@example.test'], ['drop:before-tmp', 'drop:after-tmp', 'drop:after-rename'], 'drop:after-rename'],
  ];
  for (const [what, args, points, safe] of steps) {
    for (const point of points) {
      await t.test(`${what}: ${point}`, async (t) => {
        answer = what === 'deferred' ? '451 later' : undefined;
        const before = e.queued().length + e.drops().length;
        const r = await run(['-C', e.conf, ...args], { input: message(point), env: { SEND_SMARTHOST_TEST_CRASH: point } });
        t.equal(r.signal, 'SIGKILL', 'the process died there: the caller did not get exit 0 and keeps the message');
        const queued = e.queued().length + e.drops().length - before;
        t.equal(queued, point === safe ? 1 : 0, `queued exactly when the ${what === 'deferred' ? '-H' : 'drop file'} is in place`);
        t.equal(e.smtp.messages.length, 0, 'nothing half-delivered');
        queuedTotal += queued;
      });
    }
  }
  await t.test('the next queue run delivers what is queued and clears the debris', async (t) => {
    t.ok(readdirSync(join(e.spool, 'tmp')).length > 0 || e.input().some((n) => n.endsWith('-D')), 'the crashes left debris');
    answer = undefined;
    // two days on, so that the debris is old enough to be removed
    const q = await run(['-C', e.conf, '-qf'], { env: { SEND_SMARTHOST_TEST_NOW: '+172800' } });
    t.equal(q.code, 0, q.stderr);
    t.equal(e.smtp.messages.length, queuedTotal, 'each queued message delivered once');
    t.same(e.input(), [], 'no data file, header, lock or temporary file left');
    t.same(readdirSync(join(e.spool, 'tmp')), []);
    t.same(readdirSync(join(e.spool, 'incoming')), [], 'nor a half-written drop file');
  });
  await t.test('mid-DATA (killed by the server side): not delivered, not acknowledged', async (t) => {
    let pid = 0;
    const e = await setup(t, dns, {
      onMessage: () => {
        process.kill(pid, 'SIGKILL');
        return '451 client gone';
      },
    });
    const r = await run(['-C', e.conf, 'admin@example.test'], { input: message('data'), onPid: (p) => (pid = p) });
    t.equal(r.signal, 'SIGKILL');
    t.equal(e.smtp.messages.length, 0);
    t.equal(e.queued().length, 0, 'the caller still has it: it never got exit 0');
    t.notMatch(e.mainlog(), /<=/, 'and the main log never saw it arrive (point 7)');
  });
  await t.test('-odb killed right after placing its drop file: delivered later, with its arrival logged (point 7)', async (t) => {
    const e = await setup(t, dns, {}, ['delivery_mode = background']);
    const r = await run(['-C', e.conf, 'admin@example.test'], { input: message('odb-killed'), env: { SEND_SMARTHOST_TEST_CRASH: 'drop:after-rename' } });
    t.equal(r.signal, 'SIGKILL');
    const [id] = e.drops();
    t.ok(id, 'the drop file is in place');
    t.equal(e.mainlog(), '', 'nothing logged yet');
    const q = await run(['-C', e.conf, '-q']);
    t.equal(q.code, 0, q.stderr);
    t.equal(e.smtp.messages.length, 1);
    t.match(e.mainlog(), new RegExp(`${id} <= root@example\\.test U=\\S+ P=local S=\\d+\n[^]*${id} => admin@example\\.test[^]*${id} Completed`), '<= first, then => and Completed');
  });
  await t.test('-odi: <= is logged once the message is delivered or queued, before its other lines; never for a caller that keeps it (point 7)', async (t) => {
    let answer: string | undefined;
    const e = await setup(t, dns, { onRcpt: () => answer });
    const ok = await run(['-C', e.conf, '-odi', 'admin@example.test'], { input: message('odi') });
    t.equal(ok.code, 0, ok.stderr);
    t.match(e.mainlog(), /^\S+ \S+ (\S+) <= root@example\.test [^\n]*\n\S+ \S+ \1 => admin@example\.test[^\n]*\n\S+ \S+ \1 Completed\n$/);
    answer = '451 later';
    const before = e.mainlog();
    const nq = await run(['-C', e.conf, '-odi', '--no-queue', 'admin@example.test'], { input: message('odi-75') });
    t.equal(nq.code, 75);
    t.equal(e.mainlog(), before, 'exit 75: the caller keeps it, the log has no line of it');
  });
});

t.test('crash safety: SIGKILL during queue runs', async (t) => {
  await t.test('after the server\'s 250, before the spool update: duplicate, never lost', async (t) => {
    let answer: string | undefined = '451 later';
    const e = await setup(t, dns, { onRcpt: () => answer });
    t.equal((await run(['-C', e.conf, 'admin@example.test'], { input: message('dup') })).code, 0);
    answer = undefined;
    const r = await run(['-C', e.conf, '-qf'], { env: { SEND_SMARTHOST_TEST_CRASH: 'delivered' } });
    t.equal(r.signal, 'SIGKILL');
    t.equal(e.smtp.messages.length, 1, 'the server has it');
    t.equal(e.queued().length, 1, 'and it is still queued');
    t.ok(e.input().some((n) => n.endsWith('-L')), 'the dead runner left its lock');
    const again = await run(['-C', e.conf, '-q'], { env: LATER });
    t.equal(again.code, 0);
    t.equal(e.smtp.messages.length, 2, 'stale lock taken over; delivered again (the one allowed failure mode: a duplicate)');
    t.same(e.input(), []);
  });
  for (const point of ['H:before-tmp', 'H:after-tmp', 'H:after-rename']) {
    await t.test(`header update after a partial delivery: ${point}`, async (t) => {
      let answer: (a: string) => string | undefined = () => '451 later';
      const e = await setup(t, dns, { onRcpt: (a) => answer(a) });
      t.equal((await run(['-C', e.conf, 'one@example.test', 'two@example.test'], { input: message(point) })).code, 0);
      answer = (a) => (a === 'two@example.test' ? '451 still later' : undefined);
      const r = await run(['-C', e.conf, '-qf'], { env: { SEND_SMARTHOST_TEST_CRASH: point } });
      t.equal(r.signal, 'SIGKILL');
      t.equal(e.queued().length, 1, 'still queued');
      const h = JSON.parse(readFileSync(join(e.spool, 'input', `${e.queued()[0]}-H`), 'utf8')) as { recipients: string[] };
      t.same(h.recipients, point === 'H:after-rename' ? ['two@example.test'] : ['one@example.test', 'two@example.test'], 'old or new header, never a broken one');
      answer = () => undefined;
      t.equal((await run(['-C', e.conf, '-qf'])).code, 0);
      const got = e.smtp.messages.flatMap((m) => m.to);
      t.ok(got.includes('two@example.test') && got.includes('one@example.test'), 'everyone got it');
      t.same(e.input(), []);
    });
  }
  await t.test('mid-DATA in a queue run: still queued, delivered by the next run', async (t) => {
    let pid = 0;
    let kill = false;
    let answer: string | undefined = '451 later';
    const e = await setup(t, dns, {
      onRcpt: () => answer,
      onMessage: () => {
        if (!kill) return undefined;
        process.kill(pid, 'SIGKILL');
        return '451 client gone';
      },
    });
    t.equal((await run(['-C', e.conf, 'admin@example.test'], { input: message('qdata') })).code, 0);
    answer = undefined;
    kill = true;
    const r = await run(['-C', e.conf, '-qf'], { onPid: (p) => (pid = p) });
    t.equal(r.signal, 'SIGKILL');
    t.equal(e.queued().length, 1);
    kill = false;
    t.equal((await run(['-C', e.conf, '-qf'])).code, 0);
    t.equal(e.smtp.messages.length, 1);
    t.same(e.input(), []);
  });
});

t.test('two queue runners at once: every message delivered exactly once', async (t) => {
  const e = await setup(t, dns, {});
  const N = 8;
  for (let i = 0; i < N; i++) t.equal((await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message(`c${i}`) })).code, 0);
  t.equal(e.drops().length, N, 'all in incoming/: both runners move drop files (each under its claim) and deliver');
  const [a, b] = await Promise.all([run(['-C', e.conf, '-qf']), run(['-C', e.conf, '-qf'])]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  const subjects = e.smtp.messages.map((m) => /Subject: (job c\d+)/.exec(m.data.toString())?.[1]).sort();
  t.same(subjects, Array.from({ length: N }, (_, i) => `job c${i}`).sort(), 'each once');
  t.same(e.input(), []);
});

t.test('bounces: after a 5xx in a queue run, and after the retry time is exceeded', async (t) => {
  let answer: (a: string) => string | undefined = () => '451 later';
  const e = await setup(t, dns, { onRcpt: (a) => answer(a), hideDSN: true });
  t.equal((await run(['-C', e.conf, '-f', 'sender@example.test', 'gone@example.test'], { input: message('b1') })).code, 0);
  answer = (a) => (a === 'gone@example.test' ? '550 5.1.1 no such user' : undefined);
  t.equal((await run(['-C', e.conf, '-qf'])).code, 0);
  t.equal(e.smtp.messages.length, 1, 'one bounce');
  const dsn = e.smtp.messages[0]!;
  t.equal(dsn.from, '', 'null sender');
  t.same(dsn.to, ['sender@example.test']);
  const text = dsn.data.toString();
  t.match(text, /Content-Type: multipart\/report; report-type=delivery-status/);
  t.match(text, /Final-Recipient: rfc822; ?gone@example\.test/);
  t.match(text, /550 5\.1\.1 no such user/);
  t.match(text, /Subject: job b1/, 'the original headers');
  t.same(e.input(), []);

  answer = (a) => (a === 'slow@example.test' ? '451 later' : undefined);
  t.equal((await run(['-C', e.conf, '-f', 'sender@example.test', 'slow@example.test'], { input: message('b2') })).code, 0);
  t.equal((await run(['-C', e.conf, '-q'], { env: { SEND_SMARTHOST_TEST_NOW: String(Date.now() + 5 * 86_400_000) } })).code, 0);
  t.equal(e.smtp.messages.length, 2, 'a bounce after 5 days (past F,4d,6h)');
  t.match(e.smtp.messages[1]!.data.toString(), /slow@example\.test[^]*retry timeout exceeded/);
  t.same(e.input(), []);
  t.match(e.mainlog(), /\*\* slow@example\.test: retry timeout exceeded/);
});

t.test('no bounce for a bounce: frozen and listed; -oem exits 69', async (t) => {
  const e = await setup(t, dns, { onRcpt: () => '550 5.7.1 nobody here' });
  const r = await run(['-C', e.conf, '-oem', '-f', 'sender@example.test', 'x@example.test'], { input: message('f') });
  t.equal(r.code, 69);
  t.equal(e.smtp.messages.length, 0);
  const bp = await run(['-C', e.conf, '-bp']);
  t.match(bp.stdout, /^ +0m +\d+(\.\d)?K? \S+ <> \*\*\* frozen \*\*\*\n {10}sender@example\.test\n\n$/);
  t.equal((await run(['-C', e.conf, '-qf'])).code, 0);
  t.equal(e.queued().length, 1, 'a queue run leaves it frozen');
  t.match(e.mainlog(), /Frozen \(delivery of a bounce failed/);
  const ep = await run(['-C', e.conf, '-f', 'sender@example.test', 'x@example.test'], { input: message('g') });
  t.equal(ep.code, 69, 'default -oep');
  t.match(ep.stderr, /<x@example\.test>: failed via smarthost\.example\.test: 550 5\.7\.1 nobody here/);
  t.equal(e.queued().length, 1, '-oep: no bounce');
});



t.test('unprivileged submitter: drop file 0600, private, delivered by a root queue run', { skip: canSwitchUser }, async (t) => {
  const e = await setup(t, dns, { onRcpt: () => '451 later' });
  const sub = await run(['-C', e.conf, 'admin@example.test'], { input: message('nobody'), as: 'nobody' });
  t.equal(sub.code, 0, sub.stderr);
  t.equal(sub.stderr, '', 'nothing on stderr: no main-log line (point 8)');
  const odq = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('daemon'), as: 'daemon' });
  t.equal(odq.code, 0, odq.stderr);
  t.equal(odq.stderr, '', 'nothing on stderr');
  const incoming = join(e.spool, 'incoming');
  const drops = e.drops();
  t.same(readdirSync(incoming).filter((n) => n.endsWith('-J')), [`${drops.find((d) => statSync(join(incoming, d)).uid === 65534)}-J`], "nobody's -odi lines wait in its message's journal");
  t.equal(drops.length, 2, 'two drop files');
  const owners = drops.map((d) => statSync(join(incoming, d))).map((s) => [s.uid, s.mode & 0o777]);
  t.same(owners.map(([, mode]) => mode), [0o600, 0o600], 'mode 0600');
  t.same(owners.map(([uid]) => uid).sort(), [1, 65534], 'owned by their submitters');
  t.same(e.queued(), [], 'not in input/: nobody cannot write there');
  const daemonDrop = drops.find((d) => statSync(join(incoming, d)).uid === 1)!;
  const peek = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'cat', join(incoming, daemonDrop)]);
  t.not(peek.status, 0, 'nobody cannot read daemon\'s drop file');
  t.match(peek.stderr.toString(), /Permission denied/);
  const ls = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'ls', incoming]);
  t.not(ls.status, 0, 'nor list the drop directory');
  const rm = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'rm', '-f', join(incoming, daemonDrop)]);
  t.not(rm.status, 0, 'nor remove it (sticky bit)');
  t.ok(existsSync(join(incoming, daemonDrop)));
  const nq = await run(['-C', e.conf, '-q'], { as: 'nobody' });
  t.not(nq.code, 0, 'nobody cannot run the queue');
  const bp = await run(['-C', e.conf, '-bp']);
  for (const d of drops) t.match(bp.stdout, new RegExp(` ${d} <(nobody|daemon)@example\\.test>`), 'root lists the drop files');
  const q = await run(['-C', e.conf, '-qf'], { env: LATER });
  t.equal(q.code, 0, q.stderr);
  t.same(readdirSync(incoming), [], 'drops moved, journal rendered');
  t.match(e.mainlog(), /<= nobody@example\.test U=nobody P=local/);
  t.match(e.mainlog(), /(\S+) <= nobody@example\.test[^]*\1 == admin@example\.test[^]*\1 == admin@example\.test/, "nobody's own attempt (from its journal), then the run's");
  t.match(e.mainlog(), /<= daemon@example\.test U=daemon P=local/);
  // the smarthost still says 451: both now wait in input/, recorded with their owners
  const heads = e.queued().map((id) => JSON.parse(readFileSync(join(e.spool, 'input', `${id}-H`), 'utf8')) as { submitter: { uid: number } });
  t.same(heads.map((h) => h.submitter.uid).sort(), [1, 65534]);
  const spoolFiles = readdirSync(join(e.spool, 'input')).map((n) => statSync(join(e.spool, 'input', n)));
  t.ok(spoolFiles.every((s) => s.uid === 0 && (s.mode & 0o077) === 0), 'input/ files are root-owned and private');
});

t.test('unprivileged submitter killed while writing its drop file', { skip: canSwitchUser }, async (t) => {
  const e = await setup(t, dns, {});
  const incoming = join(e.spool, 'incoming');
  for (const point of ['drop:before-tmp', 'drop:after-tmp', 'drop:after-rename']) {
    const r = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message(point), as: 'nobody', env: { SEND_SMARTHOST_TEST_CRASH: point } });
    t.equal(r.signal, 'SIGKILL', point);
  }
  const names = readdirSync(incoming);
  t.equal(names.filter((n) => /^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/.test(n)).length, 1, 'only the one linked into place is a drop file');
  const q = await run(['-C', e.conf, '-qf'], { env: { SEND_SMARTHOST_TEST_NOW: '+172800' } });
  t.equal(q.code, 0, q.stderr);
  t.equal(e.smtp.messages.length, 1, 'it is delivered');
  t.match(e.smtp.messages[0]!.data.toString(), /Subject: job drop:after-rename/);
  t.same(readdirSync(incoming), [], 'the half-written temporary file is gone after a day');
  t.same(e.input(), []);
});

t.test('-Mrm, -M, -q, -Mf, -Mt and -Mv… by another user: refused in one line, exit 77 (EX_NOPERM); the own drop file may go', { skip: canSwitchUser }, async (t) => {
  const e = await setup(t, dns, { onRcpt: () => '451 later' });
  const root = await run(['-C', e.conf, 'admin@example.test'], { input: message('root') });
  t.equal(root.code, 0, root.stderr);
  const [queued] = e.queued();
  const rootDrop = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('root-drop') });
  t.equal(rootDrop.code, 0, rootDrop.stderr);
  const [dropped] = e.drops();
  const admin = [['-Mf', queued!], ['-Mt', queued!], ['-Mvh', queued!], ['-Mvb', dropped!], ['-Mvl', queued!]];
  for (const args of [['-Mrm', queued!], ['-Mrm', dropped!], ['-M', queued!], ['-qf'], ...admin]) {
    const r = await run(['-C', e.conf, ...args], { as: 'nobody' });
    t.equal(r.code, 77, `${args.join(' ')}: exit 77`);
    t.match(r.stderr, /^send-smarthost: .*(permission denied|only root or the spool owner)[^\n]*\n$/, `${args.join(' ')}: one line: ${r.stderr}`);
    t.notMatch(r.stderr, /internal error|\n {4}at /, 'no stack trace');
  }
  t.same(e.queued(), [queued], 'the queued message is still there');
  t.same(e.drops(), [dropped], "root's drop file is still there");
  const mine = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('mine'), as: 'nobody' });
  t.equal(mine.code, 0, mine.stderr);
  const own = e.drops().find((d) => d !== dropped)!;
  const rm = await run(['-C', e.conf, '-Mrm', own], { as: 'nobody' });
  t.equal(rm.code, 0, `its submitter may remove its own drop file: ${rm.stderr}`);
  t.equal(rm.stdout, `Message ${own} has been removed\n`, "Exim's line");
  t.same(e.drops(), [dropped]);
});
