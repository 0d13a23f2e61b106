import t from 'tap';
import { formatAge, formatEntry, formatListing, formatSize } from '../../lib/report/listing.js';
import { newHeader } from '../../lib/store/header.js';

t.test('age and size as Exim prints them', async (t) => {
  t.equal(formatAge(0), ' 0m');
  t.equal(formatAge(25 * 60_000), '25m');
  t.equal(formatAge(4 * 3_600_000), ' 4h');
  t.equal(formatAge(47 * 3_600_000), '47h');
  t.equal(formatAge(12 * 86_400_000), '12d');
  t.equal(formatSize(312), '312');
  t.equal(formatSize(2970), '2.9K');
  t.equal(formatSize(46_000), '45K');
  t.equal(formatSize(1_300_000), '1.2M');
  t.equal(formatSize(31_457_280), '30M');
});

t.test('entries: pending indented, done marked D, frozen flagged', async (t) => {
  const now = 1_800_000_000_000;
  const h = newHeader('1jiFk5-0006UE-9S', 'alice@example.com', ['bob@example.net'], 2970, now - 25 * 60_000, { uid: 0, user: 'root' });
  h.done.push({ recipient: 'carol@example.org', result: 'delivered', reason: '250', at: now });
  t.equal(formatEntry(h, now), '25m  2.9K 1jiFk5-0006UE-9S <alice@example.com>\n          bob@example.net\n        D carol@example.org\n\n');
  const b = { ...newHeader('1jiFr2-0006VA-2k', '', ['alice@example.com'], 312, now - 4 * 3_600_000, { uid: 0, user: 'root' }), frozen: 'bounce failed' };
  t.equal(formatEntry(b, now), ' 4h   312 1jiFr2-0006VA-2k <> *** frozen ***\n          alice@example.com\n\n');
  t.equal(formatListing([], now), '', 'an empty queue prints nothing');
  t.ok(formatListing([h, b], now).startsWith(' 4h'), 'oldest first');
});
