/**
 * Each step of a message's life in process, with fake dependencies
 * (fixtures/queue/fake-deps.ts: a scripted smarthost, an in-memory log, a
 * real spool in a temporary directory): attempted, then settled in every
 * place a message can live (input/, a drop file of the spool owner, a drop
 * file of its unprivileged submitter, memory), into every settled state
 * (delivered, deferred, bounced, frozen), and what happens when the new
 * state cannot be written (a full disk).
 */
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fakeQueue, type FakeQueue } from '../../fixtures/queue/fake-deps.js';
import { attemptDelivery } from '../../lib/queue/attempt.js';
import { inputPlace, memoryPlace, ownDropPlace, ownedDropPlace, settle, type Place, type State } from '../../lib/queue/lifecycle.js';
import { readDrop, writeDrop } from '../../lib/store/drop.js';
import { newHeader, type SpoolHeader } from '../../lib/store/header.js';
import { listMessages, readHeader, storeMessage } from '../../lib/store/spool.js';
import { parseDrop } from '../../lib/store/drop.js';
import { readFileSync } from 'node:fs';

const MSG = Buffer.from('Subject: test\r\n\r\nbody\r\n');
let n = 0;
const header = (q: FakeQueue, rcpts: string[], sender = 'a@x.test'): SpoolHeader => newHeader(`1jiFk5-0006UE-${(n++).toString().padStart(2, '0')}`, sender, rcpts, MSG.length, q.clock.now, { uid: 0, user: 'root' });

/** A queued message of input/, attempted and settled there. */
async function inInput(q: FakeQueue, h: SpoolHeader) {
  storeMessage(q.deps.spool, h, MSG);
  const res = await attemptDelivery(h, MSG, q.deps, true);
  return settle(res, MSG, inputPlace(q.deps, h.id), q.deps);
}

t.test('the named states', async (t) => {
  const states: State[] = ['received', 'spooled', 'claimed', 'attempted', 'delivered', 'deferred', 'failed', 'bounced', 'frozen', 'corrupt'];
  t.equal(new Set(states).size, 10);
});

t.test('input/: delivered -> removed, Completed', async (t) => {
  const q = fakeQueue(t.testdir());
  const h = header(q, ['b@y.test']);
  const s = await inInput(q, h);
  t.equal(s.state, 'delivered');
  t.same(listMessages(q.deps.spool), []);
  t.match(q.log.join('\n'), new RegExp(`${h.id} => b@y.test[^]*${h.id} Completed`));
});

t.test('input/: deferred -> its -H rewritten with the retry state', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '451 later' });
  const h = header(q, ['b@y.test']);
  const s = await inInput(q, h);
  t.equal(s.state, 'deferred');
  t.same(s.kept, { where: 'input', id: h.id });
  const now = readHeader(q.deps.spool, h.id)!;
  t.equal(now.attempts, 1);
  t.ok(now.nextAttempt! > q.clock.now);
});

t.test('input/: failed -> bounced (a bounce placed in input/, for the caller to deliver next)', async (t) => {
  const q = fakeQueue(t.testdir(), { script: (r) => (r === 'bad@y.test' ? '550 no such user' : 'ok') });
  const h = header(q, ['b@y.test', 'bad@y.test']);
  const s = await inInput(q, h);
  t.equal(s.state, 'bounced');
  t.equal(s.bounces.length, 1);
  t.same(listMessages(q.deps.spool), s.bounces, 'the original is gone, its bounce queued');
  t.equal(readHeader(q.deps.spool, s.bounces[0]!)!.bounce, true);
});

t.test('input/: a bounce that fails -> frozen in place', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '550 gone' });
  const h = { ...header(q, ['b@y.test'], ''), bounce: true };
  const s = await inInput(q, h);
  t.equal(s.state, 'frozen');
  t.match(readHeader(q.deps.spool, h.id)!.frozen, /delivery of a bounce failed/);
  t.match(q.log.join('\n'), new RegExp(`${h.id} frozen: delivery of a bounce failed`));
});

t.test('a drop file of the spool owner: delivered -> only the drop removed; deferred -> moved into input/ with the settled state', async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  const a = header(q, ['b@y.test']);
  writeDrop(l, a, MSG);
  const da = readDrop(join(l.incoming, a.id), a.id)!;
  const sa = await settle(await attemptDelivery(a, da.data, q.deps, true), da.data, ownedDropPlace(q.deps, a.id, da), q.deps);
  t.equal(sa.state, 'delivered');
  t.notOk(existsSync(join(l.incoming, a.id)));
  t.same(readdirSync(l.input), [], 'input/ untouched');
  q.script.fn = () => '451 later';
  const b = header(q, ['c@y.test']);
  writeDrop(l, b, MSG);
  const db = readDrop(join(l.incoming, b.id), b.id)!;
  const sb = await settle(await attemptDelivery(b, db.data, q.deps, true), db.data, ownedDropPlace(q.deps, b.id, db), q.deps);
  t.equal(sb.state, 'deferred');
  t.same(sb.kept, { where: 'input', id: b.id });
  t.equal(readHeader(l, b.id)!.attempts, 1, 'one placement, with the attempt recorded');
  t.notOk(existsSync(join(l.incoming, b.id)));
});

t.test("a drop file of its unprivileged submitter: deferred -> rewritten in place; a failure nobody can report -> left for the queue runner", async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '451 later', deadLetterFails: true });
  const l = q.deps.spool;
  const h = header(q, ['b@y.test']);
  writeDrop(l, h, MSG);
  const s = await settle(await attemptDelivery(h, MSG, q.deps, true), MSG, ownDropPlace(q.deps, h.id, MSG), q.deps);
  t.equal(s.state, 'deferred');
  t.equal(parseDrop(readFileSync(join(l.incoming, h.id)), 'x').header.attempts, 1, 'the drop records the attempt');
  q.script.fn = () => '550 no';
  const nul = header(q, ['c@y.test'], '');
  writeDrop(l, nul, MSG);
  const s2 = await settle(await attemptDelivery(nul, MSG, q.deps, true), MSG, ownDropPlace(q.deps, nul.id, MSG), q.deps);
  t.equal(s2.state, 'deferred', 'only the spool owner freezes');
  t.same(parseDrop(readFileSync(join(l.incoming, nul.id)), 'x').header.recipients, ['c@y.test'], 'the failed recipient waits for the queue runner');
  t.match(q.log.join('\n'), new RegExp(`${nul.id} left for the queue runner: null sender and no dead.letter`));
});

t.test('memory (-odi): deferred -> queued the way this process can; not at all with --no-queue', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '451 later' });
  const h = header(q, ['b@y.test']);
  const s = await settle(await attemptDelivery(h, MSG, q.deps, false), MSG, memoryPlace(q.deps, h, MSG, true), q.deps, { report: false });
  t.equal(s.state, 'deferred');
  t.same(s.kept, { where: 'input', id: h.id });
  const h2 = header(q, ['b@y.test']);
  const s2 = await settle(await attemptDelivery(h2, MSG, q.deps, false), MSG, memoryPlace(q.deps, h2, MSG, false), q.deps, { report: false });
  t.match(s2.kept, { notKept: /not queued/ });
  t.notMatch(q.log.join('\n'), /cannot record/, 'nothing to record for a message the caller keeps');
});

t.test('a state that cannot be written (a full disk) leaves the message as it was, with a note; never a throw', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '451 later' });
  const h = header(q, ['b@y.test']);
  storeMessage(q.deps.spool, h, MSG);
  const full: Place = { ...inputPlace(q.deps, h.id), keep: () => ({ notKept: 'ENOSPC' }) };
  const s = await settle(await attemptDelivery(h, MSG, q.deps, true), MSG, full, q.deps);
  t.equal(s.state, 'deferred');
  t.match(q.log.join('\n'), new RegExp(`${h.id} cannot record the deferral \\(ENOSPC\\): tried again by the next queue run`));
  t.equal(readHeader(q.deps.spool, h.id)!.attempts, 0, 'as it was');
});
