/**
 * `send-smarthost check`'s walk over a resolved route: every address of
 * every host, in the order delivery tries them, opened with the session
 * delivery uses (connect, greeting, EHLO, STARTTLS, certificate checks,
 * AUTH when configured), then QUIT: no MAIL is ever sent. Unlike delivery it
 * does not stop at the first address that works. The session comes in
 * through `deps` (the real one is wired in lib/main.ts), so this is tested
 * with fakes too.
 */
import type { CheckHost } from '../check-report.js';
import { SmarthostError } from '../errors.js';
import type { Resolved } from '../types.js';
import type { Target } from './deliver.js';
import { describeAddress, describeHost } from './probe-report.js';
import { newSessionFacts, type SessionFacts } from './session-facts.js';
import type { Session } from './smtp.js';

export interface ProbeDeps {
  /** Open a session to one address exactly as delivery would, filling `facts`. */
  openSession(target: Target, facts: SessionFacts): Promise<Session>;
  /** The clock (ms): elapsed times and the days a certificate has left. */
  now(): number;
  /** delivery_timeout: once aborted, the addresses not yet tried are reported as not tried. */
  signal?: AbortSignal;
}

const asSmarthostError = (err: unknown): SmarthostError =>
  err instanceof SmarthostError ? err : new SmarthostError('E_INTERNAL', 'temp', `unexpected error: ${err instanceof Error ? err.message : String(err)}`, { cause: err });

/** Open, report and QUIT a session to every address of `hosts`, one after the other. */
export async function probeHosts(hosts: readonly Resolved[], deps: ProbeDeps): Promise<CheckHost[]> {
  const out: CheckHost[] = [];
  for (const host of hosts) {
    const port = host.port ?? 25;
    const addresses = [];
    for (const address of host.addresses) {
      const facts = newSessionFacts();
      const start = deps.now();
      let error: SmarthostError | undefined;
      if (deps.signal?.aborted) {
        const why = (deps.signal.reason as Error).message;
        error = new SmarthostError('E_TIMEOUT', 'temp', `${host.canonical} [${address.address}]:${port}: not tried: ${why}`, { host: host.queried, address: address.address, stage: 'connect' });
      } else {
        try {
          const session = await deps.openSession({ resolved: host, address }, facts);
          await session.quit();
        } catch (err) {
          error = asSmarthostError(err);
        }
      }
      addresses.push(describeAddress({ host, address, facts, error, elapsedMs: deps.now() - start }, deps.now()));
    }
    out.push(describeHost(host, port, addresses));
  }
  return out;
}
