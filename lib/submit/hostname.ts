/**
 * The host's fully qualified name, for the EHLO greeting (helo_data default)
 * and the qualify_domain default. Like Exim's primary_hostname: the system
 * host name if it has a dot; otherwise the first dotted alias of that name in
 * /etc/hosts (Debian writes `127.0.1.1 host.example.org host`).
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';

/** Pure: find a dotted name on an /etc/hosts line that also lists `short`. */
export function fqdnFromHosts(hostsText: string, short: string): string | undefined {
  const want = short.toLowerCase();
  for (const raw of hostsText.split('\n')) {
    const names = raw.replace(/#.*/, '').trim().split(/\s+/).slice(1);
    if (!names.some((n) => n.toLowerCase() === want || n.toLowerCase().startsWith(want + '.'))) continue;
    const dotted = names.find((n) => n.includes('.') && n.toLowerCase().startsWith(want + '.'));
    if (dotted) return dotted;
  }
  return undefined;
}

/** The FQDN of this host, or the bare host name when none can be found. */
export function localFqdn(readHosts: () => string = () => readFileSync('/etc/hosts', 'utf8')): string {
  const short = hostname();
  if (short.includes('.')) return short;
  try {
    return fqdnFromHosts(readHosts(), short) ?? short;
  } catch {
    return short;
  }
}
