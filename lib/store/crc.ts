/**
 * CRC-32 (IEEE 802.3, as zlib and gzip compute it) of a message's data, kept
 * in the envelope of every spool file and checked before the data is sent
 * (issue 9, point 3): a data file that was cut, padded or overwritten is
 * never delivered as if complete. A message in memory (≤ 1 MiB, nearly all)
 * is summed here in JavaScript with a table (≈ 10 µs for 2 KB; loading
 * node:zlib would cost a submission's start-up ≈ 10 ms); a large one, kept
 * in a file, with node:zlib's crc32 (≈ 0.2 ms per MiB against ≈ 3 ms here),
 * loaded only then. Both give the same number.
 */
import { eachChunk, isFileData, type MessageData } from '../data.js';

let table: Int32Array | undefined;

function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}

/** CRC-32 of `buf`, continuing from `prev` (pure). */
export function crc32(buf: Uint8Array, prev = 0): number {
  const t = (table ??= makeTable());
  let c = ~prev;
  for (let i = 0; i < buf.length; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of a message's data (a file's region read chunk by chunk). @throws the fs error */
export function dataCrc(d: MessageData): number {
  if (!isFileData(d)) return crc32(d);
  const zlib = process.getBuiltinModule('node:zlib') as { crc32?: (data: Uint8Array, value?: number) => number };
  const sum = zlib.crc32 ?? crc32;
  let c = 0;
  eachChunk(d, (chunk) => (c = sum(chunk, c)));
  return c;
}
