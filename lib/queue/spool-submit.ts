/**
 * The submission's side of -odb and -odq: put the message in the spool as
 * ONE drop file in incoming/, whoever the submitter (one fsync of the file,
 * one of the directory: half the cost of input/'s -D and -H, which the
 * deliverer or the next queue run writes), start the background deliverer
 * for -odb, and say what the caller's exit status is. Light on purpose: it is all a background or
 * queue-only submission runs (lib/fast.ts), with no delivery code loaded.
 *
 * The submitter writes nothing to the main log: the first process that
 * claims the drop file (its background deliverer, or a queue run) logs its
 * arrival (run-drop.ts), so an unprivileged submitter prints nothing on
 * stderr, and a submitter killed right after placing the file loses no line.
 */
import type { MessageData } from '../data.js';
import { EX, SmarthostError } from '../errors.js';
import { enqueue } from './enqueue.js';
import type { SpoolLayout } from '../store/spool.js';
import type { SpoolHeader } from '../store/header.js';
import type { Reserve } from '../store/space.js';

/** What spooling a submission needs (a part of QueueDeps). */
export interface SpoolSubmitDeps {
  spool: SpoolLayout;
  newId: () => string;
  /** Start the -odb deliverer of drop file `id`; absent: no background delivery. */
  startDeliverer?: (id: string) => void | Promise<void>;
  say: (line: string) => void;
  trace: (line: string) => void;
  /** check_spool_space and check_spool_inodes (store/space.ts). */
  reserve?: Reserve;
}

/**
 * -odb (`b`) or -odq (`q`): spool `h` with `data`. Resolves to the exit code,
 * or to undefined when a background submission cannot be spooled (or no
 * deliverer can be started here): the caller then delivers at once.
 */
export async function spoolSubmission(h: SpoolHeader, data: MessageData, mode: 'b' | 'q', verbose: boolean, deps: SpoolSubmitDeps): Promise<number | undefined> {
  if (mode === 'q') {
    // the drop file, whoever the submitter: the next queue run (or the .path unit's) moves it into input/
    try {
      enqueue(deps.spool, h, data, deps.newId, { asDrop: true, ...(deps.reserve ? { reserve: deps.reserve } : {}) });
    } catch (err) {
      deps.say(err instanceof SmarthostError ? err.message : `cannot queue the message: ${String(err)}`);
      return EX.TEMPFAIL;
    }
    deps.trace(`message ${h.id} queued (-odq) in ${deps.spool.incoming}`);
    return EX.OK;
  }
  if (!deps.startDeliverer) return undefined;
  // the caller's exit status means "safely spooled", as with -odq; a spool that cannot be written means deliver now
  try {
    enqueue(deps.spool, h, data, deps.newId, { asDrop: true, ...(deps.reserve ? { reserve: deps.reserve } : {}) });
  } catch (err) {
    (verbose ? deps.say : deps.trace)(`${err instanceof Error ? err.message : String(err)}: delivering now instead (-odi)`);
    return undefined;
  }
  try {
    await deps.startDeliverer(h.id);
    if (verbose) deps.say(`message ${h.id} spooled; delivering in the background (-odb)`);
  } catch (err) {
    deps.say(`message ${h.id} spooled, but the background delivery could not start (${err instanceof Error ? err.message : String(err)}): the next queue run delivers it`);
  }
  return EX.OK;
}
