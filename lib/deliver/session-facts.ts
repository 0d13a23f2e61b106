/**
 * What one SMTP session showed of its server, as plain data: the greeting,
 * each EHLO reply, STARTTLS, the TLS version and cipher, the server's
 * certificate, the name check and its verdict, AUTH. openSession (smtp.ts)
 * fills a SessionFacts as the session goes when it is given one, so what it
 * holds is complete up to wherever the session stopped (a certificate that
 * did not verify is still here: it is read when the handshake completes,
 * before Node acts on the verification). `send-smarthost check` reports it;
 * delivery passes none.
 */
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { renderDn } from './tls.js';
import { parseAltNames } from './cert-name.js';

/** The server's certificate (the leaf), as shown to an administrator. */
export interface CertificateFacts {
  /** `/O=Example/CN=mail.example.com` (the form of Exim's traces). */
  subject: string;
  issuer: string;
  /** subjectAltName entries as `DNS:mail.example.com`, `IP Address:192.0.2.1`. */
  altNames: string[];
  /** Validity, ISO 8601 UTC. */
  notBefore: string;
  notAfter: string;
  serialNumber: string;
  /** SHA-256 of the DER certificate, `AB:CD:…` (as `openssl x509 -fingerprint -sha256`). */
  sha256: string;
}

/** The name check of tls_verify_cert_hostnames (RFC 9525, cert-name.ts), as it was run. */
export interface NameCheckFacts {
  /** The name checked: the queried name. */
  name: string;
  ok: boolean;
  /** The entry that named it (`DNS:*.example.com`). */
  matched?: string;
  /** Why no entry did. */
  reason?: string;
}

export interface SessionFacts {
  /** What the session was asked for (hosts_require_tls, tls_verify_cert_hostnames, protocol = smtps). */
  requireTls?: boolean;
  verifyNames?: boolean;
  /** protocol = smtps: TLS from the first byte. */
  implicitTls?: boolean;
  /** The greeting, lines joined with `\n`. */
  banner?: string;
  /** Every EHLO reply in order; `secure`: sent under TLS. */
  ehlo: { secure: boolean; reply: string }[];
  /** Whether the first EHLO reply offered STARTTLS (undefined: no EHLO reply, or implicit TLS). */
  starttlsOffered?: boolean;
  /** The reply to STARTTLS, when it was sent. */
  starttlsReply?: string;
  /** SNI sent (absent for an IP literal). */
  sni?: string;
  /** Set once the handshake completed (whatever the verification then said). */
  tls?: { protocol: string; cipher: string };
  certificate?: CertificateFacts;
  /** Why the chain was refused (OpenSSL's or Node's code: CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE, …). */
  chainError?: string;
  /** Absent when the name was not checked (chain refused first, or the host is not in tls_verify_cert_hostnames). */
  nameCheck?: NameCheckFacts;
  /** tls_pin_sha256, when set: whether the server's key matched. */
  pin?: { ok: boolean };
  /** Credentials configured for this host; `attempted` once the session reached AUTH, `ok` when the server accepted them. */
  auth?: { username: string; source: string; attempted: boolean; mechanism?: string; ok: boolean };
}

export const newSessionFacts = (): SessionFacts => ({ ehlo: [] });

const iso = (text: string): string => {
  const t = Date.parse(text);
  return Number.isNaN(t) ? text : new Date(t).toISOString();
};

/** The facts of a certificate as Node gives it (pure). */
export function certificateFacts(cert: DetailedPeerCertificate): CertificateFacts {
  return {
    subject: renderDn(cert.subject),
    issuer: renderDn(cert.issuer),
    altNames: parseAltNames(cert.subjectaltname).map((a) => `${a.type}:${a.value}`),
    notBefore: iso(cert.valid_from),
    notAfter: iso(cert.valid_to),
    serialNumber: cert.serialNumber,
    sha256: cert.fingerprint256,
  };
}

/**
 * Read the certificate, version and cipher of `socket` when its handshake
 * completes: at Node's 'secure' event, which comes before Node verifies the
 * chain and the name (and destroys the socket when they fail), so a
 * certificate that is refused is still seen. Pinned by test/deliver/session-facts.ts.
 */
export function watchHandshake(socket: TLSSocket, facts: SessionFacts): void {
  socket.prependOnceListener('secure', () => {
    const cert = socket.getPeerCertificate(true);
    if (cert && Object.keys(cert).length > 0) facts.certificate = certificateFacts(cert);
    facts.tls = { protocol: socket.getProtocol() ?? 'unknown', cipher: socket.getCipher()?.name ?? 'unknown' };
  });
}
