/**
 * The main log: one line per event, in the shapes of Exim's mainlog (Exim
 * spec "Log files": "Log line flags", "Logging message reception",
 * "Logging deliveries", "Deferred deliveries", "Delivery failures"), so that
 * exigrep, eximstats and log watchers that know Exim read it:
 *
 *   2026-11-28 13:02:38 1kQb5w-000Abc-9S <= root@juno.example U=root P=local S=1234 id=x.1@juno.example
 *   2026-11-28 13:02:39 1kQb5w-000Abc-9S => ann@example.net R=smarthost T=remote_smtp H=mx1.example.net [192.0.2.25]:587 X=TLSv1.3:TLS_AES_256_GCM_SHA384:256 CV=yes certname=mail.example.com C="250 2.0.0 queued as 4XyZ"
 *   2026-11-28 13:02:39 1kQb5w-000Abc-9S Completed
 *
 * The formatters are pure (the clock is a parameter) and return the line
 * without its newline; openMainLog (lib/report/log-sink.ts, re-exported here)
 * is the thin sink.
 *
 * Every value that comes from outside (addresses, the server's reply, a
 * Message-ID) goes through `printable`: control characters, line separators
 * and backslashes are escaped, so that no value can start a new log line or
 * forge a field. Quoted values (`C="…"`) also escape `"`; a bare value that
 * holds a space or a quote is written quoted.
 */
import { constants as os } from 'node:os';
import type { ErrorCode } from '../errors.js';
import type { Stage } from '../types.js';

/** The longest free text (a reply, a reason) kept in one field; the rest becomes `...`. */
export const MAX_FIELD = 1000;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:MM:SS` in local time, as Exim writes it (set TZ for UTC). */
export function logStamp(at: Date): string {
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

const ESC: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Escape a value for a log line: `\` `\n` `\r` `\t` as C escapes, other C0
 * and C1 controls and DEL as `\xHH`, U+2028/U+2029 as `\u2028`/`\u2029`;
 * anything longer than `max` characters is cut and ends in `...`.
 */
export function printable(s: string, max = MAX_FIELD): string {
  const cut = s.length > max ? `${s.slice(0, max)}...` : s;
  return cut.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const e = ESC[c];
    if (e) return e;
    const n = c.charCodeAt(0);
    return n > 0xff ? `\\u${n.toString(16)}` : `\\x${n.toString(16).padStart(2, '0')}`;
  });
}

/** `"value"` with `printable` escapes and `\"`. */
export function quoted(s: string, max = MAX_FIELD): string {
  return `"${printable(s, max).replace(/"/g, '\\"')}"`;
}

/** A bare value (address, id, user): written as is unless it is empty or holds a space or a quote. */
function bare(s: string): string {
  const p = printable(s, 500);
  return p === '' || /[\s"]/.test(p) ? quoted(s, 500) : p;
}

/** An envelope address, `<>` for the null sender. */
const addr = (a: string): string => (a === '' ? '<>' : bare(a));

const head = (at: Date, id: string): string => `${logStamp(at)} ${bare(id)}`;

/** The host part of delivery lines: `H=<canonical> [<ip>]:<port>`. */
export interface LogHost {
  /** Where the CNAME chain ended (Exim's host name). */
  canonical: string;
  address: string;
  port: number;
  /** The name the route asked for: the name the certificate was checked against. */
  queried: string;
}

export interface LogTls {
  /** As Node reports it: `TLSv1.3`. */
  protocol: string;
  /** OpenSSL's cipher name: `TLS_AES_256_GCM_SHA384`. */
  cipher: string;
  /** Secret key bits; derived from the cipher name when not given. */
  bits?: number;
  /** The certificate was verified (chain, and name where tls_verify_cert_hostnames asks). */
  verified: boolean;
}

const hostField = (h: LogHost): string => `H=${bare(h.canonical)} [${bare(h.address)}]:${h.port}`;

/** Key bits of a cipher, from its name (AES-128 → 128, AES-256 and ChaCha20 → 256); undefined when unknown. */
export function cipherBits(cipher: string): number | undefined {
  if (/AES[_-]?256|CHACHA20|CAMELLIA[_-]?256|ARIA[_-]?256/i.test(cipher)) return 256;
  if (/AES[_-]?128|CAMELLIA[_-]?128|ARIA[_-]?128/i.test(cipher)) return 128;
  return undefined;
}

interface Base {
  at: Date;
  /** The message id (Exim's shape, e.g. `1kQb5w-000Abc-9S`). */
  id: string;
}

/** Exim's router and transport names, kept so log tools see familiar fields. */
interface Via {
  /** Default `smarthost`. */
  router?: string;
  /** Default `remote_smtp`. */
  transport?: string;
}

const via = (p: Via): string => ` R=${bare(p.router ?? 'smarthost')} T=${bare(p.transport ?? 'remote_smtp')}`;

/**
 * Arrival: `<= sender [R=<original id>] [U=user] P=local S=size [id=<Message-ID>]`.
 * `bounceOf` is set for a bounce we generated (Exim writes the id of the
 * message it reports on as `R=`; the sender is then `<>`). `protocol` is
 * `local` for the command line and `local-smtp` for -bs.
 */
export function arrivalLine(
  p: Base & { sender: string; size: number; user?: string; protocol?: string; messageId?: string; bounceOf?: string },
): string {
  let s = `${head(p.at, p.id)} <= ${addr(p.sender)}`;
  if (p.bounceOf !== undefined) s += ` R=${bare(p.bounceOf)}`;
  if (p.user !== undefined) s += ` U=${bare(p.user)}`;
  s += ` P=${bare(p.protocol ?? 'local')} S=${p.size}`;
  const mid = p.messageId?.trim().replace(/^<(.*)>$/s, '$1');
  if (mid) s += ` id=${bare(mid)}`;
  return s;
}

/**
 * Delivery: `=> rcpt R=smarthost T=remote_smtp H=<canonical> [<ip>]:<port>
 * X=<version>:<cipher>:<bits> CV=yes|no certname=<queried> C="<reply>"`.
 * `more` marks the second and later recipients of one SMTP transaction
 * (Exim's `->`). X=, CV= and certname= appear only for a TLS session.
 */
export function deliveryLine(p: Base & Via & { recipient: string; host: LogHost; tls?: LogTls; confirmation: string; more?: boolean }): string {
  let s = `${head(p.at, p.id)} ${p.more ? '->' : '=>'} ${addr(p.recipient)}${via(p)} ${hostField(p.host)}`;
  if (p.tls) {
    const bits = p.tls.bits ?? cipherBits(p.tls.cipher);
    s += ` X=${bare(p.tls.protocol)}:${bare(p.tls.cipher)}${bits === undefined ? '' : `:${bits}`}`;
    s += ` CV=${p.tls.verified ? 'yes' : 'no'} certname=${bare(p.host.queried)}`;
  }
  return `${s} C=${quoted(p.confirmation)}`;
}

/**
 * Deferral: `== rcpt R=smarthost T=remote_smtp defer (<errno>) [H=<canonical> [<ip>]:<port>]: <reason>`.
 * `errno` as Exim: a system errno (111 connection refused) or one of
 * EXIM_ERRNO; see deferErrno.
 */
export function deferralLine(p: Base & Via & { recipient: string; errno: number; reason: string; host?: LogHost }): string {
  const h = p.host ? ` ${hostField(p.host)}` : '';
  return `${head(p.at, p.id)} == ${addr(p.recipient)}${via(p)} defer (${p.errno})${h}: ${printable(p.reason)}`;
}

/**
 * Failure: `** rcpt R=smarthost T=remote_smtp [H=…]: <reason>`, or without a
 * route (`routed: false`, e.g. when the retry time ran out) `** rcpt: <reason>`.
 */
export function failureLine(p: Base & Via & { recipient: string; reason: string; host?: LogHost; routed?: boolean }): string {
  const v = p.routed === false ? '' : via(p);
  const h = p.host ? ` ${hostField(p.host)}` : '';
  return `${head(p.at, p.id)} ** ${addr(p.recipient)}${v}${h}: ${printable(p.reason)}`;
}

/** `Completed`: no recipient is left; the message is gone from the spool. */
export const completedLine = (p: Base): string => `${head(p.at, p.id)} Completed`;

/** `removed by <user>` (-Mrm). Exim follows it with `Completed`. */
export const removedLine = (p: Base & { user: string }): string => `${head(p.at, p.id)} removed by ${bare(p.user)}`;

/** `Frozen [(<why>)]`: the message was frozen now (e.g. a bounce that could not be delivered). */
export const frozenLine = (p: Base & { reason?: string }): string =>
  `${head(p.at, p.id)} Frozen${p.reason ? ` (${printable(p.reason)})` : ''}`;

/** `Message is frozen`: a queue run passed over a frozen message. */
export const isFrozenLine = (p: Base): string => `${head(p.at, p.id)} Message is frozen`;

/** `unfrozen by <user>`. */
export const unfrozenLine = (p: Base & { user: string }): string => `${head(p.at, p.id)} unfrozen by ${bare(p.user)}`;

/** Any other event of one message: `<id> <text>` (text escaped). */
export const messageLine = (p: Base & { text: string }): string => `${head(p.at, p.id)} ${printable(p.text)}`;

/**
 * What the store did with a damaged or planted file: `[<id> ]<text>`, e.g.
 * `1jiFk5-0006UE-9S spool file damaged (data is 10 bytes, its envelope says
 * 20): frozen, moved to /var/spool/send-smarthost/corrupt/1jiFk5-0006UE-9S-D`.
 */
export const spoolLine = (p: { at: Date; id?: string; text: string }): string => `${logStamp(p.at)} ${p.id ? `${bare(p.id)} ` : ''}${printable(p.text)}`;

/** `Start queue run: pid=<pid> [-qf]` / `End queue run: pid=<pid> [-qf]` (no message id). */
export function queueRunLine(p: { at: Date; event: 'Start' | 'End'; pid: number; flags?: string }): string {
  return `${logStamp(p.at)} ${p.event} queue run: pid=${p.pid}${p.flags ? ` ${printable(p.flags)}` : ''}`;
}

/**
 * Exim's negative errno values for deferrals that are not system errors
 * (exim's macros.h). System errors keep their own numbers (111 ECONNREFUSED,
 * 110 ETIMEDOUT on Linux).
 */
export const EXIM_ERRNO = {
  UNKNOWN: -1,
  SMTPCLOSED: -18,
  SMTPFORMAT: -19,
  DNSDEFER: -36,
  TLSFAILURE: -37,
  TLSREQUIRED: -38,
  AUTHFAIL: -42,
  RCPT4XX: -44,
  MAIL4XX: -45,
  DATA4XX: -46,
  /** `retry time not reached for any host` (the host's retry hint says wait). */
  HRETRY: -53,
} as const;

const sys = os.errno as Record<string, number | undefined>;

/**
 * The number for `defer (<n>)`, from what failed:
 *  - a 4xx after MAIL / RCPT / DATA: -45 / -44 / -46, as Exim;
 *  - a 4xx elsewhere (greeting, EHLO, STARTTLS): 0, as Exim's "SMTP error" with no errno;
 *  - a connection failure or timeout: the system errno (`sysCode` such as
 *    'ECONNREFUSED' → 111), ETIMEDOUT for a timeout without one;
 *  - TLS: -37, TLS required but not offered: -38; AUTH: -42;
 *  - DNS failures: -36; a protocol error: -19; anything else: -1.
 */
export function deferErrno(p: { code: ErrorCode; stage?: Stage; sysCode?: string }): number {
  const fromSys = p.sysCode === undefined ? undefined : sys[p.sysCode];
  switch (p.code) {
    case 'E_SMTP_TEMP':
      if (p.stage === 'mail') return EXIM_ERRNO.MAIL4XX;
      if (p.stage === 'rcpt') return EXIM_ERRNO.RCPT4XX;
      if (p.stage === 'data') return EXIM_ERRNO.DATA4XX;
      if (p.stage === 'auth') return EXIM_ERRNO.AUTHFAIL;
      return 0;
    case 'E_CONNECT':
      return fromSys ?? sys.ECONNREFUSED ?? EXIM_ERRNO.UNKNOWN;
    case 'E_TIMEOUT':
      return fromSys ?? sys.ETIMEDOUT ?? EXIM_ERRNO.UNKNOWN;
    case 'E_TLS':
    case 'E_TLS_VERIFY':
      return EXIM_ERRNO.TLSFAILURE;
    case 'E_TLS_REQUIRED':
      return EXIM_ERRNO.TLSREQUIRED;
    case 'E_AUTH':
      return EXIM_ERRNO.AUTHFAIL;
    case 'E_DNS_SERVFAIL':
    case 'E_DNS_TIMEOUT':
    case 'E_DNS_BAD_ANSWER':
    case 'E_DNS_NXDOMAIN':
    case 'E_DNS_NODATA':
      return EXIM_ERRNO.DNSDEFER;
    case 'E_PROTOCOL':
      return EXIM_ERRNO.SMTPFORMAT;
    default:
      return fromSys ?? EXIM_ERRNO.UNKNOWN;
  }
}

/**
 * Exim's wording of an SMTP error: `SMTP error from remote mail server after
 * RCPT TO:<ann@example.net>: 550 5.1.1 no such user`.
 */
export function smtpErrorText(p: { stage: Stage; reply: string; sender?: string; recipient?: string; helo?: string }): string {
  const after: Partial<Record<Stage, string>> = {
    connect: 'initial connection',
    banner: 'initial connection',
    ehlo: `EHLO ${p.helo ?? ''}`.trim(),
    starttls: 'STARTTLS',
    auth: 'AUTH',
    mail: `MAIL FROM:<${p.sender ?? ''}>`,
    rcpt: `RCPT TO:<${p.recipient ?? ''}>`,
    data: 'end of data',
  };
  return `SMTP error from remote mail server after ${after[p.stage] ?? p.stage}: ${p.reply}`;
}

export { openMainLog, REOPEN_MS, type LogSink } from './log-sink.js';
