/**
 * The queue listing of -bp / mailq and its variants in Exim's shape (pure;
 * Exim's queue.c queue_list), e.g.
 *
 *     25m  2.9K 1jiFk5-0006UE-9S <alice@example.com>
 *               bob@example.net
 *             D carol@example.org
 *
 *      4h   312 1jiFr2-0006VA-2k <> *** frozen ***
 *               alice@example.com
 *
 * age, size, id, sender in <>, the frozen flag; then the message's
 * recipients in the order they were submitted, each as it was given (the
 * top-level address, before aliases), marked `D` once every address it led
 * to is delivered or failed; a blank line after each message. -bpu leaves
 * the `D` ones out; -bpa adds the delivered addresses that aliases generated,
 * marked `+D`; -bpr does not sort by arrival. An empty queue prints nothing.
 * Exim's exiqgrep and exiqsumm read it (test/e2e-exim-tools.ts).
 */
import type { SpoolHeader } from '../store/header.js';

/** How a -bp mode lists (Exim spec, -bp): `u` only the undelivered recipients, `a` also the delivered addresses aliases generated (+D), `r` unsorted. */
export interface ListingStyle {
  undelivered: boolean;
  generated: boolean;
  unsorted: boolean;
}

/**
 * Age as Exim prints it (right-aligned in three columns): minutes up to 90,
 * then hours (rounded) up to 72, then days (rounded): `25m`, `90m`, ` 2h`,
 * `72h`, ` 3d`.
 */
export function formatAge(ms: number): string {
  const min = Math.max(0, Math.floor(ms / 60_000));
  if (min <= 90) return `${min}m`.padStart(3);
  const hours = Math.floor((min + 30) / 60);
  if (hours <= 72) return `${hours}h`.padStart(3);
  return `${Math.floor((hours + 12) / 24)}d`.padStart(3);
}

/** Size as Exim prints it (before padding to five columns): bytes below 1K, then `2.9K`, `45K`, `1.2M`, `30M`; nothing for 0. */
export function formatSize(bytes: number): string {
  const K = 1024;
  const M = K * K;
  if (bytes === 0) return '';
  if (bytes < K) return String(bytes);
  if (bytes < 10 * K) return `${(bytes / K).toFixed(1)}K`;
  if (bytes < M) return `${Math.floor((bytes + 512) / K)}K`;
  if (bytes < 10 * M) return `${(bytes / M).toFixed(1)}M`;
  return `${Math.floor((bytes + M / 2) / M)}M`;
}

/** One recipient as the listing sees it: the address delivered to, the top-level address it came from, whether it needs no more attempts. */
interface Row {
  address: string;
  parent?: string;
  done: boolean;
}

/**
 * The message's recipients in the order they were submitted (`original`),
 * each with its state; what a header of an older version has no order for
 * follows, pending first.
 */
function rows(h: SpoolHeader): Row[] {
  const pending = new Set(h.recipients);
  const done = new Set(h.done.map((d) => d.recipient));
  const seen = new Set<string>();
  const out: Row[] = [];
  const add = (address: string, parent?: string): void => {
    if (seen.has(address) || (!pending.has(address) && !done.has(address))) return;
    seen.add(address);
    out.push({ address, ...(parent !== undefined && parent !== address ? { parent } : {}), done: !pending.has(address) });
  };
  for (const o of h.original ?? []) add(o.address, o.parent);
  for (const r of h.recipients) add(r);
  for (const d of h.done) add(d.recipient);
  return out;
}

/** The listing of one message (with its trailing blank line). */
export function formatEntry(h: SpoolHeader, now: number, style: Partial<ListingStyle> = {}): string {
  const frozen = h.frozen !== undefined ? ' *** frozen ***' : '';
  const lines = [`${formatAge(now - h.arrival)} ${formatSize(h.size).padStart(5)} ${h.id} <${h.sender}>${frozen}`];
  const all = rows(h);
  // a top-level address is done when every address it led to is (Exim: "D only when deliveries for all of its child addresses are complete")
  const tops = new Map<string, boolean>();
  for (const r of all) {
    const top = r.parent ?? r.address;
    tops.set(top, (tops.get(top) ?? true) && r.done);
  }
  for (const [top, done] of tops) if (!(done && style.undelivered)) lines.push(`        ${done ? 'D' : ' '} ${top}`);
  if (style.generated) for (const r of all) if (r.parent !== undefined && r.done && !tops.has(r.address)) lines.push(`       +D ${r.address}`);
  return lines.join('\n') + '\n\n';
}

/** The whole listing, oldest first (as given with `unsorted`); '' for an empty queue. */
export function formatListing(headers: readonly SpoolHeader[], now: number, style: Partial<ListingStyle> = {}): string {
  const list = style.unsorted ? headers : [...headers].sort((a, b) => a.arrival - b.arrival || (a.id < b.id ? -1 : 1));
  return list.map((h) => formatEntry(h, now, style)).join('');
}

/**
 * What -bp says on standard error about damaged files (pure), one line
 * each: the names in corrupt/ (moved there by queue runs; the main log says
 * why), and files that the next queue run will move there. Standard output
 * keeps Exim's shape only, for exiqgrep and exiqsumm.
 *
 *     1jiFk5-0006UE-9S-D is in /var/spool/send-smarthost/corrupt: damaged, not delivered (see the main log)
 *     1jiFr2-0006VA-2k-H is damaged: moved to corrupt/ by the next queue run
 */
export function damagedLines(p: { pending: string[]; unreadableDrops: number; corrupt: string[]; dir: string }): string[] {
  const lines: string[] = [];
  for (const n of p.corrupt) lines.push(`${n} is in ${p.dir}: damaged, not delivered (see the main log)`);
  for (const n of p.pending) lines.push(`${n} is damaged: moved to corrupt/ by the next queue run`);
  if (p.unreadableDrops > 0) {
    const n = p.unreadableDrops;
    lines.push(`${n} file${n === 1 ? '' : 's'} in incoming/ cannot be read: moved to corrupt/ by the next queue run`);
  }
  return lines;
}
