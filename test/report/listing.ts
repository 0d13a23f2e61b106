import t from 'tap';
import { damagedLines, formatAge, formatEntry, formatListing, formatSize } from '../../lib/report/listing.js';
import { newHeader, type SpoolHeader } from '../../lib/store/header.js';

t.test("age and size as Exim prints them (queue.c queue_list, string.c string_format_size)", async (t) => {
  t.equal(formatAge(0), ' 0m');
  t.equal(formatAge(25 * 60_000), '25m');
  t.equal(formatAge(90 * 60_000), '90m', 'minutes up to 90');
  t.equal(formatAge(91 * 60_000), ' 2h', 'then hours, rounded');
  t.equal(formatAge(4 * 3_600_000), ' 4h');
  t.equal(formatAge(47 * 3_600_000), '47h');
  t.equal(formatAge(72 * 3_600_000), '72h', 'hours up to 72');
  t.equal(formatAge(73 * 3_600_000), ' 3d', 'then days, rounded');
  t.equal(formatAge(12 * 86_400_000), '12d');
  t.equal(formatSize(0), '', 'Exim prints blanks for 0');
  t.equal(formatSize(312), '312');
  t.equal(formatSize(2970), '2.9K');
  t.equal(formatSize(46_000), '45K');
  t.equal(formatSize(1_300_000), '1.2M');
  t.equal(formatSize(31_457_280), '30M');
});

const now = 1_800_000_000_000;
const root = { uid: 0, user: 'root' };

t.test('entries: pending indented, done marked D, frozen flagged', async (t) => {
  const h = newHeader('1jiFk5-0006UE-9S', 'alice@example.com', ['bob@example.net'], 2970, now - 25 * 60_000, root);
  h.done.push({ recipient: 'carol@example.org', result: 'delivered', reason: '250', at: now });
  t.equal(formatEntry(h, now), '25m  2.9K 1jiFk5-0006UE-9S <alice@example.com>\n          bob@example.net\n        D carol@example.org\n\n');
  const b = { ...newHeader('1jiFr2-0006VA-2k', '', ['alice@example.com'], 312, now - 4 * 3_600_000, root), frozen: 'bounce failed' };
  t.equal(formatEntry(b, now), ' 4h   312 1jiFr2-0006VA-2k <> *** frozen ***\n          alice@example.com\n\n');
  t.equal(formatListing([], now), '', 'an empty queue prints nothing');
  t.ok(formatListing([h, b], now).startsWith(' 4h'), 'oldest first');
  t.ok(formatListing([h, b], now, { unsorted: true }).startsWith('25m'), '-bpr: as given, not sorted');
});

/** A message to a, b, c (b delivered): the state after one attempt. */
function partly(): SpoolHeader {
  const h = newHeader('1jiFk5-0006UE-9S', 'alice@example.com', ['a@x.test', 'b@x.test', 'c@x.test'], 100, now, root);
  h.recipients = ['a@x.test', 'c@x.test'];
  h.done = [{ recipient: 'b@x.test', result: 'delivered', reason: '250', at: now }];
  return h;
}

t.test('recipients in the order they were submitted, done or not', async (t) => {
  t.equal(formatEntry(partly(), now), ' 0m   100 1jiFk5-0006UE-9S <alice@example.com>\n          a@x.test\n        D b@x.test\n          c@x.test\n\n');
  const old = { ...partly(), original: undefined };
  t.equal(formatEntry(old, now), ' 0m   100 1jiFk5-0006UE-9S <alice@example.com>\n          a@x.test\n          c@x.test\n        D b@x.test\n\n', 'a header of an older version: pending, then done');
  t.equal(formatEntry(partly(), now, { undelivered: true }), ' 0m   100 1jiFk5-0006UE-9S <alice@example.com>\n          a@x.test\n          c@x.test\n\n', '-bpu: only the undelivered');
});

t.test('aliases: the top-level address is listed, D once all it led to is done; -bpa adds +D for the generated ones', async (t) => {
  // root@host -> admin@example.com, ops@example.com; bob@example.net as given
  const parents = { 'admin@example.com': 'root@host.test', 'ops@example.com': 'root@host.test' };
  const h = newHeader('1jiFk5-0006UE-9S', 'cron@host.test', ['admin@example.com', 'bob@example.net', 'ops@example.com'], 100, now, root, parents);
  h.recipients = ['ops@example.com', 'bob@example.net'];
  h.done = [{ recipient: 'admin@example.com', result: 'delivered', reason: '250', at: now }];
  const head = ' 0m   100 1jiFk5-0006UE-9S <cron@host.test>\n';
  t.equal(formatEntry(h, now), `${head}          root@host.test\n          bob@example.net\n\n`, 'one child pending: root is not D');
  t.equal(formatEntry(h, now, { generated: true }), `${head}          root@host.test\n          bob@example.net\n       +D admin@example.com\n\n`);
  h.recipients = ['bob@example.net'];
  h.done.push({ recipient: 'ops@example.com', result: 'failed', reason: '550', at: now });
  t.equal(formatEntry(h, now), `${head}        D root@host.test\n          bob@example.net\n\n`, 'all its children done (delivered or failed): D');
  t.equal(formatEntry(h, now, { undelivered: true }), `${head}          bob@example.net\n\n`);
  t.equal(formatEntry(h, now, { generated: true, undelivered: false }), `${head}        D root@host.test\n          bob@example.net\n       +D admin@example.com\n       +D ops@example.com\n\n`);
});

t.test('damaged files: one line each, for stderr', async (t) => {
  t.same(damagedLines({ pending: [], unreadableDrops: 0, corrupt: [], dir: '/s/corrupt' }), []);
  t.same(damagedLines({ pending: ['1jiFr2-0006VA-2k-H'], unreadableDrops: 2, corrupt: ['1jiFk5-0006UE-9S-D'], dir: '/s/corrupt' }), [
    '1jiFk5-0006UE-9S-D is in /s/corrupt: damaged, not delivered (see the main log)',
    '1jiFr2-0006VA-2k-H is damaged: moved to corrupt/ by the next queue run',
    '2 files in incoming/ cannot be read: moved to corrupt/ by the next queue run',
  ]);
});
