import t from 'tap';
import { followCnames, orderAddresses, DEFAULT_MAX_CNAME_HOPS } from '../../lib/route/cname.js';
import type { DnsRecord } from '../../lib/route/dns-packet.js';
import type { CnameHop, FamilyPolicy, ResolvedAddress } from '../../lib/types.js';
import { SmarthostError } from '../../lib/errors.js';

const A = (name: string, data: string, ttl = 60): DnsRecord => ({ name, type: 'A', ttl, data });
const CN = (name: string, data: string, ttl = 300): DnsRecord => ({ name, type: 'CNAME', ttl, data });
const hop = (name: string, target: string, ttl = 300): CnameHop => ({ name, target, ttl });

type Expect = { canonical: string; chain: CnameHop[]; records: string[]; complete: boolean } | RegExp;
type Row = [label: string, answers: DnsRecord[], qname: string, rrtype: string, expected: Expect, maxHops?: number, prior?: CnameHop[]];

const chainOf = (n: number): DnsRecord[] => [
  ...Array.from({ length: n }, (_, i) => CN(`c${i}.test`, `c${i + 1}.test`)),
  A(`c${n}.test`, '192.0.2.1'),
];

const rows: Row[] = [
  ['no CNAME', [A('smarthost.example.test', '192.0.2.1')], 'smarthost.example.test', 'A', { canonical: 'smarthost.example.test', chain: [], records: ['192.0.2.1'], complete: true }],
  [
    'the seed: one hop, both names kept',
    [CN('mail.dev.example.test', 'mail.example.local'), A('mail.example.local', '192.168.1.6')],
    'mail.dev.example.test',
    'A',
    { canonical: 'mail.example.local', chain: [hop('mail.dev.example.test', 'mail.example.local')], records: ['192.168.1.6'], complete: true },
  ],
  [
    'any record order, any case, trailing dots',
    [A('MAIL.example.LOCAL', '192.0.2.6'), CN('Mail.Dev.Example.Test', 'Mail.Example.Local.')],
    'mail.dev.example.test.',
    'A',
    { canonical: 'mail.example.local', chain: [hop('mail.dev.example.test', 'mail.example.local')], records: ['192.0.2.6'], complete: true },
  ],
  [
    'two hops out of order',
    [A('c.test', '192.0.2.3'), CN('b.test', 'c.test', 30), CN('a.test', 'b.test', 20)],
    'a.test',
    'A',
    { canonical: 'c.test', chain: [hop('a.test', 'b.test', 20), hop('b.test', 'c.test', 30)], records: ['192.0.2.3'], complete: true },
  ],
  [
    'only the CNAME: the caller must re-query the target',
    [CN('mail.dev.example.test', 'mail.example.local')],
    'mail.dev.example.test',
    'AAAA',
    { canonical: 'mail.example.local', chain: [hop('mail.dev.example.test', 'mail.example.local')], records: [], complete: false },
  ],
  ['nothing at all (NODATA)', [], 'x.test', 'A', { canonical: 'x.test', chain: [], records: [], complete: true }],
  [
    'records of other names are ignored (not on the chain)',
    [A('evil.test', '203.0.113.1'), CN('a.test', 'b.test'), A('b.test', '192.0.2.2'), A('c.test', '203.0.113.2')],
    'a.test',
    'A',
    { canonical: 'b.test', chain: [hop('a.test', 'b.test')], records: ['192.0.2.2'], complete: true },
  ],
  [
    'records of other types are ignored',
    [{ name: 'a.test', type: 'AAAA', ttl: 1, data: '::1' }, A('a.test', '192.0.2.1')],
    'a.test',
    'A',
    { canonical: 'a.test', chain: [], records: ['192.0.2.1'], complete: true },
  ],
  ['records beat a CNAME at the same name (as Exim)', [CN('a.test', 'b.test'), A('a.test', '192.0.2.1'), A('b.test', '192.0.2.2')], 'a.test', 'A', { canonical: 'a.test', chain: [], records: ['192.0.2.1'], complete: true }],
  ['asking for CNAME follows nothing', [CN('a.test', 'b.test'), CN('b.test', 'c.test')], 'a.test', 'CNAME', { canonical: 'a.test', chain: [], records: ['b.test'], complete: true }],
  ['the same CNAME twice is fine', [CN('a.test', 'b.test'), CN('a.test', 'B.test'), A('b.test', '192.0.2.2')], 'a.test', 'A', { canonical: 'b.test', chain: [hop('a.test', 'b.test')], records: ['192.0.2.2'], complete: true }],
  ['two CNAME targets for one name', [CN('a.test', 'b.test'), CN('a.test', 'c.test')], 'a.test', 'A', /two CNAMEs for a\.test/],
  ['a loop', [CN('loop1.test', 'loop2.test'), CN('loop2.test', 'loop1.test')], 'loop1.test', 'A', /^CNAME loop for loop1\.test \(A\): loop1\.test -> loop2\.test -> loop1\.test$/],
  ['a name aliased to itself', [CN('self.test', 'SELF.test')], 'self.test', 'A', /CNAME loop for self\.test/],
  ['a loop that does not come back to the start', [CN('a.test', 'b.test'), CN('b.test', 'c.test'), CN('c.test', 'b.test')], 'a.test', 'A', /a\.test -> b\.test -> c\.test -> b\.test/],
  [`${DEFAULT_MAX_CNAME_HOPS} hops: allowed`, chainOf(8), 'c0.test', 'A', { canonical: 'c8.test', chain: Array.from({ length: 8 }, (_, i) => hop(`c${i}.test`, `c${i + 1}.test`)), records: ['192.0.2.1'], complete: true }],
  ['9 hops: too long', chainOf(9), 'c0.test', 'A', /^CNAME chain for c0\.test \(A\) is longer than 8 hops: c0\.test -> .* -> c9\.test$/],
  ['10 hops with maxHops 10', chainOf(10), 'c0.test', 'A', { canonical: 'c10.test', chain: Array.from({ length: 10 }, (_, i) => hop(`c${i}.test`, `c${i + 1}.test`)), records: ['192.0.2.1'], complete: true }, 10],
  [
    'prior hops from an earlier answer come first',
    [CN('b.test', 'c.test'), A('c.test', '192.0.2.3')],
    'b.test',
    'A',
    { canonical: 'c.test', chain: [hop('a.test', 'b.test'), hop('b.test', 'c.test')], records: ['192.0.2.3'], complete: true },
    8,
    [hop('a.test', 'b.test')],
  ],
  ['prior hops: NODATA at the target is complete', [], 'b.test', 'A', { canonical: 'b.test', chain: [hop('a.test', 'b.test')], records: [], complete: true }, 8, [hop('a.test', 'b.test')]],
  ['prior hops count toward the limit', [CN('b.test', 'c.test'), CN('c.test', 'd.test')], 'b.test', 'A', /longer than 2 hops: a\.test -> b\.test -> c\.test -> d\.test/, 2, [hop('a.test', 'b.test')]],
  ['a loop across answers', [CN('b.test', 'a.test')], 'b.test', 'A', /CNAME loop for a\.test \(A\): a\.test -> b\.test -> a\.test/, 8, [hop('a.test', 'b.test')]],
];

t.test('followCnames', async (t) => {
  for (const [label, answers, qname, rrtype, expected, maxHops, prior] of rows) {
    if (expected instanceof RegExp) {
      t.throws(() => followCnames(answers, qname, rrtype, maxHops, prior), { code: 'E_DNS_BAD_ANSWER', kind: 'temp', message: expected }, label);
      continue;
    }
    const got = followCnames(answers, qname, rrtype, maxHops, prior);
    t.same({ canonical: got.canonical, chain: got.chain, records: got.records.map((r) => r.data), complete: got.complete }, expected, label);
  }
});

t.test('errors are SmarthostErrors', async (t) => {
  try {
    followCnames([CN('a.test', 'a.test')], 'a.test', 'A');
    t.fail('no error');
  } catch (e) {
    t.ok(e instanceof SmarthostError);
  }
});

const v6 = (address: string, ttl = 60): ResolvedAddress => ({ address, family: 6, ttl });
const v4 = (address: string, ttl = 60): ResolvedAddress => ({ address, family: 4, ttl });

t.test('orderAddresses', async (t) => {
  const rows: [string, ResolvedAddress[], ResolvedAddress[], FamilyPolicy, string[]][] = [
    ['IPv6 first by default', [v6('2001:db8::1')], [v4('192.0.2.1')], 'any', ['2001:db8::1', '192.0.2.1']],
    ['ipv4_prefer', [v6('2001:db8::1')], [v4('192.0.2.1')], 'ipv4_prefer', ['192.0.2.1', '2001:db8::1']],
    ['ipv4_only', [v6('2001:db8::1')], [v4('192.0.2.1')], 'ipv4_only', ['192.0.2.1']],
    ['answer order kept within a family', [v6('2001:db8::2'), v6('2001:db8::1')], [v4('192.0.2.2'), v4('192.0.2.1')], 'any', ['2001:db8::2', '2001:db8::1', '192.0.2.2', '192.0.2.1']],
    ['duplicates dropped, first kept', [v6('2001:DB8::1'), v6('2001:db8::1')], [v4('192.0.2.1'), v4('192.0.2.1', 5)], 'any', ['2001:DB8::1', '192.0.2.1']],
    ['only IPv6 and ipv4_only: nothing', [v6('::1')], [], 'ipv4_only', []],
    ['nothing', [], [], 'any', []],
  ];
  for (const [label, six, four, policy, want] of rows) {
    t.same(orderAddresses(six, four, policy).map((a) => a.address), want, label);
  }
  t.same(orderAddresses([], [v4('192.0.2.1', 7), v4('192.0.2.1', 5)], 'any'), [v4('192.0.2.1', 7)], 'the TTL of the first is kept');
});
