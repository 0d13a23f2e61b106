import t, { type Test } from 'tap';
import { addressKey, normalizeAddress, parseAddressList, parseArgumentAddresses, quote } from '../../lib/submit/address.js';
import { SmarthostError, exitCodeFor } from '../../lib/errors.js';

const Q = { qualifyDomain: 'host.example' };

function check<T>(t: Test, label: string, fn: () => T, want: T | RegExp): void {
  if (want instanceof RegExp) {
    try {
      const got = fn();
      t.fail(`${label} should fail, got ${JSON.stringify(got)}`);
    } catch (err) {
      t.ok(err instanceof SmarthostError, `${label}: SmarthostError`);
      const e = err as SmarthostError;
      t.equal(e.code, 'E_ADDRESS', `${label}: code`);
      t.equal(exitCodeFor(e.kind), 65, `${label}: exit 65`);
      t.match(e.message, want, label);
      t.notMatch(e.message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, `${label}: no raw control characters in the message`);
    }
  } else {
    t.same(fn(), want, label);
  }
}

t.test('normalizeAddress', async (t) => {
  const rows: [string, string | RegExp][] = [
    ['user@example.com', 'user@example.com'],
    ['<user@example.com>', 'user@example.com'],
    ['  <user@example.com>  ', 'user@example.com'],
    ['< user@example.com >', 'user@example.com'],
    ['User.Name+tag@Example.COM', 'User.Name+tag@Example.COM'],
    ['root', 'root@host.example'],
    ['<root>', 'root@host.example'],
    ['"john doe"@example.com', '"john doe"@example.com'],
    ['"john doe"', '"john doe"@host.example'],
    ['"a@b"@example.com', '"a@b"@example.com'],
    ['"a\\"b"@example.com', '"a\\"b"@example.com'],
    ['jösé@exämple.test', 'jösé@exämple.test'],
    ['用户@例子.广告', '用户@例子.广告'],
    ['x@[192.0.2.1]', 'x@[192.0.2.1]'],
    ['x@[IPv6:2001:db8::1]', 'x@[IPv6:2001:db8::1]'],
    ['a_b@my_host.example', 'a_b@my_host.example'],
    ['-weird@x.example', '-weird@x.example'],
    ["o'brien@x.example", "o'brien@x.example"],
    // injection and garbage
    ['a@b\r\nBcc: c@d', /^bad address "a@b\\r\\nBcc: c@d": control character$/],
    ['a@b\nRCPT TO:<c@d>', /control character/],
    ['a@b\0', /^bad address "a@b\\u0000": control character$/],
    ['a@b\u2028', /control character/],
    ['a@b\u2028', /^bad address "a@b\\u2028": control character$/],
    ['a\t@b', /control character/],
    ['a@b\u0085', /control character/],
    ['a@b>', /'<' or '>' inside/],
    ['<a@b', /'<' or '>' inside/],
    ['<<a@b>>', /'<' or '>' inside/],
    ['a@b> SIZE=1', /'<' or '>' inside/],
    ['a@b <c@d>', /'<' or '>' inside/],
    ['', /^bad address "": empty address$/],
    ['<>', /empty address/],
    ['   ', /empty address/],
    ['@example.com', /empty local part/],
    ['""@example.com', /empty local part/],
    ['root@', /empty domain/],
    ['a@b..c', /empty label in domain/],
    ['a@b.c.', /empty label in domain/],
    ['a@.b', /empty label in domain/],
    ['john doe@example.com', /white space inside/],
    ['"john doe"@exa mple.com', /character " " not allowed in a domain/],
    ['a@b\u00a0c', /white space inside/],
    ['a,b@example.com', /character "," not allowed/],
    ['a@b@c', /character "@" not allowed in an unquoted local part/],
    ['@a,@b:c@d', /not allowed in an unquoted local part/],
    ['a@exa mple.com', /white space inside/],
    ['a@exa;mple.com', /character ";" not allowed in a domain/],
    ['"unterminated@x', /unterminated quoted local part/],
    ['"a"b@x', /text after the quoted local part/],
    ['x@[300.1.1.1]', /bad address literal/],
    ['x@[IPv6:zz]', /bad address literal/],
    ['x@[1.2.3.4', /bad address literal/],
  ];
  for (const [input, want] of rows) check(t, quote(input), () => normalizeAddress(input, Q), want);
});

t.test('null sender only when allowed', async (t) => {
  t.equal(normalizeAddress('', { ...Q, allowNull: true }), '');
  t.equal(normalizeAddress('<>', { ...Q, allowNull: true }), '');
  t.equal(normalizeAddress('< >', { ...Q, allowNull: true }), '');
  t.equal(normalizeAddress('me', { ...Q, allowNull: true }), 'me@host.example');
  t.throws(() => normalizeAddress('<>', Q), /empty address/);
});

t.test('qualify domain must be usable', async (t) => {
  t.throws(() => normalizeAddress('root', { qualifyDomain: '' }), /unqualified, and no domain/);
  t.throws(() => normalizeAddress('root', { qualifyDomain: 'bad domain' }), /not allowed in a domain/);
  t.equal(normalizeAddress('root@x', { qualifyDomain: '' }), 'root@x', 'not needed when qualified');
});

t.test('parseAddressList (msmtp recipient address madness)', async (t) => {
  const rows: [string, string[] | RegExp][] = [
    ['a@x.example', ['a@x.example']],
    ['a@x.example, b@y.example', ['a@x.example', 'b@y.example']],
    ['"Doe, John" <john@x.example>', ['john@x.example']],
    ['"Doe, John" <john@x.example>, Jane Roe <jane@x.example>', ['john@x.example', 'jane@x.example']],
    ['c@x.example (comment, with a comma)', ['c@x.example']],
    ['(lead comment) d@x.example', ['d@x.example']],
    ['undisclosed-recipients:;', []],
    ['Undisclosed recipients: ;', []],
    ['Team: a@x.example, "B, Bee" <b@x.example>;, c@x.example', ['a@x.example', 'b@x.example', 'c@x.example']],
    ['Team: a@x.example;, undisclosed-recipients:;, c@x.example', ['a@x.example', 'c@x.example']],
    ['root', ['root@host.example']],
    ['root (Cron Daemon)', ['root@host.example']],
    ['Cron Daemon <root>', ['root@host.example']],
    ['root, admin', ['root@host.example', 'admin@host.example']],
    ['a@x.example,,b@x.example', ['a@x.example', 'b@x.example']],
    ['<>', []],
    ['', []],
    ['José <jösé@ex.test>', ['jösé@ex.test']],
    ['"quoted local"@x.example', ['"quoted local"@x.example']],
    [' a@x.example,\t b@x.example ', ['a@x.example', 'b@x.example']],
    ['foo bar', /^bad address "foo bar": not an address$/],
    ['"Doe, John"', /not an address/],
    ['a@x.example\r\nBcc: c@d', /control character/],
    ['a@x.example\rBcc: c@d', /control character/],
    ['Name <a@b@c>', /not allowed/],
  ];
  for (const [input, want] of rows) check(t, quote(input), () => parseAddressList(input, Q), want);
});

t.test('parseArgumentAddresses', async (t) => {
  const rows: [string, string[] | RegExp][] = [
    ['root', ['root@host.example']],
    ['a@x.example', ['a@x.example']],
    ['<a@x.example>', ['a@x.example']],
    ['a@x.example, b@y.example', ['a@x.example', 'b@y.example']],
    ['Name <a@x.example>', ['a@x.example']],
    ['"a b"@x.example', ['"a b"@x.example']],
    ['-weird@x.example', ['-weird@x.example']],
    ['a@x.example b@y.example', /^bad address "a@x.example b@y.example": white space inside the address$/],
    ['a@b\r\nBcc: c@d', /^bad address "a@b\\r\\nBcc: c@d": control character$/],
    ['a@b,\nc@d', /control character/],
    ['a@b\tc@d', /control character/],
  ];
  for (const [input, want] of rows) check(t, quote(input), () => parseArgumentAddresses(input, Q), want);
});

t.test('addressKey', async (t) => {
  t.equal(addressKey('John@Example.COM'), 'John@example.com');
  t.equal(addressKey('"a@b"@X.Y'), '"a@b"@x.y');
  t.not(addressKey('john@x'), addressKey('John@x'), 'local part stays case-sensitive');
  t.equal(addressKey('nodomain'), 'nodomain');
});

t.test('quote escapes every control character', async (t) => {
  t.equal(quote('a\r\n\0\t"b'), '"a\\r\\n\\u0000\\t\\"b"');
  t.equal(quote('x\u007f\u0085\u2028\u2029y'), '"x\\u007f\\u0085\\u2028\\u2029y"');
  t.equal(quote('jösé'), '"jösé"', 'printable non-ASCII stays');
});
