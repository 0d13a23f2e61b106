/**
 * One TLS secure context per set of TLS settings, per process. Parsing the
 * trusted roots is the expensive part of a TLS connection (≈ 90 ms for the OS
 * bundle): `tls.connect` would do it again for every connection when given
 * `ca`, so the context is built once and passed as `secureContext`. The
 * per-connection checks (SNI and the name check bound to the queried name,
 * pins) stay in the connection's own options (tls.ts).
 */
import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';

/** The options that go into a secure context rather than into one connection. */
const CONTEXT_KEYS = ['ca', 'cert', 'key', 'ciphers', 'minVersion'] as const;

const cache = new Map<string, SecureContext>();
/** Distinct settings are few (one per configuration); a bound keeps a long-lived process from growing. */
const MAX_CONTEXTS = 8;

const part = (v: unknown): string => (v === undefined ? '-' : Buffer.isBuffer(v) ? `b${v.toString('latin1')}` : `s${String(v)}`);

/**
 * `opts` with its context settings (ca, cert, key, ciphers, minVersion)
 * replaced by a shared `secureContext` built from them.
 * @throws the TLS error of createSecureContext (an unparsable key or certificate).
 */
export function withSharedContext(opts: ConnectionOptions): ConnectionOptions {
  const key = CONTEXT_KEYS.map((k) => part(opts[k])).join('\0');
  let context = cache.get(key);
  if (!context) {
    context = createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key, ciphers: opts.ciphers, minVersion: opts.minVersion });
    if (cache.size >= MAX_CONTEXTS) cache.delete(cache.keys().next().value!);
    cache.set(key, context);
  }
  const rest: ConnectionOptions = { ...opts };
  for (const k of CONTEXT_KEYS) delete rest[k];
  return { ...rest, secureContext: context };
}
