import t from 'tap';
import { readdirSync } from 'node:fs';
import { fakeQueue } from '../../fixtures/queue/fake-deps.js';
import { submitMessage, type SubmitOptions } from '../../lib/queue/submit.js';
import { listMessages, readHeader } from '../../lib/store/spool.js';

const MSG = Buffer.from('Subject: test\r\n\r\nbody\r\n');
const opts: SubmitOptions = { queueOnly: false, queueDeferred: true, errorMode: 'p', verbose: false, submitter: { uid: 0, user: 'root' } };
const env = { sender: 'a@x.test', recipients: ['b@y.test'] };

t.test('delivered: exit 0, nothing queued, log <= => Completed', async (t) => {
  const q = fakeQueue(t.testdir());
  const r = await submitMessage(env, MSG, opts, q.deps);
  t.equal(r.code, 0);
  t.same(listMessages(q.deps.spool), []);
  t.same(q.log.map((l) => l.split(' ')[1]), ['<=', '=>', 'Completed']);
});

t.test('error modes for a 5xx', async (t) => {
  const fail = () => '550 5.1.1 no such user';
  for (const [mode, code, says, bounced] of [
    ['p', 69, true, false],
    ['w', 69, true, false],
    ['q', 69, false, false],
    ['m', 69, false, true],
    ['e', 0, false, true],
  ] as const) {
    const q = fakeQueue(t.testdir(), { script: (r) => (r === 'b@y.test' ? fail() : 'ok') });
    const r = await submitMessage(env, MSG, { ...opts, errorMode: mode }, q.deps);
    t.equal(r.code, code, `-oe${mode}: exit ${code}`);
    t.equal(q.said.some((l) => /<b@y.test>: failed via mx.test: 550 5.1.1 no such user/.test(l)), says, `-oe${mode}: stderr`);
    t.equal(q.sent.some((s) => s.envelope.sender === ''), bounced, `-oe${mode}: bounce`);
    t.same(listMessages(q.deps.spool), [], 'nothing left in the queue');
  }
});

t.test('-oee with a bounce that cannot be sent now: queued, exit 0', async (t) => {
  const q = fakeQueue(t.testdir(), { script: (r) => (r === 'b@y.test' ? '550 no' : '451 later') });
  const r = await submitMessage(env, MSG, { ...opts, errorMode: 'e' }, q.deps);
  t.equal(r.code, 0);
  const [id] = listMessages(q.deps.spool);
  t.equal(readHeader(q.deps.spool, id!)?.bounce, true, 'the bounce waits in the queue');
});

t.test('never a bounce for the null sender: dead.letter of the submitter', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => '550 no' });
  const r = await submitMessage({ sender: '', recipients: ['b@y.test'] }, MSG, { ...opts, errorMode: 'm', submitter: { uid: 7, user: 'joe' } }, q.deps);
  t.equal(r.code, 69);
  t.equal(q.sent.length, 0);
  t.same(q.deadLetters.map((d) => d.user), ['joe']);
});

t.test('queue_deferred = false / --no-queue: exit 75, nothing spooled, the caller is told', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  const r = await submitMessage(env, MSG, { ...opts, queueDeferred: false }, q.deps);
  t.equal(r.code, 75);
  t.same(listMessages(q.deps.spool), []);
  t.match(q.said.join('\n'), /<b@y.test>: deferred \(temporary failure; not delivered\)/);
});

t.test('the spool cannot be written: exit 75 and say why', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  q.deps.spool = { ...q.deps.spool, input: '/nonexistent', tmp: '/nonexistent', incoming: '/nonexistent/incoming' };
  const r = await submitMessage(env, MSG, opts, q.deps);
  t.equal(r.code, 75);
  t.match(q.said.join('\n'), /cannot write the spool .*message not queued/);
  t.match(q.said.join('\n'), /deferred \(temporary failure; not delivered\)/);
  const q2 = fakeQueue(t.testdir());
  q2.deps.spool = { ...q2.deps.spool, input: '/nonexistent', tmp: '/nonexistent', incoming: '/nonexistent/incoming' };
  t.equal((await submitMessage(env, MSG, { ...opts, queueOnly: true }, q2.deps)).code, 75, '-odq too');
});

t.test('-v says that and why it was queued', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  const r = await submitMessage(env, MSG, { ...opts, verbose: true }, q.deps);
  t.equal(r.code, 0);
  t.match(q.said.join('\n'), new RegExp(`message ${r.id} queued for <b@y.test>: .*ECONNREFUSED`));
});

t.test('input/ not usable by this process: queued as a drop file instead', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  q.deps.spool = { ...q.deps.spool, tmp: '/nonexistent' }; // as for an ordinary user: only incoming/ is writable
  const r = await submitMessage(env, MSG, opts, q.deps);
  t.equal(r.code, 0);
  t.same(listMessages(q.deps.spool), [], 'not in input/');
  t.same(readdirSync(q.deps.spool.incoming), [r.id], 'one drop file named by the id');
});
