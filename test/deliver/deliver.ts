import t from 'tap';
import { deliver, overallResult, type Target } from '../../lib/deliver/deliver.js';
import { SmarthostError } from '../../lib/errors.js';
import type { Resolved } from '../../lib/types.js';
import type { Session, SendResult } from '../../lib/deliver/smtp.js';
import type { TraceEvent } from '../../lib/report/trace.js';

const host = (queried: string, canonical: string, ...addrs: string[]): Resolved => ({
  queried,
  canonical,
  chain: queried === canonical ? [] : [{ name: queried, target: canonical, ttl: 300 }],
  addresses: addrs.map((a) => ({ address: a, family: a.includes(':') ? 6 : 4, ttl: 60 })),
  port: 25,
  mx: -1,
});

type Script = Record<string, Error | ((rcpts: string[]) => SendResult | Error)>;

/** A fake openSession: per address, either a connect error or a send behaviour. */
function fakeSessions(script: Script) {
  const opened: string[] = [];
  const sent: { address: string; recipients: string[] }[] = [];
  let quits = 0;
  return {
    opened,
    sent,
    quits: () => quits,
    openSession: async (t: Target): Promise<Session> => {
      opened.push(t.address.address);
      const s = script[t.address.address];
      if (s instanceof Error) throw s;
      if (!s) throw new Error(`unscripted ${t.address.address}`);
      return {
        tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
        send: async (env) => {
          sent.push({ address: t.address.address, recipients: env.recipients });
          const r = s(env.recipients);
          if (r instanceof Error) throw r;
          return r;
        },
        quit: async () => {
          quits++;
        },
      };
    },
  };
}

const ok = (rcpts: string[]): SendResult => ({ accepted: rcpts, rejected: [], response: '250 OK id=1' });
const temp = (msg: string) => new SmarthostError('E_CONNECT', 'temp', msg, { stage: 'connect' });

t.test('delivers through the first address that works, in order', async (t) => {
  const f = fakeSessions({ '192.0.2.1': temp('refused'), '192.0.2.2': ok });
  const events: TraceEvent[] = [];
  const out = await deliver({ sender: 's@x.test', recipients: ['a@y.test'] }, Buffer.from('x'), [host('mail.dev.example.test', 'mail.example.local', '192.0.2.1', '192.0.2.2')], [], {
    openSession: f.openSession,
    tracer: (e) => events.push(e),
  });
  t.equal(out.result, 'delivered');
  t.same(f.opened, ['192.0.2.1', '192.0.2.2']);
  t.equal(out.attempts.length, 2);
  t.match(out.attempts[0], { address: '192.0.2.1', result: 'deferred', stage: 'connect', queried: 'mail.dev.example.test', canonical: 'mail.example.local' });
  t.match(out.attempts[1], { address: '192.0.2.2', result: 'delivered', tls: { verified: true } });
  t.equal(events.filter((e) => e.type === 'attempt').length, 2);
  t.equal(f.quits(), 1, 'the session is closed');
});

t.test('per-recipient: 5xx fails for good, 4xx moves on to the next host', async (t) => {
  const f = fakeSessions({
    '192.0.2.1': (r) => ({
      accepted: r.filter((x) => x.startsWith('good')),
      rejected: [
        { recipient: 'bad@y.test', code: 550, response: '550 5.1.1 no such user' },
        { recipient: 'later@y.test', code: 451, response: '451 4.7.1 try later' },
      ],
      response: '250 queued',
    }),
    '192.0.2.9': ok,
  });
  const out = await deliver(
    { sender: 's@x.test', recipients: ['good@y.test', 'bad@y.test', 'later@y.test'] },
    Buffer.from('x'),
    [host('a.test', 'a.test', '192.0.2.1'), host('b.test', 'b.test', '192.0.2.9')],
    [],
    { openSession: f.openSession, tracer: () => {} },
  );
  t.same(
    out.recipients.map((r) => [r.recipient, r.result]),
    [
      ['good@y.test', 'delivered'],
      ['bad@y.test', 'failed'],
      ['later@y.test', 'delivered'],
    ],
  );
  t.same(f.sent[1], { address: '192.0.2.9', recipients: ['later@y.test'] }, 'only the pending recipient goes to the next host');
  t.equal(out.result, 'failed', 'a permanently failed recipient makes the run failed');
});

t.test('every address fails temporarily: deferred with the last reason', async (t) => {
  const f = fakeSessions({ '192.0.2.1': temp('first'), '2001:db8::1': temp('second') });
  const out = await deliver({ sender: '', recipients: ['a@y.test'] }, Buffer.from('x'), [host('h.test', 'h.test', '2001:db8::1', '192.0.2.1')], [], {
    openSession: f.openSession,
    tracer: () => {},
  });
  t.equal(out.result, 'deferred');
  t.same(f.opened, ['2001:db8::1', '192.0.2.1'], 'addresses in the order given (IPv6 first here)');
  t.equal(out.recipients[0]!.reason, 'first');
});

t.test('a 5xx at MAIL or DATA fails every pending recipient', async (t) => {
  const f = fakeSessions({ '192.0.2.1': () => new SmarthostError('E_SMTP_PERM', 'perm', '554 go away', { stage: 'data' }) });
  const out = await deliver({ sender: 's@x.test', recipients: ['a@y.test', 'b@y.test'] }, Buffer.from('x'), [host('h.test', 'h.test', '192.0.2.1', '192.0.2.2')], [], {
    openSession: f.openSession,
    tracer: () => {},
  });
  t.equal(out.result, 'failed');
  t.same(f.opened, ['192.0.2.1'], 'no further address is tried after a permanent failure');
  t.match(out.attempts[0], { stage: 'data', result: 'failed' });
});

t.test('DNS failures alone: permanent → failed, temporary → deferred', async (t) => {
  const f = fakeSessions({});
  const perm = await deliver({ sender: 's@x.test', recipients: ['a@y.test'] }, Buffer.from('x'), [], [{ name: 'nx.test', error: new SmarthostError('E_DNS_NXDOMAIN', 'perm', 'nx.test: no such host') }], {
    openSession: f.openSession,
    tracer: () => {},
  });
  t.equal(perm.result, 'failed');
  t.equal(perm.recipients[0]!.reason, 'nx.test: no such host');
  const tmp = await deliver({ sender: 's@x.test', recipients: ['a@y.test'] }, Buffer.from('x'), [], [{ name: 'sf.test', error: new SmarthostError('E_DNS_SERVFAIL', 'temp', 'SERVFAIL') }], {
    openSession: f.openSession,
    tracer: () => {},
  });
  t.equal(tmp.result, 'deferred');
});

t.test('overallResult', async (t) => {
  t.equal(overallResult([]), 'delivered');
  t.equal(overallResult([{ recipient: 'a', result: 'failed', reason: '' }, { recipient: 'b', result: 'deferred', reason: '' }]), 'deferred');
  t.equal(overallResult([{ recipient: 'a', result: 'failed', reason: '' }, { recipient: 'b', result: 'delivered', reason: '' }]), 'failed');
});
