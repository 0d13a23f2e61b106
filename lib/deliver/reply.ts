/**
 * SMTP replies read out of the bytes a server sends, checked as RFC 5321
 * §4.2 writes them: every line is a three-digit code whose first digit is 2
 * to 5 (what the digit means: §4.2.1), then a space, a hyphen or the end of
 * the line; a hyphen means
 * another line of the same reply follows, and every line of a multi-line reply
 * carries the same code. Anything else is not a reply: msmtp's "the server
 * sent an invalid reply", a protocol error. Lines end with CRLF (a bare LF is
 * taken too, as nodemailer does). The text after the code is not checked
 * (servers send UTF-8 in it). Pure: no I/O, no timers.
 */

/** One complete reply. */
export interface Reply {
  code: number;
  /** The lines, without line ends, decoded (UTF-8 when valid, else Latin-1). */
  lines: string[];
  /** The lines joined with `\n`: the form nodemailer hands to its callbacks. */
  text: string;
}

/**
 * What a chunk of bytes held, in order: replies, then possibly the line that
 * broke the rules. `end`: the offset in the chunk just after the item's last line.
 */
export type ReadItem = ({ reply: Reply } | { invalid: string; why: string }) & { end: number };

/** A reply line longer than this (RFC 5321 allows 512 octets) is not a reply, it is a flood. */
export const MAX_LINE = 65_536;

const LINE = /^[2-5][0-9][0-9](?:[ -]|$)/;

/** A line as text: UTF-8 when the bytes are valid UTF-8, else byte for byte (Latin-1). */
export function decodeLine(latin1: string): string {
  const utf8 = Buffer.from(latin1, 'latin1').toString('utf8');
  return utf8.includes('\uFFFD') ? latin1 : utf8;
}

/** The problem with one reply line (`previous`: the code of the reply it continues), or undefined. Pure. */
export function lineProblem(line: string, previous?: string): string | undefined {
  if (!LINE.test(line)) return 'not a reply line (three digits, the first 2 to 5, then a space, a hyphen or the end of the line)';
  if (previous !== undefined && line.slice(0, 3) !== previous) return `a line of a multi-line reply with another code than ${previous}`;
  return undefined;
}

/**
 * Splits a server's byte stream into replies. Feed it every chunk in order;
 * after an invalid line it reads nothing more (the session is over).
 */
export class ReplyReader {
  /** Bytes of the line being received (Latin-1: one char per byte). */
  private partial = '';
  /** Lines of the reply being received. */
  private lines: string[] = [];
  private broken = false;

  /** The replies completed by `chunk`, in order, and the first invalid line if there is one. */
  feed(chunk: Buffer): ReadItem[] {
    const out: ReadItem[] = [];
    if (this.broken) return out;
    const data = chunk.toString('latin1');
    let from = 0;
    for (let nl = data.indexOf('\n'); nl !== -1; nl = data.indexOf('\n', from)) {
      let line = this.partial + data.slice(from, nl);
      this.partial = '';
      from = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const problem = line.length > MAX_LINE ? `a line longer than ${MAX_LINE} octets` : lineProblem(line, this.lines.length > 0 ? this.lines[0]!.slice(0, 3) : undefined);
      if (problem) {
        this.broken = true;
        out.push({ invalid: decodeLine(line.slice(0, 512)), why: problem, end: from });
        return out;
      }
      this.lines.push(line);
      if (line[3] !== '-') {
        const lines = this.lines.map(decodeLine);
        this.lines = [];
        out.push({ reply: { code: Number(line.slice(0, 3)), lines, text: lines.join('\n') }, end: from });
      }
    }
    this.partial += data.slice(from);
    if (this.partial.length > MAX_LINE) {
      this.broken = true;
      out.push({ invalid: decodeLine(this.partial.slice(0, 512)), why: `a line longer than ${MAX_LINE} octets`, end: data.length });
    }
    return out;
  }

  /**
   * Start afresh, forgetting what is buffered (after the reply to STARTTLS:
   * nothing received before the TLS handshake counts after it, RFC 3207 §4.2).
   */
  reset(): void {
    this.partial = '';
    this.lines = [];
    this.broken = false;
  }

  /** What arrived of a line that never ended (shown when the connection closes). */
  get unfinished(): string {
    return decodeLine([...this.lines, this.partial].filter((l) => l !== '').join('\n'));
  }
}
