/**
 * What the queue code needs from the outside world. main.ts wires the real
 * ones (the smarthost delivery, the main log of lib/report/log.ts, the
 * bounce builder, dead.letter); tests pass fakes. Everything here is data
 * or a function: the queue modules never import the DNS or SMTP code, so
 * -bp and -q with an empty queue stay cheap.
 */
import type { MessageData } from '../data.js';
import type { Attempt, Envelope, Outcome, RecipientResult, RetryRule } from '../types.js';
import type { SpoolHeader, Submitter } from '../store/header.js';
import type { QueueLog } from '../report/mainlog.js';
export type { QueueLog };
import type { LockDeps } from '../store/lock.js';
import type { Later } from '../store/later.js';
import type { HintHost, HintStore } from '../store/hints.js';
import type { Reserve } from '../store/space.js';
import type { SpoolLayout } from '../store/spool.js';


/** What a bounce needs: the failed message and why (RFC 3464 DSN, built by lib/report/bounce.ts). */
export interface FailureReport {
  id: string;
  header: SpoolHeader;
  failed: { recipient: string; reason: string; host?: string }[];
  data: MessageData;
  /** A delay warning instead (warnings.ts): the recipients are still pending, `Action: delayed`; how long, as the subject says it (`24 hours`). */
  delayed?: string;
}

export interface QueueDeps {
  spool: SpoolLayout;
  now: () => number;
  /** A fresh message id (unique in this process). */
  newId: () => string;
  /** Deliver to the smarthost now (route, DNS, SMTP); never throws for delivery problems. */
  deliver: (envelope: Envelope, data: MessageData) => Promise<Outcome>;
  /**
   * Share connections and DNS answers between the deliveries of a queue run
   * (lib/deliver/pool.ts): runQueue calls it once at the start; the function
   * it resolves to closes (QUIT) whatever is still open. Absent: every
   * delivery opens and closes its own connection.
   */
  shareConnections?: () => Promise<() => Promise<void>>;
  /** The retry hints as a queue run keeps them (hints.ts runHintStore); absent: read from db/ at each attempt. */
  hints?: HintStore;
  /**
   * Start the detached deliverer of drop file `id` (-odb, background.ts);
   * resolves once it is started. @throws when it cannot be started (the
   * drop file waits for the next queue run).
   */
  startDeliverer?: (id: string) => void | Promise<void>;
  /** What a submission must leave free in the spool (check_spool_space, check_spool_inodes); absent: no check. */
  reserve?: Reserve;
  /** Ids whose arrival a journal rendered in this run already (journal.ts): their drop files log no second `<=`. */
  arrivals?: Set<string>;
  /** A queue run's background removals (later.ts); absent: removals are synchronous. */
  later?: Later;
  /** The route's hosts and the ports they are tried on, for the retry hints. */
  hosts: HintHost[];
  rules: readonly RetryRule[];
  /** delay_warning (ms; warnings.ts); absent or empty: no delay warnings. */
  delayWarning?: readonly number[];
  log: QueueLog;
  /** Build the DSN for failed recipients. */
  makeBounce: (input: FailureReport) => { envelope: Envelope; data: Buffer };
  /** Append the message to the submitter's dead.letter; resolves to the file written. @throws when impossible */
  deadLetter: (submitter: Submitter, data: MessageData, reason: string) => Promise<string>;
  lock: LockDeps;
  /** Login name of a uid. */
  userName: (uid: number) => string;
  /** Lines for the caller's stderr (only what the caller must know; verbose lines go through `trace`). */
  say: (line: string) => void;
  /** -v/-d chatter. */
  trace: (line: string) => void;
}
