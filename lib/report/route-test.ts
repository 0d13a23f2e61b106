/**
 * What `-bt` and `-bv` print (pure), in the shapes of Exim's address
 * testing, with the two names send-smarthost keeps:
 *
 *     admin@example.com
 *         <-- root@host.example.com (/etc/aliases:3)
 *       router = smarthost, transport = remote_smtp
 *       host mail.example.local [192.0.2.25] port=587 certname=mail.dev.example.com
 *         CNAME mail.dev.example.com -> mail.example.local
 *
 * `certname=` is the name the certificate is checked against (the queried
 * name, as in the main log); the CNAME line shows where the lookup went.
 * An address that cannot be routed: `<addr> is undeliverable: <why>` (a
 * permanent reason) or `<addr> cannot be resolved at this time: <why>`;
 * with -bv, `<addr> verified` / `<addr> failed to verify: <why>`.
 */
import type { Resolved } from '../types.js';

/** One recipient after qualification and alias expansion. */
export interface TestedAddress {
  address: string;
  /** The aliases it came through, nearest first. */
  via: { address: string; where: string }[];
}

/** The route of the smarthost, as resolved. */
export interface TestedRoute {
  hosts: Resolved[];
  /** Host entries that gave no address, with why. */
  skipped: { name: string; reason: string }[];
  /** Set when no host at all can be used: whether that is for good or for now, and why. */
  failure?: { kind: 'perm' | 'temp'; reason: string };
}

const hostLine = (h: Resolved, address: string, port: number | undefined): string =>
  `  host ${h.canonical} [${address}]${port !== undefined ? ` port=${port}` : ''}${h.mx >= 0 ? ` MX=${h.mx}` : ''} certname=${h.queried}`;

/** The -bt block of one address (its lines, each ending in a newline). */
export function testLines(a: TestedAddress, route: TestedRoute, defaultPort: number): string {
  if (route.failure) {
    const verb = route.failure.kind === 'perm' ? 'is undeliverable' : 'cannot be resolved at this time';
    return `${a.address} ${verb}: ${route.failure.reason}\n${a.via.map((v) => `    <-- ${v.address} (${v.where})\n`).join('')}`;
  }
  const lines = [a.address, ...a.via.map((v) => `    <-- ${v.address} (${v.where})`), '  router = smarthost, transport = remote_smtp'];
  for (const h of route.hosts) {
    const port = (h.port ?? defaultPort) === 25 ? undefined : (h.port ?? defaultPort);
    for (const addr of h.addresses) lines.push(hostLine(h, addr.address, port));
    if (h.chain.length > 0) lines.push(`    CNAME ${[h.queried, ...h.chain.map((c) => c.target)].join(' -> ')}`);
  }
  for (const s of route.skipped) lines.push(`  (host ${s.name} skipped: ${s.reason})`);
  return lines.join('\n') + '\n';
}

/** The -bv line of one address. */
export function verifyLine(a: TestedAddress, route: TestedRoute): string {
  if (!route.failure) return `${a.address} verified\n`;
  return route.failure.kind === 'perm' ? `${a.address} failed to verify: ${route.failure.reason}\n` : `${a.address} cannot be resolved at this time: ${route.failure.reason}\n`;
}
