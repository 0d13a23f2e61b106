import t from 'tap';
import { mergeByTime, messageLogLine } from '../../lib/report/message-log.js';

const id = '1jiFk5-0006UE-9S';

t.test("a main-log line of the message, in the shape of Exim's msglog", async (t) => {
  t.equal(messageLogLine(`2026-11-28 13:02:39 ${id} == b@x R=smarthost`, id), '2026-11-28 13:02:39 == b@x R=smarthost');
  t.equal(messageLogLine(`2026-11-28 13:02:39 ${id} Completed`, id), '2026-11-28 13:02:39 Completed');
  t.equal(messageLogLine(`2026-11-28 13:02:39 1jiFk5-0006UE-9T Completed`, id), undefined, 'another message');
  t.equal(messageLogLine(`2026-11-28 13:02:39 1kQb5w-000Abc-9S <= <> R=${id} U=root`, id), undefined, 'a line that only names it (a bounce of it)');
  t.equal(messageLogLine(`2026-11-28 13:02:39 Start queue run: pid=1`, id), undefined);
  t.equal(messageLogLine(`garbage ${id} x`, id), undefined);
  t.equal(messageLogLine(`2026-11-28 13:02:39 ${id}`, id), undefined, 'nothing after the id');
  t.equal(messageLogLine(`2026-11-28 13:02:39 ${id}x y`, id), undefined);
});

t.test('sources merged by time, each keeping its order within a second', async (t) => {
  t.same(
    mergeByTime(['2026-11-28 10:00:00 a', '2026-11-28 12:00:00 c'], ['2026-11-28 11:00:00 b', '2026-11-28 12:00:00 d'], ['2026-11-28 10:00:00 a2']),
    ['2026-11-28 10:00:00 a', '2026-11-28 10:00:00 a2', '2026-11-28 11:00:00 b', '2026-11-28 12:00:00 c', '2026-11-28 12:00:00 d'],
  );
});
