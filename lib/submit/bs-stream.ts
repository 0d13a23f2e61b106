/**
 * The I/O side of `-bs`: read SMTP commands from a stream (stdin), feed the
 * {@link BsSession} state machine line by line, write its replies (stdout
 * carries nothing else), and hand each accepted message to the injected
 * `deliver`, whose result becomes the reply to the final `.`.
 *
 * Lines are split at LF (a CR before it is dropped by the session), with the
 * bound the session sets for its current state, so a line is never buffered
 * beyond it: an overlong command gets 500, an overlong data line makes the
 * message too big (552). Input is read in order and not ahead of delivery,
 * so pipelined commands (RFC 2920) are answered in order.
 */
import { SmarthostError, exitCodeFor, EX } from '../errors.js';
import { BsSession, type Accepted, type BsOptions, type DeliveryResult } from './bs.js';

/**
 * Deliver one accepted message; resolve to a sysexits code. `stderr` replaces
 * the caller's standard error for this message: what is written there is
 * shown to the user and also becomes the reason text of a failure reply.
 * A SmarthostError thrown is turned into its exit code and message.
 */
export type BsDeliver = (message: Accepted, stderr: (text: string) => void) => Promise<number>;

export interface BsStreamOptions extends BsOptions {
  input: AsyncIterable<Buffer | string> & { destroy?: () => void };
  /** Write replies (stdout). */
  write: (text: string) => void;
  /** The caller's standard error. */
  stderr: (text: string) => void;
  /** Close the session (421) after this long without input; default 5 minutes (RFC 5321 §4.5.3.2.7). */
  idleTimeout?: number;
}

export interface BsOutcome {
  /** The client sent QUIT (or was closed for too many errors). */
  quit: boolean;
  /** Input ended or timed out with a transaction open: that message was not accepted. */
  incomplete: boolean;
  timedOut: boolean;
  /** Messages given a final reply, by result. */
  accepted: number;
  refused: number;
}

const LF = 0x0a;

/** The reason text of a failed delivery from what it wrote to stderr (pure). */
export function reasonFrom(lines: readonly string[]): string {
  return lines
    .join('')
    .split('\n')
    .map((l) => l.replace(/^send-smarthost: /, '').trim())
    .filter((l) => l !== '' && !/^<[^>]*>: delivered\b/.test(l) && !l.startsWith('warning: '))
    .join('; ');
}

/** Run one -bs session to its end; never throws for protocol trouble (it is answered in-band). */
export async function runSmtpSession(opts: BsStreamOptions, deliver: BsDeliver): Promise<BsOutcome> {
  const session = new BsSession(opts);
  const out: BsOutcome = { quit: false, incomplete: false, timedOut: false, accepted: 0, refused: 0 };
  const idle = opts.idleTimeout ?? 300_000;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      out.timedOut = true;
      opts.write(`421 4.4.2 ${opts.hostname} timeout waiting for input, closing the session\r\n`);
      opts.input.destroy?.();
    }, idle);
  };

  const deliverOne = async (m: Accepted): Promise<DeliveryResult> => {
    const captured: string[] = [];
    const stderr = (text: string): void => {
      captured.push(text);
      opts.stderr(text);
    };
    try {
      const code = await deliver(m, stderr);
      return { code, reason: code === EX.OK ? '' : reasonFrom(captured) };
    } catch (err) {
      if (err instanceof SmarthostError) {
        opts.stderr(`send-smarthost: ${err.message}\n`);
        return { code: exitCodeFor(err.kind), reason: err.message };
      }
      opts.stderr(`send-smarthost: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      return { code: EX.SOFTWARE, reason: 'internal error; message not accepted' };
    }
  };

  /** Feed one complete line (or an overlong marker); false when the session is over. */
  const handle = async (line: Buffer | 'overlong'): Promise<boolean> => {
    const step = line === 'overlong' ? session.overlong() : session.feed(line);
    if (step.replies.length > 0) opts.write(step.replies.join(''));
    if (step.message) {
      clearTimeout(timer);
      const result = await deliverOne(step.message);
      if (result.code === EX.OK) out.accepted++;
      else out.refused++;
      opts.write(session.finish(result));
      arm();
    }
    if (step.close) out.quit = true;
    return !session.closed;
  };

  opts.write(session.greeting());
  arm();
  let parts: Buffer[] = [];
  let partsLen = 0;
  let discarding = false;
  try {
    reading: for await (const chunk of opts.input) {
      arm();
      let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      while (buf.length > 0) {
        const nl = buf.indexOf(LF);
        if (discarding) {
          if (nl < 0) break;
          discarding = false;
          buf = buf.subarray(nl + 1);
          continue;
        }
        if (nl < 0) {
          parts.push(buf);
          partsLen += buf.length;
          if (partsLen > session.lineLimit()) {
            parts = [];
            partsLen = 0;
            discarding = true;
            if (!(await handle('overlong'))) break reading;
          }
          break;
        }
        const line = parts.length === 0 ? buf.subarray(0, nl) : Buffer.concat([...parts, buf.subarray(0, nl)]);
        parts = [];
        partsLen = 0;
        buf = buf.subarray(nl + 1);
        if (!(await handle(line.length > session.lineLimit() ? 'overlong' : line))) break reading;
      }
    }
  } catch (err) {
    if (!out.timedOut) {
      throw new SmarthostError('E_IO', 'io', `-bs: reading standard input failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  } finally {
    clearTimeout(timer);
  }
  // A last line without LF is not a complete command: it is ignored, as an SMTP server would.
  if (!out.quit) out.incomplete = session.inTransaction;
  return out;
}
