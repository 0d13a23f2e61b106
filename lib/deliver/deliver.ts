/**
 * Delivery over a resolved route: hosts in route order, then each host's
 * addresses in order. A session failure (connect, TLS, 4xx before RCPT) moves
 * on to the next address; per-recipient 4xx replies stay pending for the next
 * address; a 5xx fails that recipient for good. The session itself comes in
 * through `deps`, so this module is tested with fakes.
 */
import type { MessageData } from '../data.js';
import { SmarthostError } from '../errors.js';
import type { Attempt, Envelope, Outcome, RecipientResult, Resolved, ResolvedAddress, Stage } from '../types.js';
import type { Tracer } from '../report/trace.js';
import type { Session } from './smtp.js';

export interface Target {
  resolved: Resolved;
  address: ResolvedAddress;
}

export interface DeliverDeps {
  /** Open a session to one address of one host (connect, EHLO, STARTTLS). */
  openSession(target: Target): Promise<Session>;
  /**
   * The transaction on `session` is over (`reusable`: it ended cleanly, the
   * session may carry another message, see pool.ts). Default: QUIT.
   */
  releaseSession?(session: Session, reusable: boolean): Promise<void>;
  tracer: Tracer;
  /** delivery_timeout: once aborted, no further address is tried and what is pending is deferred. */
  signal?: AbortSignal;
}

export interface DnsFailure {
  name: string;
  error: SmarthostError;
}

/** Decide the overall outcome from per-recipient results (pure). */
export function overallResult(results: RecipientResult[]): Outcome['result'] {
  if (results.some((r) => r.result === 'deferred')) return 'deferred';
  if (results.some((r) => r.result === 'failed')) return 'failed';
  return 'delivered';
}

/**
 * Deliver `data` to every recipient of `envelope` through `hosts`.
 * Never throws for delivery problems: they are in the Outcome.
 */
export async function deliver(envelope: Envelope, data: MessageData, hosts: Resolved[], dnsFailures: DnsFailure[], deps: DeliverDeps): Promise<Outcome> {
  const attempts: Attempt[] = [];
  const done = new Map<string, RecipientResult>();
  let pending = [...envelope.recipients];
  let lastReason = '';
  let anyTemp = dnsFailures.some((f) => f.error.kind === 'temp');
  for (const f of dnsFailures) lastReason = f.error.message;

  outer: for (const host of hosts) {
    for (const address of host.addresses) {
      if (pending.length === 0) break outer;
      if (deps.signal?.aborted) {
        lastReason = `${(deps.signal.reason as Error).message}; not tried: ${host.canonical} [${address.address}] and any later address`;
        anyTemp = true;
        break outer;
      }
      const port = host.port ?? 25;
      const record = (stage: Stage, result: Attempt['result'], reason: string, tls?: Attempt['tls']) => {
        const a: Attempt = { queried: host.queried, canonical: host.canonical, address: address.address, port, stage, result, reason, tls };
        attempts.push(a);
        deps.tracer({ type: 'attempt', queried: a.queried, canonical: a.canonical, address: a.address, stage, result, reason });
      };
      let session: Session;
      try {
        session = await deps.openSession({ resolved: host, address });
      } catch (err) {
        const e = asSmarthostError(err);
        lastReason = e.message;
        if (e.kind === 'temp') anyTemp = true;
        record(stageOf(e), 'deferred', e.message);
        // the server refused the credentials: its other addresses hold the same account (no lockouts)
        if (e.code === 'E_AUTH' && (e.detail.responseCode ?? 0) >= 500) continue outer;
        continue;
      }
      const tls = session.tls ? { ...session.tls, verified: true } : undefined;
      let reusable = false;
      try {
        const res = await session.send({ ...envelope, recipients: pending }, data);
        reusable = true;
        for (const r of res.accepted) done.set(key(r), { recipient: r, result: 'delivered', reason: res.response, host: host.queried });
        const stillPending: string[] = [];
        for (const rej of res.rejected) {
          if (rej.code >= 500) {
            done.set(key(rej.recipient), { recipient: rej.recipient, result: 'failed', reason: rej.response, host: host.queried });
          } else {
            stillPending.push(rej.recipient);
            lastReason = `${host.canonical} [${address.address}]: ${rej.response}`;
            anyTemp = true;
          }
        }
        pending = pending.filter((r) => !done.has(key(r)));
        // recipients the server neither accepted nor rejected stay pending as well
        if (res.accepted.length > 0) record('done', 'delivered', res.response, tls);
        else record('rcpt', stillPending.length ? 'deferred' : 'failed', res.rejected[0]?.response ?? '', tls);
      } catch (err) {
        const e = asSmarthostError(err);
        lastReason = e.message;
        if (e.code === 'E_EXTENSION') {
          // this server cannot take the message (SIZE, 8BITMIME, SMTPUTF8): another may; if none does, it fails
          record(stageOf(e), 'failed', e.message, tls);
        } else if (e.kind === 'perm') {
          // a 5xx to MAIL FROM or to the end of DATA fails every recipient of the transaction
          for (const r of pending) done.set(key(r), { recipient: r, result: 'failed', reason: e.message, host: host.queried });
          pending = [];
          record(stageOf(e), 'failed', e.message, tls);
        } else {
          anyTemp = true;
          record(stageOf(e), 'deferred', e.message, tls);
        }
      } finally {
        await (deps.releaseSession ? deps.releaseSession(session, reusable) : session.quit());
      }
    }
  }
  const reasonForPending = lastReason || (hosts.length === 0 ? 'no usable host in route_data' : 'no address accepted the message');
  for (const r of pending) {
    done.set(key(r), { recipient: r, result: anyTemp ? 'deferred' : 'failed', reason: reasonForPending });
  }
  const recipients = envelope.recipients.map((r) => done.get(key(r))!);
  return { result: overallResult(recipients), recipients, attempts };
}

const key = (addr: string): string => {
  const at = addr.lastIndexOf('@');
  return at < 0 ? addr : addr.slice(0, at) + '@' + addr.slice(at + 1).toLowerCase();
};

function asSmarthostError(err: unknown): SmarthostError {
  if (err instanceof SmarthostError) return err;
  return new SmarthostError('E_INTERNAL', 'temp', `unexpected error: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function stageOf(e: SmarthostError): Stage {
  if (e.detail.stage) return e.detail.stage;
  if (e.code.startsWith('E_TLS')) return 'starttls';
  if (e.code === 'E_CONNECT') return 'connect';
  return 'mail';
}
