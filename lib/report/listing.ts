/**
 * The queue listing of -bp / mailq in Exim's shape (pure), e.g.
 *
 *     25m  2.9K 1jiFk5-0006UE-9S <alice@example.com>
 *               bob@example.net
 *             D carol@example.org
 *
 *      4h   312 1jiFr2-0006VA-2k <> *** frozen ***
 *               alice@example.com
 *
 * age (minutes, hours or days), size, id, sender in <>, the frozen flag; then
 * one line per recipient: pending ones indented, delivered or failed ones
 * marked `D`; a blank line after each message. An empty queue prints nothing.
 */
import type { SpoolHeader } from '../store/header.js';

/** Age as Exim prints it: `25m`, ` 4h`, `12d` (right-aligned in three columns). */
export function formatAge(ms: number): string {
  const min = Math.max(0, Math.floor(ms / 60_000));
  if (min < 60) return `${min}m`.padStart(3);
  if (min < 60 * 48) return `${Math.floor(min / 60)}h`.padStart(3);
  return `${Math.floor(min / 1440)}d`.padStart(3);
}

/** Size as Exim prints it: bytes below 1K, then `2.9K`, `45K`, `1.2M`, `30M`. */
export function formatSize(bytes: number): string {
  const K = 1024;
  const M = K * K;
  if (bytes < K) return String(bytes);
  if (bytes < 10 * K) return `${(bytes / K).toFixed(1)}K`;
  if (bytes < M) return `${Math.round(bytes / K)}K`;
  if (bytes < 10 * M) return `${(bytes / M).toFixed(1)}M`;
  return `${Math.round(bytes / M)}M`;
}

/** The listing of one message (with its trailing blank line). */
export function formatEntry(h: SpoolHeader, now: number): string {
  const frozen = h.frozen !== undefined ? ' *** frozen ***' : '';
  const lines = [`${formatAge(now - h.arrival)} ${formatSize(h.size).padStart(5)} ${h.id} <${h.sender}>${frozen}`];
  for (const r of h.recipients) lines.push(`          ${r}`);
  for (const d of h.done) lines.push(`        D ${d.recipient}`);
  return lines.join('\n') + '\n\n';
}

/** The whole listing, oldest first; '' for an empty queue. */
export function formatListing(headers: readonly SpoolHeader[], now: number): string {
  return [...headers].sort((a, b) => a.arrival - b.arrival || (a.id < b.id ? -1 : 1)).map((h) => formatEntry(h, now)).join('');
}

/**
 * What -bp says after the queue about damaged files (pure): the names in
 * corrupt/ (moved there by queue runs; the main log says why), and files
 * that the next queue run will move there. Nothing when there are none.
 *
 *     -- damaged spool files (not delivered; see the main log) --
 *     corrupt: 1jiFk5-0006UE-9S-D  (in /var/spool/send-smarthost/corrupt)
 *     damaged: 1jiFr2-0006VA-2k-H  (moved to corrupt/ by the next queue run)
 */
export function formatDamaged(p: { pending: string[]; unreadableDrops: number; corrupt: string[]; dir: string }): string {
  if (p.pending.length === 0 && p.unreadableDrops <= 0 && p.corrupt.length === 0) return '';
  const lines = ['-- damaged spool files (not delivered; see the main log) --'];
  for (const n of p.corrupt) lines.push(`corrupt: ${n}  (in ${p.dir})`);
  for (const n of p.pending) lines.push(`damaged: ${n}  (moved to corrupt/ by the next queue run)`);
  if (p.unreadableDrops > 0) lines.push(`damaged: ${p.unreadableDrops} file${p.unreadableDrops === 1 ? '' : 's'} in incoming/ that cannot be read  (moved to corrupt/ by the next queue run)`);
  return lines.join('\n') + '\n';
}
