/**
 * Delivery status notification requests from the command line (sendmail's
 * -N, -R, -V) → the RFC 3461 parameters carried in the envelope. cli.ts has
 * validated -N and -R; the envelope id is checked here.
 */
import { usageError } from '../errors.js';
import type { DsnRequest, Invocation } from '../types.js';

/**
 * Check a -V envelope id: RFC 3461 §4.4 allows printable ASCII only (it is
 * xtext-encoded on the wire, so `+` and `=` are fine), at most 100 characters.
 * @throws SmarthostError E_USAGE (exit 64) naming the problem; a CR, LF or NUL
 *   (an attempt to inject a command) is one of them.
 */
export function checkEnvid(v: string): string {
  if (!/^[\x21-\x7e]*$/.test(v)) throw usageError(`bad -V value ${JSON.stringify(v)}: an envelope id is printable ASCII without spaces (RFC 3461 §4.4)`);
  if (v.length > 100) throw usageError(`bad -V value: ${v.length} characters, at most 100 allowed (RFC 3461 §4.4)`);
  return v;
}

/** The DSN request of an invocation; undefined when none of -N, -R, -V was given. */
export function dsnRequest(inv: Invocation): DsnRequest | undefined {
  if (inv.dsnNotify === undefined && inv.dsnRet === undefined && inv.dsnEnvid === undefined) return undefined;
  const dsn: DsnRequest = {};
  if (inv.dsnNotify !== undefined) dsn.notify = inv.dsnNotify;
  if (inv.dsnRet === 'HDRS' || inv.dsnRet === 'FULL') dsn.ret = inv.dsnRet;
  if (inv.dsnEnvid !== undefined && inv.dsnEnvid !== '') dsn.envid = inv.dsnEnvid;
  return dsn;
}
