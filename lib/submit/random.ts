/**
 * Random bytes for Message-IDs from /dev/urandom: loading node:crypto costs a
 * submission ≈ 2 ms of start-up (it brings the stream modules along), reading
 * 8 bytes from the kernel's generator ≈ 20 µs. node:crypto is the fallback
 * where /dev/urandom cannot be read. Thin I/O.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export function randomBytes(n: number): Buffer {
  const buf = Buffer.alloc(n);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, buf, 0, n, null) === n) return buf;
    } finally {
      closeSync(fd);
    }
  } catch {
    // no /dev/urandom (a chroot without /dev): node:crypto below
  }
  return process.getBuiltinModule('node:crypto').randomBytes(n);
}
