import t from 'tap';
import { writeFileSync } from 'node:fs';
import { fakeQueue } from '../../fixtures/queue/fake-deps.js';
import { queueCommand, queueCommandOf } from '../../lib/queue/commands.js';
import { listingStyle } from '../../lib/queue/command-of.js';
import { submitMessage } from '../../lib/queue/submit.js';
import { writeDrop } from '../../lib/store/drop.js';
import { newHeader } from '../../lib/store/header.js';
import { spoolLayout } from '../../lib/store/spool.js';
import { headerBlock, homeFromPasswd } from '../../lib/queue/wiring.js';

t.test('which command', async (t) => {
  const base = { mode: 'm', queueRun: false };
  t.equal(queueCommandOf(base), undefined);
  t.equal(queueCommandOf({ ...base, mode: 'p' }), 'list');
  t.equal(queueCommandOf({ ...base, mode: 'pc' }), 'count');
  t.equal(queueCommandOf({ ...base, queueRun: true }), 'run');
  t.equal(queueCommandOf({ ...base, messageAction: 'deliver' }), 'deliver');
  t.equal(queueCommandOf({ ...base, messageAction: 'remove' }), 'remove');
  t.equal(queueCommandOf({ ...base, initSpool: true }), 'init');
  for (const mode of ['pu', 'pa', 'pr', 'pru', 'pra']) t.equal(queueCommandOf({ ...base, mode }), 'list', `-b${mode}`);
  t.same(listingStyle('p'), { undelivered: false, generated: false, unsorted: false });
  t.same(listingStyle('pru'), { undelivered: true, generated: false, unsorted: true });
  t.same(listingStyle('pa'), { undelivered: false, generated: true, unsorted: false });
  for (const action of ['freeze', 'thaw', 'show-header', 'show-body', 'show-log'] as const) t.equal(queueCommandOf({ ...base, messageAction: action }), action);
});

t.test('list and count, with drops waiting; empty prints nothing', async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  let out = '';
  const o = { force: false, ids: [], by: 'root', out: (s: string) => (out += s) };
  t.equal(await queueCommand({ ...o, command: 'list' }, q.deps), 0);
  t.equal(out, '');
  await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, Buffer.from('x'), { queueOnly: true, queueDeferred: true, errorMode: 'p', verbose: false, submitter: { uid: 0, user: 'root' } }, q.deps);
  writeDrop(q.deps.spool, newHeader('1jiFk5-0006UE-9S', 'c@x.test', ['d@y.test'], 1, q.clock.now, { uid: 0, user: 'root' }), Buffer.from('y'));
  await queueCommand({ ...o, command: 'list' }, q.deps);
  // -odq writes a drop file too: both are listed like queued messages
  t.match(out, /(^|\n\n) 0m +1 \S+ <a@x.test>\n {10}b@y.test\n\n/);
  t.match(out, /(^|\n\n) 0m +1 1jiFk5-0006UE-9S <c@x.test>\n {10}d@y.test\n\n/);
  t.notMatch(out, /waiting/, 'every drop file listed');
  writeFileSync(`${q.deps.spool.incoming}/1jiFk5-0006UE-9T`, 'not an envelope');
  out = '';
  await queueCommand({ ...o, command: 'list' }, q.deps);
  t.notMatch(out, /damaged|incoming/, "standard output keeps Exim's shape (exiqgrep, exiqsumm)");
  t.same(q.said, ['1 file in incoming/ cannot be read: moved to corrupt/ by the next queue run'], 'one that cannot be read is said to be damaged, on stderr');
  out = '';
  await queueCommand({ ...o, command: 'count' }, q.deps);
  t.equal(out, '3\n');
  await queueCommand({ ...o, command: 'run' }, q.deps);
  out = '';
  q.said.length = 0;
  await queueCommand({ ...o, command: 'list' }, q.deps);
  t.match(q.said.join('\n'), /^1jiFk5-0006UE-9T is in \S+\/corrupt: damaged, not delivered \(see the main log\)$/m, 'after a run: said to be in corrupt/ (point 5)');
  t.equal(await queueCommand({ ...o, command: 'remove', ids: ['1aaaaa-000000-00'] }, q.deps), 66);
});

t.test('a queue run without a spool is an empty queue', async (t) => {
  const q = fakeQueue(t.testdir());
  q.deps.spool = spoolLayout(`${t.testdir()}/none`);
  t.equal(await queueCommand({ command: 'run', force: false, ids: [], by: 'root', out: () => {} }, q.deps), 0);
});

t.test('wiring helpers', async (t) => {
  t.equal(headerBlock(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody')), 'A: 1\r\nB: 2');
  t.equal(headerBlock(Buffer.from('A: 1\nB: 2\n\nbody')), 'A: 1\nB: 2');
  t.equal(homeFromPasswd('joe:x:1000:1000::/home/joe:/bin/sh\n', 1000), '/home/joe');
  t.equal(homeFromPasswd('joe:x:1000:1000::/home/joe:/bin/sh\n', 1001), undefined);
});
