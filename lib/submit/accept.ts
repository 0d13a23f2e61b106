/**
 * From input to a submission: the aliases of system_aliases_file (read
 * before any input: a broken file is a configuration error, 78), then for a
 * piped message the envelope from the command line and headers (-t),
 * hygiene (Date, Message-ID, From when missing; CRLF; over-long lines) and
 * alias expansion. Shared by the fast submission path (lib/fast.ts) and the
 * full program (lib/main.ts).
 */
import { systemAliases } from './aliases-load.js';
import { applyAliases } from './alias-expand.js';
import { prepareMessage } from './message.js';
import { finishMessage } from './finish.js';
import { randomBytes } from './random.js';
import type { Tracer } from '../report/trace.js';
import type { Config, Envelope, Invocation } from '../types.js';

export interface Acceptor {
  qualifyDomain: string;
  fqdn: string;
  /** The envelope with system aliases applied. */
  alias: (e: Envelope) => Envelope;
}

export async function acceptor(config: Config, fqdn: string, tracer: Tracer, warn: (line: string) => void): Promise<Acceptor> {
  const aliases = await systemAliases(config.systemAliasesFile);
  const qualifyDomain = config.qualifyDomain ?? fqdn;
  return { qualifyDomain, fqdn, alias: (e) => applyAliases(e, aliases, { qualifyDomain, fqdn, tracer, warn }) };
}

/** A piped message (-bm) as it is submitted. @throws SmarthostError for bad addresses, headers, no recipients */
export function acceptPiped(raw: Buffer, inv: Invocation, a: Acceptor, user: string, tracer: Tracer): { envelope: Envelope; data: Buffer } {
  const prepared = prepareMessage(raw, inv, { qualifyDomain: a.qualifyDomain, user });
  const { envelope, data, notes } = finishMessage(prepared, inv, { qualifyDomain: a.qualifyDomain, fqdn: a.fqdn, now: new Date(), random: randomBytes(8) });
  for (const text of notes) tracer({ type: 'note', text });
  return { envelope: a.alias(envelope), data };
}
