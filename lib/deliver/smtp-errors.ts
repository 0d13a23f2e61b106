/**
 * Pure decisions about SMTP session failures: which stage a command belongs
 * to, and which SmarthostError a nodemailer error becomes.
 */
import { SmarthostError, classifyReply, type ErrorCode } from '../errors.js';
import type { Stage } from '../types.js';

/** The stage a client command starts. Unknown commands keep the current stage. */
export function stageOfCommand(command: string, current: Stage): Stage {
  switch (command.toUpperCase()) {
    case 'EHLO':
    case 'HELO':
    case 'LHLO':
      return current === 'starttls' ? 'starttls' : 'ehlo';
    case 'STARTTLS':
      return 'starttls';
    case 'AUTH':
      return 'auth';
    case 'MAIL':
      return 'mail';
    case 'RCPT':
      return 'rcpt';
    case 'DATA':
    case 'BDAT':
      return 'data';
    case 'QUIT':
      return 'done';
    default:
      return current;
  }
}

/** OpenSSL / Node verification failures: the certificate was not acceptable. */
const VERIFY_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_PIN_MISMATCH', // tls_pin_sha256 (lib/deliver/pin.ts)
]);

interface NodemailerLike {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  reason?: string;
}

export interface ErrorContext {
  queried: string;
  canonical: string;
  address: string;
  port: number;
  requireTls: boolean;
  starttlsOffered?: boolean;
  /** protocol = smtps: the handshake comes first. */
  implicitTls?: boolean;
}

/** One line, no CR/LF: server replies may be multi-line. */
const oneLine = (s: string): string => s.replace(/\r?\n/g, ' / ').trim();

/**
 * Map an error from nodemailer to a SmarthostError. Every session failure is
 * temporary for the message (the next address or host may work) except a 5xx
 * reply, which is permanent — as Exim treats them.
 */
export function classifySmtpError(raw: unknown, stage: Stage, ctx: ErrorContext): SmarthostError {
  const e = (raw ?? {}) as NodemailerLike;
  const where = `${ctx.canonical} [${ctx.address}]:${ctx.port}`;
  const detail = { host: ctx.queried, address: ctx.address, stage, cause: raw, response: e.response, responseCode: e.responseCode };
  const original = e.originalCode ?? '';
  const make = (code: ErrorCode, kind: 'temp' | 'perm', msg: string) => new SmarthostError(code, kind, `${where}: ${msg}`, detail);

  if (VERIFY_CODES.has(original) || VERIFY_CODES.has(e.code ?? '')) {
    const why =
      original === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? oneLine(e.reason ?? `certificate does not name "${ctx.queried}"`)
        : original === 'ERR_TLS_PIN_MISMATCH' || e.code === 'ERR_TLS_PIN_MISMATCH'
          ? oneLine(e.message ?? 'server key is not in tls_pin_sha256')
          : `certificate not trusted (${original || e.code})`;
    return make('E_TLS_VERIFY', 'temp', `TLS verification failed: ${why}`);
  }
  // a reply that broke the rules (wire.ts) is a protocol error at any stage, STARTTLS's included
  const broken = e.code === 'EPROTOCOL' && !e.responseCode;
  if (e.code === 'ETLS' || (stage === 'starttls' && e.code !== 'ETIMEDOUT' && !broken)) {
    if (ctx.requireTls && ctx.starttlsOffered === false) {
      return make('E_TLS_REQUIRED', 'temp', `TLS is required (hosts_require_tls) but the server did not offer STARTTLS${e.response ? `; it answered "${oneLine(e.response)}"` : ''}`);
    }
    return make('E_TLS', 'temp', `STARTTLS failed: ${oneLine(e.response ?? e.message ?? String(raw))}`);
  }
  if (/^ERR_SSL_/.test(original)) {
    // e.g. ERR_SSL_WRONG_VERSION_NUMBER: the peer does not speak TLS (or a version we accept)
    const hint = ctx.implicitTls ? ' (protocol = smtps: does this port speak implicit TLS? 465 does, 25 and 587 use STARTTLS)' : '';
    return make('E_TLS', 'temp', `TLS handshake failed at ${stage}: ${original}${hint}`);
  }
  if (e.code === 'ETIMEDOUT') {
    return make(stage === 'connect' ? 'E_CONNECT' : 'E_TIMEOUT', 'temp', `timed out at ${stage} (${oneLine(e.message ?? 'timeout')})`);
  }
  if (e.code === 'ESOCKET' || e.code === 'ECONNECTION' || e.code === 'EDNS') {
    if (e.responseCode) {
      const kind = classifyReply(e.responseCode) === 'perm' ? 'perm' : 'temp';
      return make(kind === 'perm' ? 'E_SMTP_PERM' : 'E_SMTP_TEMP', kind, `${stage}: ${oneLine(e.response ?? '')}`);
    }
    return make('E_CONNECT', 'temp', `connection failed at ${stage}: ${original || e.code}${e.message ? ` (${oneLine(e.message)})` : ''}`);
  }
  if (e.responseCode) {
    const kind = classifyReply(e.responseCode) === 'perm' ? 'perm' : 'temp';
    return make(kind === 'perm' ? 'E_SMTP_PERM' : 'E_SMTP_TEMP', kind, `${e.command ?? stage} rejected: ${oneLine(e.response ?? '')}`);
  }
  if (e.code === 'EPROTOCOL') return make('E_PROTOCOL', 'temp', `protocol error at ${stage}: ${oneLine(e.message ?? '')}`);
  return make('E_PROTOCOL', 'temp', `${stage}: ${oneLine(e.message ?? String(raw))}`);
}
