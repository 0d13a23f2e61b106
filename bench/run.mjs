#!/usr/bin/env node
// npm run bench: caller latency, queue throughput and memory of send-smarthost,
// measured in one run against a loopback STARTTLS sink, as ratios to the floor
// (`node -e 0`). Every Node process runs with NODE_EXTRA_CA_CERTS unset: a real
// host does not set it, and it adds ~90 ms to every Node start on these machines.
//
// Environment: BENCH_RUNS (repetitions per latency case, default 21),
// BENCH_QUEUE (messages in the queue-run case, default 1000), BENCH_BIG (MiB
// sizes, default "50,200"), BENCH_OUT (results directory, default bench/results),
// BENCH_OTHERS=0 (leave out msmtp and Exim even when installed).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream, existsSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import dns2 from 'dns2';
import { fixtureSink } from './sink.mjs';
import { otherTools } from './others.mjs';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const QUEUE = Number(process.env.BENCH_QUEUE ?? 1000);
const BIG = (process.env.BENCH_BIG ?? '50,200').split(',').filter(Boolean).map(Number);
const OUT = resolve(process.env.BENCH_OUT ?? join(root, 'bench/results'));
const BIN = join(root, 'bin/send-smarthost');
const CA = join(root, 'fixtures/ca/ca.pem');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
env.NO_COLOR = '1';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Run a command; wall time in ms, and with `rss` its peak RSS in KiB (via GNU
 * time when present: its own exec adds a few ms, so latencies are timed
 * without it and the RSS is taken in a separate run).
 */
function run(cmd, args, { input, stdinFile, rss: withRss = true } = {}) {
  return new Promise((done, fail) => {
    const timed = TIME && withRss;
    const argv = timed ? [TIME, ['-f', '%M', cmd, ...args]] : [cmd, args];
    const t0 = performance.now();
    const child = spawn(argv[0], argv[1], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('error', fail);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const lines = stderr.trim().split('\n');
      const rss = timed ? Number(lines.pop()) : NaN;
      done({ ms, rss, code, stderr: lines.join('\n') });
    });
    child.stdin.on('error', () => {});
    if (stdinFile) {
      import('node:fs').then(({ createReadStream }) => createReadStream(stdinFile).pipe(child.stdin));
    } else child.stdin.end(input ?? '');
  });
}

/**
 * Run each case `n` times, interleaved (round i runs every case once), so
 * that the machine's drift over the run (other jobs, CPU frequency) falls on
 * every case alike and the ratios to the floor compare like with like.
 */
async function interleave(cases, n) {
  const check = (c, r) => {
    if (r.code !== 0) throw new Error(`${c.label}: exit ${r.code}: ${r.stderr.split('\n').slice(-3).join(' | ')}`);
    return r;
  };
  const times = cases.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const [k, c] of cases.entries()) {
      times[k].push(check(c, await c.fn({ rss: false })).ms);
      await sleep(300); // let a detached deliverer of the previous run finish
    }
  }
  const out = [];
  for (const [k, c] of cases.entries()) {
    const rssKiB = check(c, await c.fn({ rss: true })).rss;
    await sleep(300);
    out.push({ label: c.label, median: median(times[k]), min: Math.min(...times[k]), rssKiB, runs: n });
  }
  return out;
}

async function startPeers() {
  const { Packet } = dns2;
  const zone = [
    { name: 'mail.dev.example.test', type: Packet.TYPE.CNAME, class: 1, ttl: 300, domain: 'mail.example.local' },
    { name: 'mail.example.local', type: Packet.TYPE.A, class: 1, ttl: 60, address: '127.0.0.1' },
  ];
  const dns = dns2.createServer({
    udp: true,
    handle(req, send) {
      const res = Packet.createResponseFromRequest(req);
      const q = req.questions[0];
      let name = q.name.toLowerCase();
      const c = zone.find((r) => r.name === name && r.type === Packet.TYPE.CNAME);
      if (c) {
        res.answers.push(c);
        name = c.domain;
      }
      res.answers.push(...zone.filter((r) => r.name === name && r.type === q.type));
      send(res);
    },
  });
  await dns.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const dnsPort = dns.addresses().udp.port;
  const sink = await fixtureSink(root);
  const smtpPort = sink.port;
  return { dnsPort, smtpPort, received: sink.received, connections: sink.connections, close: async () => { await dns.close(); await sink.close(); } };
}

/** The sink's own capacity: one pipelined TLS connection from this process. */
async function sinkCapacity(port, n = 1000) {
  const conn = new SMTPConnection({ host: '127.0.0.1', port, servername: 'mail.dev.example.test', requireTLS: true, tls: { ca: readFileSync(CA) }, name: 'bench.example.test' });
  conn.on('error', () => {});
  await new Promise((ok, no) => conn.connect((e) => (e ? no(e) : ok())));
  const msg = Buffer.from('Subject: capacity\r\n\r\n' + 'x'.repeat(2000) + '\r\n');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise((ok, no) => conn.send({ from: 'a@example.test', to: ['b@example.test'] }, msg, (e) => (e ? no(e) : ok())));
    await new Promise((ok, no) => conn.reset((e) => (e ? no(e) : ok())));
  }
  const s = (performance.now() - t0) / 1000;
  conn.quit();
  return n / s;
}

function message2k() {
  const body = 'This is a benchmark line of text for a 2 KB cron-style message.\n'.repeat(30);
  return `From: root@example.test\nTo: admin@example.test\nSubject: bench\n\n${body}`.slice(0, 2048);
}

async function bigFile(dir, mib) {
  const file = join(dir, `big-${mib}.eml`);
  const w = createWriteStream(file);
  w.write('From: root@example.test\nTo: admin@example.test\nSubject: big\n\n');
  const line = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz\n');
  const chunk = Buffer.concat(Array(10_000).fill(line));
  for (let written = 0; written < mib * 1024 * 1024; written += chunk.length) {
    if (!w.write(chunk)) await new Promise((r) => w.once('drain', r));
  }
  await new Promise((r) => w.end(r));
  return file;
}

function supports(args, conf) {
  const r = spawnSync(process.execPath, [BIN, '-C', conf, ...args], { env, input: '', encoding: 'utf8' });
  return !/unknown option|not supported/.test(r.stderr);
}

async function main() {
  if (!existsSync(join(root, 'dist/send-smarthost.cjs'))) throw new Error('run `npm run build` first');
  const peers = await startPeers();
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-bench-'));
  const spool = join(dir, 'spool');
  const conf = join(dir, 'bench.conf');
  writeFileSync(
    conf,
    [
      'route_data = mail.dev.example.test bydns ipv4_only',
      `port = ${peers.smtpPort}`,
      `dns_servers = 127.0.0.1:${peers.dnsPort}`,
      `tls_verify_certificates = ${CA}`,
      'helo_data = bench.example.test',
      'qualify_domain = example.test',
    ].join('\n') + '\n',
  );
  // issue 3's spool: only configure it when this build knows the option
  const spoolSupported = readFileSync(join(root, 'dist/send-smarthost.cjs'), 'utf8').includes('spool_directory');
  if (spoolSupported) {
    writeFileSync(conf, readFileSync(conf, 'utf8') + `spool_directory = ${spool}\nlog_file_path = ${join(dir, 'mainlog')}\n`);
    const init = spawnSync(process.execPath, [BIN, '-C', conf, '--init-spool'], { env, encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`--init-spool: ${init.stderr}`);
  }
  const msg = message2k();
  const rows = [];
  const notes = [];
  const say = (s) => process.stderr.write(s + '\n');

  say(`sink capacity...`);
  const capacity = await sinkCapacity(peers.smtpPort);
  const cases = [
    { label: 'node -e 0 (floor)', fn: (o) => run(process.execPath, ['-e', '0'], o) },
    { label: 'send-smarthost, 2 KB, default mode (-odb: spooled, detached deliverer)', fn: (o) => run(process.execPath, [BIN, '-C', conf, '-oi', 'admin@example.test'], { ...o, input: msg }) },
    { label: 'send-smarthost, 2 KB, -odi (delivered before exit)', fn: (o) => run(process.execPath, [BIN, '-C', conf, '-odi', '-oi', 'admin@example.test'], { ...o, input: msg }) },
  ];
  if (supports(['-odq', 'admin@example.test'], conf) && spoolSupported) {
    cases.push({ label: 'send-smarthost, 2 KB, -odq (spooled only, fsynced)', fn: (o) => run(process.execPath, [BIN, '-C', conf, '-odq', '-oi', 'admin@example.test'], { ...o, input: msg }) });
  } else notes.push('-odq: not supported by this build (no spool): skipped');
  // msmtp and Exim, when installed (bench/others.mjs)
  const others = process.env.BENCH_OTHERS === '0' ? { tools: [], notes: ['msmtp and Exim: skipped (BENCH_OTHERS=0)'] } : otherTools({ dir, smtpPort: peers.smtpPort, ca: CA, msg, run, received: peers.received });
  for (const tool of others.tools) cases.push(...tool.latency);
  notes.push(...others.notes);
  say(`floor and caller latency: ${cases.length} cases × ${RUNS}, interleaved`);
  rows.push(...(await interleave(cases, RUNS)));
  const floor = rows[0];

  let queue;
  if (spoolSupported) {
    say(`queue: spooling ${QUEUE} messages with -odq`);
    await run(process.execPath, [BIN, '-C', conf, '-qf']); // empty whatever earlier cases left
    for (let i = 0; i < QUEUE; i++) {
      const r = await run(process.execPath, [BIN, '-C', conf, '-odq', '-oi', 'admin@example.test'], { input: msg });
      if (r.code !== 0) throw new Error(`-odq: ${r.stderr}`);
    }
    const before = peers.received();
    const r = await run(process.execPath, [BIN, '-C', conf, '-qf']);
    const delivered = peers.received() - before;
    queue = { messages: delivered, seconds: r.ms / 1000, perSecond: delivered / (r.ms / 1000), rssKiB: r.rss };
    if (delivered !== QUEUE) notes.push(`queue run delivered ${delivered} of ${QUEUE}`);
  } else notes.push('queue run: this build has no spool (issue 3): skipped');
  const otherQueues = [];
  for (const tool of others.tools) {
    say(`queue: ${tool.name}`);
    otherQueues.push(await tool.queue(QUEUE));
  }

  const big = [];
  for (const mib of BIG) {
    say(`${mib} MiB message`);
    const file = await bigFile(dir, mib);
    const r = await run(process.execPath, [BIN, '-C', conf, '-odi', '-oi', 'admin@example.test'], { stdinFile: file });
    if (r.code !== 0) throw new Error(`${mib} MiB: exit ${r.code}: ${r.stderr}`);
    big.push({ mib, tool: 'send-smarthost -odi', seconds: r.ms / 1000, rssKiB: r.rss });
    for (const tool of others.tools) {
      const before = peers.received();
      const o = await tool.big(file);
      await sleep(200); // the sink counts a message once its final dot is in
      if (o.code !== 0 || peers.received() === before) notes.push(`${tool.name}, ${mib} MiB: not delivered (exit ${o.code}): ${o.stderr.split('\n').slice(-2).join(' | ')}`);
      else big.push({ mib, tool: tool.name === 'exim' ? 'exim -odi' : tool.name, seconds: o.ms / 1000, rssKiB: o.rss });
    }
    rmSync(file);
  }
  await peers.close();
  rmSync(dir, { recursive: true, force: true });

  const f = floor.median;
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const md = [
    `send-smarthost bench, ${when}, ${machine}; NODE_EXTRA_CA_CERTS unset; ${RUNS} runs per case, medians`,
    '',
    '| case | median ms | ratio to floor | peak RSS MiB |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.label} | ${r.median.toFixed(1)} | ${(r.median / f).toFixed(2)} × | ${(r.rssKiB / 1024).toFixed(1)} |`),
    ...(queue ? [`| queue run of ${queue.messages} messages (-qf) | ${(queue.seconds * 1000).toFixed(0)} | ${queue.perSecond.toFixed(0)} msg/s | ${(queue.rssKiB / 1024).toFixed(1)} |`] : []),
    ...otherQueues.map((q) => `| ${q.label} | ${q.ms.toFixed(0)} | ${q.perSecond.toFixed(0)} msg/s | ${q.rssKiB ? (q.rssKiB / 1024).toFixed(1) : '—'} |`),
    ...big.map((b) => `| one ${b.mib} MiB message, ${b.tool} | ${(b.seconds * 1000).toFixed(0)} | — | ${(b.rssKiB / 1024).toFixed(1)} (${(b.rssKiB / floor.rssKiB).toFixed(2)} × floor) |`),
    `| sink capacity (one pipelined TLS connection, in-process) | — | ${capacity.toFixed(0)} msg/s | — |`,
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'latest.md'), md + '\n');
  writeFileSync(join(OUT, 'latest.json'), JSON.stringify({ when, machine, runs: RUNS, floor, rows, queue, otherQueues, big, sinkCapacity: capacity, notes }, null, 2) + '\n');
  console.log(md);
}

main().catch((err) => {
  console.error(`bench: ${err.stack ?? err}`);
  process.exitCode = 1;
});
