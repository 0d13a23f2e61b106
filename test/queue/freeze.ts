import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fakeQueue } from '../../fixtures/queue/fake-deps.js';
import { freezeLine, freezeMessage } from '../../lib/queue/freeze.js';
import { runQueue } from '../../lib/queue/queue.js';
import { submitMessage, type SubmitOptions } from '../../lib/queue/submit.js';
import { writeDrop } from '../../lib/store/drop.js';
import { newHeader } from '../../lib/store/header.js';
import { lockMessage } from '../../lib/store/lock.js';
import { listMessages, readHeader, spoolLayout } from '../../lib/store/spool.js';

const MSG = Buffer.from('Subject: test\r\n\r\nbody\r\n');
const opts: SubmitOptions = { queueOnly: false, queueDeferred: true, errorMode: 'p', verbose: false, submitter: { uid: 0, user: 'root' } };

t.test("Exim's lines", async (t) => {
  const id = '1jiFk5-0006UE-9S';
  t.equal(freezeLine(id, false, { result: 'changed' }), `Message ${id} is now frozen`);
  t.equal(freezeLine(id, false, { result: 'unchanged' }), `Message ${id} is already frozen`);
  t.equal(freezeLine(id, true, { result: 'changed' }), `Message ${id} is no longer frozen`);
  t.equal(freezeLine(id, true, { result: 'unchanged' }), `Message ${id} is not frozen`);
  t.equal(freezeLine(id, true, { result: 'failed', why: 'ENOSPC' }), `Message ${id} could not be unfrozen: ENOSPC`);
  t.equal(freezeLine(id, false, { result: 'missing' }), undefined, 'said on stderr by the caller');
});

t.test('frozen: skipped by -q and -qf, delivered by -M and -qff; thawed: delivered by -q', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  const a = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  await submitMessage({ sender: 'a@x.test', recipients: ['c@y.test'] }, MSG, opts, q.deps);
  t.same(await freezeMessage(a.id, false, q.deps, 'root'), { result: 'changed' });
  t.same(await freezeMessage(a.id, false, q.deps, 'root'), { result: 'unchanged' }, 'frozen already');
  t.equal(readHeader(q.deps.spool, a.id)!.frozen, 'frozen by root');
  t.match(q.log.join('\n'), new RegExp(`${a.id} frozen by root`));
  q.script.fn = () => 'ok';
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.same(q.sent.map((s) => s.envelope.recipients), [['c@y.test']], '-qf passes over the frozen one');
  t.same(listMessages(q.deps.spool), [a.id]);
  t.same(await freezeMessage(a.id, true, q.deps, 'ann'), { result: 'changed' });
  t.same(await freezeMessage(a.id, true, q.deps, 'ann'), { result: 'unchanged' }, 'not frozen');
  t.match(q.log.join('\n'), new RegExp(`${a.id} unfrozen by ann`));
  t.equal(readHeader(q.deps.spool, a.id)!.frozen, undefined);
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.same(listMessages(q.deps.spool), [], 'thawed: delivered by a queue run');

  // -qff: frozen ones too, logged as Exim logs a forced thaw
  q.script.fn = () => 'down';
  const d = await submitMessage({ sender: 'a@x.test', recipients: ['e@y.test'] }, MSG, opts, q.deps);
  await freezeMessage(d.id, false, q.deps, 'root');
  q.script.fn = () => 'ok';
  q.log.length = 0;
  await runQueue({ force: true, thaw: true, by: 'root' }, q.deps);
  t.same(listMessages(q.deps.spool), [], '-qff delivered the frozen message');
  t.match(q.log.join('\n'), new RegExp(`${d.id} Unfrozen by forced delivery`));
});

t.test('a message being delivered is not changed; an unknown id is missing', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  const a = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  const lock = lockMessage(q.deps.spool.input, a.id, { ...q.deps.lock, pid: process.pid })!;
  // the lock of this very process: held (a live process)
  t.same(await freezeMessage(a.id, false, q.deps, 'root'), { result: 'locked' });
  lock.release();
  t.same(await freezeMessage('1aaaaa-000000-00', false, q.deps, 'root'), { result: 'missing' });
  const none = { ...q.deps, spool: spoolLayout(join(q.deps.spool.root, 'no-spool')) };
  t.same(await freezeMessage(a.id, true, none, 'root'), { result: 'missing' }, 'no spool at all: not in the queue (not "locked")');
});

t.test('a drop file: frozen by moving it into input/, its arrival logged; thawing one says it is not frozen', async (t) => {
  const q = fakeQueue(t.testdir());
  const id = '1jiFk5-0006UE-9S';
  writeDrop(q.deps.spool, newHeader(id, 'c@x.test', ['d@y.test'], 1, q.clock.now, { uid: 0, user: 'root' }), Buffer.from('y'));
  t.same(await freezeMessage(id, true, q.deps, 'root'), { result: 'unchanged' });
  t.same(await freezeMessage(id, false, q.deps, 'root'), { result: 'changed' });
  t.notOk(existsSync(join(q.deps.spool.incoming, id)), 'no longer a drop file');
  t.equal(readHeader(q.deps.spool, id)!.frozen, 'frozen by root');
  t.same(q.log, [`${id} <= <c@x.test>`, `${id} frozen by root`], 'its arrival, then the freeze');
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.equal(q.sent.length, 0, 'and a queue run passes it over');
});
