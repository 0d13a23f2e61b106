import t from 'tap';
import { base62, IdAllocator, idTime, isMessageId, makeId } from '../../lib/store/ids.js';

t.test('base62 and the id shape', async (t) => {
  t.equal(base62(0, 3), '000');
  t.equal(base62(61, 2), '0z');
  t.equal(base62(62, 2), '10');
  const id = makeId(Date.UTC(2026, 10, 28, 13, 2, 38, 500), 1234, 7);
  t.match(id, /^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/);
  t.ok(isMessageId(id));
  t.equal(id.slice(7, 13), base62(1234, 6), 'pid part');
  t.equal(id[14], base62(31, 1), 'half a second is 31/62');
  t.equal(idTime(id), Date.UTC(2026, 10, 28, 13, 2, 38), 'arrival second decodes');
  for (const bad of ['', '1jiFk5-0006UE-9', '../../etc/x', '1jiFk5-0006UE-9S/', '1jiFk5_0006UE_9S']) t.notOk(isMessageId(bad), bad);
  t.ok(isMessageId('1jiFk5-0006UE-9S'), 'Exim example');
});

t.test('ids sort by arrival', async (t) => {
  const a = makeId(1_700_000_000_000, 99, 0);
  const b = makeId(1_700_000_000_600, 1, 0);
  const c = makeId(1_700_000_001_000, 1, 0);
  t.ok(a < c && b < c);
});

t.test('the allocator never repeats an id, even with a frozen clock and random', async (t) => {
  const alloc = new IdAllocator(7, () => 1_700_000_000_000, (() => {
    let n = 0;
    return () => n++ % 62;
  })());
  const seen = new Set<string>();
  for (let i = 0; i < 62; i++) seen.add(alloc.next());
  t.equal(seen.size, 62);
  t.throws(() => alloc.next(), /could not allocate/, 'bounded: every id of that instant used');
});
