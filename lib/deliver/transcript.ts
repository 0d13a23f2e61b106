/**
 * The SMTP dialogue of one session as trace events, and what smtp.ts needs
 * to know about it: the stage it is at (for errors), the EHLO reply (for the
 * extensions and AUTH), whether STARTTLS was offered, whether the server said
 * 354. Fed by wire.ts with every command as it goes out and every complete
 * reply with the command it answers — nothing is read back from log text.
 * Secrets never reach the tracer: the argument of AUTH and every line the
 * client sends inside an AUTH exchange are masked (RFC 4954 §4).
 */
import type { Stage } from '../types.js';
import { maskSecrets, type Tracer } from '../report/trace.js';
import type { Reply } from './reply.js';
import { GREETING } from './wire.js';
import { stageOfCommand } from './smtp-errors.js';
import type { SessionFacts } from './session-facts.js';

export class Transcript {
  stage: Stage = 'connect';
  starttlsOffered: boolean | undefined;
  /** The last reply to EHLO (empty after HELO or a failed EHLO). */
  ehloReply = '';
  /** The server said 354 in the current transaction. */
  dataStarted = false;
  /** Inside an AUTH exchange: the client's continuation lines are secrets. */
  private authing = false;
  /** TLS is up (implicit TLS, or a 2xx to STARTTLS): the next EHLO reply is one under TLS. */
  private secure: boolean;

  /** `facts` (check): the greeting, the EHLO replies and STARTTLS's reply are kept there too. */
  constructor(
    private readonly tracer: Tracer,
    private readonly tls: { queried: string; sni: string | undefined; verifyNames: boolean; implicit?: boolean },
    private readonly facts?: SessionFacts,
  ) {
    this.secure = tls.implicit === true;
  }

  /** The TCP connection is up (with implicit TLS, the handshake comes next). */
  connected(address: string): void {
    this.tracer({ type: 'connected', address });
  }

  /**
   * A command line is going out: trace it and return how it may be named
   * elsewhere (in an error): its verb, or `****` inside an AUTH exchange.
   */
  command(text: string): string {
    if (this.authing) {
      // AUTH LOGIN user/password lines, the CRAM-MD5 digest, an XOAUTH2 retry: never traced
      this.tracer({ type: 'smtp-out', text: '****' });
      return '****';
    }
    const verb = text.split(' ')[0]!.toUpperCase();
    this.stage = stageOfCommand(verb, this.stage);
    if (verb === 'AUTH') {
      this.authing = true;
      this.tracer({ type: 'smtp-out', text: maskSecrets(text) });
      return 'AUTH';
    }
    this.tracer({ type: 'smtp-out', text });
    return verb;
  }

  /** A complete reply to `to` (the name `command` gave; `greeting`; `end of data`; '' when unsolicited). */
  reply(reply: Reply, to: string): void {
    this.tracer({ type: 'smtp-in', text: reply.text });
    if (this.authing && reply.code !== 334) this.authing = false;
    if (to === 'DATA' && reply.code === 354) this.dataStarted = true;
    if (to === GREETING && this.facts) this.facts.banner = reply.text;
    if (to === 'EHLO' || to === 'HELO') {
      this.ehloReply = to === 'EHLO' && reply.code < 300 ? reply.text : '';
      this.starttlsOffered ??= reply.lines.some((l) => /^\d{3}[ -]STARTTLS\b/i.test(l));
      if (this.facts) {
        this.facts.ehlo.push({ secure: this.secure, reply: reply.text });
        if (!this.secure) this.facts.starttlsOffered = this.starttlsOffered;
      }
    }
    if (to === 'STARTTLS' && this.facts) this.facts.starttlsReply = reply.text;
    if (to === 'STARTTLS' && reply.code < 300) {
      this.secure = true;
      this.tracer({ type: 'tls-start', certName: this.tls.queried, sni: this.tls.sni ?? '(none: IP literal)', verifyNames: this.tls.verifyNames });
    }
  }

  /** Plaintext that came after the reply to STARTTLS was dropped (RFC 3207 §4.2). */
  discarded(octets: number): void {
    this.tracer({ type: 'note', text: `discarded ${octets} octets received in plaintext after the reply to STARTTLS (RFC 3207)` });
  }

  /** The connection closed in the middle of a line: show what came. */
  unfinished(text: string): void {
    if (text) this.tracer({ type: 'smtp-in', text });
  }
}
