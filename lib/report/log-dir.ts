/**
 * The main log's directory, made by `--init-spool` (the log sink makes a
 * missing one too, 0750, when it first writes; log-sink.ts). It belongs to
 * the spool's owner, who runs the queue and writes the log; its group is
 * `adm` where that group exists, with the set-group-ID bit, so that every
 * log file made in it (by the sink, or by logrotate's `create 0640 root adm`
 * in contrib/logrotate.d) can be read by the administrators' group, as
 * Debian does for Exim's /var/log/exim4 (2750 Debian-exim adm). A directory
 * that exists is left as it is: log_file_path may be in a directory such as
 * /var/log that is not ours to change. Thin synchronous I/O.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SmarthostError } from '../errors.js';
import type { SpoolLayout } from '../store/spool.js';

/** The gid of group `name` in group(5) text (pure); undefined when absent. */
export function groupId(groupText: string, name: string): number | undefined {
  for (const line of groupText.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 3 && /^\d+$/.test(f[2]!)) return Number(f[2]);
  }
  return undefined;
}

/**
 * Make the directory of `logFile` (see the module comment); returns the line
 * --init-spool prints about it.
 * @throws SmarthostError E_IO (kind 'io') when it cannot be made.
 */
export function initLogDir(logFile: string, spool: SpoolLayout, groupFile = '/etc/group'): string {
  const dir = dirname(logFile);
  try {
    const st = lstatSync(dir);
    return `${dir} ${(st.mode & 0o7777).toString(8).padStart(4, '0')} (the log directory: there already, left as it is)`;
  } catch {
    /* not there: made below */
  }
  let owner: { uid: number; gid: number };
  try {
    const st = lstatSync(spool.root);
    owner = { uid: st.uid, gid: st.gid };
  } catch {
    owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  }
  const root = process.getuid?.() === 0;
  let adm: number | undefined;
  try {
    // only root can give the directory to a group it is not in
    adm = root ? groupId(readFileSync(groupFile, 'utf8'), 'adm') : undefined;
  } catch {
    adm = undefined;
  }
  const mode = adm === undefined ? 0o750 : 0o2750;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 }); // (missing parents too: 0755)
    if (root) chownSync(dir, owner.uid, adm ?? owner.gid);
    chmodSync(dir, mode); // after chown: chown clears the set-group-ID bit
  } catch (err) {
    throw new SmarthostError('E_IO', 'io', `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return `${dir} ${mode.toString(8).padStart(4, '0')} (the log directory${adm === undefined ? '' : ', group adm'})`;
}
