/**
 * The TCP connection to one address (and, for protocol = smtps, the TLS
 * handshake over it), made here rather than by nodemailer so that each
 * timeout means one thing: connect_timeout bounds the TCP connect alone
 * (Exim's connect_timeout), and the handshake of implicit TLS is bounded by
 * command_timeout, like the STARTTLS one. nodemailer gets the connected
 * socket (its `connection` option) and speaks SMTP over it.
 *
 * Failures are shaped like nodemailer's own (`code` ESOCKET / ETIMEDOUT,
 * the system or TLS code in `originalCode`), so classifySmtpError reads them
 * the same way whichever side made them.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { renderMs } from './deadline.js';

export interface ConnectParams {
  address: string;
  port: number;
  /** connect_timeout (ms): the TCP connect. */
  connectTimeout: number;
  /** Implicit TLS: the handshake follows, bounded by `handshakeTimeout` (ms). */
  tls?: ConnectionOptions;
  handshakeTimeout?: number;
  /** Called once the TCP connection is up (before any TLS handshake). */
  onConnected?: () => void;
  /** Called with the TLS socket as its handshake starts (implicit TLS). */
  onTls?: (socket: TLSSocket) => void;
  /** Aborting it destroys the socket; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

const failure = (err: NodeJS.ErrnoException): Error =>
  Object.assign(err, { originalCode: err.code, code: 'ESOCKET' });
const timeout = (what: string, ms: number): Error => Object.assign(new Error(`${what} ${renderMs(ms)}`), { code: 'ETIMEDOUT' });

/**
 * Connect to `address`:`port`, then with `tls` complete the handshake.
 * @throws an Error with `code` ESOCKET (`originalCode` ECONNREFUSED, a TLS
 *   verification code, ERR_SSL_…) or ETIMEDOUT; the signal's reason when aborted.
 */
export function connectTo(p: ConnectParams): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    if (p.signal?.aborted) return reject(p.signal.reason);
    let tlsOptions = p.tls;
    if (tlsOptions && !tlsOptions.secureContext) {
      // settings TLS cannot use (a key or certificate it cannot read) fail here, before a
      // connection is made (context.ts builds the shared context; this is when it could not)
      try {
        tlsOptions = { ...tlsOptions, secureContext: createSecureContext(tlsOptions) };
      } catch (err) {
        return reject(failure(err as NodeJS.ErrnoException));
      }
    }
    const tcp = tcpConnect({ host: p.address, port: p.port });
    let sock: Socket | TLSSocket = tcp;
    let timer = setTimeout(() => fail(timeout('connect_timeout', p.connectTimeout)), p.connectTimeout);
    const fail = (err: unknown): void => {
      clearTimeout(timer);
      p.signal?.removeEventListener('abort', aborted);
      sock.destroy();
      tcp.destroy();
      reject(err);
    };
    const aborted = (): void => fail(p.signal!.reason);
    const onError = (err: NodeJS.ErrnoException): void => fail(failure(err));
    p.signal?.addEventListener('abort', aborted, { once: true });
    tcp.once('error', onError);
    tcp.once('connect', () => {
      clearTimeout(timer);
      p.onConnected?.();
      if (!tlsOptions) return done();
      const ms = p.handshakeTimeout ?? p.connectTimeout;
      timer = setTimeout(() => fail(timeout('TLS handshake: command_timeout', ms)), ms);
      tcp.off('error', onError);
      let secure: TLSSocket;
      try {
        secure = tlsConnect({ ...tlsOptions, socket: tcp });
      } catch (err) {
        return fail(failure(err as NodeJS.ErrnoException));
      }
      sock = secure;
      p.onTls?.(secure);
      secure.once('error', onError);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        done();
      });
    });
    function done(): void {
      p.signal?.removeEventListener('abort', aborted);
      sock.off('error', onError);
      resolve(sock);
    }
  });
}
