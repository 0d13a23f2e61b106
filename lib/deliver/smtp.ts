/**
 * The only module that drives nodemailer's smtp-connection. It connects to
 * an address we resolved ourselves, with SNI and certificate verification bound
 * to the queried name (see tls.ts), keeps the reply discipline on the wire
 * (wire.ts: malformed and unsolicited replies), traces the dialogue
 * (transcript.ts) and turns failures into SmarthostError with the stage they
 * happened at.
 */
import { dataSource, type MessageData } from '../data.js';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { TLSSocket } from 'node:tls';
import type { Envelope, HostAuth, Stage } from '../types.js';
import type { Tracer } from '../report/trace.js';
import { SmarthostError } from '../errors.js';
import { authenticate } from './auth.js';
import { raceSignal } from './deadline.js';
import { pinText } from './pin.js';
import { classifySmtpError } from './smtp-errors.js';
import { Transcript } from './transcript.js';
import { attachWire } from './wire.js';
import { connectTo } from './connect.js';
import { tlsOptionsFor } from './tls.js';
import { withSharedContext } from './context.js';
import { parseEhlo, planTransaction, type Downgrade, type Extensions } from './extensions.js';
import { watchHandshake, type SessionFacts } from './session-facts.js';

/** The longest timer Node keeps (a larger one fires at once): "no limit" for nodemailer's connection timer. */
const MAX_TIMER = 2 ** 31 - 1;
/** How much later than the wire's command_timeout nodemailer's own timers fire (ms). */
const BACKSTOP = 1000;

export interface SessionParams {
  address: string;
  port: number;
  queried: string;
  canonical: string;
  helo: string;
  /** hosts_require_tls matched: STARTTLS is mandatory, no cleartext fallback. */
  requireTls: boolean;
  /** Trusted roots (PEM); undefined means Node's built-in store. */
  ca?: string | Buffer;
  /** tls_verify_cert_hostnames matched: check the certificate names the queried host. */
  verifyNames: boolean;
  connectTimeout: number;
  commandTimeout: number;
  tracer: Tracer;
  /** protocol = smtps: TLS from the first byte (RFC 8314), same SNI and checks as STARTTLS. */
  implicitTls?: boolean;
  /** Credentials for this host (chosen by the queried name); absent: no AUTH. */
  auth?: HostAuth;
  /** tls_pin_sha256, tls_min_version, tls_require_ciphers, client certificate and key. */
  tlsExtra?: { pins?: readonly string[]; minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; ciphers?: string; cert?: string | Buffer; key?: string | Buffer };
  /** delivery_timeout: aborting it cuts the session (connection closed, E_TIMEOUT). */
  signal?: AbortSignal;
  /** Converts an 8-bit message for a server without 8BITMIME (see extensions.ts); absent: such a message fails there. */
  downgrade8bit?: Downgrade;
  /** Filled with what the session shows of the server as it goes (session-facts.ts; `check`). */
  facts?: SessionFacts;
}

export interface RecipientReply {
  recipient: string;
  code: number;
  response: string;
}

export interface SendResult {
  accepted: string[];
  rejected: RecipientReply[];
  /** The reply to the end of DATA (e.g. `250 OK id=...`). */
  response: string;
}

export interface TlsInfo {
  protocol: string;
  cipher: string;
}

export interface Session {
  tls?: TlsInfo;
  /** The extensions of the last EHLO reply (after STARTTLS, the one under TLS); empty after HELO. */
  extensions?: Extensions;
  send(envelope: Envelope, data: MessageData): Promise<SendResult>;
  /** Send QUIT and wait for the connection to close (at most a second). */
  quit(): Promise<void>;
  /** Whether the connection is still up (false once the server closed it). Absent: the session is not reusable. */
  readonly open?: boolean;
  /** Whether the last send got the server's 354 (from then on, some of the message may have been sent). */
  readonly dataStarted?: boolean;
  /** Whether the last transaction ended with the reply to its data, so the next MAIL needs no RSET first. */
  readonly clean?: boolean;
  /** Bind the deadline of the next message (delivery_timeout aborts it and cuts the connection). */
  use?(signal?: AbortSignal): void;
  /** RSET (RFC 5321 §4.1.1.5) before reusing the session for another transaction. @throws SmarthostError */
  reset?(): Promise<void>;
  /** Drop the connection at once, without QUIT (a session that failed). */
  close?(): void;
}

/** The TLS options with the process's shared secure context (context.ts); as given when that cannot be built (the connection then reports the error). */
function sharedContext(tls: ReturnType<typeof tlsOptionsFor>): ReturnType<typeof tlsOptionsFor> {
  try {
    return withSharedContext(tls);
  } catch {
    return tls;
  }
}

/**
 * Connect (implicit TLS with `implicitTls`), EHLO, STARTTLS (required or
 * offered), AUTH when `auth` is given (lib/deliver/auth.ts: never before TLS
 * unless allowed, RFC 4954 §4), and return an open session. Aborting
 * `signal` (delivery_timeout) closes the connection at whatever stage it is.
 * @throws SmarthostError E_CONNECT, E_TIMEOUT, E_TLS_VERIFY (also a tls_pin_sha256 mismatch),
 *   E_TLS_REQUIRED, E_TLS, E_AUTH, E_SMTP_TEMP, E_SMTP_PERM, E_PROTOCOL
 */
export async function openSession(p: SessionParams): Promise<Session> {
  const facts = p.facts;
  if (facts) {
    Object.assign(facts, { requireTls: p.requireTls, verifyNames: p.verifyNames, implicitTls: p.implicitTls === true });
    if (p.auth) facts.auth = { username: p.auth.username, source: p.auth.source, attempted: false, ok: false };
  }
  let nameChecked = false;
  const tls = tlsOptionsFor({
    queried: p.queried,
    ca: p.ca,
    verifyNames: p.verifyNames,
    ...p.tlsExtra,
    onPin: (r) => {
      if (facts) facts.pin = { ok: r.ok };
      if (r.ok) p.tracer({ type: 'note', text: `TLS server key matches tls_pin_sha256: ${pinText(r.got)}` });
      else {
        nameChecked = true;
        const got = r.got ? pinText(r.got) : '(unreadable key)';
        p.tracer({ type: 'tls-verify-error', address: p.address, reason: `server key pin mismatch: got ${got}, want ${r.want.map(pinText).join(' or ')}` });
      }
    },
    onVerify: (r) => {
      nameChecked = true;
      if (facts) facts.nameCheck = { name: r.name, ok: r.ok, ...(r.matched ? { matched: r.matched } : {}), ...(r.error ? { reason: r.error.message } : {}) };
      p.tracer(
        r.ok
          ? { type: 'tls-verify-ok', subject: r.dn, certName: r.name, ...(r.matched ? { san: r.matched } : {}) }
          : { type: 'tls-verify-error', address: p.address, reason: r.error?.message ?? 'name mismatch', dn: r.dn, host: r.name },
      );
    },
  });
  const tlsOptions = sharedContext(tls);
  const transcript = new Transcript(p.tracer, { queried: p.queried, sni: tls.servername, verifyNames: p.verifyNames, implicit: p.implicitTls === true }, facts);
  if (facts && tls.servername) facts.sni = tls.servername;
  const where = `${p.canonical} [${p.address}]:${p.port}`;
  // the deadline that cuts the connection: p.signal while opening, then the one of the
  // message being sent (a queue run reuses the session for many messages, see pool.ts)
  let signal = p.signal;
  const cut = (stage: Stage): SmarthostError =>
    new SmarthostError('E_TIMEOUT', 'temp', `${where}: ${(signal!.reason as Error).message} at ${stage}`, { host: p.queried, address: p.address, stage });
  const refused = (err: unknown, stage: Stage): SmarthostError => {
    const error = classifySmtpError(err, stage, { ...p, starttlsOffered: transcript.starttlsOffered });
    if (error.code === 'E_TLS_VERIFY' && !nameChecked) {
      p.tracer({ type: 'tls-verify-error', address: p.address, reason: error.message });
      const e = err as { originalCode?: string; code?: string };
      if (facts) facts.chainError = e.originalCode ?? e.code ?? 'unknown';
    }
    return error;
  };
  p.tracer({ type: 'connect', queried: p.queried, canonical: p.canonical, address: p.address, port: p.port });
  if (p.signal?.aborted) throw cut('connect');
  let socket: Awaited<ReturnType<typeof connectTo>>;
  try {
    socket = await connectTo({
      address: p.address,
      port: p.port,
      connectTimeout: p.connectTimeout,
      ...(p.implicitTls ? { tls: tlsOptions, handshakeTimeout: p.commandTimeout } : {}),
      ...(facts ? { onTls: (s: TLSSocket) => watchHandshake(s, facts) } : {}),
      onConnected: () => {
        transcript.connected(p.address);
        if (p.implicitTls) p.tracer({ type: 'tls-start', certName: p.queried, sni: tls.servername ?? '(none: IP literal)', verifyNames: p.verifyNames });
      },
      signal: p.signal,
    });
  } catch (err) {
    if (p.signal?.aborted) throw cut('connect');
    throw refused(err, 'connect');
  }
  transcript.stage = 'banner';
  const conn = new SMTPConnection({
    connection: socket,
    secure: p.implicitTls === true,
    secured: p.implicitTls === true,
    host: p.address,
    port: p.port,
    servername: tls.servername,
    name: p.helo,
    requireTLS: p.requireTls && !p.implicitTls,
    tls: tlsOptions,
    // connected above: nodemailer's connection timer must not bound what follows. The wire
    // times every reply (command_timeout, wire.ts); nodemailer's timers, a second later, are
    // a backstop for the greeting and the STARTTLS handshake, and what bounds a connection
    // that takes no data while the message is sent.
    connectionTimeout: MAX_TIMER,
    greetingTimeout: p.commandTimeout + BACKSTOP,
    socketTimeout: p.commandTimeout + BACKSTOP,
  });
  // The session fails as a whole: the first error (nodemailer's, or the wire's) or the close
  // rejects whatever is waiting on the connection; nodemailer does not call every callback then
  // (a login or an RSET in flight would wait for the deadline).
  let broken: unknown;
  let failed!: (err: unknown) => void;
  const whenBroken = new Promise<never>((_resolve, reject) => (failed = reject));
  whenBroken.catch(() => {});
  const breakSession = (err: unknown): void => {
    if (broken !== undefined) return;
    broken = err;
    failed(err);
  };
  const wire = attachWire(conn, {
    command: (text) => transcript.command(text),
    reply: (reply, to) => transcript.reply(reply, to),
    discarded: (octets) => transcript.discarded(octets),
    ...(facts ? { upgrading: () => watchHandshake(conn._socket as TLSSocket, facts) } : {}),
    fail: (err) => {
      breakSession(err);
      conn.close();
    },
  }, { commandTimeout: p.commandTimeout });
  let closed = false;
  conn.on('error', breakSession);
  conn.once('end', () => {
    closed = true;
    wire.stop();
    transcript.unfinished(wire.unfinished);
    breakSession(Object.assign(new Error('connection closed by the server'), { code: 'ECONNECTION' }));
  });
  /** Run one nodemailer operation; it fails as soon as the session does. */
  const op = <T>(start: (done: (err: Error | null, value?: T) => void) => void): Promise<T> =>
    Promise.race([new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T)))), whenBroken]);
  const onAbort = () => conn.close();
  p.signal?.addEventListener('abort', onAbort, { once: true });
  const release = () => signal?.removeEventListener('abort', onAbort);
  let clean = true;
  try {
    await raceSignal(op<void>((done) => conn.connect((err?: Error) => done(err ?? null))), p.signal);
  } catch (err) {
    conn.close();
    release();
    if (p.signal?.aborted) throw cut(transcript.stage);
    throw refused(err, transcript.stage);
  }
  let info: TlsInfo | undefined;
  if (conn.secure && conn._socket) {
    const s = conn._socket as TLSSocket;
    info = { protocol: s.getProtocol() ?? 'unknown', cipher: s.getCipher()?.name ?? 'unknown' };
    p.tracer({ type: 'tls-ok', protocol: info.protocol, cipher: info.cipher });
  }
  if (p.auth) {
    const tried = facts?.auth;
    if (tried) tried.attempted = true;
    try {
      const onChoice = (mechanism: string): void => void (tried && (tried.mechanism = mechanism));
      const auth = authenticate(conn, p.auth, { where, queried: p.queried, address: p.address, ehlo: transcript.ehloReply, secure: conn.secure, onChoice });
      await raceSignal(Promise.race([auth, whenBroken]), p.signal);
      if (tried) tried.ok = true;
    } catch (err) {
      conn.close();
      release();
      if (p.signal?.aborted) throw cut('auth');
      throw err instanceof SmarthostError ? err : classifySmtpError(err, 'auth', p);
    }
  }
  const extensions = parseEhlo(transcript.ehloReply);
  // each transaction starts from the stage the session was ready at (a reused session's last one ended at 'data')
  const readyStage = transcript.stage;
  return {
    tls: info,
    extensions,
    async send(envelope: Envelope, data: MessageData): Promise<SendResult> {
      transcript.stage = readyStage;
      transcript.dataStarted = false;
      const stageBefore = transcript.stage;
      // refuse before MAIL what this server cannot take (SIZE, 8BITMIME, SMTPUTF8): E_EXTENSION
      const where = `${p.canonical} [${p.address}]:${p.port}`;
      const plan = planTransaction({ envelope, data, extensions, where, queried: p.queried, downgrade: p.downgrade8bit });
      for (const text of plan.notes) p.tracer({ type: 'note', text });
      clean = false;
      try {
        const smtpEnvelope: SMTPConnection.Envelope = { from: envelope.sender, to: envelope.recipients, size: plan.size, use8BitMime: plan.use8BitMime };
        if (plan.dsn) smtpEnvelope.dsn = { notify: plan.dsn.notify, ret: plan.dsn.ret, envid: plan.dsn.envid };
        const info = await raceSignal(
          op<SMTPConnection.SentMessageInfo>((done) => conn.send(smtpEnvelope, dataSource(plan.data), done)),
          signal,
        );
        clean = true;
        return {
          accepted: info.accepted,
          rejected: (info.rejectedErrors ?? []).map((e) => ({
            recipient: String((e as { recipient?: string }).recipient ?? ''),
            code: Number(e.responseCode ?? 0),
            response: String(e.response ?? e.message),
          })),
          response: info.response,
        };
      } catch (err) {
        if (signal?.aborted) throw cut(transcript.stage);
        const e = err as SMTPConnection.SMTPError & { rejectedErrors?: SMTPConnection.SMTPError[] };
        if (e.code === 'EENVELOPE' && e.command === 'RCPT TO' && e.rejectedErrors) {
          // every recipient was refused: that is a per-recipient result, not a session failure
          return {
            accepted: [],
            rejected: e.rejectedErrors.map((r) => ({
              recipient: String((r as { recipient?: string }).recipient ?? ''),
              code: Number(r.responseCode ?? 0),
              response: String(r.response ?? r.message),
            })),
            response: String(e.response ?? ''),
          };
        }
        throw classifySmtpError(err, transcript.stage === stageBefore ? 'mail' : transcript.stage, p);
      }
    },
    get open(): boolean {
      return !closed;
    },
    get clean(): boolean {
      return clean;
    },
    get dataStarted(): boolean {
      return transcript.dataStarted;
    },
    use(next?: AbortSignal): void {
      release();
      signal = next;
      if (signal?.aborted) conn.close();
      else signal?.addEventListener('abort', onAbort, { once: true });
    },
    async reset(): Promise<void> {
      if (closed) throw new SmarthostError('E_CONNECT', 'temp', `${where}: connection closed`, { host: p.queried, address: p.address, stage: 'mail' });
      try {
        await raceSignal(op<void>((done) => conn.reset((err) => done(err ?? null))), signal);
        clean = true;
      } catch (err) {
        if (signal?.aborted) throw cut('mail');
        throw classifySmtpError(err, 'mail', p);
      }
    },
    close(): void {
      release();
      conn.close();
    },
    quit(): Promise<void> {
      // wait (briefly) for the server's 221 and the close, so the transcript is whole;
      // then close it ourselves (a server that does not answer QUIT keeps nothing open)
      release();
      if (signal?.aborted || closed) return Promise.resolve(); // the connection is already closed
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, 1000);
        function done() {
          clearTimeout(timer);
          if (!closed) conn.close();
          resolve();
        }
        conn.once('end', done);
        conn.quit();
      });
    },
  };
}
