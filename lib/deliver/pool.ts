/**
 * Connection reuse within a queue run (RFC 5321 §4.1.1.5, §3.8 of RFC 2920
 * for the pipelined transactions on it): after a message's transaction has
 * ended cleanly, its session stays open, keyed by (queried host, address,
 * port), and the next message to the same place gets it after an RSET
 * instead of a new TCP+TLS+EHLO(+AUTH) setup. Each message is
 * still its own transaction and its own delivery: the caller updates the
 * spool after each one, so reuse changes no per-message guarantee.
 *
 * After a transaction that ended with the reply to its data the next MAIL
 * follows directly (the server's state is already reset, RFC 5321 §4.1.4);
 * after one that did not (every recipient refused) RSET comes first, as
 * nodemailer's own pool does. A session that fails is dropped: a failed
 * RSET means "open a fresh one"; a reused session whose connection turns
 * out to be gone before any of the message was sent (closed, 421 to MAIL or
 * RCPT) sends the message once more on a fresh connection, so nothing is
 * sent twice. At most {@link MAX_MESSAGES_PER_CONNECTION} messages go over one
 * connection (Exim's connection_max_messages default). `close()` sends QUIT
 * on whatever is idle; the caller must call it at the end of the run.
 */
import type { MessageData } from '../data.js';
import { SmarthostError } from '../errors.js';
import type { Tracer } from '../report/trace.js';
import type { Target } from './deliver.js';
import type { SendResult, Session } from './smtp.js';
import type { Envelope } from '../types.js';

/** Messages per connection before it is closed and a new one opened (Exim: connection_max_messages = 500). */
export const MAX_MESSAGES_PER_CONNECTION = 500;

export interface SessionPool {
  /**
   * A session to `target` for one message: an idle one after a successful
   * RSET, bound to `signal`, else a new one from `fresh`.
   * @throws what `fresh` throws (the connection could not be set up)
   */
  open(target: Target, fresh: () => Promise<Session>, signal?: AbortSignal): Promise<Session>;
  /** The message is done with `session`: keep it for the next message when `reusable`, else QUIT it. */
  release(session: Session, reusable: boolean): Promise<void>;
  /** QUIT every idle session (end of the run). */
  close(): Promise<void>;
  /** Connections opened so far. */
  readonly opened: number;
}

/** The pool's key for a target (pure). */
export const poolKey = (t: Target): string => `${t.resolved.queried.toLowerCase()} [${t.address.address}]:${t.resolved.port ?? ''}`;

/**
 * Whether an error says the connection is gone (pure): temporary and about
 * the connection (closed, protocol, 421) rather than about the message.
 * The pool retries only when, besides, the server never said 354 (no byte
 * of the message was sent).
 */
export function connectionLost(err: unknown): boolean {
  if (!(err instanceof SmarthostError) || err.kind !== 'temp') return false;
  return err.code === 'E_CONNECT' || err.code === 'E_PROTOCOL' || err.detail.responseCode === 421;
}

/** A session as the pool hands it out; `inner` is the real one, replaced when a reused one is lost. */
class Pooled implements Session {
  constructor(
    public inner: Session,
    public readonly key: string,
    /** Messages sent (or being sent) on `inner`. */
    public used: number,
    public reused: boolean,
    public fresh: () => Promise<Session>,
    private readonly pool: { opened: number; tracer: Tracer },
  ) {}
  get tls() {
    return this.inner.tls;
  }
  get extensions() {
    return this.inner.extensions;
  }
  async send(envelope: Envelope, data: MessageData): Promise<SendResult> {
    try {
      return await this.inner.send(envelope, data);
    } catch (err) {
      if (!this.reused || this.inner.dataStarted !== false || !connectionLost(err)) throw err;
      this.pool.tracer({ type: 'note', text: `${this.key}: the reused connection failed (${(err as Error).message}): sending again on a new connection` });
      this.inner.close?.();
      this.reused = false;
      this.used = 1;
      this.inner = await this.fresh();
      this.pool.opened++;
      return await this.inner.send(envelope, data);
    }
  }
  quit(): Promise<void> {
    return this.inner.quit();
  }
}

/** A pool for one queue run. */
export function sessionPool(tracer: Tracer, maxMessages = MAX_MESSAGES_PER_CONNECTION): SessionPool {
  const idle = new Map<string, Pooled[]>();
  const state = { opened: 0, tracer };
  return {
    get opened() {
      return state.opened;
    },
    async open(target, fresh, signal) {
      const key = poolKey(target);
      const list = idle.get(key) ?? [];
      for (let s = list.pop(); s !== undefined; s = list.pop()) {
        if (!s.inner.open || !s.inner.reset) {
          s.inner.close?.();
          continue;
        }
        s.inner.use?.(signal);
        try {
          if (!s.inner.clean) await s.inner.reset();
        } catch (err) {
          tracer({ type: 'note', text: `${key}: RSET failed (${(err as Error).message}): opening a new connection` });
          s.inner.close?.();
          continue;
        }
        s.used++;
        s.reused = true;
        s.fresh = fresh;
        tracer({ type: 'note', text: `${key}: reusing the connection (message ${s.used} on it)` });
        return s;
      }
      const inner = await fresh();
      state.opened++;
      return new Pooled(inner, key, 1, false, fresh, state);
    },
    async release(session, reusable) {
      if (!(session instanceof Pooled)) return session.quit();
      const s = session.inner;
      if (!reusable || !s.open || !s.reset || !s.use || session.used >= maxMessages) return s.quit();
      s.use(undefined); // idle: no message's deadline applies any more
      const list = idle.get(session.key) ?? [];
      list.push(session);
      idle.set(session.key, list);
    },
    async close() {
      const all = [...idle.values()].flat();
      idle.clear();
      await Promise.all(all.map((s) => s.inner.quit()));
    },
  };
}
