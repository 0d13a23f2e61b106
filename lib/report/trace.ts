/**
 * Trace events are data. Modules emit them through a `Tracer`; only
 * `formatExim` turns them into text, shaped like Exim's `-d` output.
 * AUTH secrets are masked here, whatever the emitter passed.
 */

export type TraceEvent =
  | { type: 'route'; hosts: string; options: string }
  | { type: 'dns-start'; name: string; lookup: 'bydns' | 'byname' }
  | { type: 'dns-query'; name: string; rrtype: string; server: string; transport: 'udp' | 'tcp' }
  /** `dnssec`: asked with the DO bit; `ad`: whether the answer came back authenticated (only with `dnssec`). */
  | { type: 'dns-result'; name: string; rrtype: string; result: 'succeeded' | 'NXDOMAIN' | 'NO_DATA' | 'SERVFAIL' | 'TIMEOUT' | 'REFUSED' | 'FAILED'; detail?: string; dnssec?: { ad: boolean; aa: boolean } }
  /** A TLSA lookup's conclusion for one host (RFC 7672 §2.2): records to verify with, or why DANE does not apply. */
  | { type: 'dane'; queried: string; port: number; state: 'secure' | 'none' | 'failed'; base?: string; records?: string[]; usable?: number; reason?: string }
  | { type: 'dns-truncated'; name: string; rrtype: string }
  | { type: 'cname'; from: string; to: string }
  | { type: 'fqdn'; queried: string; canonical: string }
  | { type: 'host'; queried: string; canonical: string; address: string; family: 4 | 6; ttl: number; mx: number }
  | { type: 'connect'; queried: string; canonical: string; address: string; port: number }
  | { type: 'connected'; address: string }
  | { type: 'smtp-in'; text: string }
  | { type: 'smtp-out'; text: string }
  | { type: 'tls-start'; certName: string; sni: string; verifyNames: boolean }
  /** `san`: the subjectAltName entry that names `certName` (`DNS:*.dev.example.test`). */
  | { type: 'tls-verify-ok'; subject: string; certName: string; san?: string }
  | { type: 'tls-verify-error'; address: string; reason: string; dn?: string; host?: string }
  | { type: 'tls-ok'; protocol: string; cipher: string }
  | { type: 'attempt'; queried: string; canonical: string; address: string; stage: string; result: string; reason: string }
  | { type: 'note'; text: string };

export type Tracer = (ev: TraceEvent) => void;

/** A tracer that drops everything (the default when -d is not given). */
export const noTrace: Tracer = () => {};

const AUTH_RE = /^(AUTH\s+\S+)(\s+.*)?$/i;

/** Mask the argument of an AUTH command and base64 continuation lines flagged by the emitter. */
export function maskSecrets(line: string): string {
  const m = AUTH_RE.exec(line);
  if (m) return m[2] ? `${m[1]} ****` : m[1]!;
  return line;
}

/** Render one event as Exim-style debug lines (no trailing newlines). */
export function formatExim(ev: TraceEvent): string[] {
  switch (ev.type) {
    case 'route':
      return [`original list of hosts = '${ev.hosts}' options = '${ev.options}'`];
    case 'dns-start':
      return [`finding IP address for ${ev.name}`, ev.lookup === 'bydns' ? 'doing DNS lookup' : 'calling host name lookup (byname)'];
    case 'dns-query':
      return [`DNS query ${ev.name} (${ev.rrtype}) to ${ev.server} over ${ev.transport.toUpperCase()}`];
    case 'dns-result': {
      const line =
        ev.result === 'succeeded'
          ? `DNS lookup of ${ev.name} (${ev.rrtype}) succeeded`
          : `DNS lookup of ${ev.name} (${ev.rrtype}) gave ${ev.result}${ev.detail ? `: ${ev.detail}` : ''}`;
      // Exim's words: "requested AD, but got AA" when a DNSSEC answer is not authenticated
      if (!ev.dnssec || (ev.result !== 'succeeded' && ev.result !== 'NXDOMAIN' && ev.result !== 'NO_DATA')) return [line];
      return [line, ev.dnssec.ad ? `DNS lookup of ${ev.name} (${ev.rrtype}) is DNSSEC-authenticated (AD)` : `DNS lookup of ${ev.name} (${ev.rrtype}) requested AD, but got ${ev.dnssec.aa ? 'AA' : 'neither'}`];
    }
    case 'dane':
      if (ev.state === 'secure') {
        return [`DANE: TLSA records for ${ev.queried} port ${ev.port} at _${ev.port}._tcp.${ev.base} (DNSSEC-authenticated), ${ev.usable} usable:`, ...(ev.records ?? []).map((r) => `  TLSA ${r}`)];
      }
      return [`DANE ${ev.state === 'failed' ? 'lookup failed' : 'does not apply'} for ${ev.queried} port ${ev.port}: ${ev.reason ?? ''}`];
    case 'dns-truncated':
      return [`DNS answer for ${ev.name} (${ev.rrtype}) truncated: retrying over TCP`];
    case 'cname':
      return [`CNAME found: change to ${ev.to}`];
    case 'fqdn':
      return [`fully qualified name = ${ev.queried}`];
    case 'host':
      return [`${ev.canonical} ${ev.address} mx=${ev.mx} ttl=${ev.ttl} (queried ${ev.queried})`];
    case 'connect':
      return [`Connecting to ${ev.canonical} [${ev.address}]:${ev.port} ... (certificate name ${ev.queried})`];
    case 'connected':
      return ['connected'];
    case 'smtp-in': {
      const lines = ev.text.split(/\r?\n/).filter((l) => l.length > 0);
      return lines.map((l, i) => (i === 0 ? `  SMTP<< ${l}` : `         ${l}`));
    }
    case 'smtp-out':
      return [`  SMTP>> ${maskSecrets(ev.text)}`];
    case 'tls-start':
      return [
        ev.verifyNames ? `Cert hostname to check: "${ev.certName}"` : `Cert hostname check skipped (not in tls_verify_cert_hostnames)`,
        `Setting TLS SNI "${ev.sni}"`,
      ];
    case 'tls-verify-ok':
      return [`SSL verify ok: name "${ev.certName}" matches certificate ${ev.subject}${ev.san ? ` (subjectAltName ${ev.san})` : ''}`];
    case 'tls-verify-error':
      return ev.dn !== undefined
        ? [`[${ev.address}] SSL verify error: certificate name mismatch: DN="${ev.dn}" H="${ev.host ?? ''}"`]
        : [`[${ev.address}] SSL verify error: ${ev.reason}`];
    case 'tls-ok':
      return [`TLS session established: ${ev.protocol} ${ev.cipher}`];
    case 'attempt':
      return [`just tried ${ev.canonical} [${ev.address}] (certificate name ${ev.queried}): result ${ev.result.toUpperCase()} at ${ev.stage}: ${ev.reason}`];
    case 'note':
      return [ev.text];
  }
}

/** A tracer that writes formatted lines to a sink (stderr in the CLI). */
export function eximTracer(write: (line: string) => void): Tracer {
  return (ev) => {
    for (const line of formatExim(ev)) write(line);
  };
}
