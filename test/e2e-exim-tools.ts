/**
 * Exim's own queue tools read the queue our binary lists (issue 12):
 * exiqgrep, unchanged, runs `<exim> -bpu` (or `-bp` with -a, `-C file` with
 * -C) through its -E option, and exiqsumm summarises `-bp`. The queue is
 * made by the built bundle against the test peers: a message to an alias,
 * one delivered in part, one with the null sender, a frozen one, a drop file
 * still in incoming/ and a damaged one. Each test is skipped, saying so,
 * where the tool is not installed (Debian: exim4-base).
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { message, run, setup, type Env } from '../fixtures/peers/queue-env.js';
import { BIN, NODE, withoutTapHooks } from '../fixtures/peers/run-cli.js';

const EXIQGREP = '/usr/sbin/exiqgrep';
const EXIQSUMM = '/usr/sbin/exiqsumm';
const absent = (tool: string): string | false => (existsSync(tool) ? false : `${tool} is not installed (Debian: exim4-base)`);

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

interface Queue {
  e: Env;
  /** Our binary as one executable file, for exiqgrep's -E. */
  exim: string;
  ids: { alias: string; partial: string; nul: string; frozen: string; drop: string };
}

/** The queue the tools read (see the module comment). */
async function makeQueue(t: Test): Promise<Queue> {
  const aliases = join(t.testdir({ aliases: 'root: admin@example.com, ops@example.org\n' }), 'aliases');
  const e = await setup(t, dns, { onRcpt: (a) => (a === 'ok@example.net' ? undefined : '451 4.7.1 later') }, [`system_aliases_file = ${aliases}`]);
  const submit = async (args: string[], n: string): Promise<string> => {
    const before = new Set([...e.queued(), ...e.drops()]);
    const r = await run(['-C', e.conf, ...args], { input: message(n) });
    t.equal(r.code, 0, r.stderr);
    return [...e.queued(), ...e.drops()].find((id) => !before.has(id))!;
  };
  const alias = await submit(['-odi', 'root'], 'alias');
  const partial = await submit(['-odi', 'ok@example.net', 'bob@example.net'], 'partial');
  const nul = await submit(['-odi', '-f', '', 'carol@example.org'], 'null');
  const frozen = await submit(['-odi', 'dave@example.net'], 'frozen');
  t.equal((await run(['-C', e.conf, '-Mf', frozen])).code, 0);
  const drop = await submit(['-odq', 'erin@example.com'], 'drop');
  writeFileSync(join(e.spool, 'incoming', '1aaaaa-000000-00'), 'not a drop file');
  const exim = join(e.dir, 'exim');
  writeFileSync(exim, `#!/bin/sh\nexec ${[...NODE, BIN].map((w) => `'${w}'`).join(' ')} "$@"\n`);
  chmodSync(exim, 0o755);
  return { e, exim, ids: { alias, partial, nul, frozen, drop } };
}

/** Run a Perl tool of Exim's; its stdout, which must be all it says. */
function tool(t: Test, cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env: withoutTapHooks(process.env), timeout: 60_000 });
  t.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  t.notMatch(r.stderr, /Line mismatch/, 'every line of ours parsed');
  return r.stdout;
}

t.test('exiqgrep, unchanged, through -E: selections by recipient, sender, frozen state; long, brief, id and count output', { skip: absent(EXIQGREP) }, async (t) => {
  const { e, exim, ids } = await makeQueue(t);
  const g = (...args: string[]): string => tool(t, EXIQGREP, ['-E', exim, '-C', e.conf, ...args]);
  t.equal(g('-i', '-r', 'bob@'), `${ids.partial}\n`);
  t.equal(g('-i', '-r', '^ok@example\\.net$'), '', '-bpu: a delivered recipient is not listed');
  t.equal(g('-a', '-i', '-r', 'ok@example\\.net'), `${ids.partial}\n`, '-a (-bp): the delivered ones too');
  t.equal(g('-i', '-r', '^root@example\\.test$'), `${ids.alias}\n`, 'listed by the address it was sent to, before aliases (Exim: the top-level address)');
  t.equal(g('-i', '-z'), `${ids.frozen}\n`, '-z: frozen only');
  t.equal(g('-c', '-x'), '4 matches out of 5 messages\n', '-x: not frozen; every message counted, the drop file too');
  t.equal(g('-i', '-f', '^<>$'), `${ids.nul}\n`, 'the null sender as <>');
  t.equal(g('-c', '-f', 'root@example\\.test'), '4 matches out of 5 messages\n');
  const long = g('-r', 'bob@');
  t.match(long, new RegExp(`^ {0,2}\\d+[mhd] +\\d+ ${ids.partial} <root@example\\.test>\\n\\t  bob@example\\.net\\n\\n$`), 'the long format: age, size, id, sender, recipients');
  t.match(g('-b', '-z'), new RegExp(`^${ids.frozen} From: <root@example\\.test> To: dave@example\\.net\\n$`), 'brief');
  t.equal(g('-i', '-y', '3600', '-r', 'erin@'), `${ids.drop}\n`, '-y: the age from the id (a drop file waiting in incoming/)');
});

t.test('exiqsumm reads -bp: recipients per domain, delivered ones left out', { skip: absent(EXIQSUMM) }, async (t) => {
  const { e } = await makeQueue(t);
  const bp = await run(['-C', e.conf, '-bp']);
  t.equal(bp.code, 0, bp.stderr);
  t.match(bp.stderr, /1aaaaa-000000-00|cannot be read/, 'the damaged file is said on stderr, where exiqsumm does not look');
  const out = tool(t, EXIQSUMM, [], bp.stdout);
  const row = (count: number, domain: string): RegExp => new RegExp(`^ +${count} +\\d+ +\\d+[mhd] +\\d+[mhd] +${domain.replace(/\./g, '\\.')}$`, 'm');
  t.match(out, row(2, 'example.net'), 'bob@ and dave@ (ok@ was delivered)');
  t.match(out, row(1, 'example.org'), 'carol@');
  t.match(out, row(1, 'example.test'), 'root@: the alias is listed as it was sent');
  t.match(out, row(1, 'example.com'), 'erin@ (a drop file)');
  t.match(out, / +5 +\d+ +\d+[mhd] +\d+[mhd] +TOTAL$/m);
});
