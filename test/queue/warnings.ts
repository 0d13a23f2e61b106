import t from 'tap';
import { fakeQueue } from '../../fixtures/queue/fake-deps.js';
import { delayText, mayWarn, warnOfDelay, warningsDue } from '../../lib/queue/warnings.js';
import { runQueue } from '../../lib/queue/queue.js';
import { submitMessage, type SubmitOptions } from '../../lib/queue/submit.js';
import { newHeader } from '../../lib/store/header.js';
import { readHeader } from '../../lib/store/spool.js';

const H = 3_600_000;
const MSG = Buffer.from('Subject: test\r\n\r\nbody\r\n');
const opts: SubmitOptions = { queueOnly: false, queueDeferred: true, errorMode: 'p', verbose: false, submitter: { uid: 0, user: 'root' } };

t.test("Exim's schedule: the times of the list, then the last gap again and again", async (t) => {
  const rows: [number[], number, { count: number; shown: number }][] = [
    [[24 * H], 23 * H, { count: 0, shown: 0 }],
    [[24 * H], 24 * H, { count: 1, shown: 24 * H }],
    [[24 * H], 47 * H, { count: 1, shown: 24 * H }],
    [[24 * H], 48 * H, { count: 2, shown: 48 * H }],
    [[4 * H, 8 * H, 24 * H], 3 * H, { count: 0, shown: 0 }],
    [[4 * H, 8 * H, 24 * H], 4 * H, { count: 1, shown: 4 * H }],
    [[4 * H, 8 * H, 24 * H], 9 * H, { count: 2, shown: 8 * H }],
    [[4 * H, 8 * H, 24 * H], 24 * H, { count: 3, shown: 24 * H }],
    [[4 * H, 8 * H, 24 * H], 39 * H, { count: 3, shown: 24 * H }],
    [[4 * H, 8 * H, 24 * H], 40 * H, { count: 4, shown: 40 * H }],
    [[4 * H, 8 * H, 24 * H], 56 * H, { count: 5, shown: 56 * H }],
    [[], 100 * H, { count: 0, shown: 0 }],
  ];
  for (const [list, q, want] of rows) t.same(warningsDue(list, q), want, `${list.map((x) => x / H)} at ${q / H}h`);
  t.equal(delayText(30 * 60_000, 30 * 60_000), '30 minutes', 'under two hours: minutes');
  t.equal(delayText(25 * H, 24 * H), '24 hours');
});

t.test('who may be warned: never a bounce, the null sender or MAILER-DAEMON, nor when NOTIFY leaves out DELAY', async (t) => {
  const h = (sender: string, extra = {}) => ({ ...newHeader('1jiFk5-0006UE-9S', sender, ['b@y.test'], 1, 0, { uid: 0, user: 'root' }), ...extra });
  t.ok(mayWarn(h('a@x.test')));
  t.notOk(mayWarn(h('a@x.test', { bounce: true })));
  t.notOk(mayWarn(h('')));
  t.notOk(mayWarn(h('MAILER-DAEMON@x.test')));
  t.notOk(mayWarn(h('a@x.test', { dsn: { notify: 'FAILURE' } })));
  t.notOk(mayWarn(h('a@x.test', { dsn: { notify: 'NEVER' } })));
  t.ok(mayWarn(h('a@x.test', { dsn: { notify: 'FAILURE,DELAY' } })));
});

t.test('a deferred message warns its sender once per interval, in the same run', async (t) => {
  const q = fakeQueue(t.testdir(), { script: (r) => (r === 'b@y.test' ? '451 4.7.1 later' : 'ok') });
  q.deps.delayWarning = [24 * H];
  const { id } = await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  /** A forced queue run `hours` later; how many messages the smarthost has taken by then. */
  const runAfter = async (hours: number): Promise<number> => {
    q.clock.now += hours * H;
    await runQueue({ force: true, by: 'root' }, q.deps);
    return q.sent.length;
  };
  t.equal(await runAfter(23), 0, 'not yet');
  t.equal(await runAfter(2), 1, 'the warning, delivered in the same run');
  t.same(q.sent[0]!.envelope, { sender: '', recipients: ['a@x.test'] });
  t.match(q.sent[0]!.data.toString(), new RegExp(`^Subject: delayed 24 hours: ${id}\\r\\n\\r\\nb@y.test: 451 4.7.1 later`));
  t.match(q.log.join('\n'), new RegExp(`\\S+ <= <> R=${id}`), 'logged as Exim does: the arrival of the warning, R= the message');
  t.equal(readHeader(q.deps.spool, id)!.warnings, 1);
  t.equal(await runAfter(20), 1, 'once per interval');
  t.equal(await runAfter(4), 2, 'the next interval: the next warning');
  t.match(q.sent[1]!.data.toString(), /^Subject: delayed 48 hours/);
  t.equal(readHeader(q.deps.spool, id)!.warnings, 2);
});

t.test('no warning for a bounce, nor with delay_warning empty, nor without a real attempt', async (t) => {
  const q = fakeQueue(t.testdir(), { script: (r) => (r === 'b@y.test' ? '550 no' : '451 later') });
  q.deps.delayWarning = [24 * H];
  await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, q.deps);
  q.log.length = 0;
  q.clock.now += 25 * H;
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.notMatch(q.log.join('\n'), / <= <> R=/, 'the bounce is deferred for a day: no warning about it');
  const none = fakeQueue(t.testdir(), { script: () => '451 later' });
  none.deps.delayWarning = [];
  await submitMessage({ sender: 'a@x.test', recipients: ['b@y.test'] }, MSG, opts, none.deps);
  none.clock.now += 30 * H;
  await runQueue({ force: true, by: 'root' }, none.deps);
  t.notMatch(none.log.join('\n'), / <= <> R=/, 'delay_warning empty: none');
  const h = { ...newHeader('1jiFk5-0006UE-9S', 'a@x.test', ['b@y.test'], 1, 0, { uid: 0, user: 'root' }) };
  q.clock.now = 100 * H;
  const held = { header: h, failed: [], tried: false, outcome: { result: 'deferred' as const, attempts: [], recipients: [{ recipient: 'b@y.test', result: 'deferred' as const, reason: 'retry time not reached for any host' }] } };
  t.equal(warnOfDelay(h, held, MSG, q.deps), undefined, 'held back by the retry hints: no host tried, no reason to tell');
  t.ok(warnOfDelay(h, { ...held, tried: true }, MSG, q.deps), 'the same after a real attempt: warned');
});
