// The incumbents, side by side with send-smarthost in npm run bench, when
// they are installed: msmtp (one process per message, no queue) and Exim 4
// (-odi, its default -odb, -odq, and -qf over its own spool), configured
// here to hand mail to the same loopback STARTTLS sink with the same test CA.
//
// Exim is given the address 127.0.0.1 (route_list; its own DNS lookups would
// go to the system resolver) with the SNI name of the sink's certificate; it
// verifies the chain (tls_verify_certificates) but, connecting to an
// address, not the name. msmtp is told the name with --tls-host-override
// and verifies both. Neither touches the system's configuration: each gets
// its own files in the benchmark's directory.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || undefined;

/** The uid/gid Exim should run as (its Debian or upstream user), or undefined. */
function eximUser() {
  for (const name of ['Debian-exim', 'exim', 'mail']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (r.status === 0) return { name, uid: Number(r.stdout.trim()), gid: Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim()) };
  }
  return undefined;
}

/**
 * The tools found, each with `latency` (cases for the interleaved latency
 * runs: { label, fn(opts) }), `queue(n)` and `big(file)` (both resolve to a
 * row or undefined), and notes on what was skipped and why.
 * `run(cmd, args, opts)` is bench/run.mjs's runner; `received()` counts the
 * sink's messages.
 */
export function otherTools({ dir, smtpPort, ca, msg, run, received }) {
  const tools = [];
  const notes = [];
  const rcpt = 'admin@example.test';

  const msmtp = which('msmtp');
  if (msmtp) {
    const rc = join(dir, 'msmtprc');
    writeFileSync(rc, 'defaults\n', { mode: 0o600 });
    const args = ['-C', rc, '--host=127.0.0.1', `--port=${smtpPort}`, '--auth=off', '--tls=on', '--tls-starttls=on', `--tls-trust-file=${ca}`, '--tls-host-override=mail.dev.example.test', '--domain=bench.example.test', '-f', 'root@example.test', rcpt];
    const send = (o = {}) => run(msmtp, args, { input: msg, ...o });
    tools.push({
      name: 'msmtp',
      latency: [{ label: 'msmtp, 2 KB (delivered before exit)', fn: (o) => send(o) }],
      // no queue: what a loop of one process per message does, over a tenth of the messages (at least 50)
      async queue(n) {
        const count = Math.max(50, Math.round(n / 10));
        const before = received();
        const t0 = performance.now();
        for (let i = 0; i < count; i++) if ((await send({ rss: false })).code !== 0) throw new Error('msmtp failed');
        const s = (performance.now() - t0) / 1000;
        return { label: `msmtp in a loop, ${count} messages (one process each)`, ms: s * 1000, perSecond: (received() - before) / s };
      },
      big: (file) => run(msmtp, args, { stdinFile: file }),
    });
  } else notes.push('msmtp: not installed here: skipped');

  const exim = which('exim4') ?? which('exim');
  const user = exim ? eximUser() : undefined;
  if (exim && !user) notes.push('exim: no exim user (Debian-exim, exim or mail) to run its deliveries as: skipped');
  let eximReady = false;
  const base = join(dir, 'exim');
  if (exim && user) {
    try {
      mkdirSync(base, { recursive: true });
      // Exim runs as its own user (it gives up root for -C): it must reach its directories
      chmodSync(dir, 0o711);
      chmodSync(base, 0o755);
      for (const d of ['spool', 'log']) {
        mkdirSync(join(base, d), { recursive: true });
        chownSync(join(base, d), user.uid, user.gid);
      }
      eximReady = true;
    } catch (err) {
      notes.push(`exim: cannot give its directories to ${user.name} (${err.code ?? err}; run the bench as root): skipped`);
    }
  }
  if (eximReady) {
    const conf = join(base, 'exim.conf');
    writeFileSync(
      conf,
      [
        'primary_hostname = bench.example.test',
        'qualify_domain = example.test',
        `spool_directory = ${base}/spool`,
        `log_file_path = ${base}/log/%slog`,
        `exim_user = ${user.name}`,
        `exim_group = ${user.gid}`,
        'message_size_limit = 0',
        'keep_environment =',
        'acl_not_smtp = accept_all',
        'begin acl',
        'accept_all:',
        '  accept',
        'begin routers',
        'smarthost:',
        '  driver = manualroute',
        '  domains = *',
        '  transport = remote_smtp',
        '  route_list = * 127.0.0.1',
        '  self = send',
        '  no_more',
        'begin transports',
        'remote_smtp:',
        '  driver = smtp',
        `  port = ${smtpPort}`,
        '  hosts_require_tls = *',
        '  allow_localhost',
        `  tls_verify_certificates = ${ca}`,
        '  tls_sni = mail.dev.example.test',
        '  tls_verify_cert_hostnames =',
        'begin retry',
        '* * F,2h,15m; G,16h,1h,1.5; F,4d,6h',
      ].join('\n') + '\n',
    );
    const sub = (mode, o = {}) => run(exim, ['-C', conf, ...(mode ? [mode] : []), '-oi', '-f', 'root@example.test', rcpt], { input: msg, ...o });
    tools.push({
      name: 'exim',
      latency: [
        { label: 'exim, 2 KB, default mode (-odb)', fn: (o) => sub(undefined, o) },
        { label: 'exim, 2 KB, -odi', fn: (o) => sub('-odi', o) },
        { label: 'exim, 2 KB, -odq', fn: (o) => sub('-odq', o) },
      ],
      async queue(n) {
        await run(exim, ['-C', conf, '-qf']); // what the latency runs left
        for (let i = 0; i < n; i++) if ((await sub('-odq', { rss: false })).code !== 0) throw new Error('exim -odq failed');
        const before = received();
        const r = await run(exim, ['-C', conf, '-qf']);
        return { label: `exim -qf, queue of ${n} messages`, ms: r.ms, perSecond: (received() - before) / (r.ms / 1000), rssKiB: r.rss };
      },
      big: (file) => run(exim, ['-C', conf, '-odi', '-oi', '-f', 'root@example.test', rcpt], { stdinFile: file }),
    });
  } else if (!exim) notes.push('exim4: not installed here: skipped');
  return { tools, notes };
}
