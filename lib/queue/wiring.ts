/**
 * Builds the real {@link QueueDeps} for main.ts from the configuration and
 * the delivery function main owns: the spool layout, ids, the main log, the
 * bounce builder, dead.letter and the lock probes. Nothing here delivers
 * or touches the network.
 */
import { dataBuffer, dataHead, type MessageData } from '../data.js';
import { readFileSync } from 'node:fs';
import { openMainLog, type LogSink } from '../report/log.js';
import { buildBounce, MAX_HEADER_COPY } from '../report/bounce.js';
import { appendDeadLetter } from '../report/dead-letter.js';
import { userNameFromPasswd } from '../store/drop.js';
import { IdAllocator } from '../store/ids.js';
import { realLockDeps } from '../store/lock.js';
import { queueLog } from '../report/mainlog.js';
import { journalLog, teeLog } from '../report/journal-log.js';
import { spoolLayout } from '../store/spool.js';
import type { QueueDeps } from './deps.js';
import type { Config, Envelope, Outcome } from '../types.js';

export interface WireParams {
  config: Config;
  deliver: (envelope: Envelope, data: MessageData) => Promise<Outcome>;
  /** See QueueDeps.shareConnections. */
  /** Start the -odb deliverer of a drop file (lib/queue/detach.ts); absent: no background delivery. */
  startDeliverer?: QueueDeps['startDeliverer'];
  shareConnections?: () => Promise<() => Promise<void>>;
  /** This host's FQDN (Reporting-MTA of bounces). */
  fqdn: string;
  now: () => number;
  /** Login name of this process's user (log lines). */
  user: string;
  say: (line: string) => void;
  trace: (line: string) => void;
  /** Where log lines go when neither log_file_path nor the message's journal can be written. */
  logFallback: LogSink;
  /** This process's uid (dead.letter is only written by the submitter's own process). */
  uid: number;
}

/** The header block of a message (up to the first empty line), at most MAX_HEADER_COPY bytes. */
export function headerBlock(data: MessageData): string {
  const head = dataHead(data, MAX_HEADER_COPY + 4).toString('utf8');
  const m = /\r?\n\r?\n/.exec(head);
  return m ? head.slice(0, m.index) : head.slice(0, MAX_HEADER_COPY);
}

/** Home directory of `uid` from passwd(5) text (pure); undefined when absent. */
export function homeFromPasswd(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && f[2] !== '' && Number(f[2]) === uid && f[5]) return f[5];
  }
  return undefined;
}

/** The reply code at the start of a reason such as `550 5.1.1 no such user`. */
const replyCode = (reason: string): number | undefined => {
  const m = /^([245]\d\d)[ -]/.exec(reason);
  return m ? Number(m[1]) : undefined;
};

/** Every id this process handed out (one process may submit many messages, e.g. with -bs). */
const usedIds = new Set<string>();

export function queueDeps(p: WireParams): QueueDeps {
  let passwd: string | undefined;
  const readPasswd = (): string => {
    try {
      passwd ??= readFileSync('/etc/passwd', 'utf8');
    } catch {
      passwd = '';
    }
    return passwd;
  };
  const userName = (uid: number): string => userNameFromPasswd(readPasswd(), uid);
  const ids = new IdAllocator(process.pid, p.now, undefined, usedIds);
  const spool = spoolLayout(p.config.spoolDirectory);
  // the main log; what this process cannot write there (not the spool owner) goes to the message's journal
  let failedLine: string | undefined;
  const main = queueLog(openMainLog(p.config.logFilePath, (line) => (failedLine = line)), p.now, p.user);
  const mainFailed = (): string | undefined => {
    const line = failedLine;
    failedLine = undefined;
    return line;
  };
  return {
    spool,
    reserve: { space: p.config.checkSpoolSpace, inodes: p.config.checkSpoolInodes },
    now: p.now,
    newId: () => ids.next(),
    deliver: p.deliver,
    ...(p.shareConnections ? { shareConnections: p.shareConnections } : {}),
    ...(p.startDeliverer ? { startDeliverer: p.startDeliverer } : {}),
    hosts: p.config.route?.hosts.map((h) => ({ name: h.name, port: h.port ?? p.config.port })) ?? [],
    rules: p.config.retryRules,
    delayWarning: p.config.delayWarning,
    log: teeLog(main, journalLog(spool, p.now), mainFailed, p.logFallback),
    makeBounce: (r) => {
      const b = buildBounce({
        id: r.id,
        originalSender: r.header.sender,
        originalRecipients: [...r.header.done.map((d) => d.recipient), ...r.header.recipients],
        failed: r.failed.map((f) => {
          const code = replyCode(f.reason);
          return { recipient: f.recipient, reason: f.reason, ...(code !== undefined ? { code } : {}), ...(f.host ? { remoteMta: f.host } : {}), ...(r.delayed ? { action: 'delayed' as const } : {}) };
        }),
        ...(r.delayed ? { delayedFor: r.delayed } : {}),
        originalHeaders: headerBlock(r.data),
        reportingMta: p.fqdn,
        arrival: new Date(r.header.arrival),
        now: new Date(p.now()),
        messageIdDomain: p.fqdn,
      });
      return { envelope: b.envelope, data: b.data };
    },
    // Only the submitter's own process writes its dead.letter: a root queue run writing into a
    // user's home could be tricked (links) into creating or chowning files elsewhere. A queue
    // run therefore refuses, and the message is frozen for the administrator instead.
    deadLetter: async (submitter, data) => {
      if (submitter.uid !== p.uid) throw new Error(`only ${submitter.user}'s own process writes its dead.letter`);
      const home = homeFromPasswd(readPasswd(), submitter.uid);
      if (home === undefined) throw new Error(`no home directory for ${submitter.user}`);
      return appendDeadLetter(home, { sender: '', data: dataBuffer(data), at: new Date(p.now()) });
    },
    lock: realLockDeps(),
    userName,
    say: p.say,
    trace: p.trace,
  };
}
