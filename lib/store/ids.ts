/**
 * Message ids in Exim's classic shape, `1jiFk5-0006UE-9S`: base 62, six
 * characters of seconds since the epoch, six of the process id, two of the
 * sub-second (1/62 s) plus one random character. Pure apart from the random
 * byte, which comes in through a parameter.
 *
 * Uniqueness across processes comes from the pid part (one process at a time
 * has a given pid) and, within a process, from {@link IdAllocator}. The spool
 * is the final guard: the data file is placed with link(2), which fails with
 * EEXIST instead of overwriting (spool.ts), and the caller then asks for a
 * new id.
 */

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base-62 digits of `n`, left-padded with '0' to `width` (the low digits if longer). */
export function base62(n: number, width: number): string {
  let s = '';
  let v = Math.max(0, Math.floor(n));
  for (let i = 0; i < width; i++) {
    s = B62[v % 62]! + s;
    v = Math.floor(v / 62);
  }
  return s;
}

/** The shape of a message id: also the only names accepted from the command line (-M, -Mrm). */
export const ID_RE = /^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/;

/** Whether `s` is a syntactically valid message id (so it is safe in a file name). */
export const isMessageId = (s: string): boolean => ID_RE.test(s);

/**
 * Build an id from a time in ms, a pid and a random number in [0, 62).
 * The sub-second part is the 62nd of a second, so ids sort by arrival.
 */
export function makeId(nowMs: number, pid: number, random: number): string {
  const secs = Math.floor(nowMs / 1000);
  const frac = Math.floor(((nowMs % 1000) * 62) / 1000);
  return `${base62(secs, 6)}-${base62(pid, 6)}-${B62[frac]}${B62[Math.floor(random) % 62]}`;
}

/** The arrival time (seconds precision, in ms) encoded in an id. */
export function idTime(id: string): number {
  let v = 0;
  for (const c of id.slice(0, 6)) v = v * 62 + B62.indexOf(c);
  return v * 1000;
}

/** Hands out ids that never repeat within one process. */
export class IdAllocator {
  constructor(
    private readonly pid: number,
    private readonly now: () => number,
    private readonly random: () => number = () => Math.random() * 62,
    /** Ids already handed out; share one set between allocators of one process (-bs: one per message). */
    private readonly used = new Set<string>(),
  ) {}

  next(): string {
    for (let i = 0; i < 10_000; i++) {
      const id = makeId(this.now(), this.pid, this.random());
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
    throw new Error('could not allocate a message id');
  }
}
