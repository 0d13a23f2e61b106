import t from 'tap';
import { hostListVerdict, isHostName, matchHostList, parseHostList, splitList, splitListItems } from '../../lib/route/hostlist.js';

t.test('splitList (Exim list syntax)', async (t) => {
  const rows: Array<[string, string[]]> = [
    ['', []],
    ['   ', []],
    ['a', ['a']],
    ['a:b', ['a', 'b']],
    [' a : b ', ['a', 'b']],
    ['a:', ['a']], // a trailing empty item is dropped
    [':', ['']], // one empty item
    ['a : : b', ['a', '', 'b']],
    ['a::b', ['a:b']], // doubled separator is literal
    ['127.0.0.1 : ::::1', ['127.0.0.1', '::1']],
    ['127.0.0.1::::1', ['127.0.0.1::1']], // Exim's own example of why the spaces matter
    ['<; 127.0.0.1 ; ::1', ['127.0.0.1', '::1']],
    ['<;a;;b', ['a;b']],
    ['<, a, b:c', ['a', 'b:c']],
    ['<a:b', ['<a', 'b']], // "<" + a letter is not a separator change
    ['  <; x', ['x']],
  ];
  for (const [input, want] of rows) t.strictSame(splitList(input), want, JSON.stringify(input));
  t.strictSame(splitListItems('a::25 : b'), [
    { value: 'a:25', raw: 'a::25' },
    { value: 'b', raw: 'b' },
  ]);
});

t.test('isHostName', async (t) => {
  const rows: Array<[string, boolean]> = [
    ['mail.example.com', true],
    ['mail.example.com.', true],
    ['localhost', true],
    ['_dmarc.example', true],
    ['a-b.example', true],
    ['-a.example', false],
    ['a..b', false],
    ['a b', false],
    ['', false],
    ['x'.repeat(255), false],
  ];
  for (const [input, want] of rows) t.equal(isHostName(input), want, JSON.stringify(input));
});

t.test('parseHostList', async (t) => {
  t.strictSame(parseHostList(''), []);
  t.strictSame(parseHostList('*'), [{ kind: 'any', negated: false, text: '*' }]);
  t.strictSame(parseHostList('! *.Example.COM : Mail.Example.com.'), [
    { kind: 'suffix', negated: true, text: '! *.Example.COM', suffix: '.example.com' },
    { kind: 'name', negated: false, text: 'Mail.Example.com.', name: 'mail.example.com' },
  ]);
  t.strictSame(parseHostList('192.0.2.0/24:192.0.2.9'), [
    { kind: 'net', negated: false, text: '192.0.2.0/24', address: '192.0.2.0', prefix: 24, family: 4 },
    { kind: 'net', negated: false, text: '192.0.2.9', address: '192.0.2.9', prefix: 32, family: 4 },
  ]);
  t.strictSame(parseHostList('<; 2001:db8::/32'), [
    { kind: 'net', negated: false, text: '2001:db8::/32', address: '2001:db8::', prefix: 32, family: 6 },
  ]);
  t.strictSame(parseHostList('2001::db8::::/32'), [
    { kind: 'net', negated: false, text: '2001::db8::::/32', address: '2001:db8::', prefix: 32, family: 6 },
  ]);
  t.match(parseHostList('^mx\\d+\\.example\\.net$'), [{ kind: 'regex', source: '^mx\\d+\\.example\\.net$' }]);
  t.match(parseHostList(':'), [{ kind: 'empty' }]);

  const bad: Array<[string, RegExp]> = [
    ['192.0.2/24', /^malformed IPv4 address or address mask "192.0.2\/24"$/],
    ['192.0.2', /^malformed IPv4 address or address mask "192.0.2"$/],
    ['192.0.2.0/33', /^bad mask "\/33" in "192.0.2.0\/33" \(0-32\)$/],
    ['<; 2001:db8::/129', /^bad mask "\/129" in "2001:db8::\/129" \(0-128\)$/],
    ['192.0.2.0/x', /^bad mask "\/x"/],
    ['2001:db8::/32', /^malformed IPv4 address or address mask "2001" \(IPv6 addresses in a ":" list need doubled colons, or start the list with "<;"\)$/],
    ['mail example.com', /^bad host name "mail example.com" in host list$/],
    ['*.', /^bad wildcard "\*." in host list/],
    ['*a b', /^bad wildcard/],
    ['^(unclosed', /^bad regular expression "\^\(unclosed" in host list: /],
    ['/etc/hosts.allow', /^file names are not supported in host lists: "\/etc\/hosts.allow"$/],
    ['+relay_hosts', /^named lists and "\+" items are not supported/],
    ['@[]', /^"@" items are not supported/],
    ['net24-lsearch;/etc/nets', /^lookups are not supported in host lists/],
    ['host::25', /^bad host list item "host::25" \(neither an IP address nor a host name\)$/],
  ];
  for (const [input, re] of bad) {
    t.throws(() => parseHostList(input), { message: re, code: 'E_CONFIG' }, JSON.stringify(input));
  }
});

t.test('matchHostList', async (t) => {
  // [list, host, expected]
  const rows: Array<[string, { name?: string; address?: string }, boolean]> = [
    ['', { name: 'a.example', address: '192.0.2.1' }, false], // empty list matches nothing
    [':', { name: 'a.example', address: '192.0.2.1' }, false], // an empty item never matches a remote host
    ['*', {}, true],
    ['*', { name: 'a.example' }, true],
    ['mail.example.com', { name: 'MAIL.example.com' }, true],
    ['mail.example.com', { name: 'mail.example.com.' }, true],
    ['mail.example.com', { name: 'x.mail.example.com' }, false],
    ['mail.example.com', { address: '192.0.2.1' }, false], // names match names, never addresses
    ['*.example.com', { name: 'mx1.example.com' }, true],
    ['*.example.com', { name: 'example.com' }, false],
    ['*example.com', { name: 'example.com' }, true],
    ['*example.com', { name: 'badexample.com' }, true], // as in Exim: plain suffix
    ['*.example.com', { address: '192.0.2.1' }, false],
    ['^mx\\d+\\.example\\.net$', { name: 'MX12.example.net' }, true],
    ['^mx\\d+\\.example\\.net$', { name: 'mx.example.net' }, false],
    ['192.0.2.0/24', { address: '192.0.2.200' }, true],
    ['192.0.2.0/24', { address: '192.0.3.1' }, false],
    ['192.0.2.236/31', { address: '192.0.2.237' }, true],
    ['192.0.2.236/31', { address: '192.0.2.238' }, false],
    ['192.0.2.9', { address: '192.0.2.9' }, true],
    ['192.0.2.9', { address: '192.0.2.90' }, false],
    ['0.0.0.0/0', { address: '203.0.113.5' }, true],
    ['192.0.2.0/24', { address: '::ffff:192.0.2.7' }, true], // IPv4-mapped IPv6 is compared as IPv4
    ['192.0.2.0/24', { address: '2001:db8::1' }, false],
    ['<; 2001:db8::/32', { address: '2001:DB8:1::25' }, true],
    ['<; 2001:db8::/32', { address: '2001:db9::25' }, false],
    ['<; 2001:db8::/33', { address: '2001:db8:8000::1' }, false],
    ['<; ::1', { address: '::1' }, true],
    ['<; ::1', { address: '127.0.0.1' }, false],
    ['<; ::ffff:192.0.2.0/120', { address: '192.0.2.77' }, true],
    ['<; 2001:db8::192.0.2.1', { address: '2001:db8::c000:201' }, true],
    ['192.0.2.1', { name: 'a.example' }, false],
    // negation: first match wins; a list ending in a negated item has an implied ": *"
    ['!mail.example.com : *', { name: 'mail.example.com' }, false],
    ['!mail.example.com : *', { name: 'other.example.com' }, true],
    ['!mail.example.com', { name: 'other.example.com' }, true],
    ['!mail.example.com', { name: 'mail.example.com' }, false],
    ['! 192.0.2.0/24 : *.example.com', { name: 'a.example.com', address: '192.0.2.1' }, false],
    ['! 192.0.2.0/24 : *.example.com', { name: 'a.example.com', address: '198.51.100.1' }, true],
    ['! 192.0.2.0/24 : *.example.com', { name: 'a.example.org', address: '198.51.100.1' }, false],
    ['!a.b.c : *.b.c', { name: 'x.y' }, false],
    ['!a.b.c', { name: 'x.y' }, true],
  ];
  for (const [list, host, want] of rows) {
    t.equal(matchHostList(parseHostList(list), host), want, `${JSON.stringify(list)} ~ ${JSON.stringify(host)}`);
  }
});

t.test('hostListVerdict says why', async (t) => {
  t.strictSame(hostListVerdict(parseHostList('*.example.com : *'), { name: 'a.example.com' }), {
    match: true,
    item: { kind: 'suffix', negated: false, text: '*.example.com', suffix: '.example.com' },
    why: 'matched "*.example.com"',
  });
  t.strictSame(hostListVerdict(parseHostList('a.example'), { name: 'b.example' }), { match: false, why: 'end of list' });
  t.strictSame(hostListVerdict(parseHostList('!a.example'), { name: 'b.example' }), {
    match: true,
    why: 'end of list, last item negated',
  });
  t.match(hostListVerdict(parseHostList('!a.example'), { name: 'a.example' }), { match: false, why: 'matched "!a.example"' });
});
