/**
 * The last resort for locally submitted mail that cannot be bounced (no
 * usable sender): append it to `dead.letter` in the submitter's home
 * directory, as sendmail does, in mbox form so that `mail -f ~/dead.letter`
 * reads it.
 *
 * The entry is the mboxrd form: a `From <sender> <asctime>` separator line,
 * the message with LF line ends and every line matching `>*From ` quoted with
 * one more `>`, then a blank line. It is written with one append and fsynced
 * before the function returns, so the caller may then remove its own copy.
 */
import { constants } from 'node:fs';
import { join } from 'node:path';
import { SmarthostError } from '../errors.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** asctime(3) in local time, as mbox separator lines use it: `Sat Nov 28 13:02:38 2026`. */
export function asctime(d: Date): string {
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

const REASONS: Record<string, string> = {
  ELOOP: 'it is a symbolic link',
  ENOTREG: 'not a regular file',
  EISDIR: 'not a regular file',
  ENXIO: 'not a regular file', // a FIFO without a reader (opened with O_NONBLOCK)
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'no such directory',
  ENOTDIR: 'no such directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
};

/**
 * One mbox entry (pure). The sender in the separator line is
 * `MAILER-DAEMON` for the null sender, and never contains white space.
 */
export function mboxEntry(sender: string, data: Buffer, at: Date): Buffer {
  const from = sender === '' ? 'MAILER-DAEMON' : sender.replace(/\s/g, '_');
  const text = data.toString('latin1').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
  const body = text.endsWith('\n') ? text : `${text}\n`;
  return Buffer.concat([Buffer.from(`From ${from} ${asctime(at)}\n`, 'utf8'), Buffer.from(body, 'latin1'), Buffer.from('\n')]);
}

/**
 * Append the message to `<home>/dead.letter` (created with mode 0600; a
 * symbolic link or anything but a regular file there is refused). Returns the
 * path written.
 *
 * @throws SmarthostError E_IO (kind 'io') `cannot save the message in <path>: <reason>`
 *   — the caller must then keep the message (it is not saved anywhere).
 */
export async function appendDeadLetter(home: string, p: { sender: string; data: Buffer; at: Date }): Promise<string> {
  const path = join(home, 'dead.letter');
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0);
  let fh;
  try {
    // node:fs/promises when needed: loading it (readline and more) costs every queue command start-up time
    fh = await process.getBuiltinModule('node:fs/promises').open(path, flags, 0o600);
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    const entry = mboxEntry(p.sender, p.data, p.at);
    // appendFile loops over short writes; O_APPEND puts every write at the end.
    await fh.appendFile(entry);
    await fh.sync();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = REASONS[err.code ?? ''] ?? err.message;
    throw new SmarthostError('E_IO', 'io', `cannot save the message in ${path}: ${why}`, { cause: e });
  } finally {
    await fh?.close().catch(() => undefined);
  }
  return path;
}
