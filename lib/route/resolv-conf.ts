/**
 * The name servers of /etc/resolv.conf (resolv.conf(5)): a pure parser and a
 * thin reader. dns2 never reads this file (it defaults to public resolvers),
 * so we do.
 */
import { readFileSync } from 'node:fs';
import { isIP } from './ip.js';
import type { NameServer } from '../types.js';

/** glibc's MAXNS: only the first three `nameserver` lines count. */
export const MAX_NAMESERVERS = 3;

/**
 * The `nameserver` lines of a resolv.conf, in order, port 53. Addresses are
 * IPv4 or IPv6; an IPv6 scope id is kept (`fe80::1%eth0` is sent to over
 * udp6 as is). Comments (`#`, `;`), other keywords and malformed addresses
 * are skipped, as the C resolver does; at most {@link MAX_NAMESERVERS}.
 * `0.0.0.0` and `::` mean this host, as in glibc.
 */
export function parseResolvConf(text: string): NameServer[] {
  const out: NameServer[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    let address = m[1]!.replace(/^\[(.*)\]$/, '$1');
    const bare = address.replace(/%[^%]+$/, '');
    const v = isIP(bare);
    if (v === 0 || (v === 4 && bare !== address)) continue;
    if (address === '0.0.0.0') address = '127.0.0.1';
    else if (v === 6 && /^[0:]+$/.test(bare)) address = '::1';
    out.push({ address, port: 53 });
    if (out.length === MAX_NAMESERVERS) break;
  }
  return out;
}

/**
 * The system's name servers from /etc/resolv.conf (or `path`); 127.0.0.1 when
 * the file is missing or names none, as glibc does.
 */
export function systemNameServers(path = '/etc/resolv.conf', read: (p: string) => string = (p) => readFileSync(p, 'utf8')): NameServer[] {
  let text = '';
  try {
    text = read(path);
  } catch {
    // no resolv.conf: the local server, like the C resolver
  }
  const servers = parseResolvConf(text);
  return servers.length > 0 ? servers : [{ address: '127.0.0.1', port: 53 }];
}
