/**
 * The demo's configuration (demo.ts): everything it reads or writes lives in
 * its own temporary directory `dir` (spool, main log), never a system path
 * such as /var/spool/send-smarthost, whose retry hints from an earlier run
 * would otherwise hold the demo's smarthost back.
 */
import { join } from 'node:path';

export function demoConfig(o: { dir: string; root: string; smtpPort: number; dnsPort: number }): string[] {
  return [
    '# written by the demo; see man/send-smarthost.conf.5',
    'route_data = mail.dev.example.test bydns ipv4_only',
    `port = ${o.smtpPort}`,
    `dns_servers = 127.0.0.1:${o.dnsPort}`,
    `tls_verify_certificates = ${join(o.root, 'fixtures/ca/ca.pem')}`,
    'helo_data = juno.example.test',
    'qualify_domain = example.test',
    `spool_directory = ${join(o.dir, 'spool')}`,
    `log_file_path = ${join(o.dir, 'mainlog')}`,
    '# the refused case exits 75 (the caller keeps the message) instead of spooling',
    'queue_deferred = false',
    '',
  ];
}
