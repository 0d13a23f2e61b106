/**
 * `npm run demo`: the situation of Exim bug 2594, on loopback, with no outside
 * network. An embedded DNS server answers
 *   mail.dev.example.test  CNAME  mail.example.local
 *   mail.example.local     A      127.0.0.6
 * and a STARTTLS smarthost on 127.0.0.6 presents a certificate for
 * *.dev.example.test (signed by the committed test CA). A cron-style message
 * is piped through `bin/send-smarthost -d`; the trace shows both names and the
 * certificate is checked against the queried one. Then the same route against
 * a server whose certificate names only the CNAME target is refused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDns } from '../fixtures/peers/fake-dns.js';
import { startSmtp, type FixtureCert } from '../fixtures/peers/fake-smtp.js';
import { demoConfig } from './config.js';

const root = resolve(__dirname, '..');
const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\u001b[1m${s}\u001b[22m` : s);

function run(args: string[], input: Buffer): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'bin/send-smarthost'), ...args], { stdio: ['pipe', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stderr }));
    child.stdin.end(input);
  });
}

async function act(title: string, cert: FixtureCert, dnsPort: number, dir: string): Promise<number | null> {
  const smtp = await startSmtp({ host: '127.0.0.6', cert });
  const conf = join(dir, `${cert}.conf`);
  writeFileSync(conf, demoConfig({ dir, root, smtpPort: smtp.port, dnsPort }).join('\n'));
  const message = readFileSync(join(root, 'fixtures/messages/cron.eml'));
  const args = ['-d', '-C', conf, '-FCronDaemon', '-i', '-B8BITMIME', '-oem', 'root'];
  console.log(bold(`\n== ${title}`));
  console.log(`$ send-smarthost ${args.join(' ')} < fixtures/messages/cron.eml\n`);
  const { code, stderr } = await run(args, message);
  process.stdout.write(stderr);
  console.log(bold(`\nexit status ${code}`));
  if (smtp.messages.length) {
    const m = smtp.messages[0]!;
    console.log(bold(`\nThe smarthost received (TLS: ${m.secure}, SNI: ${m.servername}), MAIL FROM:<${m.from}> RCPT TO:<${m.to.join('>, <')}>:\n`));
    process.stdout.write(m.data.toString());
  } else {
    console.log(bold('\nThe smarthost received nothing.'));
  }
  await smtp.close();
  return code;
}

async function main(): Promise<void> {
  const dns = await startDns('demo');
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-demo-'));
  try {
    console.log(bold('send-smarthost demo: a smarthost that is a CNAME (Exim bug 2594), on loopback'));
    console.log(`DNS on 127.0.0.1:${dns.port}: mail.dev.example.test CNAME mail.example.local; mail.example.local A 127.0.0.6`);
    const ok = await act('Certificate for *.dev.example.test (the queried name): delivered', 'dev-wildcard', dns.port, dir);
    const refused = await act('Certificate naming only the CNAME target mail.example.local: refused, message kept by the caller (75)', 'target', dns.port, dir);
    process.exitCode = ok === 0 && refused === 75 ? 0 : 1;
    if (process.exitCode) console.error(`demo: unexpected exit codes ${ok} and ${refused}`);
  } finally {
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
