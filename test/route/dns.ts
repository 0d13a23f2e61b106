import t from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import dns2 from 'dns2';
import { startDns, type ZoneRecord } from '../../fixtures/peers/fake-dns.js';
import { createDnsTransport, serverLabel } from '../../lib/route/dns.js';
import { SmarthostError } from '../../lib/errors.js';
import type { TraceEvent } from '../../lib/report/trace.js';

const { Packet } = dns2;
type Message = InstanceType<typeof Packet>;

/** Sockets and timers of the kinds the transport creates. */
function handles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'TCPSocketWrap' || r === 'Timeout').length;
}
const baseline = handles();

const big: ZoneRecord[] = Array.from({ length: 40 }, (_, i) => ({ name: 'big.example.test', type: 'A', data: `127.0.1.${i + 1}` }));

function collect(): { events: TraceEvent[]; tracer: (ev: TraceEvent) => void } {
  const events: TraceEvent[] = [];
  return { events, tracer: (ev) => events.push(ev) };
}

/** A raw UDP "server" on 127.0.0.1:0 whose replies the test writes itself. */
async function rawUdp(onQuery: (q: Message, reply: (m: Message | Buffer, from?: dgram.Socket) => void) => void) {
  const sock = dgram.createSocket('udp4');
  const other = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => other.bind(0, '127.0.0.1', r));
  let count = 0;
  sock.on('message', (msg, rinfo) => {
    count++;
    const q = Packet.parse(msg);
    onQuery(q, (m, from = sock) => from.send(Buffer.isBuffer(m) ? m : m.toBuffer(), rinfo.port, rinfo.address));
  });
  return {
    port: (sock.address() as AddressInfo).port,
    other,
    get count() {
      return count;
    },
    close: () => Promise.all([new Promise<void>((r) => sock.close(() => r())), new Promise<void>((r) => other.close(() => r()))]),
  };
}

function answer(q: Message, address: string, mutate: (m: Message) => void = () => {}): Message {
  const res = Packet.createResponseFromRequest(q);
  res.questions = q.questions.map((x) => new Packet.Question(x.name, x.type, x.class)); // do not share with q
  const qq = q.questions[0]!;
  res.answers.push({ name: qq.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 30, address } as Message['answers'][number]);
  mutate(res);
  return res;
}

t.test('UDP: one query, normalised answer, traced', async (t) => {
  const dns = await startDns('seed');
  t.teardown(() => dns.close());
  const { events, tracer } = collect();
  const query = createDnsTransport({ servers: [{ address: '127.0.0.1', port: dns.port }], timeout: 1000, retries: 0, tracer });
  const res = await query('MAIL.Dev.Example.Test.', 'A');
  t.same(res, {
    rcode: 0,
    rcodeName: 'NOERROR',
    aa: true,
    tc: false,
    ad: false,
    server: `127.0.0.1:${dns.port}`,
    answers: [
      { name: 'mail.dev.example.test', type: 'CNAME', ttl: 300, data: 'mail.example.local' },
      { name: 'mail.example.local', type: 'A', ttl: 60, data: '127.0.0.1' },
    ],
  });
  t.same(events, [{ type: 'dns-query', name: 'MAIL.Dev.Example.Test.', rrtype: 'A', server: `127.0.0.1:${dns.port}`, transport: 'udp' }]);
  t.same(dns.queries, [{ name: 'mail.dev.example.test', type: 'A', transport: 'udp', dnssec: false }]);
});

t.test('NXDOMAIN, NODATA, SERVFAIL and MX come back as responses', async (t) => {
  const dns = await startDns('seed', { servfail: ['broken.example.test'] });
  t.teardown(() => dns.close());
  const query = createDnsTransport({ servers: [{ address: '127.0.0.1', port: dns.port }], timeout: 1000, retries: 0 });
  const nx = await query('nope.example.test', 'A');
  t.match(nx, { rcode: 3, rcodeName: 'NXDOMAIN', answers: [] });
  const nodata = await query('nodata.example.test', 'AAAA');
  t.match(nodata, { rcode: 0, rcodeName: 'NOERROR', answers: [] });
  const sf = await query('broken.example.test', 'A');
  t.match(sf, { rcode: 2, rcodeName: 'SERVFAIL' });
  const mx = await query('dev.example.test', 'MX');
  t.same(
    mx.answers.map((a) => [a.type, a.priority, a.data]),
    [
      ['MX', 10, 'mail.dev.example.test'],
      ['MX', 20, 'backup.dev.example.test'],
    ],
  );
  const nullmx = await query('nullmx.example.test', 'MX');
  t.same(nullmx.answers.map((a) => a.data), [''], 'the root exchange decodes as the empty name');
  const other = await query('nodata.example.test', 'MX');
  t.equal(other.answers.length, 1);
});

t.test('EDNS0: a 700-byte answer fits in one UDP reply', async (t) => {
  const dns = await startDns(big);
  t.teardown(() => dns.close());
  const query = createDnsTransport({ servers: [{ address: '127.0.0.1', port: dns.port }], timeout: 1000, retries: 0 });
  const res = await query('big.example.test', 'A');
  t.equal(res.answers.length, 40);
  t.same(dns.queries.map((q) => q.transport), ['udp']);
});

t.test('TC=1 over UDP: the query is repeated over TCP', async (t) => {
  const dns = await startDns(big, { truncate: true });
  t.teardown(() => dns.close());
  const { events, tracer } = collect();
  const query = createDnsTransport({ servers: [{ address: '127.0.0.1', port: dns.port }], timeout: 1000, retries: 0, tracer });
  const res = await query('big.example.test', 'A');
  t.equal(res.answers.length, 40);
  t.equal(res.tc, false);
  t.same(dns.queries.map((q) => q.transport), ['udp', 'tcp']);
  t.same(
    events.map((e) => (e.type === 'dns-query' ? `${e.type} ${e.transport}` : e.type)),
    ['dns-query udp', 'dns-truncated', 'dns-query tcp'],
  );
});

/** Why IPv6 tests must be skipped, or false when ::1 works. */
async function noIpv6(): Promise<string | false> {
  const s = dgram.createSocket('udp6');
  return new Promise((resolve) => {
    s.once('error', (e) => {
      s.close();
      resolve(`no IPv6 loopback on this machine (${e.message})`);
    });
    s.bind(0, '::1', () => s.close(() => resolve(false)));
  });
}

t.test('an IPv6 server, over UDP and TCP (dns2 would have asked 127.0.0.1)', { skip: await noIpv6() }, async (t) => {
  const dns = await startDns(big, { host: '::1', truncate: true });
  t.teardown(() => dns.close());
  const query = createDnsTransport({ servers: [{ address: '::1', port: dns.port }], timeout: 1000, retries: 0 });
  const res = await query('big.example.test', 'A');
  t.equal(res.answers.length, 40);
  t.equal(res.server, `[::1]:${dns.port}`);
  t.same(dns.queries.map((q) => q.transport), ['udp', 'tcp']);
});

t.test('a silent server: per-try timeout, retries counted, then E_DNS_TIMEOUT', async (t) => {
  const dns = await startDns('seed', { silent: ['mail.dev.example.test'] });
  t.teardown(() => dns.close());
  const query = createDnsTransport({ servers: [{ address: '127.0.0.1', port: dns.port }], timeout: 200, retries: 2 });
  const start = Date.now();
  const err = await query('mail.dev.example.test', 'A').catch((e: unknown) => e);
  const took = Date.now() - start;
  t.ok(err instanceof SmarthostError);
  t.match(err, {
    code: 'E_DNS_TIMEOUT',
    kind: 'temp',
    message: `DNS query for mail.dev.example.test (A) timed out after 3 tries to 127.0.0.1:${dns.port}`,
  });
  t.equal(dns.queries.length, 3, 'one try plus two retries');
  t.ok(took >= 550 && took < 2000, `took ${took} ms`);
});

t.test('the deadline (signal) ends a query in flight at once: socket closed, no further tries', async (t) => {
  const dns = await startDns('seed', { silent: ['mail.dev.example.test'] });
  t.teardown(() => dns.close());
  const ac = new AbortController();
  const query = createDnsTransport({ servers: [{ address: '127.0.0.1', port: dns.port }], timeout: 5000, retries: 2, signal: ac.signal });
  const start = Date.now();
  setTimeout(() => ac.abort(new Error('delivery_timeout')), 100);
  const err = await query('mail.dev.example.test', 'A').catch((e: unknown) => e);
  const took = Date.now() - start;
  t.match(err, { code: 'E_DNS_TIMEOUT' }, 'reported as timed out');
  t.ok(took < 1000, `ended at the deadline, not after dns_retrans (${took} ms)`);
  t.equal(dns.queries.length, 1, 'no try after the deadline');
  const again = await query('mail.dev.example.test', 'A').catch((e: unknown) => e);
  t.match(again, { code: 'E_DNS_TIMEOUT', message: /after 0 tries/ }, 'an aborted transport asks nobody');
});

t.test('round robin: a dead first server, then the next one answers', async (t) => {
  const dead = await rawUdp(() => {});
  const dns = await startDns('seed');
  t.teardown(() => Promise.all([dead.close(), dns.close()]));
  const { events, tracer } = collect();
  const servers = [
    { address: '127.0.0.1', port: dead.port },
    { address: '127.0.0.1', port: dns.port },
  ];
  const query = createDnsTransport({ servers, timeout: 150, retries: 1, tracer });
  const res = await query('smarthost.example.test', 'A');
  t.equal(res.server, `127.0.0.1:${dns.port}`);
  t.same(
    events.map((e) => (e.type === 'dns-query' ? e.server : e.type)),
    [`127.0.0.1:${dead.port}`, `127.0.0.1:${dns.port}`],
  );
  // every server silent: (1 + retries) passes over both
  const err = await createDnsTransport({ servers: [servers[0]!, servers[0]!], timeout: 100, retries: 1 })('x.example.test', 'A').catch((e: unknown) => e);
  t.match(err, { code: 'E_DNS_TIMEOUT', message: /timed out after 4 tries to 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+$/ });
});

t.test('REFUSED: next server, and the refusing one is not asked again', async (t) => {
  const refusing = await startDns('seed', { refused: ['smarthost.example.test'] });
  const good = await startDns('seed');
  t.teardown(() => Promise.all([refusing.close(), good.close()]));
  const servers = [
    { address: '127.0.0.1', port: refusing.port },
    { address: '127.0.0.1', port: good.port },
  ];
  const res = await createDnsTransport({ servers, timeout: 500, retries: 0 })('smarthost.example.test', 'A');
  t.equal(res.server, `127.0.0.1:${good.port}`);
  t.same(res.answers.map((a) => a.data), ['127.0.0.1']);

  const err = await createDnsTransport({ servers: [servers[0]!], timeout: 500, retries: 3 })('smarthost.example.test', 'A').catch((e: unknown) => e);
  t.match(err, { code: 'E_DNS_SERVFAIL', kind: 'temp', message: `DNS query for smarthost.example.test (A) failed after 1 try: 127.0.0.1:${refusing.port} REFUSED` });
  t.equal(refusing.queries.length, 2, 'one query per transport instance, no retry after REFUSED');
});

t.test('replies that do not answer our query are ignored', async (t) => {
  const server = await rawUdp((q, reply) => {
    const id = q.header.id;
    reply(Buffer.from([1, 2, 3])); // not DNS
    reply(answer(q, '127.0.0.91', (m) => (m.header.id = (id + 1) & 0xffff))); // wrong id
    reply(answer(q, '127.0.0.92', (m) => (m.questions[0]!.name = 'evil.example.test'))); // wrong name
    reply(answer(q, '127.0.0.93', (m) => (m.questions[0]!.type = Packet.TYPE.MX))); // wrong type
    reply(answer(q, '127.0.0.94', (m) => (m.questions[0]!.class = Packet.CLASS.CH))); // wrong class
    reply(answer(q, '127.0.0.95', (m) => (m.header.qr = 0))); // not a response
    reply(answer(q, '127.0.0.96', (m) => m.questions.push(m.questions[0]!))); // two questions
    reply(answer(q, '127.0.0.97'), server.other); // right answer, wrong source port
    reply(answer(q, '127.0.0.1', (m) => (m.questions[0]!.name = 'SmartHost.EXAMPLE.test'))); // 0x20 case: fine
  });
  t.teardown(() => server.close());
  const res = await createDnsTransport({ servers: [{ address: '127.0.0.1', port: server.port }], timeout: 1000, retries: 0 })('smarthost.example.test', 'A');
  t.same(res.answers.map((a) => a.data), ['127.0.0.1']);
  t.equal(server.count, 1);
});

t.test('a FORMERR without a question section is accepted and moves on', async (t) => {
  const server = await rawUdp((q, reply) => {
    const res = Packet.createResponseFromRequest(q);
    res.questions = [];
    res.header.rcode = Packet.RCODE.FORMERR;
    reply(res);
  });
  t.teardown(() => server.close());
  const err = await createDnsTransport({ servers: [{ address: '127.0.0.1', port: server.port }], timeout: 1000, retries: 1 })('a.example.test', 'A').catch((e: unknown) => e);
  t.match(err, { code: 'E_DNS_SERVFAIL', message: /FORMERR$/ });
  t.equal(server.count, 1);
});

t.test('an undecodable answer counts as a failed try', async (t) => {
  const server = await rawUdp((q, reply) => {
    const res = answer(q, '127.0.0.1');
    res.answers[0]!.type = 0xff00; // raw RDATA, 4 octets
    res.answers[0]!.data = Buffer.from([1, 2, 3]);
    const buf = res.toBuffer();
    buf.writeUInt16BE(Packet.TYPE.A, buf.length - 13); // now an A record with 3 octets of RDATA
    reply(buf);
  });
  t.teardown(() => server.close());
  const err = await createDnsTransport({ servers: [{ address: '127.0.0.1', port: server.port }], timeout: 500, retries: 1 })('a.example.test', 'A').catch((e: unknown) => e);
  t.match(err, { code: 'E_DNS_SERVFAIL', kind: 'temp', message: `DNS query for a.example.test (A) failed after 2 tries: 127.0.0.1:${server.port} sent an undecodable answer` });
  t.equal(server.count, 2, 'the server is asked again');
});

t.test('TCP fallback failures: refused connection, silent TCP server', async (t) => {
  // UDP always truncates, and nothing listens on TCP at that port
  const udpOnly = await rawUdp((q, reply) => reply(answer(q, '127.0.0.1', (m) => ((m.header.tc = 1), (m.answers = [])))));
  t.teardown(() => udpOnly.close());
  const { events, tracer } = collect();
  const err = await createDnsTransport({ servers: [{ address: '127.0.0.1', port: udpOnly.port }], timeout: 500, retries: 1, tracer })('a.example.test', 'A').catch((e: unknown) => e);
  t.match(err, { code: 'E_DNS_SERVFAIL', message: /TCP ECONNREFUSED/ });
  t.same(events.map((e) => e.type), ['dns-query', 'dns-truncated', 'dns-query'], 'the failed server is not retried');

  // a TCP server that accepts and never answers: the try times out and the socket is closed
  const tcp = net.createServer();
  const closed: Promise<void>[] = [];
  tcp.on('connection', (s) => {
    s.resume(); // read and drop the query, never answer
    closed.push(new Promise((r) => s.on('close', () => r())));
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const port = (tcp.address() as AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', r));
  udp.on('message', (msg, rinfo) => {
    const q = Packet.parse(msg);
    udp.send(answer(q, '127.0.0.1', (m) => ((m.header.tc = 1), (m.answers = []))).toBuffer(), rinfo.port, rinfo.address);
  });
  t.teardown(() => Promise.all([new Promise<void>((r) => tcp.close(() => r())), new Promise<void>((r) => udp.close(() => r()))]));
  const start = Date.now();
  const err2 = await createDnsTransport({ servers: [{ address: '127.0.0.1', port }], timeout: 200, retries: 0 })('a.example.test', 'A').catch((e: unknown) => e);
  t.match(err2, { code: 'E_DNS_TIMEOUT', message: /timed out after 1 try/ });
  t.ok(Date.now() - start < 1500, 'the TCP try has its own timeout');
  t.equal(closed.length, 1, 'one TCP connection');
  const allClosed = await Promise.race([Promise.all(closed).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref())]);
  t.ok(allClosed, 'the TCP socket was closed');
});

t.test('socket errors, bad names and bad options', async (t) => {
  const query = createDnsTransport({
    servers: [{ address: '127.0.0.1', port: 9 }],
    timeout: 100,
    retries: 2,
    udp: () => {
      throw Object.assign(new Error('too many open files'), { code: 'EMFILE' });
    },
  });
  await t.rejects(query('a.example.test', 'A'), { code: 'E_DNS_SERVFAIL', message: /failed after 1 try: 127\.0\.0\.1:9 EMFILE$/ });
  const q2 = createDnsTransport({ servers: [{ address: '127.0.0.1', port: 9 }], timeout: 100, retries: 0 });
  await t.rejects(q2(`${'x'.repeat(64)}.example.test`, 'A'), { code: 'E_DNS_NXDOMAIN', kind: 'perm', message: /invalid DNS name/ });
  t.throws(() => createDnsTransport({ servers: [], timeout: 100, retries: 0 }), { code: 'E_CONFIG' });
  t.throws(() => createDnsTransport({ servers: [{ address: '127.0.0.1', port: 53 }], timeout: 0, retries: 0 }), { code: 'E_CONFIG' });
  t.throws(() => createDnsTransport({ servers: [{ address: '127.0.0.1', port: 53 }], timeout: 10, retries: 1.5 }), { code: 'E_CONFIG' });
});

t.test('serverLabel', async (t) => {
  const rows: [string, number, string][] = [
    ['192.0.2.1', 53, '192.0.2.1'],
    ['192.0.2.1', 5353, '192.0.2.1:5353'],
    ['::1', 53, '::1'],
    ['::1', 5353, '[::1]:5353'],
    ['fe80::1%eth0', 5353, '[fe80::1%eth0]:5353'],
  ];
  for (const [address, port, want] of rows) t.equal(serverLabel({ address, port }), want, want);
});

t.test('no socket or timer left behind', async (t) => {
  // the peers' teardowns may still be closing: wait for them, not for our own sockets
  for (let i = 0; i < 50 && handles() !== baseline; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(handles(), baseline, JSON.stringify(process.getActiveResourcesInfo()));
});

t.test('dnssec: the DO bit goes out, the AD bit of a validating resolver comes back; TLSA decoded', async (t) => {
  const zone: ZoneRecord[] = [
    { name: 'mail.signed.test', type: 'A', data: '127.0.0.1' },
    { name: '_25._tcp.mail.signed.test', type: 'TLSA', data: '3 1 1 0123456789ABCDEF' },
    { name: 'mail.plain.test', type: 'A', data: '127.0.0.2' },
  ];
  const dns = await startDns(zone, { signed: ['signed.test'] });
  t.teardown(() => dns.close());
  const servers = [{ address: '127.0.0.1', port: dns.port }];
  const secure = createDnsTransport({ servers, timeout: 1000, retries: 0, dnssec: true });
  const plain = createDnsTransport({ servers, timeout: 1000, retries: 0 });

  const a = await secure('mail.signed.test', 'A');
  t.equal(a.ad, true, 'a signed zone, asked with DO: AD');
  t.equal(dns.queries.at(-1)!.dnssec, true, 'the query had the DO bit');
  t.equal((await plain('mail.signed.test', 'A')).ad, false, 'not asked: no AD');
  t.equal(dns.queries.at(-1)!.dnssec, false);
  t.equal((await secure('mail.plain.test', 'A')).ad, false, 'an unsigned zone: no AD');

  const tlsa = await secure('_25._tcp.mail.signed.test', 'TLSA');
  t.equal(tlsa.ad, true);
  t.same(tlsa.answers, [{ name: '_25._tcp.mail.signed.test', type: 'TLSA', ttl: 300, data: '3 1 1 0123456789abcdef', tlsa: { usage: 3, selector: 1, mtype: 1, data: '0123456789abcdef' } }]);
  const none = await secure('_25._tcp.mail.plain.test', 'TLSA');
  t.equal(none.rcodeName, 'NXDOMAIN');
  t.equal(none.ad, false);
});
