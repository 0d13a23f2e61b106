/**
 * What each kind of start loads (issue 5: start-up must not load what it does
 * not need): a background or queue-only submission loads no networking,
 * streams, crypto or child_process module before its message is safe (the
 * deliverer is started through process_wrap); -bp and -Mv… load no DNS or TLS code.
 * Node's own module list is read by a test-only preload.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, NODE, withoutTapHooks, writeConfig } from '../fixtures/peers/run-cli.js';

const PRELOAD = fileURLToPath(new URL('../fixtures/peers/module-list.cjs', import.meta.url));

function modulesOf(args: string[], input: string): { code: number | null; stderr: string; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-startup-'));
  try {
    const list = join(dir, 'modules');
    // stdin from a file, as cron's pipe would be read: with read(2), not process.stdin
    const r = spawnSync(NODE[0]!, [...NODE.slice(1), '-r', PRELOAD, BIN, ...args], {
      input,
      env: { ...withoutTapHooks(process.env), SEND_SMARTHOST_MODULE_LIST: list },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: r.status, stderr: r.stderr, modules: readFileSync(list, 'utf8').split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const message = 'From: cron@example.test\nTo: admin@example.test\nSubject: startup\n\nbody\n';
const HEAVY = /^(net|tls|dgram|_tls_wrap|crypto|child_process|stream|http|https|dns|zlib|readline|fs\/promises|internal\/fs\/promises)$/;

t.test('-odq and the default background mode: only what spools the message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-startup-spool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // the detached deliverers find nobody on 127.0.0.1:1 and leave their messages queued
  const conf = writeConfig(['route_data = 127.0.0.1', 'port = 1', `spool_directory = ${dir}/spool`, 'system_aliases_file =']);
  for (const args of [['-odq'], ['-odb'], []]) {
    const r = modulesOf(['-C', conf, ...args, 'admin@example.test'], message);
    t.equal(r.code, 0, `${args.join(' ') || 'default'}: ${r.stderr}`);
    t.same(r.modules.filter((m) => HEAVY.test(m)), [], `${args.join(' ') || 'default'}: no ${HEAVY.source}`);
  }
  // before the spool is removed: both deliverers are done (their drop files moved into input/, no lock left)
  const settled = () => readdirSync(join(dir, 'spool', 'input')).filter((n) => n.endsWith('-H')).length === 2 && !readdirSync(join(dir, 'spool', 'input')).some((n) => n.endsWith('-L'));
  for (let i = 0; i < 500 && !settled(); i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(settled(), 'the two background deliveries were tried and queued');
});

t.test('-bp, -bpa, -Mvh, -Mvl: no DNS, TLS or SMTP code', async (t) => {
  const conf = writeConfig(['route_data = mail.example.test', 'spool_directory = /nonexistent/send-smarthost-spool']);
  for (const [args, code] of [[['-bp'], 0], [['-bpa'], 0], [['-Mvh', '1aaaaa-000000-00'], 66], [['-Mvl', '1aaaaa-000000-00'], 66]] as const) {
    const r = modulesOf(['-C', conf, ...args], '');
    t.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    t.same(r.modules.filter((m) => /^(tls|_tls_wrap|dgram|dns|crypto|child_process)$/.test(m)), [], args.join(' '));
  }
});
