import t from 'tap';
import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeQueue } from '../../fixtures/queue/fake-deps.js';
import { renderJournals } from '../../lib/queue/journals.js';
import { runQueue } from '../../lib/queue/queue.js';
import { writeDrop } from '../../lib/store/drop.js';
import { newHeader } from '../../lib/store/header.js';
import { journalPath } from '../../lib/store/journal.js';
import { tryLock, realLockDeps } from '../../lib/store/lock.js';

const ID = '1jiFk5-0006UE-9S';
const ev = (o: object) => JSON.stringify({ at: Date.UTC(2026, 10, 28, 11, 0, 0), ...o }) + '\n';

t.test("a journal is rendered once, under its message's claim, then removed", async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  writeFileSync(journalPath(l, ID), ev({ ev: 'arrival', sender: 'a@x.test', size: 3 }) + ev({ ev: 'completed' }));
  const claim = tryLock(join(l.incoming, `${ID}-L`), realLockDeps());
  t.same([...renderJournals(q.deps)], [], 'claimed by its writer: left for the next run');
  if ('lock' in claim) claim.lock.release();
  t.same([...renderJournals(q.deps)], [ID]);
  t.same(q.log, [`${ID} <= <a@x.test>`, `${ID} Completed`]);
  t.notOk(existsSync(journalPath(l, ID)));
});

t.test("a journal without its message's arrival, and no message: refused, moved aside", async (t) => {
  const q = fakeQueue(t.testdir());
  const l = q.deps.spool;
  writeFileSync(journalPath(l, ID), ev({ ev: 'completed' }));
  renderJournals(q.deps);
  t.match(q.log.join('\n'), /journal \S+ refused \(no such message, and no arrival in it\): moved to/);
  t.same(readdirSync(l.corrupt), [`${ID}-J`]);
});

t.test("a journal owned by someone else than the message's owner is refused", { skip: process.getuid?.() !== 0 ? 'needs root (chown)' : false }, async (t) => {
  const q = fakeQueue(t.testdir(), { script: () => 'down' });
  const l = q.deps.spool;
  writeDrop(l, newHeader(ID, 'a@x.test', ['b@y.test'], 1, q.clock.now, { uid: 0, user: 'root' }), Buffer.from('x'));
  chownSync(join(l.incoming, ID), 65534, 65534);
  writeFileSync(journalPath(l, ID), ev({ ev: 'note', text: 'hello' }));
  chownSync(journalPath(l, ID), 4242, 4242);
  await runQueue({ force: true, by: 'root' }, q.deps);
  t.match(q.log.join('\n'), /journal \S+-J: wrong owner \(uid 4242\): moved to/);
  t.notMatch(q.log.join('\n'), /hello/);
  t.match(q.log.join('\n'), new RegExp(`${ID} <= <a@x.test>`), 'the message itself arrives as usual');
});
