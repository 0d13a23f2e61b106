/**
 * `-bs`: the SMTP server dialogue on standard input/output, as a pure state
 * machine fed one line at a time (bs-stream.ts is the I/O adapter). A
 * minimal, strict RFC 5321 server: greeting, EHLO/HELO, MAIL, RCPT, DATA,
 * RSET, NOOP, QUIT, VRFY (252), HELP; 503 for commands out of sequence, 500
 * for unknown commands, 502 for known ones not implemented.
 *
 * EHLO offers only what is honoured: 8BITMIME (BODY=7BIT/8BITMIME accepted;
 * the body is passed on as a piped message would be, RFC 6152), PIPELINING
 * (commands are read in order and answered in order, RFC 2920), SIZE (the
 * message size bound, RFC 1870), SMTPUTF8 (RFC 6531: UTF-8 addresses after
 * MAIL ... SMTPUTF8; delivery sends them only to a smarthost that offers
 * SMTPUTF8 and fails clearly otherwise, lib/deliver/extensions.ts), HELP.
 * No DSN, AUTH or STARTTLS: their parameters and commands are refused
 * (555 / 502).
 *
 * A message is accepted only by the reply to its final `.`, and that reply is
 * given after delivery has been tried (see {@link BsSession.finish}); a
 * client that goes away before has had nothing accepted, so nothing is lost.
 * Everything read here is untrusted; replies quote it only through
 * printable().
 */
import { SmarthostError } from '../errors.js';
import { addressKey, normalizeAddress } from './address.js';
import { checkMailParams, parsePathAndParams, printable } from './bs-params.js';
import { finalReply, type DeliveryResult } from './bs-reply.js';
import type { Envelope } from '../types.js';

export interface BsLimits {
  /** Largest message accepted, in octets after dot-unstuffing (CRLF line ends); advertised as SIZE. */
  maxMessageSize: number;
  /** Most distinct recipients per message (RFC 5321 §4.5.3.1.8 requires at least 100). */
  maxRecipients: number;
  /** Longest command line, in octets without CRLF (RFC 5321 §4.5.3.1.4: 512 with CRLF, more with extensions). */
  maxCommandLine: number;
  /** Failed commands (5xx) after which the session is closed with 421. */
  maxErrors: number;
}

/** 50 MiB (Exim's message_size_limit default), 1000 recipients, 1000-octet commands, 50 errors. */
export const DEFAULT_BS_LIMITS: BsLimits = { maxMessageSize: 50 * 1024 * 1024, maxRecipients: 1000, maxCommandLine: 1000, maxErrors: 50 };

export interface BsOptions extends Partial<BsLimits> {
  /** This host's name, for the greeting and replies. */
  hostname: string;
  /** Domain for unqualified addresses (as for piped messages). */
  qualifyDomain: string;
}

/** A message whose final `.` was read: deliver it, then call {@link BsSession.finish}. */
export interface Accepted {
  envelope: Envelope;
  data: Buffer;
}

export interface Step {
  /** Complete replies, each ending in CRLF, to write in order. */
  replies: string[];
  /** Set when the final `.` of a message was read. */
  message?: Accepted;
  /** The session is over (QUIT, or too many errors): write the replies and stop reading. */
  close?: boolean;
}


type State = 'start' | 'ready' | 'mail' | 'rcpt' | 'data' | 'delivering' | 'closed';

const NOT_IMPLEMENTED = new Set(['STARTTLS', 'AUTH', 'BDAT', 'EXPN', 'ETRN', 'TURN', 'ATRN', 'SEND', 'SOML', 'SAML']);

/** One reply line; `code` 3 digits. */
const line1 = (code: number, text: string): string => `${code} ${text}\r\n`;

export { finalReply, type DeliveryResult };


export class BsSession {
  readonly limits: BsLimits;
  private state: State = 'start';
  private sender = '';
  private recipients: string[] = [];
  private seen = new Set<string>();
  private chunks: Buffer[] = [];
  private size = 0;
  private tooBig = false;
  private utf8 = false;
  private errors = 0;

  constructor(private readonly opts: BsOptions) {
    this.limits = {
      maxMessageSize: opts.maxMessageSize ?? DEFAULT_BS_LIMITS.maxMessageSize,
      maxRecipients: opts.maxRecipients ?? DEFAULT_BS_LIMITS.maxRecipients,
      maxCommandLine: opts.maxCommandLine ?? DEFAULT_BS_LIMITS.maxCommandLine,
      maxErrors: opts.maxErrors ?? DEFAULT_BS_LIMITS.maxErrors,
    };
  }

  /** The 220 greeting, sent before reading anything. */
  greeting(): string {
    return line1(220, `${this.opts.hostname} send-smarthost ESMTP`);
  }

  /** The longest line (octets before LF) the current state takes; longer ones go to {@link overlong}. */
  lineLimit(): number {
    return this.state === 'data' ? this.limits.maxMessageSize + 2 : this.limits.maxCommandLine + 1;
  }

  /** Whether the session has ended (QUIT or too many errors). */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Whether a transaction is open (MAIL given, no final reply yet): ending now loses nothing but sends nothing. */
  get inTransaction(): boolean {
    return this.state === 'mail' || this.state === 'rcpt' || this.state === 'data' || this.state === 'delivering';
  }

  /** Feed one line, without its LF (a CR before it is removed here). */
  feed(raw: Buffer): Step {
    if (this.state === 'closed') return { replies: [] };
    if (this.state === 'delivering') throw new SmarthostError('E_INTERNAL', 'software', '-bs: line fed while a message is being delivered');
    const line = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw;
    if (this.state === 'data') return this.dataLine(line);
    if (line.length > this.limits.maxCommandLine) return this.overlong();
    return this.command(line);
  }

  /** The current line was longer than {@link lineLimit} (the adapter discards the rest of it). */
  overlong(): Step {
    if (this.state === 'data') {
      this.tooBig = true;
      this.chunks = [];
      return { replies: [] };
    }
    return this.fail(500, `5.5.2 Line too long (at most ${this.limits.maxCommandLine} octets)`);
  }

  /** Give the result of delivering the message returned by the last step; returns the reply to its `.`. */
  finish(result: DeliveryResult): string {
    if (this.state !== 'delivering') throw new SmarthostError('E_INTERNAL', 'software', '-bs: finish() without a message');
    this.reset('ready');
    return finalReply(result);
  }

  private reset(to: State): void {
    this.state = to;
    this.sender = '';
    this.recipients = [];
    this.seen = new Set();
    this.chunks = [];
    this.size = 0;
    this.tooBig = false;
    this.utf8 = false;
  }

  private fail(code: number, text: string): Step {
    const replies = [line1(code, text)];
    if (code >= 500 && ++this.errors >= this.limits.maxErrors) {
      replies.push(line1(421, `4.7.0 ${this.opts.hostname} too many errors, closing the session`));
      this.reset('closed');
      return { replies, close: true };
    }
    return { replies };
  }

  private ok(text: string, code = 250): Step {
    return { replies: [line1(code, text)] };
  }

  private dataLine(line: Buffer): Step {
    if (line.length === 1 && line[0] === 0x2e) {
      if (this.tooBig) {
        this.reset('ready');
        return this.ok(`5.3.4 Message too big (more than ${this.limits.maxMessageSize} octets); not accepted`, 552);
      }
      const message: Accepted = { envelope: { sender: this.sender, recipients: [...this.recipients] }, data: Buffer.concat(this.chunks, this.size) };
      this.state = 'delivering';
      this.chunks = [];
      return { replies: [], message };
    }
    if (this.tooBig) return { replies: [] };
    // RFC 5321 §4.5.2: a leading dot was doubled by the client; remove one.
    const text = line.length > 0 && line[0] === 0x2e ? line.subarray(1) : line;
    this.size += text.length + 2;
    if (this.size > this.limits.maxMessageSize) {
      this.tooBig = true;
      this.chunks = [];
      return { replies: [] };
    }
    this.chunks.push(Buffer.from(text), CRLF);
    return { replies: [] };
  }

  private command(raw: Buffer): Step {
    const nonAscii = raw.some((b) => b > 0x7e);
    if (raw.some((b) => b < 0x20 || b === 0x7f)) return this.fail(500, '5.5.2 Control character in command');
    const verb = /^\S*/.exec(raw.toString('latin1'))![0].toUpperCase();
    let text: string;
    if (!nonAscii) text = raw.toString('latin1');
    else if (verb !== 'MAIL' && verb !== 'RCPT') return this.fail(500, '5.5.2 Non-ASCII characters in command');
    else {
      // RFC 6531 §3.3: UTF-8 in MAIL and RCPT only; it must be well-formed.
      try {
        text = UTF8.decode(raw);
      } catch {
        return this.fail(553, '5.6.7 Malformed UTF-8 in address');
      }
    }
    const arg = text.slice(verb.length);
    if (arg !== '' && !arg.startsWith(' ')) return this.fail(500, '5.5.2 Command unrecognized');
    const rest = arg.slice(1);
    switch (verb) {
      case 'EHLO':
      case 'HELO':
        return this.hello(verb, rest.trim());
      case 'MAIL':
        return this.mail(arg);
      case 'RCPT':
        return this.rcpt(arg);
      case 'DATA':
        if (arg.trim() !== '') return this.fail(501, '5.5.4 Syntax: DATA (no arguments)');
        if (this.state === 'start') return this.fail(503, '5.5.1 Send EHLO or HELO first');
        if (this.state === 'ready') return this.fail(503, '5.5.1 Send MAIL FROM first');
        if (this.state === 'mail') return this.fail(554, '5.5.1 No valid recipients');
        this.state = 'data';
        return this.ok('Start mail input; end with <CRLF>.<CRLF>', 354);
      case 'RSET':
        if (arg.trim() !== '') return this.fail(501, '5.5.4 Syntax: RSET (no arguments)');
        this.reset(this.state === 'start' ? 'start' : 'ready');
        return this.ok('2.0.0 OK');
      case 'NOOP':
        return this.ok('2.0.0 OK');
      case 'QUIT':
        if (arg.trim() !== '') return this.fail(501, '5.5.4 Syntax: QUIT (no arguments)');
        this.reset('closed');
        return { replies: [line1(221, `2.0.0 ${this.opts.hostname} closing connection`)], close: true };
      case 'VRFY':
        if (rest.trim() === '') return this.fail(501, '5.5.4 Syntax: VRFY <address>');
        return this.ok('2.1.5 Cannot VRFY user, but will accept the message and attempt delivery', 252);
      case 'HELP':
        return this.ok('2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP', 214);
      case '':
        return this.fail(500, '5.5.2 Empty command');
      default:
        if (NOT_IMPLEMENTED.has(verb)) return this.fail(502, `5.5.1 ${verb} not implemented`);
        return this.fail(500, `5.5.2 Command unrecognized: ${printable(verb)}`);
    }
  }

  private hello(verb: 'EHLO' | 'HELO', name: string): Step {
    if (name === '' || /\s/.test(name)) return this.fail(501, `5.5.4 Syntax: ${verb} hostname`);
    this.reset('ready');
    const host = this.opts.hostname;
    if (verb === 'HELO') return this.ok(`${host} Hello ${printable(name)}`);
    const lines = [`${host} Hello ${printable(name)}`, '8BITMIME', 'PIPELINING', `SIZE ${this.limits.maxMessageSize}`, 'SMTPUTF8', 'HELP'];
    return { replies: [lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join('')] };
  }

  private mail(arg: string): Step {
    if (!/^ FROM:/i.test(arg)) return this.fail(501, '5.5.4 Syntax: MAIL FROM:<address> [parameters]');
    if (this.state === 'start') return this.fail(503, '5.5.1 Send EHLO or HELO first');
    if (this.state !== 'ready') return this.fail(503, '5.5.1 Nested MAIL command (RSET first)');
    const p = parsePathAndParams(arg.slice(' FROM:'.length), 'MAIL FROM');
    if (!p.ok) return this.fail(Number(p.reply.slice(0, 3)), p.reply.slice(4));
    const bad = checkMailParams(p.params, this.limits.maxMessageSize);
    if (bad) return this.fail(Number(bad.slice(0, 3)), bad.slice(4));
    const utf8 = p.params.some((x) => x.keyword === 'SMTPUTF8');
    if (!utf8 && NON_ASCII.test(p.path)) return this.fail(553, '5.6.7 Non-ASCII address without the SMTPUTF8 parameter (RFC 6531)');
    let sender: string;
    try {
      sender = normalizeAddress(p.path, { qualifyDomain: this.opts.qualifyDomain, allowNull: true });
    } catch (err) {
      return this.fail(501, `5.1.7 ${printable((err as Error).message)}`);
    }
    this.reset('mail');
    this.sender = sender;
    this.utf8 = utf8;
    return this.ok('2.1.0 OK');
  }


  private rcpt(arg: string): Step {
    if (!/^ TO:/i.test(arg)) return this.fail(501, '5.5.4 Syntax: RCPT TO:<address> [parameters]');
    if (this.state === 'start') return this.fail(503, '5.5.1 Send EHLO or HELO first');
    if (this.state !== 'mail' && this.state !== 'rcpt') return this.fail(503, '5.5.1 Send MAIL FROM first');
    const p = parsePathAndParams(arg.slice(' TO:'.length), 'RCPT TO');
    if (!p.ok) return this.fail(Number(p.reply.slice(0, 3)), p.reply.slice(4));
    if (p.params.length > 0) return this.fail(555, `5.5.4 RCPT TO parameter ${printable(p.params[0]!.keyword)} not recognized`);
    if (p.path.trim() === '') return this.fail(501, '5.1.3 The null address <> is not a recipient');
    if (!this.utf8 && NON_ASCII.test(p.path)) return this.fail(553, '5.6.7 Non-ASCII address without SMTPUTF8 in MAIL FROM (RFC 6531)');
    let rcpt: string;
    try {
      rcpt = normalizeAddress(p.path, { qualifyDomain: this.opts.qualifyDomain });
    } catch (err) {
      return this.fail(501, `5.1.3 ${printable((err as Error).message)}`);
    }
    const key = addressKey(rcpt);
    if (!this.seen.has(key)) {
      if (this.recipients.length >= this.limits.maxRecipients) return this.ok(`4.5.3 Too many recipients (at most ${this.limits.maxRecipients})`, 452);
      this.seen.add(key);
      this.recipients.push(rcpt);
    }
    this.state = 'rcpt';
    return this.ok('2.1.5 OK');
  }
}

const CRLF = Buffer.from('\r\n');
const NON_ASCII = /[^\x00-\x7f]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
