/**
 * The DNS wire codec: the only module of lib/ that imports dns2, and it uses
 * nothing from dns2 but `Packet` (the shipped bundle maps `dns2` to a module
 * that exports only `{ Packet }`, see build.mjs). Everything here is pure:
 * build a query, decide whether a message answers it, and turn the answer
 * section into plain {@link DnsRecord}s.
 *
 * Every message decoded here is untrusted network data.
 */
import dns2 from 'dns2';
import { SmarthostError } from '../errors.js';
import type { Tracer } from '../report/trace.js';

/** dns2's message codec (RFC 1035 §4). */
export const Packet = dns2.Packet;
/** A decoded DNS message. */
export type DnsMessage = InstanceType<typeof dns2.Packet>;

/** The record types send-smarthost asks for. */
export type RrType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'TLSA';

/** Their type codes (dns2 has no name for TLSA, RFC 6698 §7.1: 52). */
const TYPE_CODE: Readonly<Record<RrType, number>> = { A: 1, AAAA: 28, CNAME: 5, MX: 15, TLSA: 52 };

/** A TLSA record's fields (RFC 6698 §2.1). */
export interface TlsaData {
  /** 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE. */
  usage: number;
  /** 0 the whole certificate, 1 its SubjectPublicKeyInfo. */
  selector: number;
  /** 0 exact match, 1 SHA-256, 2 SHA-512. */
  mtype: number;
  /** The certificate association data, lower-case hex. */
  data: string;
}

/** One answer record, normalised: names lowercased, no trailing dot. */
export interface DnsRecord {
  name: string;
  /** 'A' | 'AAAA' | 'CNAME' | 'MX', or dns2's name of any other type ('TXT', 'TYPE52'). */
  type: RrType | (string & {});
  ttl: number;
  /** The address (A/AAAA), the target (CNAME) or the exchange (MX; '' for the root, i.e. a null MX). */
  data: string;
  /** MX preference. */
  priority?: number;
  /** A TLSA record's fields (`data` is then the record in presentation form, `3 1 1 ab…`). */
  tlsa?: TlsaData;
}

/** What one server said to one query. */
export interface DnsResponse {
  rcode: number;
  rcodeName: string;
  aa: boolean;
  tc: boolean;
  /**
   * AD: the (validating) resolver says the answer is DNSSEC-authenticated
   * (RFC 4035 §3.2.3). We do not validate ourselves; this bit is only as
   * good as the path to the resolver (dns_servers should be local).
   */
  ad: boolean;
  answers: DnsRecord[];
  /** The server that answered, as `address` or `address:port` / `[v6]:port`. */
  server: string;
}

/**
 * A DNS query function: the transport of lib/dns.ts, or a fake in tests.
 * `tracer`, when given, receives this query's transport events instead of
 * the transport's own tracer (so a caller can keep parallel traces ordered).
 * @throws SmarthostError E_DNS_TIMEOUT / E_DNS_SERVFAIL (temp) when no server gave a usable answer.
 */
export type DnsQuery = (name: string, rrtype: RrType, tracer?: Tracer) => Promise<DnsResponse>;

/** Advertised EDNS0 UDP payload size (RFC 6891 §6.2.5; 1232 per DNS flag day 2020). */
export const EDNS_UDP_PAYLOAD = 1232;

const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

/** Name of a response code ('RCODE9' for one we do not name). */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** Lowercase a domain name and drop one trailing dot. */
export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/**
 * Encode a recursive (RD=1) query for `name`/`rrtype` class IN with an EDNS0
 * OPT record advertising {@link EDNS_UDP_PAYLOAD} bytes. With `dnssec` the
 * DO bit is set (RFC 3225) and AD too (RFC 6840 §5.7), so a validating
 * resolver says whether the answer is authenticated (Exim's
 * dnssec_request_domains).
 * @throws SmarthostError E_DNS_NXDOMAIN (perm) when `name` cannot be a DNS name (label over 63 octets, name over 255).
 */
export function encodeQuery(id: number, name: string, rrtype: RrType, dnssec = false): Buffer {
  const q = new Packet();
  q.header = new Packet.Header({ id, rd: 1, ...(dnssec ? { ad: 1 } : {}) } as ConstructorParameters<typeof Packet.Header>[0]);
  q.questions.push(new Packet.Question(normalizeName(name), TYPE_CODE[rrtype], Packet.CLASS.IN));
  q.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: EDNS_UDP_PAYLOAD, doFlag: dnssec }));
  try {
    return q.toBuffer();
  } catch (e) {
    throw new SmarthostError('E_DNS_NXDOMAIN', 'perm', `invalid DNS name "${name}": ${(e as Error).message}`, { cause: e });
  }
}

/** Decode a message; undefined when it is not a DNS message at all. */
export function decodeMessage(buf: Buffer): DnsMessage | undefined {
  try {
    return Packet.parse(buf);
  } catch {
    return undefined;
  }
}

const REJECTING = new Set([1, 4, 5]); // FORMERR, NOTIMP, REFUSED

/**
 * Does `msg` answer our query? It must be a response (QR=1) with our id and
 * echo our question: same name (case-insensitively, RFC 4343), type and class
 * IN (RFC 5452 §9.1). A FORMERR/NOTIMP/REFUSED reply may omit the question
 * (RFC 6891 §7), so one with no question but our id is accepted too.
 */
export function answersQuery(msg: DnsMessage, id: number, name: string, rrtype: RrType): boolean {
  if (msg.header.qr !== 1 || msg.header.id !== id) return false;
  if (msg.questions.length === 0) return REJECTING.has(msg.header.rcode);
  if (msg.questions.length !== 1) return false;
  const [q] = msg.questions;
  return (
    normalizeName(q!.name) === normalizeName(name) && q!.type === TYPE_CODE[rrtype] && q!.class === Packet.CLASS.IN
  );
}

/** True when some answer record could not be decoded (the message is not to be trusted). */
export function hasBrokenAnswers(msg: DnsMessage): boolean {
  return msg.errors.some((e) => e.section === 'questions' || e.section === 'answers');
}

/**
 * A TLSA record's RDATA (RFC 6698 §2.1): usage, selector and matching type
 * octets, then the association data; undefined when shorter than that (a
 * broken record, ignored). Pure.
 */
export function decodeTlsa(rdata: Buffer): TlsaData | undefined {
  if (rdata.length < 4) return undefined;
  return { usage: rdata[0]!, selector: rdata[1]!, mtype: rdata[2]!, data: rdata.subarray(3).toString('hex') };
}

/** A TLSA record in presentation form: `3 1 1 ab12…`. */
export const tlsaText = (t: TlsaData): string => `${t.usage} ${t.selector} ${t.mtype} ${t.data}`;

/** The answer section as {@link DnsRecord}s (class IN only), plus the header facts. */
export function toDnsResponse(msg: DnsMessage, server: string): DnsResponse {
  const answers: DnsRecord[] = [];
  for (const rr of msg.answers) {
    if (rr.class !== Packet.CLASS.IN) continue;
    const type = rr.type === TYPE_CODE.TLSA ? 'TLSA' : Packet.typeName(rr.type);
    const rec: DnsRecord = { name: normalizeName(rr.name), type, ttl: rr.ttl, data: '' };
    if (type === 'A' || type === 'AAAA') rec.data = (rr.address ?? '').toLowerCase();
    else if (type === 'CNAME') rec.data = normalizeName(rr.domain ?? '');
    else if (type === 'MX') {
      rec.data = normalizeName(rr.exchange ?? '');
      rec.priority = rr.priority ?? 0;
    } else if (type === 'TLSA') {
      const tlsa = Buffer.isBuffer(rr.data) ? decodeTlsa(rr.data) : undefined;
      if (!tlsa) continue; // too short to be a TLSA record: not a usable one
      rec.tlsa = tlsa;
      rec.data = tlsaText(tlsa);
    }
    answers.push(rec);
  }
  const { rcode, aa, tc } = msg.header;
  const ad = (msg.header as { ad?: number }).ad; // decoded by dns2, missing from its typings
  return { rcode, rcodeName: rcodeName(rcode), aa: aa === 1, tc: tc === 1, ad: ad === 1, answers, server };
}
