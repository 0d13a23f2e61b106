/**
 * Server key pinning (tls_pin_sha256): the SHA-256 digest of the server
 * certificate's SubjectPublicKeyInfo, as in RFC 7469 §2.4 (HPKP pin-sha256)
 * and DANE's `3 1 1` (RFC 6698 selector 1, matching type 1). Pinning the key,
 * not the certificate, survives a renewal that keeps the key; msmtp's
 * tls_fingerprint pins the whole certificate instead. The pin is checked in
 * addition to the normal chain and name verification, never instead of it.
 */
import { createHash, X509Certificate } from 'node:crypto';

/** SHA-256 of the SPKI of a DER certificate, lower-case hex. @throws on a certificate that does not parse. */
export function spkiSha256(der: Buffer): string {
  const spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** A digest as the RFC 7469 form, for traces and messages: `sha256//<base64>`. */
export function pinText(hex: string): string {
  return `sha256//${Buffer.from(hex, 'hex').toString('base64')}`;
}

export interface PinResult {
  ok: boolean;
  /** The server's digest (hex); '' when the certificate could not be read. */
  got: string;
  want: readonly string[];
}

/** Compare a certificate (DER) with the pins (hex). Pure. */
export function checkPin(der: Buffer | undefined, pins: readonly string[]): PinResult {
  let got = '';
  try {
    if (der) got = spkiSha256(der);
  } catch {
    got = '';
  }
  return { ok: got !== '' && pins.includes(got), got, want: pins };
}
