/**
 * `-bV` in the shape of Exim's (pure): the version line, what is supported,
 * the router and transport, and which configuration file is in effect.
 * A configuration error never gets here: it stops the run first (exit 78),
 * so `-bV` is also the way to check a file.
 */
import { VERSION } from '../version.js';
import type { Config } from '../types.js';

/** What send-smarthost can do, in Exim's "Support for:" manner. */
export const SUPPORT = [
  'STARTTLS',
  'SMTPS',
  'TLS_pinning',
  'AUTH(PLAIN,LOGIN,CRAM-MD5,XOAUTH2)',
  'PIPELINING',
  'SIZE',
  '8BITMIME',
  'SMTPUTF8',
  'DSN',
  'IPv6',
  'queue',
  'bounces(RFC3464)',
] as const;

export function versionReport(config: Config, nodeVersion = process.version): string {
  const file = config.missing ? `${config.file} does not exist: the built-in defaults are in effect` : `Configuration file is ${config.file}`;
  return [
    `send-smarthost version ${VERSION} (Node.js ${nodeVersion})`,
    `Support for: ${SUPPORT.join(' ')}`,
    'Routers: smarthost (route_data as manualroute: bydns byname ipv4_only ipv4_prefer randomize /MX)',
    'Transports: remote_smtp (TLS verified against the queried name)',
    file,
    '',
  ].join('\n');
}
