import t from 'tap';
import dns2 from 'dns2';
import { answersQuery, decodeMessage, encodeQuery, hasBrokenAnswers, normalizeName, rcodeName, toDnsResponse, EDNS_UDP_PAYLOAD, Packet as LibPacket } from '../../lib/route/dns-packet.js';

const { Packet } = dns2;
type Message = InstanceType<typeof Packet>;
type Rr = Message['answers'][number];

t.test('lib/dns-packet exports dns2 Packet and nothing else from dns2', async (t) => {
  t.equal(LibPacket, Packet);
});

t.test('encodeQuery: RD=1, one question class IN, EDNS0 OPT with 1232', async (t) => {
  const q = Packet.parse(encodeQuery(0xbeef, 'Mail.Dev.Example.Test.', 'AAAA'));
  t.match(q.header, { id: 0xbeef, qr: 0, rd: 1, opcode: 0, qdcount: 1, arcount: 1 });
  t.same(
    q.questions.map((x) => [x.name, x.type, x.class]),
    [['mail.dev.example.test', Packet.TYPE.AAAA, Packet.CLASS.IN]],
  );
  const opt = q.additionals[0]!;
  t.equal(opt.type, Packet.TYPE.EDNS);
  t.equal(opt.class, EDNS_UDP_PAYLOAD);
  t.equal(EDNS_UDP_PAYLOAD, 1232);
  t.throws(() => encodeQuery(1, `${'a'.repeat(64)}.test`, 'A'), { code: 'E_DNS_NXDOMAIN', kind: 'perm' });
});

function response(id: number, name: string, type: number, edit: (m: Message) => void = () => {}): Message {
  const m = new Packet();
  m.header = new Packet.Header({ id, qr: 1, rd: 1, ra: 1 });
  m.questions.push(new Packet.Question(name, type, Packet.CLASS.IN));
  edit(m);
  return Packet.parse(m.toBuffer());
}

t.test('answersQuery', async (t) => {
  const rows: [string, Message, boolean][] = [
    ['same id, name, type', response(7, 'a.test', Packet.TYPE.A), true],
    ['name in another case (0x20)', response(7, 'A.TeSt', Packet.TYPE.A), true],
    ['another id', response(8, 'a.test', Packet.TYPE.A), false],
    ['another name', response(7, 'b.test', Packet.TYPE.A), false],
    ['another type', response(7, 'a.test', Packet.TYPE.AAAA), false],
    ['another class', response(7, 'a.test', Packet.TYPE.A, (m) => (m.questions[0]!.class = Packet.CLASS.CH)), false],
    ['not a response', response(7, 'a.test', Packet.TYPE.A, (m) => (m.header.qr = 0)), false],
    ['two questions', response(7, 'a.test', Packet.TYPE.A, (m) => m.questions.push(m.questions[0]!)), false],
    ['no question, NOERROR', response(7, 'a.test', Packet.TYPE.A, (m) => (m.questions = [])), false],
    ['no question, FORMERR', response(7, 'a.test', Packet.TYPE.A, (m) => ((m.questions = []), (m.header.rcode = 1))), true],
    ['no question, REFUSED', response(7, 'a.test', Packet.TYPE.A, (m) => ((m.questions = []), (m.header.rcode = 5))), true],
    ['no question, SERVFAIL', response(7, 'a.test', Packet.TYPE.A, (m) => ((m.questions = []), (m.header.rcode = 2))), false],
  ];
  for (const [label, msg, want] of rows) t.equal(answersQuery(msg, 7, 'a.test', 'A'), want, label);
});

t.test('toDnsResponse normalises the answer section', async (t) => {
  const msg = response(1, 'x.test', Packet.TYPE.A, (m) => {
    m.header.aa = 1;
    m.header.rcode = 3;
    m.answers.push(
      { name: 'X.Test', type: Packet.TYPE.CNAME, class: Packet.CLASS.IN, ttl: 10, domain: 'Y.Test' } as Rr,
      { name: 'y.test', type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 20, address: '192.0.2.1' } as Rr,
      { name: 'y.test', type: Packet.TYPE.AAAA, class: Packet.CLASS.IN, ttl: 20, address: '2001:DB8::1' } as Rr,
      { name: 'y.test', type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 30, exchange: 'MX.Test', priority: 5 } as Rr,
      { name: 'y.test', type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 30, exchange: '', priority: 0 } as Rr,
      { name: 'y.test', type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 30, data: ['hello'] } as Rr,
      { name: 'y.test', type: Packet.TYPE.A, class: Packet.CLASS.CH, ttl: 30, address: '192.0.2.99' } as Rr,
    );
  });
  t.same(toDnsResponse(msg, '192.0.2.53'), {
    rcode: 3,
    rcodeName: 'NXDOMAIN',
    aa: true,
    tc: false,
    ad: false,
    server: '192.0.2.53',
    answers: [
      { name: 'x.test', type: 'CNAME', ttl: 10, data: 'y.test' },
      { name: 'y.test', type: 'A', ttl: 20, data: '192.0.2.1' },
      { name: 'y.test', type: 'AAAA', ttl: 20, data: '2001:db8::1' },
      { name: 'y.test', type: 'MX', ttl: 30, data: 'mx.test', priority: 5 },
      { name: 'y.test', type: 'MX', ttl: 30, data: '', priority: 0 },
      { name: 'y.test', type: 'TXT', ttl: 30, data: '' },
    ],
  });
});

t.test('decodeMessage and broken answers', async (t) => {
  t.equal(decodeMessage(Buffer.from([1, 2, 3])), undefined, 'too short');
  const good = response(1, 'x.test', Packet.TYPE.A, (m) => m.answers.push({ name: 'x.test', type: Packet.TYPE.A, class: 1, ttl: 1, address: '192.0.2.1' } as Rr));
  t.equal(hasBrokenAnswers(good), false);
  // an A record whose RDATA is 3 octets
  const m = new Packet();
  m.header = new Packet.Header({ id: 1, qr: 1 });
  m.questions.push(new Packet.Question('x.test', Packet.TYPE.A, Packet.CLASS.IN));
  m.answers.push({ name: 'x.test', type: 0xff00, class: 1, ttl: 1, data: Buffer.from([1, 2, 3]) } as Rr);
  const buf = m.toBuffer();
  // make the private type 0xff00 an A: its TYPE field is 13 octets from the end (TYPE CLASS TTL RDLENGTH RDATA)
  buf.writeUInt16BE(Packet.TYPE.A, buf.length - 13);
  const broken = decodeMessage(buf)!;
  t.ok(broken, 'the header still decodes');
  t.equal(hasBrokenAnswers(broken), true);
});

t.test('names and rcodes', async (t) => {
  t.equal(normalizeName('Mail.Example.TEST.'), 'mail.example.test');
  t.equal(normalizeName('x'), 'x');
  t.same([0, 1, 2, 3, 4, 5, 9].map(rcodeName), ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'RCODE9']);
});
