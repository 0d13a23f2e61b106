/**
 * Failover and time in deliver(): every address in route order with its reason
 * (and the caller's one-line summary of them), DNS failures listed with the
 * rest, an authentication rejection skipping the host's other addresses, and
 * the total deadline stopping further attempts. Sessions are fakes.
 */
import t from 'tap';
import { deliver, type Target } from '../../lib/deliver/deliver.js';
import { deadlineError, raceSignal, renderMs, startDeadline } from '../../lib/deliver/deadline.js';
import { SmarthostError } from '../../lib/errors.js';
import { describeAttempts, summarize } from '../../lib/report/summary.js';
import type { Resolved } from '../../lib/types.js';
import type { Session, SendResult } from '../../lib/deliver/smtp.js';

const host = (queried: string, canonical: string, ...addrs: string[]): Resolved => ({
  queried,
  canonical,
  chain: [],
  addresses: addrs.map((a) => ({ address: a, family: 4, ttl: 60 })),
  port: 25,
  mx: -1,
});

const ok = (rcpts: string[]): SendResult => ({ accepted: rcpts, rejected: [], response: '250 OK id=1' });

function sessions(script: Record<string, Error | ((r: string[]) => SendResult)>, onOpen?: (a: string) => void) {
  const opened: string[] = [];
  return {
    opened,
    openSession: async (t: Target): Promise<Session> => {
      opened.push(t.address.address);
      onOpen?.(t.address.address);
      const s = script[t.address.address]!;
      if (s instanceof Error) throw s;
      return { send: async (env) => s(env.recipients), quit: async () => {} };
    },
  };
}

const err = (code: 'E_CONNECT' | 'E_SMTP_TEMP' | 'E_AUTH', where: string, msg: string, stage: 'connect' | 'banner' | 'auth', responseCode?: number) =>
  new SmarthostError(code, 'temp', `${where}: ${msg}`, { stage, responseCode });

t.test('dead first host, 4xx second host, working third: tried in order, delivered', async (t) => {
  const f = sessions({
    '192.0.2.1': err('E_CONNECT', 'dead.example [192.0.2.1]:25', 'connection failed at connect: ECONNREFUSED', 'connect'),
    '192.0.2.2': err('E_SMTP_TEMP', 'busy.example [192.0.2.2]:25', 'banner: 421 4.3.2 try later', 'banner'),
    '192.0.2.3': ok,
  });
  const hosts = [host('dead.example', 'dead.example', '192.0.2.1'), host('busy.example', 'busy.example', '192.0.2.2'), host('good.example', 'good.example', '192.0.2.3')];
  const out = await deliver({ sender: '', recipients: ['a@y.test'] }, Buffer.from('x'), hosts, [], { openSession: f.openSession, tracer: () => {} });
  t.equal(out.result, 'delivered');
  t.same(f.opened, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  t.same(out.attempts.map((a) => [a.address, a.stage, a.result]), [
    ['192.0.2.1', 'connect', 'deferred'],
    ['192.0.2.2', 'banner', 'deferred'],
    ['192.0.2.3', 'done', 'delivered'],
  ]);
  t.equal(describeAttempts(out), undefined, 'nothing to explain when delivered');
});

t.test('everything fails: the caller is told every attempt in order, with its reason', async (t) => {
  const f = sessions({
    '192.0.2.1': err('E_CONNECT', 'dead.example [192.0.2.1]:25', 'connection failed at connect: ECONNREFUSED', 'connect'),
    '192.0.2.2': err('E_SMTP_TEMP', 'mx.busy.example [192.0.2.2]:25', 'banner: 421 4.3.2 try later', 'banner'),
    '192.0.2.3': err('E_CONNECT', 'mx.busy.example [192.0.2.3]:25', 'timed out at connect (Connection timeout)', 'connect'),
  });
  const dnsFailure = { name: 'gone.example', error: new SmarthostError('E_DNS_NXDOMAIN', 'perm', 'gone.example: no such domain (NXDOMAIN)') };
  const hosts = [host('dead.example', 'dead.example', '192.0.2.1'), host('busy.example', 'mx.busy.example', '192.0.2.2', '192.0.2.3')];
  const out = await deliver({ sender: '', recipients: ['a@y.test'] }, Buffer.from('x'), hosts, [dnsFailure], { openSession: f.openSession, tracer: () => {} });
  t.equal(out.result, 'deferred');
  t.equal(
    describeAttempts(out),
    'all 3 attempts failed: dead.example [192.0.2.1]:25 at connect: connection failed at connect: ECONNREFUSED; ' +
      'busy.example (mx.busy.example) [192.0.2.2]:25 at banner: banner: 421 4.3.2 try later; ' +
      'busy.example (mx.busy.example) [192.0.2.3]:25 at connect: timed out at connect (Connection timeout)',
  );
  const lines = summarize(out, false);
  t.equal(lines.length, 2);
  t.match(lines[0], /^<a@y\.test>: deferred \(temporary failure; not delivered\): mx\.busy\.example \[192\.0\.2\.3\]:25: timed out/);
  t.match(lines[1], /^all 3 attempts failed: /);
  // a single attempt needs no summary: the recipient line has its reason
  t.equal(describeAttempts({ ...out, attempts: out.attempts.slice(0, 1) }), undefined);
  // some delivered, some not
  const mixed = { ...out, attempts: [...out.attempts, { ...out.attempts[0]!, result: 'delivered' as const }] };
  t.match(describeAttempts(mixed), /^3 of 4 attempts failed: /);
});

t.test('an authentication rejection (5xx) skips the other addresses of that host, not the next host', async (t) => {
  const f = sessions({
    '192.0.2.1': err('E_AUTH', 'a.example [192.0.2.1]:25', 'authentication as "u" (auth_username) with AUTH PLAIN failed: 535 5.7.8 no', 'auth', 535),
    '192.0.2.2': ok,
    '192.0.2.3': ok,
  });
  const hosts = [host('a.example', 'a.example', '192.0.2.1', '192.0.2.2'), host('b.example', 'b.example', '192.0.2.3')];
  const out = await deliver({ sender: '', recipients: ['a@y.test'] }, Buffer.from('x'), hosts, [], { openSession: f.openSession, tracer: () => {} });
  t.same(f.opened, ['192.0.2.1', '192.0.2.3']);
  t.equal(out.result, 'delivered');
  t.match(out.attempts[0], { stage: 'auth', result: 'deferred' });
});

t.test('a refusal to send credentials (no TLS) still tries the next address', async (t) => {
  const f = sessions({
    '192.0.2.1': err('E_AUTH', 'a.example [192.0.2.1]:25', 'not authenticating as "u": TLS is not up', 'auth'),
    '192.0.2.2': err('E_AUTH', 'a.example [192.0.2.2]:25', 'not authenticating as "u": TLS is not up', 'auth'),
  });
  const out = await deliver({ sender: '', recipients: ['a@y.test'] }, Buffer.from('x'), [host('a.example', 'a.example', '192.0.2.1', '192.0.2.2')], [], { openSession: f.openSession, tracer: () => {} });
  t.same(f.opened, ['192.0.2.1', '192.0.2.2']);
  t.equal(out.result, 'deferred', 'never bounced for an auth problem');
});

t.test('the deadline: no attempt after it expires; pending recipients deferred with the reason', async (t) => {
  const ctrl = new AbortController();
  const f = sessions(
    { '192.0.2.1': err('E_CONNECT', 'a.example [192.0.2.1]:25', 'timed out at connect', 'connect'), '192.0.2.2': ok },
    () => ctrl.abort(deadlineError(2000)),
  );
  const out = await deliver({ sender: '', recipients: ['a@y.test'] }, Buffer.from('x'), [host('a.example', 'a.example', '192.0.2.1'), host('b.example', 'b.example', '192.0.2.2')], [], {
    openSession: f.openSession,
    tracer: () => {},
    signal: ctrl.signal,
  });
  t.same(f.opened, ['192.0.2.1'], 'the second host was not tried');
  t.equal(out.result, 'deferred');
  t.equal(out.recipients[0]!.reason, 'delivery_timeout (2s) expired; not tried: b.example [192.0.2.2] and any later address');
});

t.test('renderMs, startDeadline, raceSignal', async (t) => {
  t.equal(renderMs(600_000), '10m');
  t.equal(renderMs(90_500), '1m31s');
  t.equal(renderMs(500), '0.5s');
  t.equal(renderMs(2000), '2s');
  t.equal(renderMs(86_400_000 + 3_600_000), '1d1h');
  // injected timer: fire it by hand
  let fire: () => void = () => {};
  const d = startDeadline(1500, ((fn: () => void) => ((fire = fn), setTimeout(() => {}, 0))) as never);
  const never = new Promise<string>(() => {});
  const raced = raceSignal(never, d.signal);
  fire();
  await t.rejects(raced, { code: 'E_TIMEOUT', message: 'delivery_timeout (1.5s) expired' });
  await t.rejects(raceSignal(Promise.resolve(1), d.signal), { code: 'E_TIMEOUT' }, 'already expired');
  t.equal(await raceSignal(Promise.resolve(2), undefined), 2);
  const d2 = startDeadline(60_000);
  t.equal(await raceSignal(Promise.resolve(3), d2.signal), 3);
  d2.cancel();
  t.equal(d2.signal.aborted, false);
});
