/**
 * The spool's free space (Exim's check_spool_space and check_spool_inodes,
 * Postfix's queue_minfree): a submission is not spooled when the spool's
 * file system would be left with less than the reserve, so that a full
 * disk never half-writes a message and queue runs keep room to work. One
 * statfs(2) (≈ 5 µs). Queue runs, which only move and remove messages, do
 * not check.
 */
import { statfsSync } from 'node:fs';

export interface Reserve {
  /** Bytes that must stay free (check_spool_space); 0: no check. */
  space: number;
  /** Inodes that must stay free (check_spool_inodes); 0: no check. */
  inodes: number;
}

/** A size for the message: `812 KiB`, `9.5 MiB`. */
const MiB = (n: number): string => (n < 1048576 ? `${Math.ceil(n / 1024)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);

/**
 * Why a message of `size` bytes may not be spooled now, or undefined when it
 * may (or when the file system cannot say: statfs failing is not a reason
 * to refuse mail; the write then tells).
 */
export function shortOfSpace(l: { root: string }, reserve: Reserve, size: number): string | undefined {
  if (reserve.space <= 0 && reserve.inodes <= 0) return undefined;
  let st;
  try {
    st = statfsSync(l.root);
  } catch {
    return undefined;
  }
  const free = st.bavail * st.bsize;
  if (reserve.space > 0 && free - size < reserve.space) {
    return `the spool's file system is short of space (${MiB(free)} free, ${MiB(size)} needed, check_spool_space = ${MiB(reserve.space)})`;
  }
  // a file system without inode accounting (btrfs, some FUSE) reports 0 files: nothing to check
  if (reserve.inodes > 0 && st.files > 0 && st.ffree < reserve.inodes + 2) {
    return `the spool's file system is short of inodes (${st.ffree} free, check_spool_inodes = ${reserve.inodes})`;
  }
  return undefined;
}
