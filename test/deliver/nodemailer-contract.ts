/**
 * The contract with nodemailer: exactly what lib/deliver/ relies on in
 * nodemailer 10.6's SMTPConnection, checked against nodemailer itself (not
 * through our code), so that an upgrade that changes any of it fails here
 * with the name of the thing that changed. Who relies on what:
 *
 * - wire.ts: `_onData(chunk)` is reached through `this` by the socket's data
 *   listener (an own property replaces it), every command line goes through
 *   `_sendCommand(str, logStr)`, and `_createSendStream(cb)` returns the DATA
 *   stream whose 'end' comes after the final `.` line was written;
 * - smtp.ts and connect.ts: the options `connection` (our socket, used as
 *   given), `secured` (no second handshake), `connectionTimeout` (a 2^31-1
 *   timer is taken as is), `socketTimeout`, `tls` and `servername` (the
 *   STARTTLS upgrade); `_socket` is the TLS socket after STARTTLS; a failure
 *   while connecting may come as an 'error' event only; 'error' comes
 *   before 'end'; the error fields `code`, `originalCode`,
 *   `response`, `responseCode`, `command`, `rejectedErrors[].recipient`, and
 *   `accepted` / `rejectedErrors` / `response` of a sent message;
 * - auth.ts: `login({user, pass, method})`, XOAUTH2 with an `oauth2` object of
 *   `getToken(fresh, cb)` and `buildXOAuth2Token(token)`, EAUTH errors with
 *   `response` and `responseCode`, and the cause of a getToken error kept;
 * - data-stream.ts: nodemailer's `./data-stream.js` (swapped in the bundle,
 *   build-swaps.mjs; test/deliver/data-stream.ts compares the bytes);
 * - smtp.ts's envelope: `size`, `use8BitMime` and `dsn` {notify, ret,
 *   envid} become MAIL/RCPT parameters (RFC 1870, 6152, 3461);
 * - no log line is parsed any more (no logger is given).
 * In-process tests and the bundle use the same copy, dist/esm (checked here
 * and in test/build-swaps.ts).
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { EventEmitter } from 'node:events';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { fixtureCa, startSmtp } from '../../fixtures/peers/fake-smtp.js';
import { startScriptSmtp, type SmtpScript } from '../../fixtures/peers/script-smtp.js';

type Conn = SMTPConnection & {
  _onData(chunk: Buffer): void;
  _sendCommand(str: string, logStr?: string): void;
  _createSendStream(cb: (...a: unknown[]) => void): EventEmitter;
  _socket: net.Socket | TLSSocket;
};
type NmError = Error & { code?: string; originalCode?: string; response?: string; responseCode?: number; command?: string; rejectedErrors?: (NmError & { recipient?: string })[]; cause?: unknown };

const nodemailerDir = dirname(createRequire(import.meta.url).resolve('nodemailer/package.json'));
const ENV = { from: 'a@example.test', to: ['b@example.test'] };

const connected = (port: number): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });

/** An SMTPConnection over our own connected socket, as smtp.ts makes it. */
async function open(t: Test, port: number, over: Record<string, unknown> = {}) {
  const socket = await connected(port);
  const conn = new SMTPConnection({ connection: socket, host: '127.0.0.1', port, name: 'client.example.test', connectionTimeout: 2 ** 31 - 1, socketTimeout: 5000, greetingTimeout: 5000, ...over }) as Conn;
  const events: string[] = [];
  conn.on('error', (e: NmError) => events.push(`error ${e.code}`));
  conn.on('end', () => events.push('end'));
  t.teardown(() => conn.close());
  return { conn, socket, events };
}
/** connect(): most failures of this phase come as an 'error' event only, not through the callback (smtp.ts listens to both). */
const connect = (conn: Conn): Promise<void> =>
  new Promise((resolve, reject) => {
    conn.once('error', reject);
    conn.connect((err?: Error) => (err ? reject(err) : resolve()));
  });
/** A fresh envelope each time: nodemailer keeps its state (rcptQueue, mailError) on the object it is given. */
const send = (conn: Conn, env = { ...ENV, to: [...ENV.to] }, body = 'Subject: x\r\n\r\nhi\r\n'): Promise<SMTPConnection.SentMessageInfo> =>
  new Promise((resolve, reject) => conn.send(env, body, (err, info) => (err ? reject(err) : resolve(info!))));
async function fails<T>(p: Promise<T>): Promise<NmError> {
  try {
    await p;
  } catch (e) {
    return e as NmError;
  }
  throw new Error('expected a failure');
}
async function script(t: Test, s: SmtpScript) {
  const peer = await startScriptSmtp(s);
  t.teardown(() => peer.close());
  return peer;
}

t.test('version: the contract below was read in nodemailer 10.6.x', async (t) => {
  const version = (JSON.parse(readFileSync(join(nodemailerDir, 'package.json'), 'utf8')) as { version: string }).version;
  t.match(version, /^10\.6\.\d+$/, 'on another version, re-read smtp-connection and this file before changing the pin');
  t.match(import.meta.resolve('nodemailer/lib/smtp-connection'), /\/nodemailer\/dist\/esm\/smtp-connection\/index\.js$/, 'in-process tests load dist/esm, the copy the bundle takes');
  for (const m of ['_onData', '_sendCommand', '_createSendStream', 'connect', 'login', 'send', 'reset', 'quit', 'close']) {
    t.type((SMTPConnection.prototype as unknown as Record<string, unknown>)[m], 'function', `SMTPConnection.prototype.${m}`);
  }
});

t.test('_onData through this, every command through _sendCommand, the end of data after the final dot', async (t) => {
  const peer = await script(t, {});
  const { conn, socket } = await open(t, peer.port);
  const seen: Buffer[] = [];
  const sent: string[] = [];
  const onData = conn._onData.bind(conn);
  conn._onData = (chunk) => {
    seen.push(chunk);
    onData(chunk);
  };
  const sendCommand = conn._sendCommand.bind(conn);
  conn._sendCommand = (str, logStr) => {
    sent.push(str);
    sendCommand(str, logStr);
  };
  const written: Buffer[] = [];
  const write = socket.write.bind(socket) as (chunk: Buffer | string, ...rest: unknown[]) => boolean;
  socket.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
    written.push(Buffer.from(chunk));
    return write(chunk, ...rest);
  }) as typeof socket.write;
  let atEnd = '';
  const createSendStream = conn._createSendStream.bind(conn);
  conn._createSendStream = (cb) => {
    const stream = createSendStream(cb);
    stream.once('end', () => (atEnd = Buffer.concat(written).toString('latin1')));
    return stream;
  };
  await connect(conn);
  t.equal(conn._socket, socket, 'the `connection` socket is used as given');
  t.match(Buffer.concat(seen).toString(), /^220 script\.example\.test ESMTP\r\n250-script\.example\.test\r\n250 8BITMIME\r\n$/, 'the greeting and EHLO reply came through the own _onData');
  const info = await send(conn, { ...ENV, to: [...ENV.to] }, 'Subject: x\r\n\r\n.dot\r\n');
  await new Promise<void>((resolve, reject) => conn.reset((err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => {
    conn.once('end', resolve);
    conn.quit();
  });
  t.same(sent, peer.lines, 'every line the server got was written by _sendCommand, in order');
  t.same(sent, ['EHLO client.example.test', 'MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA', 'RSET', 'QUIT']);
  t.match(atEnd, /\r\n\.\.dot\r\n\.\r\n$/, "the stream's 'end' comes once the final dot is written");
  t.same(info.accepted, ['b@example.test']);
  t.equal(info.response, '250 2.0.0 Ok: queued as SCRIPT1');
});

t.test('the envelope fields smtp.ts sets become MAIL and RCPT parameters', async (t) => {
  const peer = await script(t, { ehlo: '250-script.example.test\n250-SIZE 1000000\n250-8BITMIME\n250-DSN\n250 PIPELINING' });
  const { conn } = await open(t, peer.port);
  await connect(conn);
  const env = { ...ENV, to: [...ENV.to], size: 123, use8BitMime: true, dsn: { notify: 'FAILURE,DELAY', ret: 'HDRS', envid: 'id+1' } };
  await send(conn, env as never);
  t.same(peer.lines.slice(1, 4), ['MAIL FROM:<a@example.test> BODY=8BITMIME SIZE=123 RET=HDRS ENVID=id+2B1', 'RCPT TO:<b@example.test> NOTIFY=FAILURE,DELAY', 'DATA']);
});

t.test('STARTTLS: tls and servername for the upgrade, _socket the TLS socket after it', async (t) => {
  const smtp = await startSmtp({ cert: 'dev-wildcard' });
  t.teardown(() => smtp.close());
  const checked: string[] = [];
  const { conn, socket } = await open(t, smtp.port, {
    requireTLS: true,
    servername: 'mail.dev.example.test',
    tls: { ca: fixtureCa(), servername: 'mail.dev.example.test', checkServerIdentity: (host: string) => void checked.push(host) },
  });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  await connect(conn);
  t.equal(checked.length, 1, 'our checkServerIdentity ran for the upgrade');
  t.equal(conn.secure, true);
  t.not(conn._socket, socket, '_socket is replaced by the TLS socket');
  t.match((conn._socket as TLSSocket).getProtocol(), /^TLSv1\.[23]$/);
  await send(conn);
  t.equal(smtp.messages[0]!.servername, 'mail.dev.example.test', 'SNI from servername');
  t.equal(conn._socket.timeout, 5000, 'socketTimeout is the socket timeout');
  t.notOk(warnings.includes('TimeoutOverflowWarning'), 'a 2^31-1 connectionTimeout is taken as is');
});

t.test('secured: our TLS socket is used without a second handshake', async (t) => {
  const smtp = await startSmtp({ secure: true, cert: 'dev-wildcard' });
  t.teardown(() => smtp.close());
  const { connect: tlsConnect } = await import('node:tls');
  const tls = await new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: smtp.port, ca: fixtureCa(), servername: 'mail.dev.example.test' }, () => resolve(s));
    s.once('error', reject);
  });
  const conn = new SMTPConnection({ connection: tls, secure: true, secured: true, name: 'client.example.test' }) as Conn;
  t.teardown(() => conn.close());
  await connect(conn);
  t.equal(conn._socket, tls);
  t.equal(conn.secure, true);
  await send(conn);
  t.equal(smtp.messages[0]!.secure, true);
});

t.test('error fields smtp-errors.ts and smtp.ts read', async (t) => {
  const greeting = await script(t, { greeting: '554 5.7.1 go away' });
  const g = await open(t, greeting.port);
  let called = false;
  const viaEvent = new Promise<NmError>((resolve) => g.conn.once('error', resolve));
  g.conn.connect(() => (called = true));
  t.match(await viaEvent, { code: 'EPROTOCOL', response: '554 5.7.1 go away', responseCode: 554 }, "a refused greeting: an 'error' event");
  t.equal(called, false, 'and not the connect callback');

  const mail = await script(t, { mail: '451 4.3.2 busy' });
  const m = await open(t, mail.port);
  await connect(m.conn);
  const envelope = { ...ENV, to: [...ENV.to] };
  t.match(await fails(send(m.conn, envelope)), { code: 'EENVELOPE', command: 'MAIL FROM', response: '451 4.3.2 busy', responseCode: 451 });
  t.ok('mailError' in envelope, 'the envelope given is written to: smtp.ts builds a fresh one per message');

  const rcpt = await script(t, { rcpt: ['250 2.1.5 Ok', '550 5.1.1 no such user'] });
  const r = await open(t, rcpt.port);
  await connect(r.conn);
  const partly = await send(r.conn, { from: 'a@example.test', to: ['b@example.test', 'c@example.test'] });
  t.same(partly.accepted, ['b@example.test'], 'some recipients refused: accepted');
  t.match(partly.rejectedErrors, [{ recipient: 'c@example.test', responseCode: 550, response: '550 5.1.1 no such user' }], 'and rejectedErrors');

  const none = await script(t, { rcpt: '550 5.1.1 no such user' });
  const n = await open(t, none.port);
  await connect(n.conn);
  t.match(await fails(send(n.conn)), { code: 'EENVELOPE', command: 'RCPT TO', rejectedErrors: [{ recipient: 'b@example.test', responseCode: 550, response: '550 5.1.1 no such user' }] }, 'every recipient refused');

  const data = await script(t, { dataEnd: '554 5.6.0 bad message' });
  const d = await open(t, data.port);
  await connect(d.conn);
  t.match(await fails(send(d.conn)), { code: 'EMESSAGE', command: 'DATA', response: '554 5.6.0 bad message', responseCode: 554 });

  const tls = await script(t, { ehlo: '250-script.example.test\n250 STARTTLS', starttls: '454 4.7.0 TLS not available' });
  const s = await open(t, tls.port, { requireTLS: true });
  t.match(await fails(connect(s.conn)), { code: 'ETLS', response: '454 4.7.0 TLS not available' });

  const gone = await script(t, { mail: '' });
  const c = await open(t, gone.port);
  await connect(c.conn);
  t.match(await fails(send(c.conn)), { code: 'ECONNECTION' }, 'the server closed the connection');
  t.same(c.events, ['error ECONNECTION', 'end'], "'error' before 'end'");

  // a reset in mid-session reaches 'error' as ESOCKET with the system code in originalCode
  const rst = net.createServer((sock) => {
    sock.write('220 rst.example.test ESMTP\r\n');
    sock.once('data', () => sock.resetAndDestroy());
  });
  await new Promise<void>((resolve) => rst.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => rst.close(() => resolve())));
  const x = await open(t, (rst.address() as net.AddressInfo).port);
  const e = await fails(connect(x.conn));
  t.match(e, { code: 'ESOCKET', originalCode: /^E(CONNRESET|PIPE)$/ }, 'a socket error');
  t.equal(x.events[0], 'error ESOCKET');
});

t.test('login: PLAIN with user and pass, XOAUTH2 with our oauth2 object, EAUTH fields, the cause kept', async (t) => {
  const smtp = await startSmtp({
    authMethods: ['PLAIN', 'XOAUTH2'],
    authOptional: false,
    onAuth(auth, _s, cb) {
      if (auth.method === 'XOAUTH2') return cb(null, auth.accessToken === 'tok' ? { user: auth.username } : { data: { status: '401' } });
      cb(auth.password === 'pw' ? null : Object.assign(new Error('Invalid credentials'), { responseCode: 535 }), { user: auth.username });
    },
  });
  t.teardown(() => smtp.close());
  const login = (conn: Conn, data: SMTPConnection.AuthenticationType): Promise<void> => new Promise((resolve, reject) => conn.login(data, (err) => (err ? reject(err) : resolve())));
  const tls = { ca: fixtureCa(), servername: 'mail.dev.example.test' };

  const a = await open(t, smtp.port, { requireTLS: true, tls });
  await connect(a.conn);
  await login(a.conn, { user: 'u', pass: 'pw', method: 'PLAIN' } as SMTPConnection.AuthenticationType);
  t.equal(a.conn.authenticated, true, 'PLAIN');

  const b = await open(t, smtp.port, { requireTLS: true, tls });
  await connect(b.conn);
  t.match(await fails(login(b.conn, { user: 'u', pass: 'wrong', method: 'PLAIN' } as SMTPConnection.AuthenticationType)), { code: 'EAUTH', responseCode: 535, response: /^535 / });

  const asked: boolean[] = [];
  const c = await open(t, smtp.port, { requireTLS: true, tls });
  await connect(c.conn);
  const oauth2 = {
    getToken: (fresh: boolean, cb: (err: Error | null, token?: string) => void) => {
      asked.push(fresh);
      cb(null, 'tok');
    },
    buildXOAuth2Token: (token?: string) => Buffer.from(`user=u\x01auth=Bearer ${token}\x01\x01`).toString('base64'),
  };
  await login(c.conn, { user: 'u', method: 'XOAUTH2', oauth2 } as never);
  t.same(asked, [false], 'getToken(fresh=false) first');

  const marker = new Error('the token command failed');
  const d = await open(t, smtp.port, { requireTLS: true, tls });
  await connect(d.conn);
  const failing = { ...oauth2, getToken: (_f: boolean, cb: (err: Error) => void) => cb(new Error('wrapped', { cause: marker })) };
  t.match(await fails(login(d.conn, { user: 'u', method: 'XOAUTH2', oauth2: failing } as never)), { code: 'EAUTH', cause: marker }, "our error's cause survives nodemailer's rewriting of its code");
});
