/**
 * Who may set the sender (issue 9, point 9), as Exim does for local
 * submissions (Exim spec: trusted_users, untrusted_set_sender,
 * local_from_check, local_sender_retain). Root and the users named in
 * trusted_users are trusted: their message goes out as given. For anyone
 * else:
 *  - the envelope sender from -f (or MAIL FROM with -bs) is kept only when
 *    untrusted_set_sender allows it (our default `*` allows any, as
 *    Debian's Exim; Exim's own default allows none), else it becomes
 *    `<login>@<qualify_domain>`; the null sender is always allowed;
 *  - a Sender: header the user wrote is removed (unless local_sender_retain);
 *  - when From: is not exactly `<login>@<qualify_domain>`, `Sender:
 *    <login>@<qualify_domain>` is added (local_from_check, default true),
 *    so that the recipient sees who really sent it.
 * Pure.
 */
import { parseAddressList } from './address.js';
import { scanHeaders } from './message.js';

export interface SenderPolicy {
  trusted: boolean;
  login: string;
  qualifyDomain: string;
  untrustedSetSender: readonly string[];
  localFromCheck: boolean;
  localSenderRetain: boolean;
}

/** The submitter's own address: `<login>@<qualify_domain>`. */
export const ownAddress = (p: SenderPolicy): string => `${p.login}@${p.qualifyDomain}`;

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Whether `sender` matches an untrusted_set_sender item: `*`, `*suffix`, `^regex`, or one address. */
export function senderAllowed(sender: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    if (p === '*') return true;
    if (p.startsWith('^')) return new RegExp(p, 'i').test(sender);
    if (p.startsWith('*')) return sender.toLowerCase().endsWith(p.slice(1).toLowerCase());
    return same(p, sender);
  });
}

/** The envelope sender this submitter may use for `requested` (already normalised; '' is the null sender). */
export function allowedSender(requested: string, p: SenderPolicy): { sender: string; note?: string } {
  if (p.trusted || requested === '' || senderAllowed(requested, p.untrustedSetSender)) return { sender: requested };
  return { sender: ownAddress(p), note: `sender <${requested}> not allowed for ${p.login} (untrusted_set_sender): <${ownAddress(p)}>` };
}

/**
 * The header fix-ups for an untrusted submitter (see the module comment),
 * on a prepared message (CRLF line ends, From: present).
 */
export function senderFixups(data: Buffer, p: SenderPolicy): { data: Buffer; notes: string[] } {
  if (p.trusted) return { data, notes: [] };
  const notes: string[] = [];
  let scan = scanHeaders(data);
  if (!p.localSenderRetain) {
    const senders = scan.fields.filter((f) => f.name.toLowerCase() === 'sender');
    if (senders.length > 0) {
      const parts: Buffer[] = [];
      let at = 0;
      for (const f of senders) {
        parts.push(data.subarray(at, f.start));
        at = f.end;
      }
      parts.push(data.subarray(at));
      data = Buffer.concat(parts);
      scan = scanHeaders(data);
      notes.push(`Sender: header of untrusted user ${p.login} removed`);
    }
  }
  if (p.localFromCheck) {
    const from = scan.fields.filter((f) => f.name.toLowerCase() === 'from').map((f) => f.value);
    let addrs: string[] = [];
    try {
      addrs = from.flatMap((v) => parseAddressList(v, { qualifyDomain: p.qualifyDomain }));
    } catch {
      addrs = []; // an unparsable From: is not the user's own
    }
    if (!(addrs.length === 1 && same(addrs[0]!, ownAddress(p)))) {
      const eol = scan.headerEnd > 0 && data[scan.headerEnd - 1] !== 0x0a ? '\r\n' : '';
      const line = Buffer.from(`${eol}Sender: ${ownAddress(p)}\r\n`);
      data = Buffer.concat([data.subarray(0, scan.headerEnd), line, data.subarray(scan.headerEnd)]);
      notes.push(`From: is not ${ownAddress(p)}: Sender: ${ownAddress(p)} added (local_from_check)`);
    }
  }
  return { data, notes };
}
