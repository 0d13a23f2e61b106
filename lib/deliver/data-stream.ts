/**
 * The DATA stream of nodemailer's smtp-connection, byte for byte the same
 * output (CRLF line ends, a dot stuffed at the start of every line and after
 * a bare CR, the closing `.`), found with indexOf instead of a JavaScript
 * loop over every byte: for a 50 MiB message that loop was the largest cost
 * of the delivery (≈ 130 ms of ≈ 410 ms; README, Performance). build.mjs
 * puts this module in place of nodemailer's `data-stream.js` in the bundle;
 * test/deliver/data-stream.ts checks both give the same bytes for random
 * inputs cut into random chunks.
 */
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const INSERT_LF = Buffer.from('\n');
const INSERT_LF_DOT = Buffer.from('\n.');
const INSERT_CR = Buffer.from('\r');
const INSERT_DOT = Buffer.from('.');

export default class DataStream extends Transform {
  options: TransformOptions;
  inByteCount = 0;
  outByteCount = 0;
  /** The last byte of the previous chunk; false before the first. */
  lastByte: number | false = false;

  constructor(options?: TransformOptions) {
    super(options);
    this.options = options ?? {};
  }

  override _transform(input: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!input || !input.length) {
      done();
      return;
    }
    const chunk = typeof input === 'string' ? Buffer.from(input) : input;
    this.inByteCount += chunk.length;
    const len = chunk.length;
    const parts: Buffer[] = [];
    let size = 0;
    let from = 0; // start of what is not yet in `parts`
    const insert = (at: number, what: Buffer): void => {
      if (at > from) parts.push(chunk.subarray(from, at));
      parts.push(what);
      size += at - from + what.length;
      from = at;
    };
    // what the previous chunk left undecided: its CR (an LF must follow), its LF (a dot must be stuffed)
    const prev = this.lastByte;
    const first = chunk[0];
    if (prev === CR && first !== LF) insert(0, first === DOT ? INSERT_LF_DOT : INSERT_LF);
    else if ((prev === LF || prev === false) && first === DOT) insert(0, INSERT_DOT);
    // then every line end in this chunk, in order
    let lf = chunk.indexOf(LF);
    let cr = chunk.indexOf(CR);
    while (lf !== -1 || cr !== -1) {
      if (lf !== -1 && (cr === -1 || lf < cr)) {
        const before = lf === 0 ? prev : chunk[lf - 1];
        if (before !== CR) insert(lf, INSERT_CR);
        if (lf + 1 < len && chunk[lf + 1] === DOT) insert(lf + 1, INSERT_DOT);
        lf = chunk.indexOf(LF, lf + 1);
      } else {
        if (cr + 1 < len && chunk[cr + 1] !== LF) insert(cr + 1, chunk[cr + 1] === DOT ? INSERT_LF_DOT : INSERT_LF);
        cr = chunk.indexOf(CR, cr + 1);
      }
    }
    if (parts.length === 0) {
      this.outByteCount += len;
      this.push(chunk);
    } else {
      if (from < len) parts.push(chunk.subarray(from));
      size += len - from;
      this.outByteCount += size;
      this.push(Buffer.concat(parts, size));
    }
    this.lastByte = chunk[len - 1]!;
    done();
  }

  override _flush(done: TransformCallback): void {
    const end = Buffer.from(this.lastByte === LF ? '.\r\n' : this.lastByte === CR ? '\n.\r\n' : '\r\n.\r\n');
    this.outByteCount += end.length;
    this.push(end);
    done();
  }
}
