/**
 * The one error type of send-smarthost, its closed list of codes, and the
 * single place where kinds become sysexits(3) exit codes.
 */
import type { Stage } from './types.js';

/** sysexits.h values used by send-smarthost. */
export const EX = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CANTCREAT: 73,
  IOERR: 74,
  TEMPFAIL: 75,
  NOPERM: 77,
  CONFIG: 78,
} as const;

/** What went wrong, broadly; decides the exit code. */
export type ErrorKind = 'usage' | 'data' | 'perm' | 'temp' | 'config' | 'io' | 'noperm' | 'software';

/** The closed list of error codes. */
export const CODES = [
  'E_USAGE', // bad command line
  'E_CONFIG', // bad configuration file or option
  'E_ADDRESS', // a malformed address
  'E_MESSAGE', // a malformed message (headers, no recipients)
  'E_DNS_NXDOMAIN', // the name does not exist
  'E_DNS_NODATA', // the name exists but has no record of the wanted type
  'E_DNS_SERVFAIL', // the server could not answer (temporary)
  'E_DNS_TIMEOUT', // no server answered in time
  'E_DNS_BAD_ANSWER', // an answer we refuse (bad id, bad question, CNAME loop, too long a chain)
  'E_CONNECT', // TCP connection failed or timed out
  'E_TLS_VERIFY', // the certificate did not verify (chain or name)
  'E_TLS_REQUIRED', // TLS required but not available
  'E_TLS', // other TLS failure (handshake)
  'E_SMTP_TEMP', // a 4xx reply
  'E_SMTP_PERM', // a 5xx reply
  'E_PROTOCOL', // the server broke the protocol
  'E_TIMEOUT', // a command timed out
  'E_IO', // local I/O
  'E_NOPERM', // this user may not do that (run the queue, remove another's message): sysexits EX_NOPERM
  'E_EXTENSION', // the server lacks what the message needs (SIZE limit, 8BITMIME, SMTPUTF8): try another host, else fail
  'E_AUTH', // SMTP authentication failed or could not be attempted safely
  'E_INTERNAL', // a bug
] as const;
export type ErrorCode = (typeof CODES)[number];

export interface ErrorDetail {
  host?: string;
  /** Where an SMTP session was when it failed. */
  stage?: Stage;
  address?: string;
  cause?: unknown;
  /** The SMTP reply when there was one. */
  response?: string;
  responseCode?: number;
}

export class SmarthostError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly detail: ErrorDetail;
  constructor(code: ErrorCode, kind: ErrorKind, message: string, detail: ErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.name = 'SmarthostError';
    this.code = code;
    this.kind = kind;
    this.detail = detail;
  }
}

/** Map an error kind to its sysexits code. The only such mapping in the program. */
export function exitCodeFor(kind: ErrorKind): number {
  switch (kind) {
    case 'usage':
      return EX.USAGE;
    case 'data':
      return EX.DATAERR;
    case 'perm':
      return EX.UNAVAILABLE;
    case 'temp':
      return EX.TEMPFAIL;
    case 'config':
      return EX.CONFIG;
    case 'io':
      return EX.IOERR;
    case 'noperm':
      return EX.NOPERM;
    case 'software':
      return EX.SOFTWARE;
  }
}

/** Classify an SMTP reply code (RFC 5321 §4.2.1): 2xx/3xx ok, 4xx temporary, 5xx permanent. */
export function classifyReply(code: number): 'ok' | 'temp' | 'perm' {
  if (code >= 200 && code < 400) return 'ok';
  if (code >= 400 && code < 500) return 'temp';
  return 'perm';
}

/** Shorthand constructors used throughout. */
export const usageError = (message: string): SmarthostError => new SmarthostError('E_USAGE', 'usage', message);
export const configError = (message: string): SmarthostError => new SmarthostError('E_CONFIG', 'config', message);

/** Why a file could not be read, in words (ENOENT → "no such file"), for one-line errors. */
export function describeErrno(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e?.code ?? String(err);
  }
}

/**
 * Tell the caller about an error that ends the run, in one line on `stderr`,
 * and return its exit status: a SmarthostError's own message and sysexits
 * code, anything else as an internal error (70).
 */
export function reportError(err: unknown, stderr: (text: string) => void): number {
  if (err instanceof SmarthostError) {
    stderr(`send-smarthost: ${err.message}\n`);
    return exitCodeFor(err.kind);
  }
  stderr(`send-smarthost: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EX.SOFTWARE;
}
