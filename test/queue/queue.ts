import t from 'tap';
import { readdirSync } from 'node:fs';
import { fakeQueue } from '../../fixtures/queue/fake-deps.js';
import { submitMessage, type SubmitOptions } from '../../lib/queue/submit.js';
import { removeMessages, runQueue } from '../../lib/queue/queue.js';
import { listMessages, readHeader, storeMessage } from '../../lib/store/spool.js';
import { newHeader } from '../../lib/store/header.js';
import { formatListing } from '../../lib/report/listing.js';

const MSG = Buffer.from('Subject: test\r\n\r\nbody\r\n');
const opts: SubmitOptions = { queueOnly: false, queueDeferred: true, errorMode: 'p', verbose: false, submitter: { uid: 0, user: 'root' } };
const MIN = 60_000;

t.test('deferred, listed, not due, then delivered by a queue run', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  const r = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  t.equal(r.code, 0, 'queued: exit 0');
  t.same(q.said, [], 'nothing on stderr without -v');
  t.same(listMessages(q.deps.spool), [r.id]);
  const h = readHeader(q.deps.spool, r.id)!;
  t.equal(h.attempts, 1);
  t.equal(h.nextAttempt! - h.firstFailure!, 15 * MIN, 'F,2h,15m');
  t.match(formatListing([h], q.clock.now), new RegExp(`^ 0m +\\d+ ${r.id} <a@x.test>\\n {10}b@y.test\\n\\n$`));
  q.script.fn = () => 'ok';
  q.clock.now += MIN;
  await runQueue({ force: false, by: 'root' }, q.deps);
  t.equal(q.sent.length, 0, 'not due yet');
  q.clock.now += 15 * MIN;
  await runQueue({ force: false, by: 'root' }, q.deps);
  t.equal(q.sent.length, 1);
  t.same(listMessages(q.deps.spool), [], 'spool empty');
  t.same(readdirSync(q.deps.spool.input), [], 'no -D, -H or -L left');
  t.same(readdirSync(q.deps.spool.tmp), [], 'the background removals (tmp/*.done) finished before the run ended');
  const log = q.log.join('\n');
  t.match(log, new RegExp(`${r.id} == b@y.test[^]*${r.id} => b@y.test[^]*${r.id} Completed`), 'log: == then => then Completed');
});

t.test('partial success keeps only the pending recipients', async (t) => {
  const q = fakeQueue(t.testdir(), { script: (r) => (r.startsWith('ok') ? 'ok' : '451 4.7.1 later') });
  const r = await submitMessage({ sender: 'a@x.test', recipients: ['ok@y.test', 'later@y.test'] }, MSG, opts, q.deps);
  t.equal(r.code, 0);
  const h = readHeader(q.deps.spool, r.id)!;
  t.same(h.recipients, ['later@y.test']);
  t.same(h.done.map((d) => [d.recipient, d.result]), [['ok@y.test', 'delivered']]);
  q.script.fn = () => 'ok';
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.same(q.sent.map((s) => s.envelope.recipients), [['ok@y.test'], ['later@y.test']], 'the delivered recipient is not sent again');
});

t.test('a dead host is contacted once per run, not once per message', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  let calls = 0;
  const deliver = q.deps.deliver;
  q.deps.deliver = (e, d) => (calls++, deliver(e, d));
  await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  t.equal(calls, 1);
  for (let i = 0; i < 3; i++) await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  t.equal(calls, 1, 'later submissions are queued at once: retry time not reached for any host');
  t.equal(listMessages(q.deps.spool).length, 4);
  t.match(q.log.join('\n'), /retry time not reached for any host/);
  q.clock.now += 16 * MIN;
  await runQueue({ force: false, by: 'root' }, q.deps);
  t.equal(calls, 2, 'one new attempt for the whole run');
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.equal(calls, 6, '-qf ignores the hints');
});

t.test('5xx in a queue run: bounce to the sender, delivered at once; original completed', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '451 later' });
  const r = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  q.script.fn = (rcpt) => (rcpt === 'b@y.test' ? '550 5.1.1 no such user' : 'ok');
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.equal(q.sent.length, 1);
  t.same(q.sent[0]!.envelope, { sender: '', recipients: ['a@x.test'] }, 'null sender, to the original sender');
  t.match(q.sent[0]!.data.toString(), /b@y.test: 550 5.1.1 no such user/);
  t.same(listMessages(q.deps.spool), []);
  t.match(q.log.join('\n'), new RegExp(`${r.id} \\*\\* b@y.test: 550[^]*<= <> R=${r.id}[^]*Completed`));
});

t.test('no bounce for a bounce: it is frozen, listed, skipped by -q, thawed by -M', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '550 5.1.1 no such user' });
  const r = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, { ...opts, errorMode: 'm' }, q.deps);
  t.equal(r.code, 69, '-oem: exit 69');
  t.equal(q.sent.length, 0, 'the bounce could not be delivered either');
  const ids = listMessages(q.deps.spool);
  t.equal(ids.length, 1, 'only the bounce is queued');
  const b = readHeader(q.deps.spool, ids[0]!)!;
  t.equal(b.bounce, true);
  t.equal(b.sender, '');
  t.match(b.frozen, /delivery of a bounce failed/);
  t.same(b.recipients, ['a@x.test'], 'listed with its recipient');
  t.match(formatListing([b], q.clock.now), /<> \*\*\* frozen \*\*\*/);
  const before = q.log.length;
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.equal(q.log.slice(before).filter((l) => l.includes('=>') || l.includes('**')).length, 0, '-qf does not touch a frozen message');
  q.script.fn = () => 'ok';
  await runQueue({ force: true, ids: [b.id], by: 'root' }, q.deps);
  t.equal(q.sent.length, 1, '-M thaws and delivers');
  t.match(q.log.join('\n'), new RegExp(`${b.id} Unfrozen by forced delivery`), "-M logs Exim's line");
  t.same(listMessages(q.deps.spool), []);
});

t.test('retry time exceeded: pending recipients fail, the sender gets a bounce', async (t) => {
  const q = fakeQueue(t.testdir(), { script: (r) => (r.startsWith('a@') ? 'ok' : 'down') });
  const r = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  q.clock.now += 5 * 86_400_000;
  await runQueue({ force: false, by: 'root' }, q.deps);
  t.same(listMessages(q.deps.spool), []);
  t.equal(q.sent.length, 1);
  t.same(q.sent[0]!.envelope, { sender: '', recipients: ['a@x.test'] });
  t.match(q.sent[0]!.data.toString(), /b@y.test: retry timeout exceeded/);
  t.match(q.log.join('\n'), new RegExp(`${r.id} \\*\\* b@y.test: retry timeout exceeded`));
});

t.test('a null-sender message that fails goes to dead.letter; when that fails, it is frozen', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '451 later' });
  const r = await submitMessage({ sender: '', recipients: ['b@y.test'] }, MSG, { ...opts, submitter: { uid: 1000, user: 'joe' } }, q.deps);
  q.script.fn = () => '550 no';
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.same(q.deadLetters.map((d) => d.user), ['joe']);
  t.same(listMessages(q.deps.spool), []);
  t.match(q.log.join('\n'), new RegExp(`${r.id} null sender: no bounce; message saved in /home/joe/dead.letter`));

  const q2 = fakeQueue(t.testdir(), { script: () => '451 later', deadLetterFails: true });
  const r2 = await submitMessage({ sender: '', recipients: ['b@y.test'] }, MSG, opts, q2.deps);
  q2.script.fn = () => '550 no';
  await runQueue({ force: true, by: 'root' }, q2.deps);
  t.match(readHeader(q2.deps.spool, r2.id)?.frozen, /null sender and no dead.letter/);
});

t.test('-Mrm removes, logs, and reports unknown ids', async (t) => {
  const q = fakeQueue(t.testdir());
  const r = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, { ...opts, queueOnly: true }, q.deps);
  t.equal(q.sent.length, 0, '-odq: no attempt');
  const out = removeMessages([r.id, '1aaaaa-000000-00', '../x'], q.deps, 'root');
  t.same(out, { removed: [r.id], missing: ['1aaaaa-000000-00', '../x'], locked: [], denied: [] });
  t.match(q.log.join('\n'), new RegExp(`${r.id} removed by root\\n${r.id} Completed`));
  t.same(listMessages(q.deps.spool), []);
});

t.test('a queue run by someone who cannot write input/ is refused', async (t) => {
  const q = fakeQueue(t.testdir());
  q.deps.spool = { ...q.deps.spool, tmp: '/nonexistent/tmp' }; // only the drop directory is usable: an ordinary user
  await t.rejects(runQueue({ force: false, by: 'x' }, q.deps), /cannot run the queue: .* is not writable by this user/);
  q.deps.spool = { ...q.deps.spool, input: '/nonexistent/input' };
  t.same(await runQueue({ force: false, by: 'x' }, q.deps), { results: {}, missing: [] }, 'no spool at all: an empty queue');
});

t.test('a damaged header does not stop the run for the others', async (t) => {
  const q = fakeQueue(t.testdir());
  const a = newHeader('1jiFk5-0006UE-9A', 'a@x.test', ['b@y.test'], 0, q.clock.now, { uid: 0, user: 'root' });
  const b = newHeader('1jiFk5-0006UE-9B', 'a@x.test', ['c@y.test'], 0, q.clock.now, { uid: 0, user: 'root' });
  storeMessage(q.deps.spool, a, MSG);
  storeMessage(q.deps.spool, b, MSG);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${q.deps.spool.input}/${a.id}-H`, '{broken');
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.same(q.sent.map((s) => s.envelope.recipients), [['c@y.test']]);
  t.match(q.log.join('\n'), new RegExp(`${a.id} spool file ${a.id}-H refused \\(damaged \\(bad spool header: not JSON\\)\\): frozen, moved to \\S+/corrupt/${a.id}-H`));
  t.match(q.log.join('\n'), new RegExp(`${a.id} spool file ${a.id}-D set aside with it: frozen, moved to \\S+/corrupt/${a.id}-D`));
  t.same(listMessages(q.deps.spool), [], 'out of the queue');
  t.same(readdirSync(q.deps.spool.corrupt).sort(), [`${a.id}-D`, `${a.id}-H`], 'in corrupt/ for the administrator');
  const before = q.log.length;
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.same(q.log.slice(before).filter((l) => /refused/.test(l)), [], 'said once, not on every run (point 5)');
  void b;
});
