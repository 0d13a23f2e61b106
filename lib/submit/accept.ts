/**
 * From input to a submission: the aliases of system_aliases_file (read
 * before any input: a broken file is a configuration error, 78), then for a
 * piped message the envelope from the command line and headers (-t),
 * hygiene (Date, Message-ID, From when missing; CRLF; over-long lines) and
 * alias expansion. Shared by the fast submission path (lib/fast.ts) and the
 * full program (lib/main.ts). A message over IN_MEMORY_MAX arrives as a file
 * and leaves as one (large.ts).
 */
import { systemAliases } from './aliases-load.js';
import { applyAliases } from './alias-expand.js';
import { prepareMessage, truncateAtDot } from './message.js';
import { readFileSync, unlinkSync } from 'node:fs';
import { isRawFile, type Input } from './stdin.js';
import { rawHeader, writeLarge } from './large.js';
import { isFileData, type MessageData } from '../data.js';
import { finishMessage } from './finish.js';
import { randomBytes } from './random.js';
import { allowedSender, senderFixups, type SenderPolicy } from './sender-policy.js';
import type { Tracer } from '../report/trace.js';
import type { Config, Envelope, Invocation } from '../types.js';

export interface Acceptor {
  qualifyDomain: string;
  fqdn: string;
  /** The envelope with system aliases applied. */
  alias: (e: Envelope) => Envelope;
  /** Who may set the sender (sender-policy.ts). */
  policy: SenderPolicy;
}

/**
 * What accepting a message needs: the aliases, and the sender policy for
 * this process's user (`user`: its login name; trusted when root, or when
 * trusted_users names the login name of its uid).
 */
export async function acceptor(config: Config, fqdn: string, tracer: Tracer, warn: (line: string) => void, user: string): Promise<Acceptor> {
  const aliases = await systemAliases(config.systemAliasesFile);
  const qualifyDomain = config.qualifyDomain ?? fqdn;
  const policy: SenderPolicy = {
    trusted: isTrusted(config.trustedUsers),
    login: user,
    qualifyDomain,
    untrustedSetSender: config.untrustedSetSender,
    localFromCheck: config.localFromCheck,
    localSenderRetain: config.localSenderRetain,
  };
  return { qualifyDomain, fqdn, alias: (e) => applyAliases(e, aliases, { qualifyDomain, fqdn, tracer, warn }), policy };
}

/** Root, or a user whose login name (looked up by uid, never taken from the environment) is in trusted_users. */
function isTrusted(trustedUsers: readonly string[]): boolean {
  const uid = process.getuid?.();
  if (uid === 0 || uid === undefined) return true;
  if (trustedUsers.length === 0) return false;
  try {
    return trustedUsers.includes(process.getBuiltinModule('node:os').userInfo().username);
  } catch {
    return false;
  }
}

/**
 * A prepared message under the sender policy: the envelope sender it may
 * have, then (after `finish`, which adds a missing From: from that sender)
 * the Sender: fix-ups. Used for piped messages and for -bs.
 */
export function withPolicy<T extends { envelope: Envelope; data: Buffer; notes: string[] }>(
  prepared: { envelope: Envelope; data: Buffer },
  policy: SenderPolicy,
  finish: (p: { envelope: Envelope; data: Buffer }) => T,
): T {
  const s = allowedSender(prepared.envelope.sender, policy);
  const done = finish({ ...prepared, envelope: { ...prepared.envelope, sender: s.sender } });
  const fixed = senderFixups(done.data, policy);
  return { ...done, data: fixed.data, notes: [...done.notes, ...(s.note ? [s.note] : []), ...fixed.notes] };
}

/**
 * A piped message (-bm) read by stdin.ts, as it is submitted: in memory, or
 * in a temporary file in `dir()` (the caller removes it with {@link discard}
 * once the message is delivered or spooled). The raw input file is removed.
 * @throws SmarthostError for bad addresses, headers, no recipients
 */
export function acceptInput(input: Input, inv: Invocation, a: Acceptor, user: string, tracer: Tracer, dir: () => string): { envelope: Envelope; data: MessageData } {
  if (!isRawFile(input)) return acceptPiped(input, inv, a, user, tracer);
  try {
    const { head, bodyStart, separator } = rawHeader(input);
    // a lone '.' in the header section ends the message there (without -i): a small message after all
    if (!inv.ignoreDots && truncateAtDot(head).length < head.length) return acceptPiped(head, inv, a, user, tracer);
    // the header section alone, with the empty line that a body needs after it
    const section = !separator && bodyStart < input.size ? Buffer.concat([head, Buffer.from('\n')]) : head;
    const { envelope, data: header } = acceptPiped(section, inv, a, user, tracer);
    let data;
    try {
      data = writeLarge(input, header, bodyStart, inv.ignoreDots, dir(), bodyStart === 0 || head[bodyStart - 1] === 0x0a);
    } catch (err) {
      // no room for the prepared copy (ENOSPC, EDQUOT): prepared in memory instead, as a small one (issue 9, point 12)
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw err;
      data = undefined;
    }
    // a body line over 998 octets (or a full file system): the body is prepared in memory (large.ts)
    if (!data) return acceptPiped(readFileSync(input.path), inv, a, user, tracer);
    tracer({ type: 'note', text: `${data.size} octets: kept in ${data.path} while it is sent, not in memory` });
    return { envelope, data };
  } finally {
    unlinkSync(input.path);
  }
}

/** Remove the temporary file of a large message once it is delivered or spooled. */
export function discard(data: MessageData): void {
  if (!isFileData(data)) return;
  try {
    unlinkSync(data.path);
  } catch {
    /* gone */
  }
}

/** A piped message (-bm) in memory, as it is submitted. @throws SmarthostError for bad addresses, headers, no recipients */
export function acceptPiped(raw: Buffer, inv: Invocation, a: Acceptor, user: string, tracer: Tracer): { envelope: Envelope; data: Buffer } {
  const prepared = prepareMessage(raw, inv, { qualifyDomain: a.qualifyDomain, user });
  const { envelope, data, notes } = withPolicy(prepared, a.policy, (p) => finishMessage(p, inv, { qualifyDomain: a.qualifyDomain, fqdn: a.fqdn, now: new Date(), random: randomBytes(8) }));
  for (const text of notes) tracer({ type: 'note', text });
  return { envelope: a.alias(envelope), data };
}
