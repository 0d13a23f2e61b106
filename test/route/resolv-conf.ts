import t from 'tap';
import { parseResolvConf, systemNameServers, MAX_NAMESERVERS } from '../../lib/route/resolv-conf.js';

t.test('parseResolvConf', async (t) => {
  const rows: [string, string, string[]][] = [
    ['one IPv4 server', 'nameserver 192.0.2.53\n', ['192.0.2.53']],
    ['IPv6 and options around it', 'search example.test\noptions ndots:2 timeout:1\nnameserver ::1\nnameserver 2001:db8::53\n', ['::1', '2001:db8::53']],
    ['a scope id is kept (sent over udp6 as is)', 'nameserver fe80::1%eth0\n', ['fe80::1%eth0']],
    ['a scope id on IPv4 is not an address', 'nameserver 192.0.2.1%eth0\n', []],
    ['comments, blanks, tabs, CRLF', '# nameserver 192.0.2.9\n; nameserver 192.0.2.8\n\n\tnameserver\t192.0.2.1 # main\r\nnameserver 192.0.2.2;x\r\n', ['192.0.2.1', '192.0.2.2']],
    ['not an address: skipped', 'nameserver dns.example.test\nnameserver 300.1.1.1\nnameserver\nnameserver 192.0.2.1\n', ['192.0.2.1']],
    ['the keyword must be exact', 'nameservers 192.0.2.1\nNameserver 192.0.2.2\n', []],
    ['at most three, like glibc', 'nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n', ['192.0.2.1', '192.0.2.2', '192.0.2.3']],
    ['the unspecified address means this host', 'nameserver 0.0.0.0\nnameserver ::\n', ['127.0.0.1', '::1']],
    ['brackets tolerated', 'nameserver [2001:db8::1]\n', ['2001:db8::1']],
    ['empty', '', []],
  ];
  for (const [label, text, want] of rows) {
    const got = parseResolvConf(text);
    t.same(got.map((s) => s.address), want, label);
    t.ok(got.every((s) => s.port === 53), `${label}: port 53`);
  }
  t.equal(MAX_NAMESERVERS, 3);
});

t.test('systemNameServers', async (t) => {
  t.same(systemNameServers('/x', () => 'nameserver 192.0.2.7\n'), [{ address: '192.0.2.7', port: 53 }]);
  t.same(systemNameServers('/x', () => 'search example.test\n'), [{ address: '127.0.0.1', port: 53 }], 'none listed: the local server');
  t.same(
    systemNameServers('/x', () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    }),
    [{ address: '127.0.0.1', port: 53 }],
    'no file: the local server',
  );
  const dir = t.testdir({ 'resolv.conf': 'nameserver ::1\n' });
  t.same(systemNameServers(`${dir}/resolv.conf`), [{ address: '::1', port: 53 }], 'reads the file');
  t.ok(systemNameServers().length >= 1, 'the real /etc/resolv.conf gives at least one server');
});
