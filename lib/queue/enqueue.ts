/**
 * Put a message into the queue the way this process can: directly into
 * input/ (root, the spool owner) or as a drop file in incoming/ (anyone
 * else). A taken id (EEXIST from the no-replace placement of the data file)
 * gets a fresh one; the header's id is updated in place.
 */
import { dataSize, type MessageData } from '../data.js';
import { shortOfSpace, type Reserve } from '../store/space.js';
import { SmarthostError } from '../errors.js';
import { writeDrop } from '../store/drop.js';
import { existsSync } from 'node:fs';
import { initSpool, spoolAccess, storeMessage, type SpoolLayout } from '../store/spool.js';
import type { SpoolHeader } from '../store/header.js';

export type Placement = 'input' | 'drop';

/**
 * Store `h` (with `data`) in the spool; returns where it went. `asDrop`:
 * as a drop file whoever the caller is (-odq, -odb: one file to fsync, not
 * two; lib/queue/spool-submit.ts). `reserve`: a submission, which must
 * leave that much free (store/space.ts); bounces and queue runs need not.
 * @throws SmarthostError E_IO kind 'temp' (exit 75: the caller keeps the message)
 *   saying why the spool cannot be written.
 */
export function enqueue(l: SpoolLayout, h: SpoolHeader, data: MessageData, newId: () => string, opts: { asDrop?: boolean; reserve?: Reserve } = {}): Placement {
  let access = spoolAccess(l);
  if (access.how === 'none' && process.getuid?.() === 0 && !existsSync(l.root)) {
    // root creates a missing spool on first use, as Exim does (unprivileged users need --init-spool first)
    try {
      initSpool(l);
      access = spoolAccess(l);
    } catch (err) {
      throw new SmarthostError('E_IO', 'temp', `${err instanceof Error ? err.message : String(err)}; message not queued`, { cause: err });
    }
  }
  if (access.how === 'none') throw new SmarthostError('E_IO', 'temp', `${access.reason}; message not queued`);
  // a submission leaves the reserve free (check_spool_space, check_spool_inodes): never a half-written message
  const short = opts.reserve ? shortOfSpace(l, opts.reserve, dataSize(data)) : undefined;
  if (short) throw new SmarthostError('E_IO', 'temp', `${short}; message not queued`);
  const how = opts.asDrop ? 'drop' : access.how;
  for (let i = 0; i < 5; i++) {
    try {
      if (how === 'direct') storeMessage(l, h, data);
      else writeDrop(l, h, data);
      return how === 'direct' ? 'input' : 'drop';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        h.id = newId();
        continue;
      }
      throw new SmarthostError('E_IO', 'temp', `cannot write the spool ${l.root}: ${code ?? String(err)}; message not queued`, { cause: err });
    }
  }
  throw new SmarthostError('E_IO', 'temp', `cannot write the spool ${l.root}: no free message id; message not queued`);
}
