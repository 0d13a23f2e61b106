import t from 'tap';
import { deliver, type Target } from '../../lib/deliver/deliver.js';
import { connectionLost, poolKey, sessionPool } from '../../lib/deliver/pool.js';
import { SmarthostError } from '../../lib/errors.js';
import type { Resolved } from '../../lib/types.js';
import type { Session, SendResult } from '../../lib/deliver/smtp.js';
import type { TraceEvent } from '../../lib/report/trace.js';

const resolved: Resolved = { queried: 'Mail.Example.Test', canonical: 'mail.example.test', chain: [], addresses: [{ address: '192.0.2.1', family: 4, ttl: 60 }], port: 25, mx: -1 };
const target: Target = { resolved, address: resolved.addresses[0]! };
const MSG = Buffer.from('Subject: x\r\n\r\nbody\r\n');

interface FakeConn {
  id: number;
  log: string[];
  open: boolean;
  clean: boolean;
  dataStarted: boolean;
  /** Fail the next send with this error (once). */
  failNext?: Error;
  resetFails?: boolean;
}

/** Fake sessions that record what is done to them; `conns` lists every connection opened. */
function fakes() {
  const conns: FakeConn[] = [];
  const fresh = async (): Promise<Session> => {
    const c: FakeConn = { id: conns.length + 1, log: [], open: true, clean: true, dataStarted: false };
    conns.push(c);
    return {
      get open() {
        return c.open;
      },
      get clean() {
        return c.clean;
      },
      get dataStarted() {
        return c.dataStarted;
      },
      send: async (env): Promise<SendResult> => {
        c.log.push(`send ${env.recipients.join(',')}`);
        if (c.failNext) {
          const e = c.failNext;
          c.failNext = undefined;
          throw e;
        }
        const refused = env.recipients.filter((r) => r.startsWith('no'));
        c.clean = refused.length < env.recipients.length;
        return { accepted: env.recipients.filter((r) => !r.startsWith('no')), rejected: refused.map((r) => ({ recipient: r, code: 550, response: '550 no' })), response: '250 ok' };
      },
      use: (s) => c.log.push(s ? 'use' : 'idle'),
      reset: async () => {
        c.log.push('RSET');
        if (c.resetFails) throw new SmarthostError('E_CONNECT', 'temp', 'gone', { stage: 'mail' });
        c.clean = true;
      },
      close: () => {
        c.log.push('close');
        c.open = false;
      },
      quit: async () => {
        c.log.push('QUIT');
        c.open = false;
      },
    };
  };
  return { conns, fresh };
}

/** Deliver one message through the pool, as main.ts wires it. */
async function one(pool: ReturnType<typeof sessionPool>, fresh: () => Promise<Session>, recipients = ['a@y.test'], events: TraceEvent[] = []) {
  return deliver({ sender: 's@x.test', recipients }, MSG, [resolved], [], {
    tracer: (e) => events.push(e),
    openSession: (tg) => pool.open(tg, fresh),
    releaseSession: (s, reusable) => pool.release(s, reusable),
  });
}

t.test('poolKey: queried name (any case), address and port', async (t) => {
  t.equal(poolKey(target), 'mail.example.test [192.0.2.1]:25');
});

t.test('many messages over one connection; no RSET after a clean transaction; QUIT at close', async (t) => {
  const f = fakes();
  const events: TraceEvent[] = [];
  const pool = sessionPool((e) => events.push(e));
  for (let i = 0; i < 5; i++) t.equal((await one(pool, f.fresh)).result, 'delivered');
  t.equal(f.conns.length, 1, 'one connection');
  t.equal(pool.opened, 1);
  t.notOk(f.conns[0]!.log.includes('RSET'), 'MAIL follows the end of the previous transaction directly');
  t.equal(f.conns[0]!.log.filter((l) => l.startsWith('send')).length, 5);
  t.match(events.map((e) => (e.type === 'note' ? e.text : '')).join('\n'), /reusing the connection \(message 5 on it\)/);
  await pool.close();
  t.equal(f.conns[0]!.log.at(-1), 'QUIT');
  await pool.close();
  t.equal(f.conns[0]!.log.filter((l) => l === 'QUIT').length, 1, 'closing twice QUITs once');
});

t.test('after a transaction that did not end (every recipient refused): RSET first', async (t) => {
  const f = fakes();
  const pool = sessionPool(() => {});
  t.equal((await one(pool, f.fresh, ['no@y.test'])).result, 'failed');
  t.equal((await one(pool, f.fresh)).result, 'delivered');
  t.equal(f.conns.length, 1);
  t.same(f.conns[0]!.log.filter((l) => l !== 'use' && l !== 'idle'), ['send no@y.test', 'RSET', 'send a@y.test']);
  await pool.close();
});

t.test('a failed RSET or a closed connection: a fresh connection, nothing recorded against the message', async (t) => {
  const f = fakes();
  const pool = sessionPool(() => {});
  await one(pool, f.fresh, ['no@y.test']);
  f.conns[0]!.resetFails = true;
  const out = await one(pool, f.fresh);
  t.equal(out.result, 'delivered');
  t.equal(out.attempts.length, 1, 'one attempt: the dead session is not an attempt');
  t.equal(f.conns.length, 2);
  t.ok(f.conns[0]!.log.includes('close'), 'the failed one is dropped');
  f.conns[1]!.open = false; // the server closed the idle connection
  t.equal((await one(pool, f.fresh)).result, 'delivered');
  t.equal(f.conns.length, 3);
  await pool.close();
});

t.test('a reused connection lost at MAIL: the message goes once more on a new connection', async (t) => {
  const f = fakes();
  const pool = sessionPool(() => {});
  await one(pool, f.fresh);
  f.conns[0]!.failNext = new SmarthostError('E_SMTP_TEMP', 'temp', '421 shutting down', { stage: 'mail', responseCode: 421 });
  const out = await one(pool, f.fresh);
  t.equal(out.result, 'delivered');
  t.equal(f.conns.length, 2);
  t.equal(f.conns[1]!.log.filter((l) => l.startsWith('send')).length, 1, 'sent once on the new connection');
  // a first-use connection that fails is not retried: the attempt defers as before
  f.conns.length = 0;
  const pool2 = sessionPool(() => {});
  const g = fakes();
  const fresh = async () => {
    const s = await g.fresh();
    g.conns.at(-1)!.failNext = new SmarthostError('E_SMTP_TEMP', 'temp', '421 busy', { stage: 'mail', responseCode: 421 });
    return s;
  };
  const out2 = await one(pool2, fresh);
  t.equal(out2.result, 'deferred');
  t.equal(g.conns.length, 1);
  t.equal(g.conns[0]!.log.at(-1), 'QUIT', 'a failed session is not kept');
  await pool.close();
  await pool2.close();
});

t.test('a reused connection lost after the 354: not sent again (it may have arrived); deferred', async (t) => {
  const f = fakes();
  const pool = sessionPool(() => {});
  await one(pool, f.fresh);
  f.conns[0]!.failNext = new SmarthostError('E_SMTP_TEMP', 'temp', '421 shutting down', { stage: 'data', responseCode: 421 });
  f.conns[0]!.dataStarted = true;
  const out = await one(pool, f.fresh);
  t.equal(out.result, 'deferred');
  t.equal(f.conns.length, 1, 'no second connection for this message');
  await pool.close();
});

t.test('connectionLost: errors about the connection, not the message', async (t) => {
  const e = (code: 'E_CONNECT' | 'E_SMTP_TEMP' | 'E_SMTP_PERM' | 'E_TIMEOUT', stage: 'mail' | 'rcpt' | 'data', responseCode?: number) =>
    new SmarthostError(code, code === 'E_SMTP_PERM' ? 'perm' : 'temp', 'x', { stage, ...(responseCode ? { responseCode } : {}) });
  t.ok(connectionLost(e('E_CONNECT', 'mail')));
  t.ok(connectionLost(e('E_SMTP_TEMP', 'rcpt', 421)));
  t.notOk(connectionLost(e('E_SMTP_TEMP', 'mail', 451)), 'a 451 is about the message');
  t.notOk(connectionLost(e('E_SMTP_PERM', 'mail', 550)));
  t.notOk(connectionLost(e('E_TIMEOUT', 'mail')), 'a timeout is not retried at once');
  t.notOk(connectionLost(new Error('x')));
});

t.test('at most maxMessages per connection', async (t) => {
  const f = fakes();
  const pool = sessionPool(() => {}, 3);
  for (let i = 0; i < 7; i++) await one(pool, f.fresh);
  t.equal(f.conns.length, 3, '3 + 3 + 1');
  t.same(
    f.conns.map((c) => c.log.filter((l) => l.startsWith('send')).length),
    [3, 3, 1],
  );
  t.equal(f.conns[0]!.log.at(-1), 'QUIT');
  await pool.close();
  t.equal(f.conns[2]!.log.at(-1), 'QUIT');
});

t.test('sessions without reuse support are QUIT after their message', async (t) => {
  let quits = 0;
  const pool = sessionPool(() => {});
  const plain = async (): Promise<Session> => ({ send: async (env) => ({ accepted: env.recipients, rejected: [], response: '250' }), quit: async () => void quits++ });
  await one(pool, plain);
  await one(pool, plain);
  t.equal(quits, 2);
  t.equal(pool.opened, 2);
});
