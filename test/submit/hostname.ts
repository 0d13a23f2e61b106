import t from 'tap';
import { hostname } from 'node:os';
import { fqdnFromHosts, localFqdn } from '../../lib/submit/hostname.js';

t.test('fqdnFromHosts', async (t) => {
  const hosts = '127.0.0.1 localhost\n127.0.1.1 juno.example.org juno # debian\n::1 localhost ip6-localhost\n';
  t.equal(fqdnFromHosts(hosts, 'juno'), 'juno.example.org');
  t.equal(fqdnFromHosts(hosts, 'JUNO'), 'juno.example.org');
  t.equal(fqdnFromHosts(hosts, 'mars'), undefined);
  t.equal(fqdnFromHosts('# 127.0.1.1 juno.example.org juno\n', 'juno'), undefined, 'comments ignored');
});

t.test('localFqdn falls back to the short name', async (t) => {
  const short = hostname();
  if (short.includes('.')) t.equal(localFqdn(() => ''), short);
  else {
    t.equal(localFqdn(() => ''), short);
    t.equal(localFqdn(() => `127.0.1.1 ${short}.example.net ${short}\n`), `${short}.example.net`);
    t.equal(localFqdn(() => { throw new Error('EACCES'); }), short);
  }
});
