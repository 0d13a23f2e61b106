import t from 'tap';
import { didYouMean, editDistance, parseRoute, ROUTE_OPTIONS } from '../../lib/route/route.js';
import { SmarthostError } from '../../lib/errors.js';
import type { HostSpec, Route } from '../../lib/types.js';

const h = (name: string, extra: Partial<HostSpec> = {}): HostSpec => ({ name, literal: false, mx: false, ...extra });
const ip = (name: string, extra: Partial<HostSpec> = {}): HostSpec => ({ name, literal: true, mx: false, ...extra });

type Want = Partial<Route> | RegExp;

// [route_data value, expected fields | /error/]
const rows: Array<[string, Want]> = [
  // the seed line
  [
    'mail.dev.example.test bydns ipv4_only',
    {
      hosts: [h('mail.dev.example.test')],
      lookup: 'bydns',
      family: 'ipv4_only',
      randomize: false,
      hostText: 'mail.dev.example.test',
      optionText: 'bydns ipv4_only',
    },
  ],
  ['mail.example.com', { hosts: [h('mail.example.com')], lookup: 'bydns', family: 'any', randomize: false, optionText: '' }],
  ['  mail.example.com   byname  ', { hosts: [h('mail.example.com')], lookup: 'byname', hostText: 'mail.example.com', optionText: 'byname' }],
  ['a.example:b.example', { hosts: [h('a.example'), h('b.example')] }],
  ['"a.example : b.example" ipv4_prefer', { hosts: [h('a.example'), h('b.example')], family: 'ipv4_prefer', hostText: 'a.example : b.example' }],
  ['mail.example.com::587', { hosts: [h('mail.example.com', { port: 587 })] }],
  ['"<; a.example:2525 ; b.example"', { hosts: [h('a.example', { port: 2525 }), h('b.example')], hostText: '<; a.example:2525 ; b.example' }],
  ['<;a.example:2525;b.example byname', { hosts: [h('a.example', { port: 2525 }), h('b.example')], lookup: 'byname' }],
  ['192.0.2.7', { hosts: [ip('192.0.2.7')] }],
  ['192.0.2.7::2525', { hosts: [ip('192.0.2.7', { port: 2525 })] }],
  ['[192.0.2.7]::2525', { hosts: [ip('192.0.2.7', { port: 2525 })] }],
  ['[192.0.2.7]', { hosts: [ip('192.0.2.7')] }],
  ['"<; [2001:db8::7]:2525 ; 2001:db8::8"', { hosts: [ip('2001:db8::7', { port: 2525 }), ip('2001:db8::8')] }],
  ['"</ [10.1.1.1]:1225 / [::1]:1226"', { hosts: [ip('10.1.1.1', { port: 1225 }), ip('::1', { port: 1226 })] }],
  ['::::1', { hosts: [ip('::1')] }],
  // Exim's gotcha: in a ":" list a bare IPv6 address never takes a port (the 25 is part of it)
  ['2001::db8::::25', { hosts: [ip('2001:db8::25')] }],
  ['example.com/MX', { hosts: [h('example.com', { mx: true })] }],
  ['x.y.z:p.q.r/mx:e.f.g', { hosts: [h('x.y.z'), h('p.q.r', { mx: true }), h('e.f.g')] }],
  ['dom1.tld/mx::1225', { hosts: [h('dom1.tld', { mx: true, port: 1225 })] }],
  ['a.example:+:b.example', { hosts: [h('a.example'), h('b.example')], randomize: false }],
  ['a.example:b.example randomize byname', { randomize: true, lookup: 'byname' }],
  ['a.example no_randomize no_randomize', { randomize: false }],
  ['a.example:', { hosts: [h('a.example')] }],
  ['mail.example.com. bydns', { hosts: [h('mail.example.com.')] }],
  ['"a.example\\:\\:25"', { hosts: [h('a.example', { port: 25 })] }],

  // errors
  ['', /^empty host list$/],
  ['   ', /^empty host list$/],
  ['"" bydns', /^empty host list$/],
  ['+', /^empty host list$/],
  ['mail.example.com ipv4only', /^unknown host option "ipv4only" \(did you mean ipv4_only\?\)$/],
  ['mail.example.com by_dns', /^unknown host option "by_dns" \(did you mean bydns\?\)$/],
  ['mail.example.com smtp', /^unknown host option "smtp" \(expected one of bydns, byname, /],
  ['a.example : b.example', /^unknown host option ":" \(a host list containing white space must be in double quotes\)$/],
  ['mail.example.com bydns byname', /^conflicting host options "bydns" and "byname"$/],
  ['mail.example.com ipv4_only ipv4_prefer', /^conflicting host options "ipv4_only" and "ipv4_prefer"$/],
  ['mail.example.com randomize no_randomize', /^conflicting host options "randomize" and "no_randomize"$/],
  ['host::99999', /^bad port "99999" in "host::99999" \(1-65535\)$/],
  ['host::0', /^bad port "0" in "host::0"/],
  ['host::smtp', /^bad port "smtp" in "host::smtp"/],
  ['host::', /^missing port after ":" in "host::"$/],
  ['host:25', /^bad host list item "25" \(in a ":" list a port needs a doubled colon: host::25\)$/],
  ['a.example : : b.example', /^unknown host option ":"/],
  ['"a.example : : b.example"', /^empty item in host list "a.example : : b.example"$/],
  ['[192.0.2.300]::25', /^bad IP address "\[192.0.2.300\]" in "\[192.0.2.300\]::25"$/],
  ['[192.0.2.7]x', /^bad host list item "\[192.0.2.7\]x" \(expected \[address\] or \[address\]:port\)$/],
  ['192.0.2', /^bad IPv4 address "192.0.2" in "192.0.2"$/],
  ['192.0.2.7/MX', /^"\/MX" cannot follow an IP address in "192.0.2.7\/MX"$/],
  ['mail_example!com', /^bad host name "mail_example!com" in host list$/],
  ['example.com/AAAA', /^bad host name "example.com\/AAAA" in host list \(the only "\/" suffix is \/MX\)$/],
  ['<;2001:db8::7:2525:x', /^bad host list item "2001:db8::7:2525:x" \(write an IPv6 address with a port as \[address\]:port\)$/],
  ['<; a.example:2525', /^unknown host option "a.example:2525" \(a host list containing white space must be in double quotes\)$/],
  ['"a.example bydns', /^unterminated quoted host list "a.example bydns$/],
  ['a.example:+:b.example randomize', /^randomize groups \("\+" items\) are not supported in "a.example:\+:b.example"$/],
];

t.test('parseRoute table', async (t) => {
  for (const [input, want] of rows) {
    if (want instanceof RegExp) {
      t.throws(() => parseRoute(input), { message: want, code: 'E_CONFIG', kind: 'config' }, JSON.stringify(input));
    } else {
      const got = parseRoute(input);
      t.match(got, want, JSON.stringify(input));
      if (want.hosts) t.strictSame(got.hosts, want.hosts, `${JSON.stringify(input)} hosts exactly`);
    }
  }
});

t.test('errors are SmarthostErrors without a file:line prefix', async (t) => {
  try {
    parseRoute('mail.example.com ipv4only');
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof SmarthostError);
    t.notMatch((e as Error).message, /:\d+:/);
  }
});

t.test('the whole route for the seed line', async (t) => {
  t.strictSame(parseRoute('mail.dev.example.test bydns ipv4_only'), {
    hosts: [{ name: 'mail.dev.example.test', literal: false, mx: false }],
    lookup: 'bydns',
    family: 'ipv4_only',
    randomize: false,
    hostText: 'mail.dev.example.test',
    optionText: 'bydns ipv4_only',
  });
});

t.test('optionText keeps the options as written', async (t) => {
  t.equal(parseRoute('a.example   bydns\tipv4_prefer').optionText, 'bydns\tipv4_prefer');
});

t.test('didYouMean / editDistance', async (t) => {
  t.equal(editDistance('kitten', 'sitting'), 3);
  t.equal(editDistance('', 'abc'), 3);
  t.equal(editDistance('abc', ''), 3);
  t.equal(editDistance('prot', 'port'), 1, 'a swap of neighbours is one edit');
  t.equal(editDistance('bydsn', 'bydns'), 1);
  t.equal(didYouMean('ipv4only', ROUTE_OPTIONS), 'ipv4_only');
  t.equal(didYouMean('IPV4-PREFER', ROUTE_OPTIONS), 'ipv4_prefer');
  t.equal(didYouMean('random', ROUTE_OPTIONS), undefined);
  t.equal(didYouMean('x', ['s']), undefined, 'no suggestion when the distance is half the word');
});
