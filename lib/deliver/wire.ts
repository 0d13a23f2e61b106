/**
 * The reply discipline nodemailer's SMTPConnection does not keep, enforced
 * between the socket and its parser. nodemailer decides on a reply by its
 * first character (`2500 looks like ok` is a success), hands any complete
 * reply to whatever callback is queued next (a `250` sent right after the
 * `354` answers the end of the data before the data is sent), and its socket
 * timeout only measures silence (a server dripping one byte at a time is
 * never cut). None of this can be seen through its public surface before the
 * decision is taken: the callbacks get the reply afterwards, the log lines
 * too. So this module sits one step lower, on the bytes:
 *
 * - every chunk from the server passes through a ReplyReader (reply.ts)
 *   before nodemailer's parser sees it; a malformed line ends the session
 *   as a protocol error and nodemailer never sees the chunk;
 * - every command nodemailer writes, and the end of the message data, is
 *   counted as a reply owed; a complete reply when none is owed is a
 *   protocol error (RFC 5321 §4.2 has no unsolicited replies; a 421, which
 *   a server may send at any time, §3.8, is let through to nodemailer, which
 *   ends the session on it);
 * - after a 2xx reply to STARTTLS the rest of what arrived in plaintext is
 *   dropped, as nodemailer does (RFC 3207 §4.2);
 * - command_timeout bounds each reply as a whole, from the moment it is owed
 *   (its command written, or the previous reply complete when several are
 *   owed) to its last line, as Exim and Postfix do; the greeting from the
 *   connection, and the STARTTLS handshake from the 2xx to the next command.
 *   nodemailer's own timers only measure silence, so a server dripping a
 *   byte a second kept a session for delivery_timeout.
 *
 * It relies on three members of nodemailer 10.6's SMTPConnection, pinned by
 * test/deliver/nodemailer-contract.ts: `_onData(chunk)` (called by the
 * socket's data listener through `this`, so an own property replaces it),
 * `_sendCommand(str, logStr)` (writes every command line) and
 * `_createSendStream(cb)` (returns the DATA stream piped into the socket;
 * its 'end' comes once the final `.` line has been written).
 */
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { EventEmitter } from 'node:events';
import { renderMs } from './deadline.js';
import { ReplyReader, type Reply } from './reply.js';

/** The members of nodemailer's SMTPConnection this module uses. */
export interface ConnectionInternals {
  _onData(chunk: Buffer): void;
  _sendCommand(str: string, logStr?: string): void;
  _createSendStream(callback: (...args: unknown[]) => void): EventEmitter;
}

export interface WireHooks {
  /** A command line is going out; return how it may be named (secrets masked). */
  command(text: string): string;
  /** A complete, well-formed reply to `to` ('' when none was owed: an unsolicited 421). */
  reply(reply: Reply, to: string): void;
  /** Octets received in plaintext after the reply to STARTTLS were dropped. */
  discarded(octets: number): void;
  /** The server broke the rules (EPROTOCOL) or a reply took too long (ETIMEDOUT): the session must end with `err`. */
  fail(err: WireError): void;
  /** nodemailer has just started the STARTTLS handshake (its `_socket` is the TLS socket, not yet secure). */
  upgrading?(): void;
}

/** Shaped like nodemailer's errors, for classifySmtpError. */
export interface WireError extends Error {
  code: 'EPROTOCOL' | 'ETIMEDOUT';
}

const wireError = (code: WireError['code'], message: string): WireError => Object.assign(new Error(message), { code });

/** What the greeting is owed as, the end of the message data, and the STARTTLS handshake (no reply). */
export const GREETING = 'greeting';
export const END_OF_DATA = 'end of data';
const HANDSHAKE = 'TLS handshake';

export interface Wire {
  /** The connection is gone: stop watching. */
  stop(): void;
  /** What arrived of a line that never ended. */
  readonly unfinished: string;
}

/**
 * Put the reply discipline on `conn`, right after the connection is up: the
 * greeting is the first reply owed, and command_timeout (ms) runs from now.
 */
export function attachWire(conn: SMTPConnection, hooks: WireHooks, o: { commandTimeout: number }): Wire {
  const raw = conn as unknown as ConnectionInternals;
  const reader = new ReplyReader();
  /** The replies owed, oldest first, by the name of what asked for them. */
  const owed: string[] = [GREETING];
  let last = GREETING;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const fail = (err: WireError): void => {
    stopped = true;
    clearTimeout(timer);
    hooks.fail(err);
  };
  const late = (what: string): string =>
    what === GREETING ? 'no complete greeting' : what === HANDSHAKE ? 'the TLS handshake was not done' : `no complete reply to ${what}`;
  /** (Re)start the clock of the reply now first in line, or stop it when none is owed. */
  const clock = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const what = owed[0];
    if (stopped || what === undefined) return;
    timer = setTimeout(() => fail(wireError('ETIMEDOUT', `${late(what)} within command_timeout ${renderMs(o.commandTimeout)}`)), o.commandTimeout);
  };
  clock();

  const onData = raw._onData.bind(conn);
  raw._onData = (chunk: Buffer): void => {
    if (stopped) return;
    let upgrade = false;
    for (const item of reader.feed(chunk)) {
      if ('invalid' in item) {
        return fail(wireError('EPROTOCOL', `the server sent an invalid reply: ${JSON.stringify(item.invalid)} (${item.why})`));
      }
      if (owed[0] === HANDSHAKE) owed.shift(); // nothing can come before the next command
      const to = owed.shift();
      clock();
      if (to === undefined && item.reply.code !== 421) {
        return fail(wireError('EPROTOCOL', `the server sent a reply when none was expected: ${JSON.stringify(item.reply.text)} (after the reply to ${last})`));
      }
      last = to ?? last;
      hooks.reply(item.reply, to ?? '');
      if (to === 'STARTTLS' && item.reply.code < 300) {
        // RFC 3207 §4.2: what follows in plaintext is not part of the session; nodemailer drops it too
        if (chunk.length > item.end) hooks.discarded(chunk.length - item.end);
        reader.reset();
        owed.unshift(HANDSHAKE);
        clock();
        upgrade = true;
        break;
      }
    }
    onData(chunk); // for a 2xx to STARTTLS, nodemailer starts the handshake before it returns
    if (upgrade) hooks.upgrading?.();
  };

  const sendCommand = raw._sendCommand.bind(conn);
  raw._sendCommand = (str: string, logStr?: string): void => {
    if (!stopped) {
      if (owed[0] === HANDSHAKE) owed.shift();
      owed.push(hooks.command(String(logStr ?? str)));
      if (owed.length === 1) clock();
    }
    sendCommand(str, logStr);
  };

  const createSendStream = raw._createSendStream.bind(conn);
  raw._createSendStream = (callback) => {
    const stream = createSendStream(callback);
    // the final '.' line has been written: its reply is owed from now on, not before
    stream.once('end', () => {
      if (stopped) return;
      owed.push(END_OF_DATA);
      if (owed.length === 1) clock();
    });
    return stream;
  };

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    get unfinished() {
      return reader.unfinished;
    },
  };
}
