import t from 'tap';
import net from 'node:net';
import { isIP } from '../../lib/route/ip.js';

t.test('isIP answers as node:net does', async (t) => {
  const fixed = [
    '', '0.0.0.0', '127.0.0.1', '255.255.255.255', '256.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.04', '1.2.3.-4',
    '127.0.0.1:53', '[::1]:53', '::', '::1', '1::', 'fe80::1%eth0', 'fe80::1%', '2001:db8::', '2001:db8:0:0:0:0:0:1', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8:9',
    '1..2.3', '.1.2.3.4', '1.2.3.4.5', '0.0.0.00', '255.255.255.256', '999.1.1.1', '1.2.3.4444', '00.0.0.0',
    ':1', '1:', 'a:b', 'mail.example.test', 'smarthost', '١.٢.٣.٤', '1.2.3.4\n', '0x7f.0.0.1', '2001:DB8::1', 'gggg::1',
  ];
  for (const s of fixed) t.equal(isIP(s), net.isIP(s), JSON.stringify(s));
  // random strings over the characters that matter
  const chars = '0123456789abcdefABCDEF:.%x ';
  let x = 12345;
  const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x / 0x80000000);
  let differ = 0;
  for (let n = 0; n < 20000; n++) {
    const len = Math.floor(rand() * 20);
    let s = '';
    for (let i = 0; i < len; i++) s += chars[Math.floor(rand() * chars.length)];
    if (isIP(s) !== net.isIP(s)) {
      differ++;
      t.equal(isIP(s), net.isIP(s), JSON.stringify(s));
    }
  }
  // valid dotted quads are rare among random strings: generate them too
  for (let n = 0; n < 5000; n++) {
    const s = Array.from({ length: 4 }, () => String(Math.floor(rand() * 300))).join('.');
    if (isIP(s) !== net.isIP(s)) differ++;
  }
  t.equal(differ, 0, 'no random string answered differently');
});
