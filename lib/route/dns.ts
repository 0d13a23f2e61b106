/**
 * The DNS transport: thin I/O that sends one query over UDP (falling back to
 * TCP on truncation) to the configured servers, with our own timeouts and
 * retries. It replaces dns2's clients, which have no TCP timeout, leak
 * sockets, query 127.0.0.1 when given '::1' over TCP and do not check the
 * question of a reply (see shared/reference/deps.md §2). It only moves bytes:
 * NXDOMAIN, NODATA and SERVFAIL come back as responses for lib/resolve.ts to
 * classify.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { isIP } from './ip.js';
import { SmarthostError, configError } from '../errors.js';
import { noTrace, type Tracer } from '../report/trace.js';
import type { NameServer } from '../types.js';
import {
  answersQuery,
  decodeMessage,
  encodeQuery,
  hasBrokenAnswers,
  toDnsResponse,
  type DnsMessage,
  type DnsQuery,
  type DnsResponse,
  type RrType,
} from './dns-packet.js';

export type { DnsQuery, DnsRecord, DnsResponse, RrType } from './dns-packet.js';

export interface DnsTransportOptions {
  /** Servers in the order of resolv.conf; at least one. */
  servers: NameServer[];
  /** Milliseconds to wait for one try (and, separately, for its TCP fallback). */
  timeout: number;
  /**
   * Extra passes over the server list. Each pass tries every server still in
   * play once, in order, so a query makes at most `servers.length * (1 + retries)`
   * tries (glibc's `attempts`, Exim's `dns_retry`). A server that answers
   * REFUSED, FORMERR or NOTIMP, or whose socket fails, is out of play for the
   * rest of that query; one that times out is tried again in the next pass.
   */
  retries: number;
  /** Receives `dns-query` and `dns-truncated` events (a per-call tracer overrides it). */
  tracer?: Tracer;
  /**
   * Ask for DNSSEC: the DO bit and AD in every query (Exim's
   * dnssec_request_domains), so that a validating resolver's AD bit says
   * which answers are authenticated (DANE needs it, RFC 7672 §2.2).
   */
  dnssec?: boolean;
  /** Socket factories, for tests. */
  udp?: (type: 'udp4' | 'udp6') => dgram.Socket;
  tcp?: (opts: net.NetConnectOpts) => net.Socket;
  /** Transaction id source (RFC 5452 §4.3: random over the whole 16 bits). */
  randomId?: () => number;
  /**
   * Ends every exchange in flight when aborted (delivery_timeout): its socket
   * is closed and its timer cleared at once, so the process does not wait
   * out dns_retrans; a query then fails as timed out.
   */
  signal?: AbortSignal;
}

/** How one exchange with one server ended. */
type Outcome =
  | { kind: 'answer'; msg: DnsMessage }
  | { kind: 'timeout' }
  | { kind: 'error'; detail: string };

const REJECTED = new Set(['FORMERR', 'NOTIMP', 'REFUSED']);

const randomId = (): number => crypto.getRandomValues(new Uint16Array(1))[0]!;

const stripScope = (a: string): string => a.replace(/%.*$/, '');

/** How a server is printed: `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`. */
export function serverLabel(s: NameServer): string {
  if (s.port === 53) return s.address;
  return isIP(stripScope(s.address)) === 6 ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`;
}

/** Compare a configured server address with a datagram's source address. */
function sameAddress(configured: string, from: string): boolean {
  const a = stripScope(configured).toLowerCase();
  const b = stripScope(from).toLowerCase();
  if (a === b) return true;
  if (isIP(a) !== 6 || isIP(b) !== 6) return false;
  // WHATWG URL serialises IPv6 canonically (RFC 5952), so '0::1' equals '::1'.
  return new URL(`http://[${a}]/`).hostname === new URL(`http://[${b}]/`).hostname;
}

/**
 * Build the query function over `opts.servers`.
 * @throws SmarthostError E_CONFIG when there is no server, or timeout/retries are not sensible.
 * The returned function throws SmarthostError E_DNS_TIMEOUT (temp) when every
 * try timed out, E_DNS_SERVFAIL (temp) when no server gave a usable answer for
 * another reason (refused, socket error, undecodable answer), and
 * E_DNS_NXDOMAIN (perm) for a name that cannot be encoded.
 */
export function createDnsTransport(opts: DnsTransportOptions): DnsQuery {
  const { servers, timeout, retries } = opts;
  if (servers.length === 0) throw configError('no DNS server to query');
  if (!(timeout > 0)) throw configError(`DNS timeout must be a positive number of milliseconds, got ${timeout}`);
  if (!Number.isInteger(retries) || retries < 0) throw configError(`DNS retries must be a whole number >= 0, got ${retries}`);
  const newId = opts.randomId ?? randomId;
  const udpSocket = opts.udp ?? ((type) => dgram.createSocket(type));
  const tcpSocket = opts.tcp ?? ((o) => net.connect(o));

  async function tryServer(server: NameServer, name: string, rrtype: RrType, tracer: Tracer): Promise<Outcome> {
    const label = serverLabel(server);
    let id = newId();
    const dnssec = opts.dnssec === true;
    const query = encodeQuery(id, name, rrtype, dnssec);
    tracer({ type: 'dns-query', name, rrtype, server: label, transport: 'udp' });
    const udp = await udpExchange(udpSocket, server, query, timeout, (b) => accept(b, id, name, rrtype), opts.signal);
    if (udp.kind !== 'answer' || udp.msg.header.tc !== 1) return udp;
    // RFC 1035 §4.2.1 / RFC 7766 §5: a truncated answer is retried over TCP.
    tracer({ type: 'dns-truncated', name, rrtype });
    id = newId();
    tracer({ type: 'dns-query', name, rrtype, server: label, transport: 'tcp' });
    return tcpExchange(tcpSocket, server, encodeQuery(id, name, rrtype, dnssec), timeout, (b) => accept(b, id, name, rrtype), opts.signal);
  }

  return async (name, rrtype, callTracer) => {
    const tracer = callTracer ?? opts.tracer ?? noTrace;
    const out = new Set<NameServer>();
    const failures: string[] = [];
    let tries = 0;
    let onlyTimeouts = true;
    for (let pass = 0; pass <= retries; pass++) {
      for (const server of servers) {
        if (out.has(server)) continue;
        if (opts.signal?.aborted) break; // the deadline: no further tries
        tries++;
        const o = await tryServer(server, name, rrtype, tracer);
        if (o.kind === 'timeout') {
          failures.push(`${serverLabel(server)} timed out`);
          continue;
        }
        onlyTimeouts = false;
        if (o.kind === 'error') {
          out.add(server);
          failures.push(`${serverLabel(server)} ${o.detail}`);
          continue;
        }
        const res: DnsResponse = toDnsResponse(o.msg, serverLabel(server));
        if (hasBrokenAnswers(o.msg)) {
          failures.push(`${res.server} sent an undecodable answer`);
          continue;
        }
        if (REJECTED.has(res.rcodeName)) {
          out.add(server);
          failures.push(`${res.server} ${res.rcodeName}`);
          continue;
        }
        return res;
      }
    }
    const plural = tries === 1 ? 'try' : 'tries';
    if (onlyTimeouts) {
      const to = servers.map(serverLabel).join(', ');
      throw new SmarthostError('E_DNS_TIMEOUT', 'temp', `DNS query for ${name} (${rrtype}) timed out after ${tries} ${plural} to ${to}`);
    }
    const why = [...new Set(failures)].join('; ');
    throw new SmarthostError('E_DNS_SERVFAIL', 'temp', `DNS query for ${name} (${rrtype}) failed after ${tries} ${plural}: ${why}`);
  };
}

/** Decode a reply and keep it only if it answers our query (else: ignore it, keep waiting). */
function accept(buf: Buffer, id: number, name: string, rrtype: RrType): DnsMessage | undefined {
  const msg = decodeMessage(buf);
  return msg && answersQuery(msg, id, name, rrtype) ? msg : undefined;
}

type Accept = (buf: Buffer) => DnsMessage | undefined;

/** One UDP exchange. Never rejects; the socket and timer are gone when it settles. */
function udpExchange(
  make: (type: 'udp4' | 'udp6') => dgram.Socket,
  server: NameServer,
  query: Buffer,
  timeout: number,
  acceptFn: Accept,
  signal?: AbortSignal,
): Promise<Outcome> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve({ kind: 'timeout' });
      return;
    }
    let sock: dgram.Socket;
    try {
      sock = make(isIP(stripScope(server.address)) === 6 ? 'udp6' : 'udp4');
    } catch (e) {
      resolve({ kind: 'error', detail: errText(e) });
      return;
    }
    let done = false;
    const onAbort = (): void => finish({ kind: 'timeout' });
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.close();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeout);
    signal?.addEventListener('abort', onAbort);
    sock.on('error', (e) => finish({ kind: 'error', detail: errText(e) }));
    sock.on('message', (msg, rinfo) => {
      // Only the server we asked, from the port we asked (RFC 5452 §9.1).
      if (rinfo.port !== server.port || !sameAddress(server.address, rinfo.address)) return;
      const m = acceptFn(msg);
      if (m) finish({ kind: 'answer', msg: m });
    });
    sock.send(query, server.port, server.address, (e) => {
      if (e) finish({ kind: 'error', detail: errText(e) });
    });
  });
}

/** One TCP exchange (RFC 1035 §4.2.2 two-octet length prefix). Never rejects; always destroys the socket. */
function tcpExchange(
  make: (opts: net.NetConnectOpts) => net.Socket,
  server: NameServer,
  query: Buffer,
  timeout: number,
  acceptFn: Accept,
  signal?: AbortSignal,
): Promise<Outcome> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve({ kind: 'timeout' });
      return;
    }
    let sock: net.Socket;
    try {
      sock = make({ host: server.address, port: server.port });
    } catch (e) {
      resolve({ kind: 'error', detail: errText(e) });
      return;
    }
    let done = false;
    let buf: Buffer = Buffer.alloc(0);
    const onAbort = (): void => finish({ kind: 'timeout' });
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeout);
    signal?.addEventListener('abort', onAbort);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) return;
        const m = acceptFn(buf.subarray(2, 2 + n));
        buf = buf.subarray(2 + n);
        if (m) return finish({ kind: 'answer', msg: m });
      }
    });
    sock.on('error', (e) => finish({ kind: 'error', detail: `TCP ${errText(e)}` }));
    sock.on('close', () => finish({ kind: 'error', detail: 'TCP connection closed before an answer' }));
  });
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? err.message ?? String(e);
}
