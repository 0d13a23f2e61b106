/**
 * The first step of a root queue run: the journals that unprivileged
 * processes left in incoming/ (store/journal.ts) are rendered into the
 * main log (report/journal-log.ts) and removed, each under its message's
 * claim (so never while its writer is still at work). A journal is
 * accepted from the user who owns the message (its drop file's owner, or
 * the submitter recorded in input/), or, when the message is gone
 * (delivered), when it tells the message's whole story from its arrival; any
 * other is moved to corrupt/ with one main-log line.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { replayJournal } from '../report/journal-log.js';
import { claimDrop } from '../store/drop.js';
import { journalPath, listJournals, readJournal } from '../store/journal.js';
import { Refused } from '../store/open.js';
import { asideText, moveAside } from '../store/quarantine.js';
import { readHeader } from '../store/spool.js';
import { dropClaimDeps } from './run-drop.js';
import type { QueueDeps } from './deps.js';

/** Render and remove the journals; returns the ids whose arrival they logged. */
export function renderJournals(deps: QueueDeps): Set<string> {
  const l = deps.spool;
  const arrivals = new Set<string>();
  for (const id of listJournals(l)) {
    const claim = claimDrop(l, id, dropClaimDeps(deps, true));
    if (!claim) continue; // its writer is still at work: the next run
    try {
      const owner = ownerOf(deps, id);
      let j;
      try {
        j = readJournal(l, id, owner === undefined ? {} : { owner });
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
        deps.log.spoolFile(`journal ${err.message}: ${asideText(moveAside(l, journalPath(l, id), deps.now()))}`, id);
        continue;
      }
      if (!j) continue;
      const told = owner !== undefined || j.events.some((e) => (e as { ev?: unknown } | null)?.ev === 'arrival');
      if (!told) {
        deps.log.spoolFile(`journal ${journalPath(l, id)} refused (no such message, and no arrival in it): ${asideText(moveAside(l, journalPath(l, id), deps.now()))}`, id);
        continue;
      }
      const r = replayJournal(id, j.events, { uid: j.uid, user: deps.userName(j.uid) }, deps.log);
      if (r.arrival) arrivals.add(id);
      if (r.refused > 0) deps.log.spoolFile(`journal ${journalPath(l, id)}: ${r.refused} event${r.refused === 1 ? '' : 's'} refused`, id);
      try {
        unlinkSync(journalPath(l, id));
      } catch {
        /* gone */
      }
    } finally {
      claim.release();
    }
  }
  return arrivals;
}

/** The uid that must own message `id`'s journal, when the message is still there. */
function ownerOf(deps: QueueDeps, id: string): number | undefined {
  try {
    return lstatSync(join(deps.spool.incoming, id)).uid;
  } catch {
    /* no drop file */
  }
  try {
    return readHeader(deps.spool, id)?.submitter.uid;
  } catch {
    return undefined;
  }
}
