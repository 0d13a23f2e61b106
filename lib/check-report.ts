/**
 * The result of `send-smarthost check` as plain data: the document that
 * `check --json` writes (schema/check.schema.json, which documents every
 * field) and that the human layout is rendered from. Built in the deliver
 * stage (lib/deliver/probe-report.ts), rendered in the report stage
 * (lib/report/check-text.ts). No code lives here.
 *
 * Versioning: `version` changes when a field is removed or changes its
 * meaning; fields may be added within a version (a reader ignores fields it
 * does not know). Absent facts are `null`, never left out.
 */
import type { Stage } from './types.js';

/** The version of the document (and of schema/check.schema.json). */
export const CHECK_REPORT_VERSION = 1;

export interface CheckReport {
  version: typeof CHECK_REPORT_VERSION;
  command: 'check';
  /** When the check ran, ISO 8601 UTC. */
  checkedAt: string;
  /** The configuration file in effect (`(defaults)` when none was read). */
  config: string;
  route: {
    /** The host list as written (route_data's first part). */
    hosts: string;
    /** route_data's options as written (`bydns ipv4_only`). */
    options: string;
    /** Where route_data came from: the command line's route argument or the configuration. */
    from: 'argument' | 'configuration';
  };
  /** Whether a delivery now could hand a message to at least one address. */
  deliverable: boolean;
  /** What `check` exits with: 0, or the sysexits code a delivery would have (69, 75). */
  exitCode: number;
  /** Why nothing is deliverable: every failure, as delivery would report them; null when deliverable. */
  reason: string | null;
  /** The hosts that resolved, in the order delivery tries them. */
  hosts: CheckHost[];
  /** Entries of route_data that gave no address, with why. */
  unresolved: { name: string; error: CheckError }[];
  /** Every warning of the addresses below, prefixed with `host [address]: `. */
  warnings: string[];
}

/** A failure, as delivery would have it (lib/errors.ts): code, kind (temp, perm, config) and message. */
export interface CheckError {
  code: string;
  kind: string;
  message: string;
}

export interface CheckHost {
  /** The name in route_data (or an MX exchange): SNI and the certificate name. */
  queried: string;
  /** Where the CNAME chain ended (equal to `queried` without one). */
  canonical: string;
  cnames: { name: string; target: string; ttl: number }[];
  /** MX preference when the host came from an MX lookup. */
  mx: number | null;
  port: number;
  /** In the order delivery tries them. */
  addresses: CheckAddress[];
}

export interface CheckAddress {
  address: string;
  family: 4 | 6;
  /** DNS TTL in seconds; 0 when unknown (byname). */
  ttl: number;
  /** Whether a delivery could go through this address now (connected, TLS as required, AUTH as configured). */
  ok: boolean;
  /** Where the session stopped: `done` when it was opened and QUIT. */
  stage: Stage;
  error: CheckError | null;
  elapsedMs: number;
  /** The greeting (lines joined with `\n`). */
  banner: string | null;
  /** Every EHLO reply, in order; `secure`: under TLS. */
  ehlo: CheckEhlo[];
  tls: CheckTls;
  certificate: CheckCertificate | null;
  /** How the certificate was verified; null when there was no TLS. */
  verification: CheckVerification | null;
  auth: CheckAuth;
  warnings: string[];
}

export interface CheckEhlo {
  secure: boolean;
  /** The first line's text (the server's name and greeting). */
  greeting: string;
  /** The extensions offered, as `KEYWORD` → parameters (`SIZE` → `10240000`, `AUTH` → `PLAIN LOGIN`). */
  extensions: Record<string, string>;
}

export interface CheckTls {
  /** `starttls` (offered and used), `implicit` (protocol = smtps), `none` (not used). */
  mode: 'starttls' | 'implicit' | 'none';
  /** hosts_require_tls matched this host. */
  required: boolean;
  /** Whether the plaintext EHLO reply offered STARTTLS; null when unknown (implicit TLS, no EHLO reply). */
  starttlsOffered: boolean | null;
  sni: string | null;
  protocol: string | null;
  cipher: string | null;
}

export interface CheckCertificate {
  subject: string;
  issuer: string;
  altNames: string[];
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
  serialNumber: string;
  sha256: string;
}

export interface CheckVerification {
  /** `pkix`: the chain to a trusted root and the name (RFC 9525). DANE (RFC 7672) will add `dane`. */
  method: 'pkix';
  /** `trusted`, `refused` (chainError says why), or `not-reached` (the handshake did not complete). */
  chain: 'trusted' | 'refused' | 'not-reached';
  chainError: string | null;
  /** The names the certificate must carry: the queried name. */
  names: string[];
  /** `matched`, `mismatch`, `skipped` (host not in tls_verify_cert_hostnames), `not-reached` (chain refused first). */
  nameCheck: 'matched' | 'mismatch' | 'skipped' | 'not-reached';
  /** The subjectAltName entry that matched (`DNS:*.example.com`). */
  matched: string | null;
  /** Why no entry matched. */
  reason: string | null;
  /** What to do about a mismatch, e.g. when the certificate names only the CNAME target. */
  hint: string | null;
  /** tls_pin_sha256: `matched`, `mismatch`, or null when no pin is set (or the chain was refused first). */
  pin: 'matched' | 'mismatch' | null;
}

export interface CheckAuth {
  /** Mechanisms in the last EHLO reply (under TLS when there was TLS). */
  offered: string[];
  /** Credentials configured for this host (chosen by the queried name). */
  configured: boolean;
  username: string | null;
  /** Where the credentials came from (`auth_username`, `auth_credentials_file /x:3`). */
  source: string | null;
  mechanism: string | null;
  /** `succeeded`, `failed` (refused by the server, or not sent: error says why), `not-reached`, `not-configured`. */
  result: 'succeeded' | 'failed' | 'not-reached' | 'not-configured';
}
