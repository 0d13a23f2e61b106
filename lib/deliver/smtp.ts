/**
 * The only module that talks to nodemailer's smtp-connection. It connects to
 * an address we resolved ourselves, with SNI and certificate verification bound
 * to the queried name (see tls.ts), turns nodemailer's transcript into trace
 * events and its errors into SmarthostError with the stage they happened at.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { TLSSocket } from 'node:tls';
import type { Envelope, Stage } from '../types.js';
import type { Tracer } from '../report/trace.js';
import { classifySmtpError, stageOfCommand } from './smtp-errors.js';
import { tlsOptionsFor } from './tls.js';

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
  send(envelope: Envelope, data: Buffer): Promise<SendResult>;
  /** Send QUIT and wait for the connection to close (at most a second). */
  quit(): Promise<void>;
}

/** Adapts nodemailer's bunyan-style logger into trace events, and remembers the stage. */
class Transcript {
  stage: Stage = 'connect';
  starttlsOffered: boolean | undefined;
  private lastCommand = '';
  constructor(
    private readonly tracer: Tracer,
    private readonly p: SessionParams,
    private readonly sni: string | undefined,
  ) {}

  logger() {
    const sink = (entry: { tnx?: string } | undefined, msg?: unknown, ...args: unknown[]) => {
      const text = typeof msg === 'string' ? msg.replace(/%s/g, () => String(args.shift())) : String(msg ?? '');
      if (entry?.tnx === 'client') this.client(text);
      else if (entry?.tnx === 'server') this.server(text);
    };
    return { trace: sink, debug: sink, info: sink, warn: sink, error: sink, fatal: sink, level: () => {} };
  }

  private client(text: string): void {
    this.lastCommand = text.split(' ')[0]!.toUpperCase();
    this.stage = stageOfCommand(this.lastCommand, this.stage);
    this.tracer({ type: 'smtp-out', text });
  }

  private server(text: string): void {
    if (this.stage === 'connect') {
      this.tracer({ type: 'connected', address: this.p.address });
      this.stage = 'banner';
    }
    this.tracer({ type: 'smtp-in', text });
    if ((this.lastCommand === 'EHLO' || this.lastCommand === 'HELO') && this.starttlsOffered === undefined) {
      this.starttlsOffered = /^\d{3}[ -]STARTTLS\b/im.test(text);
    }
    if (this.lastCommand === 'STARTTLS' && text.startsWith('2')) {
      this.tracer({ type: 'tls-start', certName: this.p.queried, sni: this.sni ?? '(none: IP literal)', verifyNames: this.p.verifyNames });
    }
  }
}

/**
 * Connect, EHLO, STARTTLS (required or offered) and return an open session.
 * @throws SmarthostError E_CONNECT, E_TIMEOUT, E_TLS_VERIFY, E_TLS_REQUIRED, E_TLS, E_SMTP_TEMP, E_SMTP_PERM, E_PROTOCOL
 */
export async function openSession(p: SessionParams): Promise<Session> {
  let nameChecked = false;
  const tls = tlsOptionsFor({
    queried: p.queried,
    ca: p.ca,
    verifyNames: p.verifyNames,
    onVerify: (r) => {
      nameChecked = true;
      p.tracer(
        r.ok
          ? { type: 'tls-verify-ok', subject: r.dn, certName: r.name }
          : { type: 'tls-verify-error', address: p.address, reason: r.error?.message ?? 'name mismatch', dn: r.dn, host: r.name },
      );
    },
  });
  const transcript = new Transcript(p.tracer, p, tls.servername);
  const conn = new SMTPConnection({
    host: p.address,
    port: p.port,
    servername: tls.servername,
    name: p.helo,
    secure: false,
    requireTLS: p.requireTls,
    tls,
    connectionTimeout: p.connectTimeout,
    greetingTimeout: p.commandTimeout,
    socketTimeout: p.commandTimeout,
    logger: transcript.logger() as never,
    transactionLog: true,
    allowInternalNetworkInterfaces: true,
  });
  conn.on('error', () => {
    /* errors are delivered to the callbacks below as well */
  });
  p.tracer({ type: 'connect', queried: p.queried, canonical: p.canonical, address: p.address, port: p.port });
  try {
    // nodemailer reports most connect-phase failures (TLS verification among them) only
    // as an 'error' event, not through the connect callback: listen to both.
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => reject(err);
      const closed = () => reject(Object.assign(new Error('connection closed by the server'), { code: 'ECONNECTION' }));
      conn.once('error', fail);
      conn.once('end', closed);
      conn.connect((err) => {
        conn.off('error', fail);
        conn.off('end', closed);
        if (err) reject(err);
        else resolve();
      });
    });
  } catch (err) {
    conn.close();
    const error = classifySmtpError(err, transcript.stage, { ...p, starttlsOffered: transcript.starttlsOffered });
    if (error.code === 'E_TLS_VERIFY' && !nameChecked) {
      p.tracer({ type: 'tls-verify-error', address: p.address, reason: error.message });
    }
    throw error;
  }
  let info: TlsInfo | undefined;
  if (conn.secure && conn._socket) {
    const s = conn._socket as TLSSocket;
    info = { protocol: s.getProtocol() ?? 'unknown', cipher: s.getCipher()?.name ?? 'unknown' };
    p.tracer({ type: 'tls-ok', protocol: info.protocol, cipher: info.cipher });
  }
  return {
    tls: info,
    async send(envelope: Envelope, data: Buffer): Promise<SendResult> {
      const stageBefore = transcript.stage;
      try {
        const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
          conn.send({ from: envelope.sender, to: envelope.recipients, size: data.length }, data, (err, i) => (err ? reject(err) : resolve(i!))),
        );
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
    quit(): Promise<void> {
      // wait (briefly) for the server's 221 and the close, so the transcript is whole
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, 1000);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        conn.once('end', done);
        conn.quit();
      });
    },
  };
}
