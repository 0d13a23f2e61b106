// Writes dist/send-smarthost.cjs.cache and dist/modes.cjs.cache, the V8 code
// caches bin/send-smarthost compiles the bundles with (README, Performance). V8 keeps in a cache only the
// functions compiled so far, so the bundle is run the way callers run it: spool
// set-up, -odq, -bpc, -bp, a synchronous delivery and a queue run, each
// starting from the cache of the previous one, against a DNS server and a
// STARTTLS sink on 127.0.0.1 with the test CA (fixtures/ca). Any failure only means a smaller
// cache or none: bin/send-smarthost then compiles from source.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dns2 from 'dns2';

const root = dirname(fileURLToPath(import.meta.url));
const BIN = join(root, 'bin/send-smarthost');
const CACHES = ['send-smarthost.cjs.cache', 'modes.cjs.cache'].map((n) => join(root, 'dist', n));
const ca = join(root, 'fixtures/ca');

/** A DNS server on 127.0.0.1 that answers every A query with 127.0.0.1 (and nothing else). */
async function startDns() {
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [q] = request.questions;
      if (q && q.type === Packet.TYPE.A) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address: '127.0.0.1' });
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  return server;
}

/** A minimal STARTTLS SMTP sink (accepts everything). */
function startSink() {
  const context = tls.createSecureContext({ key: readFileSync(join(ca, 'direct.key')), cert: readFileSync(join(ca, 'direct.pem')) });
  const server = net.createServer((raw) => {
    let sock = raw;
    let buf = '';
    let data = false;
    const onData = (chunk) => {
      buf += chunk.toString('latin1');
      let out = '';
      for (;;) {
        if (data) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) break;
          buf = buf.slice(end + 5);
          data = false;
          out += '250 2.0.0 ok\r\n';
          continue;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) break;
        const verb = buf.slice(0, 4).toUpperCase();
        buf = buf.slice(eol + 2);
        if (verb === 'EHLO') out += `250-sink.example.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ${sock === raw ? 'STARTTLS' : 'SMTPUTF8'}\r\n`;
        else if (verb === 'STAR') {
          sock.write(`${out}220 2.0.0 go ahead\r\n`);
          raw.removeListener('data', onData);
          sock = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
          sock.on('data', onData);
          sock.on('error', () => {});
          buf = '';
          return;
        } else if (verb === 'DATA') {
          out += '354 go ahead\r\n';
          data = true;
        } else if (verb === 'QUIT') {
          sock.end(`${out}221 bye\r\n`);
          return;
        } else out += '250 ok\r\n';
      }
      if (out) sock.write(out);
    };
    raw.on('data', onData);
    raw.on('error', () => {});
    raw.write('220 sink.example.test ESMTP\r\n');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function trainCodeCache() {
  for (const c of CACHES) rmSync(c, { force: true });
  if (!existsSync(join(ca, 'direct.pem'))) return 'no fixtures/ca: no code cache';
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-cache-'));
  const server = await startSink();
  const dns = await startDns();
  try {
    const conf = join(dir, 'train.conf');
    writeFileSync(conf, [
      // a name, so that the DNS code is compiled too; the sink's certificate names it
      'route_data = smarthost.example.test bydns ipv4_only',
      `port = ${server.address().port}`,
      `dns_servers = 127.0.0.1:${dns.addresses().udp.port}`,
      `tls_verify_certificates = ${join(ca, 'ca.pem')}`,
      'helo_data = build.example.test',
      'qualify_domain = example.test',
      'system_aliases_file =',
      `spool_directory = ${join(dir, 'spool')}`,
      `log_file_path = ${join(dir, 'mainlog')}`,
    ].join('\n') + '\n');
    const env = { ...process.env, SEND_SMARTHOST_TRAIN_CODE_CACHE: '1', NO_COLOR: '1' };
    delete env.NODE_EXTRA_CA_CERTS;
    const message = 'From: build@example.test\nTo: a@example.test\nSubject: code cache\n\nhello\n';
    const failed = [];
    // the default mode last: its entry cache then holds the fast path, and its detached
    // deliverer (which inherits the training variable) writes the delivery path's modes cache
    for (const args of [['--init-spool'], ['-odq', '-oi', 'a@example.test'], ['-bpc'], ['-bp'], ['-odi', '-oi', 'a@example.test'], ['-q'], ['-oi', 'a@example.test']]) {
      // asynchronous: the sink answers from this process
      const r = await run(process.execPath, [BIN, '-C', conf, ...args], env, message);
      if (r !== 0) failed.push(`${args.join(' ')} (exit ${r})`);
    }
    // wait (at most 10 s) for the background deliverer to finish and write its cache
    const log = join(dir, 'mainlog');
    for (let i = 0; i < 500 && !(existsSync(log) && (readFileSync(log, 'utf8').match(/Completed/g) ?? []).length >= 3); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const sizes = CACHES.map((c) => `${c.split('/').pop()} ${existsSync(c) ? Math.round(statSync(c).size / 1024) : 0} KiB`);
    return `code caches: ${sizes.join(', ')}${failed.length ? `; training runs that failed: ${failed.join(', ')}` : ''}`;
  } finally {
    server.close();
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run a command with `input` on stdin; resolves to its exit code (-1 when it could not run or was killed). */
function run(cmd, args, env, input) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'ignore', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', () => resolve(-1));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
