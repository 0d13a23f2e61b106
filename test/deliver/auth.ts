/**
 * SMTP AUTH: the pure choices (mechanism, refusal), then each mechanism with
 * right and wrong credentials against smtp-server on loopback, the cleartext
 * refusal, and the transcript never holding a secret.
 */
import t, { type Test } from 'tap';
import { chooseMechanism, offeredMechanisms, xoauth2Response } from '../../lib/deliver/auth.js';
import { openSession, type SessionParams } from '../../lib/deliver/smtp.js';
import { SmarthostError } from '../../lib/errors.js';
import { formatExim, type TraceEvent } from '../../lib/report/trace.js';
import type { AuthMechanism, HostAuth } from '../../lib/types.js';
import { startSmtp, type FakeSmtpOptions } from '../../fixtures/peers/fake-smtp.js';
import type { SMTPServerAuthentication } from 'smtp-server';
import { sessionParams, failure } from '../../fixtures/peers/session.js';

const USER = 'relay-user';
const PASS = 'S3cret-p4ss:with colon';
const TOKEN = 'ya29.token-value-not-to-be-seen';

t.test('offeredMechanisms reads AUTH and AUTH= lines', async (t) => {
  t.same(offeredMechanisms('250-mx.example\n250-AUTH PLAIN LOGIN\n250 SIZE 10'), ['PLAIN', 'LOGIN']);
  t.same(offeredMechanisms('250-mx\r\n250-AUTH=login cram-md5\r\n250 AUTH XOAUTH2 PLAIN'), ['LOGIN', 'CRAM-MD5', 'XOAUTH2', 'PLAIN']);
  t.same(offeredMechanisms('250-mx\n250 8BITMIME'), []);
});

t.test('chooseMechanism: TLS, cleartext, preferences', async (t) => {
  const base = { offered: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'], secure: true, allowCleartext: false, havePassword: true, haveToken: false };
  const rows: Array<[Partial<typeof base> & { mechanisms?: AuthMechanism[] }, string]> = [
    [{}, 'PLAIN'],
    [{ haveToken: true }, 'XOAUTH2'],
    [{ havePassword: false, haveToken: true }, 'XOAUTH2'],
    [{ offered: ['LOGIN', 'CRAM-MD5'] }, 'LOGIN'],
    [{ offered: ['CRAM-MD5'] }, 'CRAM-MD5'],
    [{ secure: false, allowCleartext: true }, 'CRAM-MD5'],
    [{ secure: false, allowCleartext: true, offered: ['PLAIN', 'LOGIN'] }, 'PLAIN'],
    [{ mechanisms: ['LOGIN', 'PLAIN'] }, 'LOGIN'],
    [{ mechanisms: ['CRAM-MD5'], offered: ['PLAIN'] }, 'refuse:offers AUTH PLAIN but the credentials allow only CRAM-MD5'],
    [{ secure: false }, 'refuse:TLS is not up and credentials are never sent in cleartext (host not in hosts_auth_cleartext)'],
    [{ secure: false, offered: [] }, 'refuse:TLS is not up'],
    [{ offered: [] }, 'refuse:credentials are configured but the server does not offer AUTH'],
    [{ offered: ['XOAUTH2'] }, 'refuse:the credentials allow only PLAIN LOGIN CRAM-MD5'],
  ];
  for (const [over, want] of rows) {
    const r = chooseMechanism({ ...base, ...over });
    if (want.startsWith('refuse:')) t.match('refuse' in r ? r.refuse : '', want.slice(7), JSON.stringify(over));
    else t.same(r, { mechanism: want }, JSON.stringify(over));
  }
});

t.test('xoauth2Response is the documented user=/auth=Bearer form', async (t) => {
  t.equal(Buffer.from(xoauth2Response('me@example.test', 'tok'), 'base64').toString(), 'user=me@example.test\x01auth=Bearer tok\x01\x01');
});

/** smtp-server that accepts USER/PASS (or TOKEN for XOAUTH2) and records the methods used. */
async function authServer(t: Test, methods: string[], extra: FakeSmtpOptions = {}) {
  const seen: SMTPServerAuthentication[] = [];
  const smtp = await startSmtp({
    authMethods: methods as never,
    authOptional: false,
    onAuth(auth, _session, cb) {
      seen.push(auth);
      const ok =
        auth.method === 'XOAUTH2'
          ? auth.username === USER && auth.accessToken === TOKEN
          : auth.method === 'CRAM-MD5'
            ? auth.username === USER && auth.validatePassword(PASS)
            : auth.username === USER && auth.password === PASS;
      if (ok) return cb(null, { user: USER });
      if (auth.method === 'XOAUTH2') return cb(null, { data: { status: '401', schemes: 'bearer' } } as never);
      return cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    ...extra,
  });
  t.teardown(() => smtp.close());
  return { smtp, seen };
}

const params = (port: number, events: TraceEvent[], auth: HostAuth, over: Partial<SessionParams> = {}): SessionParams =>
  sessionParams(port, events, { auth, ...over });

const creds = (pass: string, over: Partial<HostAuth> = {}): HostAuth => ({
  username: USER,
  source: 'auth_username',
  password: () => Promise.resolve(pass),
  allowCleartext: false,
  ...over,
});


/** Every trace line, rendered as the CLI would print it. */
const rendered = (events: TraceEvent[]): string => events.flatMap(formatExim).join('\n');

/** No form of a secret in the trace: plain, base64 of it, base64 of the PLAIN/XOAUTH2 blobs. */
function assertNoSecret(t: Test, text: string, secret: string) {
  t.notOk(text.includes(secret), 'secret not in the trace');
  t.notOk(text.includes(Buffer.from(secret).toString('base64')), 'base64 of the secret not in the trace');
  t.notOk(text.includes(Buffer.from(`\0${USER}\0${secret}`).toString('base64')), 'PLAIN blob not in the trace');
  t.notOk(text.includes(Buffer.from(USER).toString('base64')), 'not even the base64 user name');
}

for (const method of ['PLAIN', 'LOGIN', 'CRAM-MD5'] as const) {
  t.test(`AUTH ${method}: right credentials deliver, wrong ones are E_AUTH (temp) with the 535`, async (t) => {
    const { smtp, seen } = await authServer(t, [method]);
    const events: TraceEvent[] = [];
    const s = await openSession(params(smtp.port, events, creds(PASS)));
    const res = await s.send({ sender: 'a@example.test', recipients: ['b@example.test'] }, Buffer.from('Subject: x\r\n\r\nhi\r\n'));
    await s.quit();
    t.same(res.accepted, ['b@example.test']);
    t.equal(seen[0]!.method, method);
    const text = rendered(events);
    t.match(text, new RegExp(`SMTP>> AUTH ${method}`));
    t.match(text, /SMTP<< 235/);
    assertNoSecret(t, text, PASS);

    const bad: TraceEvent[] = [];
    const err = await failure(openSession(params(smtp.port, bad, creds('wrong-password'))));
    t.equal(err.code, 'E_AUTH');
    t.equal(err.kind, 'temp', 'an auth failure defers (Exim does too)');
    t.equal(err.detail.stage, 'auth');
    t.equal(err.detail.responseCode, 535);
    t.match(err.message, new RegExp(`authentication as "${USER}" \\(auth_username\\) with AUTH ${method} failed: 535`));
    t.notOk(err.message.includes('wrong-password'));
    assertNoSecret(t, rendered(bad), 'wrong-password');
    t.equal(smtp.messages.length, 1, 'nothing sent after the failed login');
  });
}

t.test('AUTH XOAUTH2 with a token; a rejected token is fetched again once, then E_AUTH', async (t) => {
  const { smtp, seen } = await authServer(t, ['PLAIN', 'XOAUTH2']);
  const events: TraceEvent[] = [];
  const calls: boolean[] = [];
  const token = (good: boolean) => (fresh: boolean) => (calls.push(fresh), Promise.resolve(good ? TOKEN : 'stale-token'));
  const s = await openSession(params(smtp.port, events, { username: USER, source: 'auth_username', token: token(true), allowCleartext: false }));
  await s.quit();
  t.equal(seen[0]!.method, 'XOAUTH2', 'preferred when a token command is configured');
  t.notOk(rendered(events).includes(TOKEN));
  t.match(rendered(events), /SMTP>> AUTH XOAUTH2 \*\*\*\*/);

  calls.length = 0;
  const bad: TraceEvent[] = [];
  const err = await failure(openSession(params(smtp.port, bad, { username: USER, source: 'auth_username', token: token(false), allowCleartext: false })));
  t.equal(err.code, 'E_AUTH');
  t.match(err.message, /AUTH XOAUTH2 failed: 535/);
  t.same(calls, [false, false, true], 'first use (cached), then a fresh token for the retry');
  t.notOk(rendered(bad).includes('stale-token'));
  t.ok(rendered(bad).split('\n').some((l) => l === '  SMTP>> ****'), 'the empty continuation after the 334 is masked too');
});

t.test('a failing token command fails before anything is sent', async (t) => {
  const { smtp, seen } = await authServer(t, ['XOAUTH2']);
  const cmdErr = new SmarthostError('E_AUTH', 'temp', 'auth_oauth2_command: the command exited with status 3; no credentials to send');
  const err = await failure(openSession(params(smtp.port, [], { username: USER, source: 'auth_username', token: () => Promise.reject(cmdErr), allowCleartext: false })));
  t.equal(err, cmdErr);
  t.equal(seen.length, 0);
});

t.test('never AUTH before TLS: a cleartext server gets no credentials unless hosts_auth_cleartext', async (t) => {
  const { smtp, seen } = await authServer(t, ['PLAIN', 'LOGIN'], { disableStartTls: true, allowInsecureAuth: true });
  const events: TraceEvent[] = [];
  const err = await failure(openSession(params(smtp.port, events, creds(PASS), { requireTls: false })));
  t.equal(err.code, 'E_AUTH');
  t.match(err.message, /not authenticating as "relay-user" \(auth_username\): TLS is not up/);
  t.equal(seen.length, 0, 'the server never saw an AUTH');
  t.notOk(events.some((e) => e.type === 'smtp-out' && e.text.startsWith('AUTH')), 'no AUTH command on the wire');

  // allowed for this host: cleartext prefers a mechanism that does not reveal the password, if offered
  const ok: TraceEvent[] = [];
  const s = await openSession(params(smtp.port, ok, creds(PASS, { allowCleartext: true }), { requireTls: false }));
  await s.quit();
  t.equal(seen[0]!.method, 'PLAIN', 'PLAIN (no CRAM-MD5 offered), because the host is listed');
  t.equal(s.tls, undefined);
});

t.test('credentials configured but no AUTH offered: E_AUTH, nothing sent', async (t) => {
  const smtp = await startSmtp({ disabledCommands: ['AUTH'] });
  t.teardown(() => smtp.close());
  const err = await failure(openSession(params(smtp.port, [], creds(PASS))));
  t.equal(err.code, 'E_AUTH');
  t.match(err.message, /the server does not offer AUTH/);
});
