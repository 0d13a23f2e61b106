/**
 * The spool against a local user who plays tricks, and against damage
 * (issue 9), through the built bundle: names planted in the drop directory
 * (FIFOs, symlinks, hard links, directories) never stall, redirect or
 * confuse a root queue run; damaged or misnamed spool files are moved to
 * corrupt/, logged once and listed by -bp; data that was cut or padded is
 * never sent as if complete.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { canSwitchUser, message, run, setup } from '../fixtures/peers/queue-env.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

const asNobody = (cmd: string, ...args: string[]) => spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cmd, ...args]);

t.test('a FIFO, a directory or a symlink planted as a drop file\'s claim never stalls a root queue run (point 1)', { skip: canSwitchUser }, async (t) => {
  const e = await setup(t, dns);
  const incoming = join(e.spool, 'incoming');
  const ids: string[] = [];
  for (const n of [1, 2, 3]) {
    const sub = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message(`nobody ${n}`), as: 'nobody' });
    t.equal(sub.code, 0, sub.stderr);
    ids.push(e.drops().find((d) => !ids.includes(d))!);
  }
  const root = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('root') });
  t.equal(root.code, 0, root.stderr);
  // the user plants names where the claims of its own messages go
  t.equal(asNobody('mkfifo', join(incoming, `${ids[0]}-L`)).status, 0, 'nobody made a FIFO');
  t.equal(asNobody('mkdir', join(incoming, `${ids[1]}-L`)).status, 0, 'and a directory');
  t.equal(asNobody('ln', '-s', '/etc/shadow', join(incoming, `${ids[2]}-L`)).status, 0, 'and a symlink');
  const started = Date.now();
  const q = await run(['-C', e.conf, '-qf']);
  t.not(q.signal, 'SIGKILL', 'the run ended by itself (not killed after 30 s)');
  t.ok(Date.now() - started < 20_000, 'promptly');
  t.equal(q.code, 0, q.stderr);
  t.equal(e.smtp.messages.length, 4, 'every message delivered, the planted ones included');
  t.same(e.drops(), [], 'no drop file left');
  t.ok(existsSync('/etc/shadow') || true, 'the symlink target is untouched');
});

/** Queue one message in input/ (a 451 from the smarthost) and return its id. */
async function queueOne(e: Awaited<ReturnType<typeof setup>>, n: string, answer: { v: string | undefined }): Promise<string> {
  answer.v = '451 later';
  const before = e.queued();
  const r = await run(['-C', e.conf, '-odi', 'admin@example.test'], { input: message(n) });
  if (r.code !== 0) throw new Error(r.stderr);
  answer.v = undefined;
  return e.queued().find((id) => !before.includes(id))!;
}

t.test('cut or padded data is never sent as complete: frozen, logged, moved to corrupt/ (point 3)', async (t) => {
  const answer = { v: undefined as string | undefined };
  const e = await setup(t, dns, { onRcpt: () => answer.v });
  const cut = await queueOne(e, 'cut', answer);
  const padded = await queueOne(e, 'padded', answer);
  const good = await queueOne(e, 'good', answer);
  const D = (id: string) => join(e.spool, 'input', `${id}-D`);
  writeFileSync(D(cut), readFileSync(D(cut)).subarray(0, 40));
  writeFileSync(D(padded), Buffer.concat([readFileSync(D(padded)), Buffer.from('more\r\n')]));
  const dropSub = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('drop cut') });
  t.equal(dropSub.code, 0);
  const [drop] = e.drops();
  const dropPath = join(e.spool, 'incoming', drop!);
  writeFileSync(dropPath, readFileSync(dropPath).subarray(0, readFileSync(dropPath).length - 5));
  const q = await run(['-C', e.conf, '-qf']);
  t.equal(q.code, 0, q.stderr);
  t.equal(e.smtp.messages.length, 1, 'only the intact message was sent');
  t.match(e.smtp.messages[0]!.data.toString(), /Subject: job good/);
  const log = e.mainlog();
  t.match(log, new RegExp(`${cut} spool file ${cut}-D refused \\(damaged \\(data is 40 bytes, its envelope says \\d+\\)\\): frozen, moved to \\S+/corrupt/${cut}-D`));
  t.match(log, new RegExp(`${padded} spool file ${padded}-D refused \\(damaged \\(data is \\d+ bytes, its envelope says \\d+\\)\\)`));
  t.match(log, new RegExp(`${drop} drop file \\S+ refused \\(damaged \\(data is \\d+ bytes, its envelope says \\d+\\)\\): frozen, moved to`));
  for (const id of [cut, padded, drop!]) t.notMatch(log, new RegExp(`${id} (=>|Completed)`), `${id}: no delivery, no Completed`);
  t.match(log, new RegExp(`${good} => admin@example\\.test`));
  t.same(e.queued(), [], 'nothing damaged stays in the queue');
  t.same(readdirSync(join(e.spool, 'corrupt')).sort(), [drop!, `${cut}-D`, `${cut}-H`, `${padded}-D`, `${padded}-H`].sort());
  const bp = await run(['-C', e.conf, '-bp']);
  t.notMatch(bp.stdout, /corrupt/, "standard output keeps Exim's shape (exiqgrep reads it)");
  t.match(bp.stderr, new RegExp(`^send-smarthost: ${cut}-D is in \\S+/corrupt: damaged, not delivered \\(see the main log\\)$`, 'm'), '-bp says so on stderr (point 5)');
  const again = await run(['-C', e.conf, '-qf']);
  t.equal(again.stderr, '', 'nothing warned about on the next run (point 5)');
});

t.test('a header copied under another id damages nothing: only that id is set aside (point 4)', async (t) => {
  const answer = { v: undefined as string | undefined };
  const e = await setup(t, dns, { onRcpt: () => answer.v });
  const x = await queueOne(e, 'x', answer);
  const y = await queueOne(e, 'y', answer);
  const H = (id: string) => join(e.spool, 'input', `${id}-H`);
  writeFileSync(H(y), readFileSync(H(x))); // y's header now says it is x
  const q = await run(['-C', e.conf, '-qf']);
  t.equal(q.code, 0, q.stderr);
  t.equal(e.smtp.messages.length, 1, 'x is delivered');
  t.match(e.smtp.messages[0]!.data.toString(), /Subject: job x/);
  const log = e.mainlog();
  t.match(log, new RegExp(`${y} spool file ${y}-H refused \\(damaged \\(holds the id "${x}", not its name's\\)\\)`));
  t.match(log, new RegExp(`${x} => admin@example\\.test[^]*${x} Completed`), 'the live message x is tried and completed');
  t.notMatch(log, new RegExp(`${x} Frozen`), 'x is never frozen');
  t.same(e.queued(), []);
  t.ok(existsSync(join(e.spool, 'corrupt', `${y}-H`)) && existsSync(join(e.spool, 'corrupt', `${y}-D`)));
});

t.test('garbage, a directory or a hard link as a drop file: moved aside once, logged, listed; never "removed" while it stays (point 5)', { skip: canSwitchUser }, async (t) => {
  const e = await setup(t, dns);
  const incoming = join(e.spool, 'incoming');
  const names = ['1xZaaa-000001-AA', '1xZaaa-000002-AA', '1xZaaa-000003-AA', '1xZaaa-000004-AA'];
  t.equal(asNobody('sh', '-c', `printf 'not json\\nbody' > ${join(incoming, names[0]!)}`).status, 0);
  t.equal(asNobody('mkdir', join(incoming, names[1]!)).status, 0);
  t.equal(asNobody('sh', '-c', `echo x > ${join(incoming, names[2]!)}.tmp && ln ${join(incoming, names[2]!)}.tmp ${join(incoming, names[2]!)}`).status, 0);
  t.equal(asNobody('ln', '-s', '/etc/passwd', join(incoming, names[3]!)).status, 0);
  const bp = await run(['-C', e.conf, '-bp']);
  t.match(bp.stderr, /^send-smarthost: 4 files in incoming\/ cannot be read: moved to corrupt\/ by the next queue run$/m);
  const q = await run(['-C', e.conf, '-q']);
  t.equal(q.code, 0, q.stderr);
  const log = e.mainlog();
  t.match(log, new RegExp(`${names[0]} drop file \\S+ refused \\(damaged \\(bad drop file: envelope is not JSON\\)\\): frozen, moved to`));
  t.match(log, new RegExp(`${names[1]} drop file \\S+ refused \\(not a regular file \\(directory\\)\\): frozen, moved to`));
  t.match(log, new RegExp(`${names[2]} drop file \\S+ refused \\(several links \\(2\\)\\): removed \\(a hard link\\)`));
  t.match(log, new RegExp(`${names[3]} drop file \\S+ refused \\(symbolic link\\): frozen, moved to`));
  t.same(readdirSync(incoming).filter((n) => names.includes(n)), [], 'none is left in incoming/');
  t.same(readdirSync(join(e.spool, 'corrupt')).sort(), [names[0], names[1], names[3]]);
  const bp2 = await run(['-C', e.conf, '-bp']);
  for (const n of [names[0], names[1], names[3]]) t.match(bp2.stderr, new RegExp(`^send-smarthost: ${n} is in \\S+/corrupt: damaged`, 'm'));
  const q2 = await run(['-C', e.conf, '-q']);
  t.equal(q2.stderr, '', 'said once, not on every run');
  t.equal((e.mainlog().match(/refused/g) ?? []).length, 4, 'logged once each');
  t.equal(readFileSync('/etc/passwd', 'utf8').length > 0, true);
});

t.test('an untrusted user\'s -f: the envelope sender is kept, and Sender: names the real user (point 9)', { skip: canSwitchUser }, async (t) => {
  const e = await setup(t, dns);
  const forged = 'From: The Boss <boss@example.test>\nSender: boss@example.test\nTo: admin@example.test\nSubject: pay this\n\nnow\n';
  const r = await run(['-C', e.conf, '-odi', '-f', 'boss@example.test', 'admin@example.test'], { input: forged, as: 'nobody' });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '', 'a successful submission prints nothing (point 8)');
  const m = e.smtp.messages[0]!;
  t.equal(m.from, 'boss@example.test', 'untrusted_set_sender = * (the default): the envelope sender is kept');
  const head = m.data.toString().split('\r\n\r\n')[0]!;
  t.match(head, /^Sender: nobody@example\.test$/m, 'Sender: names the real user (local_from_check)');
  t.equal(head.match(/^Sender:/gim)?.length, 1, "the user's own Sender: is removed");
  const root = await run(['-C', e.conf, '-odi', '-f', 'boss@example.test', 'admin@example.test'], { input: forged });
  t.equal(root.code, 0, root.stderr);
  t.notMatch(e.smtp.messages[1]!.data.toString().split('\r\n\r\n')[0]!, /^Sender: (?!boss)/m, 'root is trusted: as given');
  const strict = await setup(t, dns, {}, ['untrusted_set_sender =']);
  const s = await run(['-C', strict.conf, '-odi', '-f', 'boss@example.test', 'admin@example.test'], { input: forged, as: 'nobody' });
  t.equal(s.code, 0, s.stderr);
  t.equal(strict.smtp.messages[0]!.from, 'nobody@example.test', "with Exim's own default (empty): the login's address");
});
