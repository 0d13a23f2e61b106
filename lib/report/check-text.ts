/**
 * The human layout of `send-smarthost check` (pure): what an administrator
 * would otherwise piece together from `exim -bt`, `msmtp --serverinfo`,
 * `openssl s_client` and `dig`, one block per address in the order delivery
 * tries them, labels in a column:
 *
 *     route_data mail.dev.example.test (bydns ipv4_only), from the command line
 *
 *     host mail.dev.example.test
 *       CNAME       mail.dev.example.test -> mail.example.local (ttl 300)
 *       addresses   127.0.0.1 (in the order they are tried)
 *       [127.0.0.1]:587
 *         banner      220 mail.example.local ESMTP
 *         EHLO        PIPELINING, 8BITMIME, SIZE 10240000, STARTTLS
 *         STARTTLS    TLSv1.3 TLS_AES_256_GCM_SHA384, SNI mail.dev.example.test
 *         certificate /O=Example/CN=*.dev.example.test
 *           issuer    /O=Example/CN=Example CA
 *           names     DNS:*.dev.example.test
 *           valid     2024-01-01 to 2026-01-01 (200 days left)
 *           sha256    AB:CD:…
 *         verified    mail.dev.example.test: OK, subjectAltName DNS:*.dev.example.test
 *         EHLO (TLS)  PIPELINING, 8BITMIME, SIZE 10240000, AUTH PLAIN LOGIN
 *         AUTH        PLAIN LOGIN offered; as relay@example.com (auth_username): succeeded with PLAIN
 *         result      OK
 *
 *     delivery possible (exit 0)
 *
 * Colour comes in through `paint` (chalk, only on a terminal; lib/ops/check.ts).
 */
import type { CheckAddress, CheckHost, CheckReport } from '../check-report.js';

/** How words are coloured; the default leaves them as they are. */
export interface Paint {
  ok(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const id = (s: string): string => s;
export const noPaint: Paint = { ok: id, bad: id, warn: id, dim: id, bold: id };

const LABEL = 12;
/** A labelled line; the texts of a block start in one column whatever the indent (`at` 4 or 6). */
const row = (indent: number, label: string, text: string, paint: Paint): string => `${' '.repeat(indent)}${paint.dim(label.padEnd(LABEL + 4 - indent))}${text}`;

/** `PIPELINING, SIZE 10240000, AUTH PLAIN LOGIN`: the extensions as the server wrote them. */
const extensions = (ext: Record<string, string>): string =>
  Object.entries(ext)
    .map(([k, v]) => (v ? `${k} ${v}` : k))
    .join(', ') || '(none)';

const date = (iso: string): string => iso.slice(0, 10);

function tlsLines(a: CheckAddress, p: Paint, at: number): string[] {
  const t = a.tls;
  const how = t.protocol ? `${t.protocol} ${t.cipher ?? ''}`.trim() : 'handshake not completed';
  const sni = t.sni ? `, SNI ${t.sni}` : ', no SNI (IP literal)';
  if (t.mode === 'implicit') return [row(at, 'TLS', `implicit (protocol = smtps): ${how}${sni}`, p)];
  if (t.mode === 'starttls') return [row(at, 'STARTTLS', `${how}${sni}`, p)];
  if (t.starttlsOffered === false) return [row(at, 'STARTTLS', t.required ? p.bad('not offered (required by hosts_require_tls)') : p.warn('not offered'), p)];
  if (t.starttlsOffered) return [row(at, 'STARTTLS', t.required ? 'offered, not completed' : 'offered, not used', p)];
  return [];
}

function certificateLines(a: CheckAddress, p: Paint, at: number): string[] {
  const c = a.certificate;
  if (!c) return [];
  const left = c.daysLeft < 0 ? p.bad(`expired ${-c.daysLeft} days ago`) : c.daysLeft < 14 ? p.warn(`${c.daysLeft} days left`) : `${c.daysLeft} days left`;
  return [
    row(at, 'certificate', c.subject || '(empty subject)', p),
    row(at + 2, 'issuer', c.issuer, p),
    row(at + 2, 'names', c.altNames.join(', ') || p.bad('(no subjectAltName)'), p),
    row(at + 2, 'valid', `${date(c.notBefore)} to ${date(c.notAfter)} (${left})`, p),
    row(at + 2, 'sha256', c.sha256, p),
  ];
}

function verificationLines(a: CheckAddress, p: Paint, at: number): string[] {
  const v = a.verification;
  if (!v) return [];
  const names = v.names.join(', ');
  const out: string[] = [];
  if (v.chain === 'refused') out.push(row(at, 'verified', `${names}: ${p.bad(`FAILED: certificate not trusted (${v.chainError ?? 'unknown'})`)}`, p));
  else if (v.chain === 'not-reached') out.push(row(at, 'verified', `${names}: not reached (no TLS handshake)`, p));
  else if (v.nameCheck === 'matched') out.push(row(at, 'verified', `${names}: ${p.ok('OK')}, subjectAltName ${v.matched ?? ''}`, p));
  else if (v.nameCheck === 'mismatch') out.push(row(at, 'verified', `${names}: ${p.bad(`FAILED: ${v.reason ?? 'name mismatch'}`)}`, p));
  else if (v.nameCheck === 'skipped') out.push(row(at, 'verified', `chain trusted; ${p.warn('name not checked (not in tls_verify_cert_hostnames)')}`, p));
  else out.push(row(at, 'verified', `chain trusted; name not checked`, p));
  if (v.hint) out.push(row(at, '', v.hint, p));
  if (v.pin) out.push(row(at, 'pin', v.pin === 'matched' ? p.ok('server key matches tls_pin_sha256') : p.bad('server key is not in tls_pin_sha256'), p));
  return out;
}

function authLine(a: CheckAddress, p: Paint, at: number): string[] {
  const x = a.auth;
  const offered = x.offered.length ? `${x.offered.join(' ')} offered` : 'not offered';
  // what the server offers once it is ready for mail (under TLS when TLS is used), so only for a session that got there
  if (!x.configured) return a.ok ? [row(at, 'AUTH', `${offered}; no credentials configured for this host`, p)] : [];
  const who = `as ${x.username} (${x.source})`;
  const how = x.mechanism ? ` with ${x.mechanism}` : '';
  const result = x.result === 'succeeded' ? p.ok(`succeeded${how}`) : x.result === 'failed' ? p.bad(`failed${how}`) : 'not reached';
  return [row(at, 'AUTH', `${offered}; ${who}: ${result}`, p)];
}

function addressBlock(h: CheckHost, a: CheckAddress, p: Paint): string[] {
  const at = 4;
  const lines = [`  ${p.bold(`[${a.address}]:${h.port}`)}`];
  if (a.banner !== null) lines.push(row(at, 'banner', a.banner.split('\n').join(' / '), p));
  const ehlo = (secure: boolean): string[] =>
    a.ehlo.filter((e) => e.secure === secure).map((e) => row(at, secure && a.tls.mode === 'starttls' ? 'EHLO (TLS)' : 'EHLO', extensions(e.extensions), p));
  // in the order of the dialogue: the plaintext EHLO, then TLS and the certificate, then the EHLO under TLS
  lines.push(...ehlo(false), ...tlsLines(a, p, at), ...certificateLines(a, p, at), ...verificationLines(a, p, at), ...ehlo(true), ...authLine(a, p, at));
  for (const w of a.warnings) lines.push(row(at, 'warning', p.warn(w), p));
  lines.push(row(at, 'result', a.ok ? p.ok('OK') : p.bad(`FAILED at ${a.stage}: ${a.error?.message ?? ''}`), p));
  return lines;
}

function hostBlock(h: CheckHost, p: Paint): string[] {
  const lines = [p.bold(`host ${h.queried}`) + (h.mx !== null ? ` (MX ${h.mx})` : '')];
  if (h.cnames.length) {
    lines.push(row(2, 'CNAME', `${[h.queried, ...h.cnames.map((c) => c.target)].join(' -> ')} (ttl ${h.cnames.map((c) => c.ttl).join(', ')})`, p));
    lines.push(row(2, 'canonical', h.canonical, p));
  }
  lines.push(row(2, 'addresses', `${h.addresses.map((a) => `${a.address} (ttl ${a.ttl})`).join(', ') || '(none)'}${h.addresses.length > 1 ? ', in the order they are tried' : ''}`, p));
  for (const a of h.addresses) lines.push(...addressBlock(h, a, p));
  return lines;
}

/** The whole report as text (lines end in a newline). */
export function renderCheck(r: CheckReport, p: Paint = noPaint): string {
  const from = r.route.from === 'argument' ? 'from the command line' : `from ${r.config}`;
  const blocks: string[][] = [[`route_data ${r.route.hosts}${r.route.options ? ` (${r.route.options})` : ''}, ${from}`]];
  for (const h of r.hosts) blocks.push(hostBlock(h, p));
  if (r.unresolved.length) blocks.push(r.unresolved.map((u) => `host ${u.name}: ${p.bad(`not resolved: ${u.error.message}`)}`));
  blocks.push([r.deliverable ? p.ok(`delivery possible (exit ${r.exitCode})`) : p.bad(`delivery not possible (exit ${r.exitCode}): ${r.reason ?? ''}`)]);
  return blocks.map((b) => b.join('\n')).join('\n\n') + '\n';
}
