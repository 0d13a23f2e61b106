/**
 * The queue commands of the command line: --init-spool, -bp (mailq) and
 * its variants, -bpc, -q / -qf / -qff, -M, -Mrm, -Mf, -Mt, -Mvh, -Mvb,
 * -Mvl, and --deliver-drop (the -odb child). Each returns the exit code;
 * output goes through `out` (stdout) and deps.say (stderr). -bp, -bpc and
 * -Mv… only read the spool: they never load the DNS or SMTP code.
 */
import { existsSync, readdirSync } from 'node:fs';
import { EX, SmarthostError } from '../errors.js';
import { listMessages, readHeader, initSpool, spoolAccess } from '../store/spool.js';
import { damagedLines, formatListing, type ListingStyle } from '../report/listing.js';
import { initLogDir } from '../report/log-dir.js';
import { freezeLine, freezeMessage } from './freeze.js';
import { showMessage } from './show.js';
import { listCorrupt } from '../store/quarantine.js';
import { removeMessages, runQueue } from './queue.js';
import { deliverDrop } from './background.js';
import { peekDrops } from '../store/drop.js';
import type { QueueDeps } from './deps.js';
import type { SpoolHeader } from '../store/header.js';
import { isMessageId } from '../store/ids.js';

import type { QueueCommand } from './command-of.js';
export { queueCommandOf, type QueueCommand } from './command-of.js';

export interface QueueCommandOptions {
  command: QueueCommand;
  /** -qf */
  force: boolean;
  /** -qff: frozen messages too (`Unfrozen by forced delivery`). */
  thaw?: boolean;
  /** -M… ids. */
  ids: string[];
  /** Who runs it (log lines: `removed by root`). */
  by: string;
  out: (text: string) => void;
  /** Standard output as bytes (-Mvb, -Mvh: a message need not be UTF-8); absent: `out` with UTF-8 text. */
  outBytes?: (chunk: Buffer) => void;
  /** -bpu, -bpa, -bpr. */
  listing?: Partial<ListingStyle>;
  /** log_file_path: -Mvl reads it, --init-spool makes its directory. */
  logFile?: string;
}

/**
 * -Mf, -Mt, -Mv…: root and the spool owner only (Exim: admin users).
 * @throws SmarthostError E_NOPERM (exit 77), one line.
 */
function mustOwnSpool(deps: QueueDeps, what: string): void {
  if (existsSync(deps.spool.input) && spoolAccess(deps.spool).how !== 'direct') {
    throw new SmarthostError('E_NOPERM', 'noperm', `cannot ${what}: permission denied: only root or the spool owner may (${deps.spool.input} is not writable by this user)`);
  }
}

/** Headers of every queued message, and the names of those that cannot be read (moved to corrupt/ by the next run). */
function headers(deps: QueueDeps): { ok: SpoolHeader[]; damaged: string[] } {
  const ok: SpoolHeader[] = [];
  const damaged: string[] = [];
  for (const id of listMessages(deps.spool)) {
    try {
      const h = readHeader(deps.spool, id);
      if (h) ok.push(h);
    } catch {
      damaged.push(`${id}-H`);
    }
  }
  return { ok, damaged };
}

/** Drop files waiting in incoming/ (readable by the spool owner only; 0 for others). */
function waitingDrops(deps: QueueDeps): number {
  try {
    return readdirSync(deps.spool.incoming).filter(isMessageId).length;
  } catch {
    return 0;
  }
}

/** Messages submitted with -odq or -odb that no queue run or deliverer has moved into input/ yet. */
function dropHeaders(deps: QueueDeps): SpoolHeader[] {
  return peekDrops(deps.spool) ?? [];
}

export async function queueCommand(o: QueueCommandOptions, deps: QueueDeps): Promise<number> {
  switch (o.command) {
    case 'init':
      for (const line of initSpool(deps.spool)) o.out(`${line}\n`);
      if (o.logFile !== undefined) o.out(`${initLogDir(o.logFile, deps.spool)}\n`);
      return EX.OK;
    case 'list': {
      // drop files are listed like queued messages (they are, as far as the submitter knows)
      const drops = dropHeaders(deps);
      const { ok, damaged } = headers(deps);
      o.out(formatListing([...ok, ...drops], deps.now(), o.listing));
      // standard output keeps Exim's shape (exiqgrep, exiqsumm); damaged files are said on stderr
      const unlisted = waitingDrops(deps) - drops.length;
      for (const line of damagedLines({ pending: damaged, unreadableDrops: unlisted, corrupt: listCorrupt(deps.spool), dir: deps.spool.corrupt })) deps.say(line);
      return EX.OK;
    }
    case 'count':
      o.out(`${listMessages(deps.spool).length + waitingDrops(deps)}\n`);
      return EX.OK;
    case 'remove': {
      const r = removeMessages(o.ids, deps, o.by);
      for (const id of r.removed) o.out(`Message ${id} has been removed\n`);
      for (const id of r.missing) deps.say(`message ${id} is not in the queue`);
      for (const id of r.locked) deps.say(`message ${id} is locked by a delivery in progress: not removed`);
      for (const id of r.denied) deps.say(`message ${id}: permission denied: only root, the spool owner or its submitter (while it waits in incoming/) may remove it`);
      return r.denied.length ? EX.NOPERM : r.locked.length ? EX.TEMPFAIL : r.missing.length ? EX.NOINPUT : EX.OK;
    }
    case 'drop': {
      // the background deliverer of -odb (background.ts); its stderr goes nowhere, its story to the main log
      for (const id of o.ids) deps.trace(`${id}: ${await deliverDrop(id, deps, o.by)}`);
      return EX.OK;
    }
    case 'freeze':
    case 'thaw': {
      const thaw = o.command === 'thaw';
      mustOwnSpool(deps, thaw ? 'thaw messages' : 'freeze messages');
      const codes: number[] = [];
      for (const id of o.ids) {
        const r = await freezeMessage(id, thaw, deps, o.by);
        const line = freezeLine(id, thaw, r);
        if (line !== undefined) o.out(`${line}\n`);
        if (r.result === 'missing') deps.say(`message ${id} is not in the queue`);
        if (r.result === 'locked') deps.say(`message ${id} is locked by a delivery in progress: not ${thaw ? 'thawed' : 'frozen'}`);
        codes.push(r.result === 'missing' ? EX.NOINPUT : r.result === 'locked' ? EX.TEMPFAIL : r.result === 'failed' ? EX.IOERR : EX.OK);
      }
      return worst(codes);
    }
    case 'show-header':
    case 'show-body':
    case 'show-log': {
      mustOwnSpool(deps, 'read queued messages');
      const what = ({ 'show-header': 'header', 'show-body': 'body', 'show-log': 'log' } as const)[o.command];
      const bytes = o.outBytes ?? ((b: Buffer) => o.out(b.toString('utf8')));
      return showMessage(o.ids[0]!, what, deps, { out: o.out, bytes, logFile: o.logFile ?? '' });
    }
    case 'run':
    case 'deliver': {
      const r = await runQueue({ force: o.force, ...(o.thaw ? { thaw: true } : {}), ...(o.command === 'deliver' ? { ids: o.ids } : {}), by: o.by }, deps);
      for (const id of r.missing) deps.say(`message ${id} is not in the queue`);
      for (const [id, status] of Object.entries(r.results)) deps.trace(`${id}: ${status}`);
      return r.missing.length ? EX.NOINPUT : EX.OK;
    }
  }
}

/** The exit code for several ids: the first that is not 0, in the order of their gravity (77, 75, 74, 66). */
function worst(codes: number[]): number {
  for (const c of [EX.NOPERM, EX.TEMPFAIL, EX.IOERR, EX.NOINPUT]) if (codes.includes(c)) return c;
  return EX.OK;
}
