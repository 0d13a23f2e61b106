/**
 * End to end for addressing (issue 4): the aliases file, -bi, and -bs
 * sessions over a pipe through the built bin/send-smarthost, delivering to
 * smtp-server peers on loopback (run `node build.mjs` first; `npm test` does).
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { startSmtp, type FakeSmtpOptions } from '../fixtures/peers/fake-smtp.js';
import { BIN, NODE, runCli, testConfig, withoutTapHooks } from '../fixtures/peers/run-cli.js';

const MESSAGE = 'From: Cron Daemon <root@example.test>\nTo: root\nSubject: nightly\n\nall good\n';
const ROUTE = 'smarthost.example.test';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

/** A smarthost peer and a config using it; `aliases` (text) is written beside the config. */
async function setup(t: Test, opts: { smtp?: FakeSmtpOptions; aliases?: string; extra?: string[] } = {}) {
  const smtp = await startSmtp({ cert: 'direct', ...opts.smtp });
  t.teardown(() => smtp.close());
  let conf = testConfig({ route: ROUTE, dnsPort: dns.port, smtpPort: smtp.port, extra: opts.extra });
  let aliasesFile = '';
  if (opts.aliases !== undefined) {
    aliasesFile = join(dirname(conf), 'aliases');
    writeFileSync(aliasesFile, opts.aliases);
    conf = testConfig({ route: ROUTE, dnsPort: dns.port, smtpPort: smtp.port, extra: [...(opts.extra ?? []), `system_aliases_file = ${aliasesFile}`] });
  }
  return { smtp, conf, aliasesFile };
}

t.test('aliases: cron mail to root reaches the aliased address', async (t) => {
  const { smtp, conf, aliasesFile } = await setup(t, { aliases: '# local names\npostmaster: root\nroot: admin@corp.test, \\root\n' });
  const res = await runCli(['-C', conf, '-d', 'root'], MESSAGE);
  t.equal(res.code, 0, res.stderr);
  t.equal(smtp.messages.length, 1);
  t.same([...smtp.messages[0]!.to].sort(), ['admin@corp.test', 'root@example.test']);
  t.ok(res.stderr.includes(`root@example.test -> admin@corp.test (${aliasesFile}:3)`), 'expansion traced with file:line');
  const pm = await runCli(['-C', conf, 'postmaster@LOCALHOST'], MESSAGE);
  t.equal(pm.code, 0, pm.stderr);
  t.same([...smtp.messages[1]!.to].sort(), ['admin@corp.test', 'root@example.test'], 'localhost is a local domain; recursive');
  const other = await runCli(['-C', conf, 'root@elsewhere.test'], MESSAGE);
  t.equal(other.code, 0);
  t.same(smtp.messages[2]!.to, ['root@elsewhere.test'], 'other domains are not aliased');
});

t.test('aliases: a loop keeps the address; pipe-only alias is refused (78), nothing sent', async (t) => {
  const { smtp, conf, aliasesFile } = await setup(t, { aliases: 'a: b\nb: a\nprog: "|/usr/bin/procmail"\nmixed: |/bin/true, ops@corp.test\n' });
  const loop = await runCli(['-C', conf, '-d', 'a'], MESSAGE);
  t.equal(loop.code, 0, loop.stderr);
  t.same(smtp.messages[0]!.to, ['a@example.test']);
  t.match(loop.stderr, /alias loop a -> b -> a: a@example\.test kept as an address/);
  const prog = await runCli(['-C', conf, 'prog', 'someone@corp.test'], MESSAGE);
  t.equal(prog.code, 78);
  t.equal(smtp.messages.length, 1, 'nothing delivered');
  t.match(prog.stderr, new RegExp(`${aliasesFile}:3: alias "prog" \\(for prog@example\\.test\\) has no address a smarthost can deliver to`));
  const mixed = await runCli(['-C', conf, 'mixed'], MESSAGE);
  t.equal(mixed.code, 0, mixed.stderr);
  t.same(smtp.messages[1]!.to, ['ops@corp.test']);
  t.match(mixed.stderr, /warning: .*aliases:4: alias "mixed": pipe "\|\/bin\/true" cannot be delivered through a smarthost; skipped/);
});

t.test('aliases file errors and -bi', async (t) => {
  const good = await setup(t, { aliases: 'root: admin@corp.test\nwww: root\n' });
  const ok = await runCli(['-C', good.conf, '-bi']);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(ok.stdout, `${good.aliasesFile}: 2 aliases\n`);
  const bad = await setup(t, { aliases: 'root: admin@corp.test\nwww root\n' });
  const bi = await runCli(['-C', bad.conf, '-bi']);
  t.equal(bi.code, 78);
  t.match(bi.stderr, new RegExp(`^send-smarthost: ${bad.aliasesFile}:2: expected "name: address, \\.\\.\\."`));
  const send = await runCli(['-C', bad.conf, 'someone@corp.test'], MESSAGE);
  t.equal(send.code, 78, 'a broken aliases file stops delivery with 78');
  t.equal(bad.smtp.messages.length, 0);
  const none = await setup(t);
  const nb = await runCli(['-C', none.conf, '-bi']);
  t.equal(nb.code, 0);
  t.match(nb.stdout, /no aliases file/);
});

/** A -bs client that waits for each reply before sending the next command, as Symfony's does. */
function interactive(args: string[]) {
  const child = spawn(NODE[0]!, [...NODE.slice(1), BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...withoutTapHooks(process.env), NO_COLOR: '1' } });
  let buf = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  child.on('close', () => clearTimeout(timer));
  /** Read one complete (possibly multi-line) reply. */
  const reply = async (): Promise<string> => {
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3} [^\r\n]*\r\n/.exec(buf);
      if (m) {
        buf = buf.slice(m[0].length);
        return m[0];
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const send = (text: string): void => void child.stdin.write(text);
  return { reply, send, end: () => child.stdin.end(), exited, stderr: () => stderr, rest: () => buf };
}

t.test('-bs: an interactive session delivers to the smarthost', async (t) => {
  const { smtp, conf } = await setup(t, { aliases: 'root: admin@corp.test\n' });
  const c = interactive(['-C', conf, '-bs']);
  t.match(await c.reply(), /^220 \S+ send-smarthost ESMTP\r\n$/);
  c.send('EHLO app.example.test\r\n');
  t.match(await c.reply(), /^250-\S+ Hello app\.example\.test\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-SIZE \d+\r\n250-SMTPUTF8\r\n250 HELP\r\n$/);
  c.send('MAIL FROM:<app@example.test>\r\n');
  t.equal(await c.reply(), '250 2.1.0 OK\r\n');
  c.send('RCPT TO:<user@corp.test>\r\n');
  t.equal(await c.reply(), '250 2.1.5 OK\r\n');
  c.send('RCPT TO:<root>\r\n');
  t.equal(await c.reply(), '250 2.1.5 OK\r\n');
  c.send('DATA\r\n');
  t.match(await c.reply(), /^354 /);
  c.send('From: app@example.test\r\nTo: user@corp.test\r\nBcc: secret@corp.test\r\nSubject: hello\r\n\r\n..starts with a dot\r\n.\r\n');
  t.equal(await c.reply(), '250 2.0.0 OK\r\n');
  c.send('QUIT\r\n');
  t.match(await c.reply(), /^221 2\.0\.0 /);
  t.equal(await c.exited, 0, c.stderr());
  t.equal(c.rest(), '', 'stdout carries only SMTP replies');
  t.equal(smtp.messages.length, 1);
  const m = smtp.messages[0]!;
  t.equal(m.from, 'app@example.test');
  t.same(m.to, ['user@corp.test', 'admin@corp.test'], 'root aliased');
  const data = m.data.toString();
  t.match(data, /\r\nSubject: hello\r\n/);
  t.match(data, /\r\n\r\n\.starts with a dot\r\n$/, 'dot-stuffing round trip');
  t.notMatch(data, /Bcc|secret/, 'Bcc removed as for piped mail');
});

t.test('-bs: two pipelined messages in one session, RSET between', async (t) => {
  const { smtp, conf } = await setup(t);
  const input =
    'EHLO app\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<one@corp.test>\r\nDATA\r\nSubject: 1\r\n\r\nfirst\r\n.\r\n' +
    'RSET\r\nMAIL FROM:<>\r\nRCPT TO:<two@corp.test>\r\nRCPT TO:<three@corp.test>\r\nDATA\r\nSubject: 2\r\n\r\nsecond\r\n.\r\nQUIT\r\n';
  const res = await runCli(['-C', conf, '-bs'], input);
  t.equal(res.code, 0, res.stderr);
  const codes = res.stdout.split('\r\n').filter((l) => l !== '').map((l) => l.slice(0, 3));
  t.same(codes, ['220', '250', '250', '250', '250', '250', '250', '250', '250', '354', '250', '250', '250', '250', '250', '354', '250', '221']);
  t.equal(smtp.messages.length, 2);
  t.same(smtp.messages[0]!.to, ['one@corp.test']);
  t.equal(smtp.messages[1]!.from, '', 'null sender');
  t.same(smtp.messages[1]!.to, ['two@corp.test', 'three@corp.test']);
  t.match(smtp.messages[1]!.data.toString(), /\r\n\r\nsecond\r\n$/);
});

t.test('-bs: the client goes away mid-DATA: nothing delivered, exit 75', async (t) => {
  const { smtp, conf } = await setup(t);
  const res = await runCli(['-C', conf, '-bs'], 'EHLO app\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<one@corp.test>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess');
  t.equal(res.code, 75);
  t.equal(smtp.messages.length, 0, 'nothing delivered');
  t.equal(smtp.sessions.length, 0, 'the smarthost was not even contacted');
  t.match(res.stdout, /354 [^\r]*\r\n$/, 'the last reply was 354: no 250 was given');
  t.match(res.stderr, /input ended inside a transaction; that message was not accepted/);
  const quit = await runCli(['-C', conf, '-bs'], 'EHLO app\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<one@corp.test>\r\nQUIT\r\n');
  t.equal(quit.code, 0, 'QUIT abandons the transaction cleanly');
  t.equal(smtp.messages.length, 0);
});

t.test('-bs: bad sequence and failures are answered in-band', async (t) => {
  const { smtp, conf } = await setup(t, { smtp: { onRcpt: (a) => (a.startsWith('bad') ? '550 5.1.1 no such user' : undefined) } });
  const input =
    'MAIL FROM:<a@example.test>\r\nEHLO app\r\nRCPT TO:<x@corp.test>\r\nDATA\r\nBOGUS\r\nMAIL FROM:<a@example.test> RET=FULL\r\n' +
    'MAIL FROM:<a@example.test>\r\nRCPT TO:<bad@corp.test>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n';
  const res = await runCli(['-C', conf, '-bs'], input);
  t.equal(res.code, 0, 'the session itself went fine');
  const lines = res.stdout.split('\r\n').filter((l) => l !== '');
  t.match(lines[1], /^503 5\.5\.1 Send EHLO or HELO first/);
  t.match(lines[8], /^503 5\.5\.1 Send MAIL FROM first/);
  t.match(lines[9], /^503 5\.5\.1 Send MAIL FROM first/);
  t.match(lines[10], /^500 5\.5\.2 Command unrecognized: BOGUS/);
  t.match(lines[11], /^555 5\.5\.4 MAIL FROM parameter RET/);
  t.match(lines[lines.length - 2], /^550 5\.0\.0 <bad@corp\.test>: failed via smarthost\.example\.test: 550 5\.1\.1 no such user$/);
  t.match(lines[lines.length - 1], /^221 /);
  t.equal(smtp.messages.length, 0);
});

t.test('-bs: SMTPUTF8 addresses reach a smarthost that offers SMTPUTF8, fail clearly otherwise', async (t) => {
  const input = 'EHLO app\r\nMAIL FROM:<jösé@example.test> SMTPUTF8\r\nRCPT TO:<用户@corp.test>\r\nDATA\r\nSubject: utf8\r\n\r\nhi\r\n.\r\nQUIT\r\n';
  const good = await setup(t);
  const res = await runCli(['-C', good.conf, '-bs'], Buffer.from(input, 'utf8'));
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /\r\n250 2\.0\.0 OK\r\n221 /);
  t.equal(good.smtp.messages[0]?.from, 'jösé@example.test');
  t.same(good.smtp.messages[0]?.to, ['用户@corp.test']);
  const bad = await setup(t, { smtp: { hideSMTPUTF8: true } });
  const r2 = await runCli(['-C', bad.conf, '-bs'], Buffer.from(input, 'utf8'));
  t.equal(r2.code, 0);
  t.match(r2.stdout, /\r\n550 5\.0\.0 [^\r]*SMTPUTF8[^\r]*\r\n221 /, 'a permanent reply naming SMTPUTF8');
  t.equal(bad.smtp.messages.length, 0);
});
