/**
 * The queue's log events → the main log's Exim-shaped lines
 * (lib/report/log.ts). The only place that knows both vocabularies.
 */
import { arrivalLine, completedLine, deferErrno, deferralLine, deliveryLine, EXIM_ERRNO, failureLine, frozenLine, messageLine, queueRunLine, removedLine, spoolLine, unfrozenLine, type LogHost, type LogSink } from './log.js';
import { HELD_BACK } from '../store/hints.js';
import type { SpoolHeader } from '../store/header.js';
import type { ErrorCode } from '../errors.js';
import type { Attempt, RecipientResult } from '../types.js';

/** The main log, event by event (lib/report/log.ts formats them in Exim's shape). */
export interface QueueLog {
  /** `<=`: a message arrived (submission, drop file accepted, bounce created with `bounceOf`). */
  arrival(h: SpoolHeader, info?: { bounceOf?: string }): void;
  /** `=>`, `==`, `**`: one recipient's result, with the attempt that decided it when there was one. */
  recipient(id: string, r: RecipientResult, attempt: Attempt | undefined): void;
  /** `Completed`: the message left the queue (or needed none). */
  completed(id: string): void;
  /** Any other line about a message (`removed by root`, `frozen: …`, `queued: …`). */
  note(id: string, text: string): void;
  /** A damaged, misnamed or planted spool file and what became of it (`id` when its name is a message id). */
  spoolFile(text: string, id?: string): void;
  /** `Start queue run` / `End queue run` (flags such as `-qf`). */
  queueRun(event: 'Start' | 'End', flags?: string): void;
  /** The same log, its lines stamped with time `t` (ms) instead of now (a journal's events, replayed). */
  at(t: number): QueueLog;
}


const hostOf = (a: Attempt): LogHost => ({ canonical: a.canonical, address: a.address, port: a.port, queried: a.queried });

/** The reason without the `canonical [address]:port: ` prefix the H= field already shows. */
const bareReason = (reason: string, a: Attempt | undefined): string => {
  const prefix = a ? `${a.canonical} [${a.address}]:${a.port}: ` : undefined;
  return prefix && reason.startsWith(prefix) ? reason.slice(prefix.length) : reason;
};

/** The `defer (n)` number for a deferral, from where the attempt ended (Exim's errno values). */
export function errnoOf(a: Attempt | undefined, reason: string): number {
  if (reason === HELD_BACK) return EXIM_ERRNO.HRETRY;
  if (!a) return EXIM_ERRNO.UNKNOWN;
  const sysCode = /\b(E[A-Z]{3,})\b/.exec(a.reason)?.[1];
  const code: ErrorCode =
    a.stage === 'connect' ? (/timed? ?out/i.test(a.reason) ? 'E_TIMEOUT' : 'E_CONNECT') : a.stage === 'starttls' ? 'E_TLS' : a.stage === 'dns' ? 'E_DNS_SERVFAIL' : 'E_SMTP_TEMP';
  return deferErrno({ code, stage: a.stage, ...(sysCode ? { sysCode } : {}) });
}

/** A QueueLog writing to `sink`; `now` stamps the lines. */
export function queueLog(sink: LogSink, now: () => number, user: string): QueueLog {
  const at = (): Date => new Date(now());
  let lastDelivered: { id: string; attempt: Attempt } | undefined;
  const log: QueueLog = {
    arrival(h, info) {
      // stamped with the message's arrival: a drop file's `<=` is written by the run that claims it
      sink(arrivalLine({ at: new Date(Math.min(h.arrival, now())), id: h.id, sender: h.sender, size: h.size, user: h.submitter.user, ...(info?.bounceOf ? { bounceOf: info.bounceOf } : {}) }));
    },
    recipient(id, r, attempt) {
      if (r.result === 'delivered' && attempt) {
        const more = lastDelivered?.id === id && lastDelivered.attempt === attempt;
        lastDelivered = { id, attempt };
        const tls = attempt.tls ? { protocol: attempt.tls.protocol, cipher: attempt.tls.cipher, verified: attempt.tls.verified } : undefined;
        sink(deliveryLine({ at: at(), id, recipient: r.recipient, host: hostOf(attempt), ...(tls ? { tls } : {}), confirmation: attempt.reason, more }));
      } else if (r.result === 'delivered') {
        sink(messageLine({ at: at(), id, text: `=> ${r.recipient}: ${r.reason}` }));
      } else if (r.result === 'deferred') {
        sink(deferralLine({ at: at(), id, recipient: r.recipient, errno: errnoOf(attempt, r.reason), reason: bareReason(r.reason, attempt), ...(attempt ? { host: hostOf(attempt) } : {}) }));
      } else {
        sink(failureLine({ at: at(), id, recipient: r.recipient, reason: bareReason(r.reason, attempt), ...(attempt ? { host: hostOf(attempt) } : { routed: attempt !== undefined }) }));
      }
    },
    completed(id) {
      sink(completedLine({ at: at(), id }));
    },
    note(id, text) {
      const removed = /^removed by (.*)$/.exec(text);
      const unfrozen = /^unfrozen by (.*)$/.exec(text);
      const frozen = /^frozen: (.*)$/s.exec(text);
      if (removed) sink(removedLine({ at: at(), id, user: removed[1] ?? user }));
      else if (unfrozen) sink(unfrozenLine({ at: at(), id, user: unfrozen[1] ?? user }));
      else if (frozen) sink(frozenLine({ at: at(), id, reason: frozen[1] }));
      else sink(messageLine({ at: at(), id, text }));
    },
    spoolFile(text, id) {
      sink(spoolLine({ at: at(), ...(id ? { id } : {}), text }));
    },
    queueRun(event, flags) {
      sink(queueRunLine({ at: at(), event, pid: process.pid, ...(flags ? { flags } : {}) }));
    },
    at: (t) => queueLog(sink, () => t, user),
  };
  return log;
}

/**
 * A QueueLog that holds its events until the message's fate is known (an
 * interactive submission, -odi): `flush(arrival)` writes the arrival line
 * first, then what was held, in order; `discard()` drops them (the caller
 * kept the message: it never arrived). So `<=` is logged only once the
 * message is safe (delivered, reported, or queued), before its other lines.
 */
export function heldLog(log: QueueLog): { log: QueueLog; flush(arrival: SpoolHeader): void; discard(): void } {
  let held: ((l: QueueLog) => void)[] = [];
  const hold =
    <A extends unknown[]>(f: (l: QueueLog, ...a: A) => void) =>
    (...a: A): void => {
      held.push((l) => f(l, ...a));
    };
  return {
    log: {
      arrival: hold((l, h: SpoolHeader, info?: { bounceOf?: string }) => l.arrival(h, info)),
      recipient: hold((l, id: string, r: RecipientResult, a: Attempt | undefined) => l.recipient(id, r, a)),
      completed: hold((l, id: string) => l.completed(id)),
      note: hold((l, id: string, text: string) => l.note(id, text)),
      spoolFile: (text, id) => log.spoolFile(text, id),
      queueRun: (event, flags) => log.queueRun(event, flags),
      at: (t) => log.at(t),
    },
    flush(arrival) {
      log.arrival(arrival);
      for (const f of held) f(log);
      held = [];
    },
    discard() {
      held = [];
    },
  };
}
