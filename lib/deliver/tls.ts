/**
 * TLS options bound to the *queried* name.
 *
 * RFC 9525 §6.2 and RFC 7672 §3.2 (for a configured smarthost, the "reference
 * identifier" is the name the admin wrote): the certificate is checked against
 * the name that was looked up, never against the CNAME target nor the IP the
 * connection went to. Exim < 4.94 checked the CNAME target (Exim bug 2594);
 * this module is where send-smarthost does not. The check itself is
 * RFC 9525's, in cert-name.ts (not Node's checkServerIdentity, which accepts
 * partial-label wildcards and falls back to the subject CN).
 */
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { isIP, isIPv4 } from 'node:net';
import { matchName, parseAltNames } from './cert-name.js';
import { checkPin, pinText, type PinResult } from './pin.js';

export interface VerifyReport {
  ok: boolean;
  /** Certificate subject, rendered like OpenSSL's oneline form: `/CN=*.dev.example.test`. */
  dn: string;
  /** The name checked (the queried name). */
  name: string;
  /** Subject alternative names as in the certificate. */
  altNames: string;
  /** On success: the entry that names the host (`DNS:*.dev.example.test`). */
  matched?: string;
  error?: Error;
}

export interface TlsParams {
  /** The name from the route (or the MX exchange): SNI and the verified identity. */
  queried: string;
  /** Trusted roots in PEM; undefined means Node's built-in roots. */
  ca?: string | Buffer;
  /** False when the host is outside tls_verify_cert_hostnames: the chain is still verified. */
  verifyNames: boolean;
  /** Called with the result of the name check (for the trace). */
  onVerify?: (report: VerifyReport) => void;
  /** tls_pin_sha256 (lower-case hex SPKI digests); empty or absent means no pinning. */
  pins?: readonly string[];
  /** Called with the result of the pin check (for the trace). */
  onPin?: (result: PinResult) => void;
  /** tls_min_version; default TLSv1.2. */
  minVersion?: ConnectionOptions['minVersion'];
  /** tls_require_ciphers (OpenSSL cipher list). */
  ciphers?: string;
  /** Client certificate and key (PEM), from tls_certificate / tls_privatekey. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** Render a certificate subject as `/CN=x/O=y` (the form Exim's traces print). */
export function renderDn(subject: PeerCertificate['subject'] | undefined): string {
  if (!subject) return '';
  return Object.entries(subject)
    .map(([k, v]) => `/${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join('');
}

/**
 * Options for `tls.connect` (through nodemailer's `tls` option). SNI is the
 * queried name (omitted for an IP literal, RFC 6066 §3); the identity check
 * ignores the host argument Node passes and uses the queried name.
 */
export function tlsOptionsFor(p: TlsParams): ConnectionOptions {
  const opts: ConnectionOptions = {
    minVersion: p.minVersion ?? 'TLSv1.2',
    rejectUnauthorized: true,
    // Node calls this only once the chain has verified (rejectUnauthorized), so the pin
    // is an addition to the normal checks, never a replacement.
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => {
      if (p.pins && p.pins.length > 0) {
        const r = checkPin(cert.raw, p.pins);
        p.onPin?.(r);
        if (!r.ok) {
          const got = r.got ? pinText(r.got) : '(unreadable key)';
          return Object.assign(new Error(`server key ${got} is not in tls_pin_sha256 (${r.want.map(pinText).join(', ')})`), {
            code: 'ERR_TLS_PIN_MISMATCH',
          });
        }
      }
      if (!p.verifyNames) return undefined;
      const m = matchName(p.queried, parseAltNames(cert.subjectaltname));
      const dn = renderDn(cert.subject);
      if (m.ok) {
        p.onVerify?.({ ok: true, dn, name: p.queried, altNames: cert.subjectaltname ?? '', matched: m.matched });
        return undefined;
      }
      const cn = cert.subject?.CN;
      const reason = m.reason === 'certificate has no DNS subjectAltName' && cn ? `${m.reason} (its subject CN=${String(cn)} is not used: RFC 9525 has no CN fallback)` : m.reason;
      const error = Object.assign(new Error(reason), { code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason, host: p.queried });
      p.onVerify?.({ ok: false, dn, name: p.queried, altNames: cert.subjectaltname ?? '', error });
      return error;
    },
  };
  // same answer as isIP(): without a colon it cannot be IPv6, and net.isIPv6's first call costs ≈ 4 ms (start-up)
  const literal = p.queried.includes(':') ? isIP(p.queried) !== 0 : isIPv4(p.queried);
  if (!literal) opts.servername = p.queried;
  if (p.ca !== undefined) opts.ca = p.ca;
  if (p.ciphers !== undefined) opts.ciphers = p.ciphers;
  if (p.cert !== undefined) opts.cert = p.cert;
  if (p.key !== undefined) opts.key = p.key;
  return opts;
}
