/**
 * The verdicts of `send-smarthost check`, from what each session showed
 * (SessionFacts) and how it ended: per address (TLS, certificate, which name
 * was verified and how, AUTH, warnings) and for the whole route (deliverable
 * or not, and the exit code a delivery would have). Pure; the document it
 * builds is lib/check-report.ts.
 */
import type { CheckAddress, CheckAuth, CheckCertificate, CheckError, CheckHost, CheckReport, CheckTls, CheckVerification } from '../check-report.js';
import { EX, exitCodeFor, type SmarthostError } from '../errors.js';
import type { Resolved, ResolvedAddress, Stage } from '../types.js';
import { offeredMechanisms } from './auth.js';
import { matchName, type AltName } from './cert-name.js';
import { parseEhlo } from './extensions.js';
import type { SessionFacts } from './session-facts.js';

/** A certificate that expires within this many days gets a warning. */
export const EXPIRY_WARNING_DAYS = 14;
const DAY = 86_400_000;

/** One address tried: what the session showed, and the error that ended it (none: it opened). */
export interface AddressProbe {
  host: Resolved;
  address: ResolvedAddress;
  facts: SessionFacts;
  error?: SmarthostError;
  elapsedMs: number;
}

export const checkError = (e: SmarthostError): CheckError => ({ code: e.code, kind: e.kind, message: e.message });

/** `DNS:a.test` → {type: 'DNS', value: 'a.test'}. */
const altName = (entry: string): AltName => {
  const colon = entry.indexOf(':');
  return { type: entry.slice(0, colon), value: entry.slice(colon + 1) };
};

/**
 * For a certificate that does not name the queried host: does it name where
 * the CNAME chain leads? Then that is the whole story (Exim bug 2594), said
 * with both names.
 */
export function nameHint(host: Resolved, altNames: readonly string[]): string | null {
  const entries = altNames.map(altName);
  const named = [...new Set(host.chain.map((c) => c.target))].filter((n) => matchName(n, entries).ok);
  if (named.length === 0) return null;
  return (
    `the certificate names the CNAME target ${named.join(', ')}, not ${host.queried}: ` +
    `the certificate is checked against the name in route_data, never where its CNAME points; ` +
    `the server needs a certificate that names ${host.queried}, or route_data must name ${named[0]}`
  );
}

function ehloOf(reply: string, secure: boolean) {
  const first = reply.split(/\r?\n/, 1)[0] ?? '';
  return { secure, greeting: first.replace(/^\d{3}[ -]?/, ''), extensions: Object.fromEntries(parseEhlo(reply)) };
}

function tlsOf(f: SessionFacts): CheckTls {
  const mode = f.implicitTls ? 'implicit' : f.starttlsReply !== undefined && f.starttlsReply.startsWith('2') ? 'starttls' : 'none';
  return {
    mode,
    required: f.requireTls === true,
    starttlsOffered: f.starttlsOffered ?? null,
    sni: mode === 'none' ? null : (f.sni ?? null),
    protocol: f.tls?.protocol ?? null,
    cipher: f.tls?.cipher ?? null,
  };
}

function certificateOf(f: SessionFacts, now: number): CheckCertificate | null {
  const c = f.certificate;
  if (!c) return null;
  return { ...c, daysLeft: Math.floor((Date.parse(c.notAfter) - now) / DAY) };
}

function verificationOf(p: AddressProbe, tls: CheckTls): CheckVerification | null {
  const f = p.facts;
  if (tls.mode === 'none') return null;
  const chain = f.chainError !== undefined ? 'refused' : f.tls ? 'trusted' : 'not-reached';
  const check = f.nameCheck;
  const nameCheck = check ? (check.ok ? 'matched' : 'mismatch') : f.verifyNames === false ? 'skipped' : 'not-reached';
  return {
    method: 'pkix',
    chain,
    chainError: f.chainError ?? null,
    names: [check?.name ?? p.host.queried],
    nameCheck,
    matched: check?.matched ?? null,
    reason: check && !check.ok ? (check.reason ?? null) : null,
    hint: nameCheck === 'mismatch' && f.certificate ? nameHint(p.host, f.certificate.altNames) : null,
    pin: f.pin ? (f.pin.ok ? 'matched' : 'mismatch') : null,
  };
}

function authOf(f: SessionFacts): CheckAuth {
  const last = f.ehlo.at(-1)?.reply ?? '';
  const a = f.auth;
  return {
    offered: offeredMechanisms(last),
    configured: a !== undefined,
    username: a?.username ?? null,
    source: a?.source ?? null,
    mechanism: a?.mechanism ?? null,
    result: !a ? 'not-configured' : a.ok ? 'succeeded' : a.attempted ? 'failed' : 'not-reached',
  };
}

function warningsOf(a: Omit<CheckAddress, 'warnings'>, facts: SessionFacts, now: number): string[] {
  const out: string[] = [];
  const c = a.certificate;
  const left = c ? Date.parse(c.notAfter) - now : NaN;
  if (c && left >= 0 && left < EXPIRY_WARNING_DAYS * DAY) {
    out.push(`the certificate expires in ${c.daysLeft} day${c.daysLeft === 1 ? '' : 's'} (${c.notAfter}): under ${EXPIRY_WARNING_DAYS} days`);
  }
  if (a.ok && a.tls.mode === 'none') {
    out.push('no TLS: the server does not offer STARTTLS and hosts_require_tls does not match this host, so mail would go in cleartext');
  }
  if (a.tls.mode !== 'none' && facts.verifyNames === false) out.push('the certificate name is not checked: the host is not in tls_verify_cert_hostnames');
  return out;
}

/** Where a session stopped: the stage of its error, `done` when it opened. */
const stageOf = (e: SmarthostError | undefined): Stage => (e ? (e.detail.stage ?? (e.code === 'E_CONNECT' ? 'connect' : 'ehlo')) : 'done');

/** The report of one address (pure; `now` in ms decides the days left). */
export function describeAddress(p: AddressProbe, now: number): CheckAddress {
  const f = p.facts;
  const tls = tlsOf(f);
  const base: Omit<CheckAddress, 'warnings'> = {
    address: p.address.address,
    family: p.address.family,
    ttl: p.address.ttl,
    ok: p.error === undefined,
    stage: stageOf(p.error),
    error: p.error ? checkError(p.error) : null,
    elapsedMs: Math.round(p.elapsedMs),
    banner: f.banner ?? null,
    ehlo: f.ehlo.map((e) => ehloOf(e.reply, e.secure)),
    tls,
    certificate: certificateOf(f, now),
    verification: verificationOf(p, tls),
    auth: authOf(f),
  };
  return { ...base, warnings: warningsOf(base, f, now) };
}

/** A resolved host with its addresses' reports. */
export function describeHost(h: Resolved, port: number, addresses: CheckAddress[]): CheckHost {
  return {
    queried: h.queried,
    canonical: h.canonical,
    cnames: h.chain.map((c) => ({ name: c.name, target: c.target, ttl: c.ttl })),
    mx: h.mx >= 0 ? h.mx : null,
    port,
    addresses,
  };
}

/**
 * The verdict on the route, as delivery would reach it (lib/deliver/deliver.ts):
 * deliverable when any address opened; otherwise 75 when any failure is
 * temporary (the message would be deferred), 69 when all are permanent (it
 * would fail: the name does not exist, a 5xx greeting), with every reason.
 */
export function verdict(hosts: readonly CheckHost[], unresolved: CheckReport['unresolved']): Pick<CheckReport, 'deliverable' | 'exitCode' | 'reason' | 'warnings'> {
  const warnings = hosts.flatMap((h) => h.addresses.flatMap((a) => a.warnings.map((w) => `${h.queried} [${a.address}]: ${w}`)));
  const addresses = hosts.flatMap((h) => h.addresses);
  if (addresses.some((a) => a.ok)) return { deliverable: true, exitCode: EX.OK, reason: null, warnings };
  const errors = [...unresolved.map((u) => u.error), ...addresses.flatMap((a) => (a.error ? [a.error] : []))];
  if (errors.length === 0) return { deliverable: false, exitCode: EX.UNAVAILABLE, reason: 'no usable host in route_data', warnings };
  const kind = errors.some((e) => e.kind === 'temp') ? 'temp' : errors.some((e) => e.kind === 'config') ? 'config' : 'perm';
  return { deliverable: false, exitCode: exitCodeFor(kind), reason: errors.map((e) => e.message).join('; '), warnings };
}
