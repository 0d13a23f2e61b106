/**
 * The RFC 9525 name check (lib/deliver/cert-name.ts), as a table: the queried
 * name, the certificate's subjectAltName as Node renders it, and what must
 * come out (the entry that matched, or a pattern of the reason).
 */
import t from 'tap';
import { ipOctets, matchName, parseAltNames } from '../../lib/deliver/cert-name.js';

type Row = [reference: string, subjectAltName: string, want: string | RegExp, why: string];

const rows: Row[] = [
  // exact names and case (§6.3: case-insensitive ASCII, label by label)
  ['mail.q.test', 'DNS:mail.q.test', 'DNS:mail.q.test', 'exact'],
  ['MAIL.Q.Test', 'DNS:mail.q.test', 'DNS:mail.q.test', 'case of the reference'],
  ['mail.q.test', 'DNS:Mail.Q.TEST', 'DNS:Mail.Q.TEST', 'case of the certificate'],
  ['mail.q.test', 'DNS:other.q.test, DNS:mail.q.test', 'DNS:mail.q.test', 'second entry'],
  ['mail.q.test', 'DNS:mail.q.test.example', /does not name "mail\.q\.test" \(it has DNS:mail\.q\.test\.example\)/, 'a longer name is another name'],
  ['mail.q.test', 'DNS:q.test', /does not name/, 'a shorter name is another name'],
  // trailing dots (one, on either side)
  ['mail.q.test.', 'DNS:mail.q.test', 'DNS:mail.q.test', 'absolute reference'],
  ['mail.q.test', 'DNS:mail.q.test.', 'DNS:mail.q.test.', 'absolute presented name'],
  ['mail.q.test', 'DNS:*.q.test.', 'DNS:*.q.test.', 'absolute wildcard'],
  ['mail.q.test..', 'DNS:mail.q.test', /"mail\.q\.test\.\." is not a host name/, 'an empty label'],
  ['mail.q.test', 'DNS:mail..q.test', /DNS:mail\.\.q\.test ignored: not a valid host name/, 'an empty label in the certificate'],
  // wildcards: the whole left-most label, once, exactly one label
  ['mail.q.test', 'DNS:*.q.test', 'DNS:*.q.test', 'wildcard'],
  ['q.test', 'DNS:*.q.test', /does not name "q\.test"/, 'a wildcard matches one label, not none'],
  ['a.mail.q.test', 'DNS:*.q.test', /does not name/, 'a wildcard matches one label, not two'],
  ['xyz.q.test', 'DNS:x*.q.test', /DNS:x\*\.q\.test ignored: a wildcard must be the whole left-most label/, 'partial wildcard (issue 10, defect 1)'],
  ['xn--bcher-kva.q.test', 'DNS:x*.q.test', /DNS:x\*\.q\.test ignored: a wildcard must be the whole left-most label/, 'partial wildcard over an A-label (issue 10, defect 1)'],
  ['ax.q.test', 'DNS:*x.q.test', /ignored: a wildcard must be the whole left-most label/, 'wildcard as a prefix'],
  ['foo.q.test', 'DNS:f*o.q.test', /ignored: a wildcard must be the whole left-most label/, 'wildcard inside a label'],
  ['a.b.q.test', 'DNS:a.*.q.test', /ignored: a wildcard must be the whole left-most label/, 'wildcard not left-most'],
  ['a.b.q.test', 'DNS:*.*.q.test', /ignored: more than one wildcard/, 'two wildcards'],
  ['mail.q.test', 'DNS:**.q.test', /ignored: a wildcard must be the whole left-most label/, 'two stars'],
  ['test', 'DNS:*', /ignored: a wildcard needs at least two labels after it/, 'a bare star'],
  ['mail.test', 'DNS:*.test', /ignored: a wildcard needs at least two labels after it/, 'a wildcard over a top-level domain'],
  ['mail.q.test', 'DNS:*.q.test, DNS:mail.q.test', 'DNS:*.q.test', 'the first entry that names the host is reported'],
  // internationalized names (§6.3: A-labels, compared as ASCII); no wildcard over an A-label
  ['xn--bcher-kva.q.test', 'DNS:xn--bcher-kva.q.test', 'DNS:xn--bcher-kva.q.test', 'an A-label, exactly'],
  ['XN--BCHER-KVA.q.test', 'DNS:xn--bcher-kva.q.test', 'DNS:xn--bcher-kva.q.test', 'an A-label, any case'],
  ['bücher.q.test', 'DNS:xn--bcher-kva.q.test', 'DNS:xn--bcher-kva.q.test', 'a U-label reference is converted to its A-label'],
  ['xn--bcher-kva.q.test', 'DNS:*.q.test', /DNS:\*\.q\.test ignored: a wildcard never matches the A-label "xn--bcher-kva"/, 'no wildcard over an A-label'],
  ['bücher.q.test', 'DNS:*.q.test', /a wildcard never matches the A-label "xn--bcher-kva"/, 'nor over a U-label'],
  ['xn--bcher-kva.q.test', 'DNS:xn--*.q.test', /ignored: a wildcard must be the whole left-most label/, 'a wildcard inside an A-label'],
  ['mail.xn--bcher-kva.test', 'DNS:*.xn--bcher-kva.test', 'DNS:*.xn--bcher-kva.test', 'an A-label after the wildcard is matched exactly'],
  ['bücher.q.test', 'DNS:bücher.q.test', /ignored: not a valid host name/, 'a dNSName is IA5: a U-label in it is invalid'],
  ['under_score.q.test', 'DNS:under_score.q.test', 'DNS:under_score.q.test', 'underscores (private PKI) are compared like letters'],
  // IP literals: iPAddress entries only, octet for octet (§6.4)
  ['127.0.0.1', 'IP Address:127.0.0.1', 'IP Address:127.0.0.1', 'IPv4'],
  ['127.0.0.1', 'DNS:127.0.0.1', /certificate has no iPAddress subjectAltName/, 'a dNSName spelling the address does not count'],
  ['127.0.0.2', 'IP Address:127.0.0.1, DNS:*.q.test', /does not name the IP address 127\.0\.0\.2 \(it has IP Address:127\.0\.0\.1\)/, 'another address'],
  ['::1', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:0:0:0:0:0:0:0:1', 'IPv6, as Node renders it'],
  ['2001:db8::1', 'IP Address:2001:DB8:0:0:0:0:0:1', 'IP Address:2001:DB8:0:0:0:0:0:1', 'IPv6, compressed against full'],
  ['::ffff:127.0.0.1', 'IP Address:127.0.0.1', /does not name the IP address/, 'a mapped IPv4 address is 16 octets, not 4'],
  ['::ffff:127.0.0.1', 'IP Address:0:0:0:0:0:FFFF:7F00:1', 'IP Address:0:0:0:0:0:FFFF:7F00:1', 'mapped address, octet for octet'],
  ['mail.q.test', 'IP Address:127.0.0.1', /certificate has no DNS subjectAltName/, 'an address never names a host name'],
  // other entry types, and no DNS entry at all (no CN fallback: issue 10, defect 2)
  ['mail.q.test', '', /^certificate has no DNS subjectAltName$/, 'no subjectAltName'],
  ['mail.q.test', 'email:postmaster@mail.q.test, URI:smtp://mail.q.test/', /^certificate has no DNS subjectAltName$/, 'email and URI are not host identities'],
  ['mail.q.test', 'DNS:"a\\u002c DNS:mail.q.test"', /DNS:a, DNS:mail\.q\.test ignored: not a valid host name/, 'a quoted value cannot smuggle in a second entry'],
];

t.test('RFC 9525 name check, table', async (t) => {
  for (const [reference, san, want, why] of rows) {
    const got = matchName(reference, parseAltNames(san));
    if (typeof want === 'string') t.same(got, { ok: true, matched: want }, `${why}: ${reference} vs ${san}`);
    else {
      t.equal(got.ok, false, `${why}: ${reference} vs ${san} is refused`);
      t.match(got.ok ? '' : got.reason, want, `${why}: the reason`);
    }
  }
});

t.test('parseAltNames reads Node\'s rendering, quoted values included', async (t) => {
  t.same(parseAltNames(undefined), []);
  t.same(parseAltNames('DNS:a.test, IP Address:127.0.0.1, email:x@y.test'), [
    { type: 'DNS', value: 'a.test' },
    { type: 'IP Address', value: '127.0.0.1' },
    { type: 'email', value: 'x@y.test' },
  ]);
  t.same(parseAltNames('DNS:a.test, DNS:"a\\u002c DNS:evil.test", DNS:b.test'), [
    { type: 'DNS', value: 'a.test' },
    { type: 'DNS', value: 'a, DNS:evil.test' },
    { type: 'DNS', value: 'b.test' },
  ]);
  t.same(parseAltNames('DNS:a.test, DNS:"unterminated'), [{ type: 'DNS', value: 'a.test' }], 'an unreadable entry ends the list');
  t.same(parseAltNames('URI:http://a.test/'), [{ type: 'URI', value: 'http://a.test/' }], 'a colon inside a value');
});

t.test('ipOctets', async (t) => {
  t.same(ipOctets('192.0.2.1'), [192, 0, 2, 1]);
  t.same(ipOctets('::1'), [...new Array(15).fill(0), 1]);
  t.same(ipOctets('2001:DB8:0:0:0:0:0:1'), ipOctets('2001:db8::1'));
  t.same(ipOctets('::ffff:192.0.2.1'), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
  t.same(ipOctets('fe80::'), [0xfe, 0x80, ...new Array(14).fill(0)]);
  t.equal(ipOctets('mail.q.test'), undefined);
  t.equal(ipOctets('1.2.3'), undefined);
  t.equal(ipOctets('::g'), undefined);
});
