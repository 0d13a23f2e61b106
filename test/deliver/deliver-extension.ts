/**
 * deliver() with a server that cannot take the message (E_EXTENSION from
 * session.send: SIZE, 8BITMIME, SMTPUTF8): the next host is tried; the
 * message fails only when no host takes it, and stays deferred when another
 * host failed temporarily. The DSN request travels with the envelope.
 */
import t from 'tap';
import { deliver, type Target } from '../../lib/deliver/deliver.js';
import { SmarthostError } from '../../lib/errors.js';
import type { Envelope, Resolved } from '../../lib/types.js';
import type { Session } from '../../lib/deliver/smtp.js';

const host = (name: string, address: string): Resolved => ({ queried: name, canonical: name, chain: [], addresses: [{ address, family: 4, ttl: 60 }], port: 25, mx: -1 });
const tooBig = (a: string) => new SmarthostError('E_EXTENSION', 'perm', `${a}: message is 500 bytes, x accepts at most 100 (SIZE)`, { stage: 'mail' });

function sessions(behaviour: Record<string, 'ok' | 'too-big' | 'temp'>) {
  const sent: Envelope[] = [];
  return {
    sent,
    openSession: async (t: Target): Promise<Session> => {
      const b = behaviour[t.address.address];
      if (b === 'temp') throw new SmarthostError('E_CONNECT', 'temp', `${t.address.address}: refused`, { stage: 'connect' });
      return {
        send: async (env) => {
          sent.push(env);
          if (b === 'too-big') throw tooBig(t.address.address);
          return { accepted: env.recipients, rejected: [], response: '250 ok' };
        },
        quit: async () => {},
      };
    },
  };
}

const ENV: Envelope = { sender: 's@example.test', recipients: ['r@example.test'], dsn: { notify: 'FAILURE', envid: 'e1' } };

t.test('too big for the first host, the second takes it', async (t) => {
  const f = sessions({ '192.0.2.1': 'too-big', '192.0.2.2': 'ok' });
  const out = await deliver(ENV, Buffer.from('x'), [host('a.test', '192.0.2.1'), host('b.test', '192.0.2.2')], [], { openSession: f.openSession, tracer: () => {} });
  t.equal(out.result, 'delivered');
  t.same(out.attempts.map((a) => [a.address, a.result, a.stage]), [['192.0.2.1', 'failed', 'mail'], ['192.0.2.2', 'delivered', 'done']]);
  t.same(f.sent[1]!.dsn, { notify: 'FAILURE', envid: 'e1' }, 'the DSN request reaches the session');
});

t.test('no host takes it: failed (permanent), with the reason', async (t) => {
  const f = sessions({ '192.0.2.1': 'too-big', '192.0.2.2': 'too-big' });
  const out = await deliver(ENV, Buffer.from('x'), [host('a.test', '192.0.2.1'), host('b.test', '192.0.2.2')], [], { openSession: f.openSession, tracer: () => {} });
  t.equal(out.result, 'failed');
  t.match(out.recipients[0]!.reason, /accepts at most 100 \(SIZE\)/);
  t.equal(f.sent.length, 2, 'both hosts were asked');
});

t.test('one host too small, the other temporarily down: deferred', async (t) => {
  const f = sessions({ '192.0.2.1': 'temp', '192.0.2.2': 'too-big' });
  const out = await deliver(ENV, Buffer.from('x'), [host('a.test', '192.0.2.1'), host('b.test', '192.0.2.2')], [], { openSession: f.openSession, tracer: () => {} });
  t.equal(out.result, 'deferred');
});
