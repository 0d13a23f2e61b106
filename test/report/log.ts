process.env.TZ = 'UTC';
import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import {
  arrivalLine,
  cipherBits,
  completedLine,
  deferErrno,
  deferralLine,
  deliveryLine,
  EXIM_ERRNO,
  failureLine,
  frozenLine,
  isFrozenLine,
  logStamp,
  messageLine,
  openMainLog,
  printable,
  queueRunLine,
  quoted,
  removedLine,
  REOPEN_MS,
  smtpErrorText,
  unfrozenLine,
} from '../../lib/report/log.js';

const at = new Date(Date.UTC(2026, 10, 28, 13, 2, 38, 999));
const id = '1kQb5w-000Abc-9S';
const host = { canonical: 'mx1.example.net', address: '192.0.2.25', port: 587, queried: 'mail.example.com' };
const tls = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true };
const P = '2026-11-28 13:02:38 1kQb5w-000Abc-9S';

t.test('timestamp', async (t) => {
  t.equal(logStamp(at), '2026-11-28 13:02:38', 'local time (TZ=UTC here), seconds truncated');
  t.equal(logStamp(new Date(Date.UTC(2027, 0, 2, 3, 4, 5))), '2027-01-02 03:04:05', 'zero padded');
});

t.test('arrival', async (t) => {
  t.equal(
    arrivalLine({ at, id, sender: 'root@juno.example', user: 'root', size: 1234, messageId: '<x.1@juno.example>' }),
    `${P} <= root@juno.example U=root P=local S=1234 id=x.1@juno.example`,
  );
  t.equal(
    arrivalLine({ at, id, sender: 'cron@juno.example', user: 'cron', size: 10, protocol: 'local-smtp' }),
    `${P} <= cron@juno.example U=cron P=local-smtp S=10`,
    'no Message-ID, -bs',
  );
  t.equal(
    arrivalLine({ at, id: '1kQb6A-000Abd-2X', sender: '', bounceOf: id, user: 'root', size: 2310, messageId: 'E1kQb6A@juno.example' }),
    `2026-11-28 13:02:38 1kQb6A-000Abd-2X <= <> R=${id} U=root P=local S=2310 id=E1kQb6A@juno.example`,
    'a bounce: null sender and R=<original id>',
  );
  t.equal(
    arrivalLine({ at, id, sender: 'a@b', size: 1, messageId: '<evil@x>\n2026-11-28 13:02:39 1kQb5w-000Abc-9S Completed' }),
    `${P} <= a@b P=local S=1 id="<evil@x>\\n2026-11-28 13:02:39 1kQb5w-000Abc-9S Completed"`,
    'a Message-ID cannot start a line',
  );
});

t.test('delivery', async (t) => {
  t.equal(
    deliveryLine({ at, id, recipient: 'ann@example.net', host, tls, confirmation: '250 2.0.0 Ok: queued as 4XyZ' }),
    `${P} => ann@example.net R=smarthost T=remote_smtp H=mx1.example.net [192.0.2.25]:587 X=TLSv1.3:TLS_AES_256_GCM_SHA384:256 CV=yes certname=mail.example.com C="250 2.0.0 Ok: queued as 4XyZ"`,
  );
  t.equal(
    deliveryLine({ at, id, recipient: 'bob@example.net', host, tls: { ...tls, cipher: 'ECDHE-RSA-AES128-GCM-SHA256', protocol: 'TLSv1.2', verified: false }, confirmation: '250 ok', more: true }),
    `${P} -> bob@example.net R=smarthost T=remote_smtp H=mx1.example.net [192.0.2.25]:587 X=TLSv1.2:ECDHE-RSA-AES128-GCM-SHA256:128 CV=no certname=mail.example.com C="250 ok"`,
    'second recipient of the transaction, chain-only check',
  );
  t.equal(
    deliveryLine({ at, id, recipient: 'c@example.net', host: { ...host, address: '2001:db8::25', port: 25 }, confirmation: '250 ok', router: 'r', transport: 't' }),
    `${P} => c@example.net R=r T=t H=mx1.example.net [2001:db8::25]:25 C="250 ok"`,
    'no TLS: no X=, CV=, certname=',
  );
  t.equal(
    deliveryLine({ at, id, recipient: 'd@example.net', host, tls: { ...tls, cipher: 'WEIRD', bits: 112 }, confirmation: '250 ok' }),
    `${P} => d@example.net R=smarthost T=remote_smtp H=mx1.example.net [192.0.2.25]:587 X=TLSv1.3:WEIRD:112 CV=yes certname=mail.example.com C="250 ok"`,
    'bits given',
  );
  const evil = deliveryLine({ at, id, recipient: 'e@example.net', host, tls, confirmation: '250 ok" X=forged\r\n2026-11-28 00:00:00 fake Completed\\' });
  t.equal(
    evil,
    `${P} => e@example.net R=smarthost T=remote_smtp H=mx1.example.net [192.0.2.25]:587 X=TLSv1.3:TLS_AES_256_GCM_SHA384:256 CV=yes certname=mail.example.com C="250 ok\\" X=forged\\r\\n2026-11-28 00:00:00 fake Completed\\\\"`,
    'a reply cannot end the quotes or start a line',
  );
  t.notMatch(evil, /[\r\n]/);
  t.equal(cipherBits('TLS_CHACHA20_POLY1305_SHA256'), 256);
  t.equal(cipherBits('TLS_AES_128_GCM_SHA256'), 128);
  t.equal(cipherBits('RC4-MD5'), undefined);
  t.equal(
    deliveryLine({ at, id, recipient: 'f@example.net', host, tls: { ...tls, cipher: 'RC4-MD5' }, confirmation: '250 ok' }).includes(' X=TLSv1.3:RC4-MD5 CV=yes'),
    true,
    'unknown bits are left out',
  );
});

t.test('deferral and failure', async (t) => {
  t.equal(
    deferralLine({
      at,
      id,
      recipient: 'ann@example.net',
      errno: EXIM_ERRNO.RCPT4XX,
      host,
      reason: smtpErrorText({ stage: 'rcpt', recipient: 'ann@example.net', reply: '451 4.7.1 Greylisted, try later' }),
    }),
    `${P} == ann@example.net R=smarthost T=remote_smtp defer (-44) H=mx1.example.net [192.0.2.25]:587: SMTP error from remote mail server after RCPT TO:<ann@example.net>: 451 4.7.1 Greylisted, try later`,
  );
  t.equal(
    deferralLine({ at, id, recipient: 'ann@example.net', errno: 111, reason: 'Connection refused' }),
    `${P} == ann@example.net R=smarthost T=remote_smtp defer (111): Connection refused`,
  );
  t.equal(
    deferralLine({ at, id, recipient: 'ann@example.net', errno: EXIM_ERRNO.HRETRY, reason: 'retry time not reached for any host' }),
    `${P} == ann@example.net R=smarthost T=remote_smtp defer (-53): retry time not reached for any host`,
  );
  t.equal(
    failureLine({ at, id, recipient: 'bob@example.net', host, reason: smtpErrorText({ stage: 'rcpt', recipient: 'bob@example.net', reply: '550 5.1.1 no such user' }) }),
    `${P} ** bob@example.net R=smarthost T=remote_smtp H=mx1.example.net [192.0.2.25]:587: SMTP error from remote mail server after RCPT TO:<bob@example.net>: 550 5.1.1 no such user`,
  );
  t.equal(
    failureLine({ at, id, recipient: 'bob@example.net', routed: false, reason: 'retry timeout exceeded' }),
    `${P} ** bob@example.net: retry timeout exceeded`,
  );
  t.equal(
    failureLine({ at, id, recipient: 'x@y', reason: '550-first\r\n550 second' }),
    `${P} ** x@y R=smarthost T=remote_smtp: 550-first\\r\\n550 second`,
    'multi-line replies stay on one line',
  );
});

t.test('other message events', async (t) => {
  t.equal(completedLine({ at, id }), `${P} Completed`);
  t.equal(removedLine({ at, id, user: 'root' }), `${P} removed by root`);
  t.equal(frozenLine({ at, id }), `${P} Frozen`);
  t.equal(frozenLine({ at, id, reason: 'delivery error message' }), `${P} Frozen (delivery error message)`);
  t.equal(isFrozenLine({ at, id }), `${P} Message is frozen`);
  t.equal(unfrozenLine({ at, id, user: 'admin' }), `${P} unfrozen by admin`);
  t.equal(messageLine({ at, id, text: 'saved in /home/ann/dead.letter' }), `${P} saved in /home/ann/dead.letter`);
  t.equal(queueRunLine({ at, event: 'Start', pid: 4242 }), '2026-11-28 13:02:38 Start queue run: pid=4242');
  t.equal(queueRunLine({ at, event: 'End', pid: 4242, flags: '-qf' }), '2026-11-28 13:02:38 End queue run: pid=4242 -qf');
});

t.test('escaping', async (t) => {
  t.equal(printable('a\tb\\c\u0000d\u007fe\u0085f\u2028g'), 'a\\tb\\\\c\\x00d\\x7fe\\x85f\\u2028g');
  t.equal(printable('héllo ✓'), 'héllo ✓', 'other Unicode is kept');
  t.equal(printable('x'.repeat(1005)), `${'x'.repeat(1000)}...`, 'long text is cut');
  t.equal(quoted('say "hi"'), '"say \\"hi\\""');
  t.equal(
    arrivalLine({ at, id, sender: '"a b"@example.net', size: 1 }),
    `${P} <= "\\"a b\\"@example.net" P=local S=1`,
    'a bare value with a space is quoted',
  );
  t.equal(completedLine({ at, id: 'x\ny' }), '2026-11-28 13:02:38 x\\ny Completed');
});

t.test('deferErrno', async (t) => {
  t.equal(deferErrno({ code: 'E_SMTP_TEMP', stage: 'rcpt' }), -44);
  t.equal(deferErrno({ code: 'E_SMTP_TEMP', stage: 'mail' }), -45);
  t.equal(deferErrno({ code: 'E_SMTP_TEMP', stage: 'data' }), -46);
  t.equal(deferErrno({ code: 'E_SMTP_TEMP', stage: 'auth' }), -42);
  t.equal(deferErrno({ code: 'E_SMTP_TEMP', stage: 'banner' }), 0);
  t.equal(deferErrno({ code: 'E_CONNECT', sysCode: 'ECONNREFUSED' }), process.platform === 'linux' ? 111 : deferErrno({ code: 'E_CONNECT' }));
  t.equal(deferErrno({ code: 'E_CONNECT', sysCode: 'EHOSTUNREACH' }), process.platform === 'linux' ? 113 : deferErrno({ code: 'E_CONNECT', sysCode: 'EHOSTUNREACH' }));
  t.equal(deferErrno({ code: 'E_TIMEOUT' }), process.platform === 'linux' ? 110 : deferErrno({ code: 'E_TIMEOUT' }));
  t.equal(deferErrno({ code: 'E_TLS_VERIFY' }), -37);
  t.equal(deferErrno({ code: 'E_TLS' }), -37);
  t.equal(deferErrno({ code: 'E_TLS_REQUIRED' }), -38);
  t.equal(deferErrno({ code: 'E_AUTH' }), -42);
  t.equal(deferErrno({ code: 'E_DNS_SERVFAIL' }), -36);
  t.equal(deferErrno({ code: 'E_PROTOCOL' }), -19);
  t.equal(deferErrno({ code: 'E_IO' }), -1);
  t.equal(deferErrno({ code: 'E_IO', sysCode: 'ENOSPC' }), process.platform === 'linux' ? 28 : deferErrno({ code: 'E_IO', sysCode: 'ENOSPC' }));
  t.equal(smtpErrorText({ stage: 'banner', reply: '421 busy' }), 'SMTP error from remote mail server after initial connection: 421 busy');
  t.equal(smtpErrorText({ stage: 'mail', sender: '', reply: '451 later' }), 'SMTP error from remote mail server after MAIL FROM:<>: 451 later');
  t.equal(smtpErrorText({ stage: 'data', reply: '452 full' }), 'SMTP error from remote mail server after end of data: 452 full');
  t.equal(smtpErrorText({ stage: 'ehlo', helo: 'juno', reply: '421 no' }), 'SMTP error from remote mail server after EHLO juno: 421 no');
});

t.test('openMainLog', async (t) => {
  const dir = t.testdir({ existing: {} });
  const fallen: string[] = [];
  const fb = (l: string) => void fallen.push(l);

  const path = join(dir, 'log', 'sub', 'mainlog');
  const log = openMainLog(path, fb);
  log(completedLine({ at, id }));
  log(`${removedLine({ at, id, user: 'root' })}\n`);
  log('built elsewhere\nwith a newline');
  t.equal(readFileSync(path, 'utf8'), `${P} Completed\n${P} removed by root\nbuilt elsewhere\\nwith a newline\n`, 'appended, parents created, one line per call');
  t.equal(statSync(path).mode & 0o777, 0o640 & ~process.umask(), 'mode 0640 (less the umask)');
  t.strictSame(fallen, []);

  // a second sink (another process) appends to the same file
  openMainLog(path, fb)('second writer');
  t.match(readFileSync(path, 'utf8'), /removed by root\n.*\nsecond writer\n$/);

  // not writable: a directory in the file's place, a path under a regular file
  openMainLog(join(dir, 'existing'), fb)('to a directory');
  writeFileSync(join(dir, 'plain'), 'x');
  openMainLog(join(dir, 'plain', 'mainlog'), fb)('under a file');
  t.strictSame(fallen, ['to a directory', 'under a file'], 'fell back without throwing');

  // a symlink in the log's place is not followed
  const target = join(dir, 'target');
  writeFileSync(target, '');
  symlinkSync(target, join(dir, 'link'));
  openMainLog(join(dir, 'link'), fb)('via a symlink');
  t.equal(readFileSync(target, 'utf8'), '', 'the symlink target is untouched');
  t.equal(fallen.at(-1), 'via a symlink');

  // a fallback that throws is contained
  t.doesNotThrow(() => openMainLog(join(dir, 'existing'), () => { throw new Error('boom'); })('x'));

  // permission denied (only meaningful when not root: root may write anyway)
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o500);
  openMainLog(join(ro, 'mainlog'), fb)('read-only dir');
  if (process.getuid?.() === 0) t.pass('running as root: the write may succeed');
  else t.equal(fallen.at(-1), 'read-only dir', 'unprivileged: fallback');
  chmodSync(ro, 0o700);
});

t.test('openMainLog: a rotated log is followed once the open file is a second old', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'mainlog');
  let clock = 1_000_000;
  const log = openMainLog(path, () => t.fail('no fallback'), () => clock);
  log('one');
  renameSync(path, `${path}.1`); // logrotate moves the file away
  clock += REOPEN_MS - 1;
  log('two');
  t.equal(readFileSync(`${path}.1`, 'utf8'), 'one\ntwo\n', 'within a second: still the open (rotated) file');
  clock += 1;
  log('three');
  t.equal(readFileSync(path, 'utf8'), 'three\n', 'then the new file at the configured path');
  t.equal(readFileSync(`${path}.1`, 'utf8'), 'one\ntwo\n');
});

t.test('openMainLog: a FIFO in the log\'s place does not block', async (t) => {
  const dir = t.testdir({});
  const fifo = join(dir, 'mainlog');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    t.pass('skipped: no mkfifo here');
    return;
  }
  const fallen: string[] = [];
  const started = Date.now();
  openMainLog(fifo, (l) => void fallen.push(l))('into a fifo');
  t.strictSame(fallen, ['into a fifo']);
  t.ok(Date.now() - started < 2000, 'returned at once');
});

t.test('openMainLog as an unprivileged user', async (t) => {
  if (process.getuid?.() !== 0) {
    t.pass('skipped: needs root to switch to an unprivileged user');
    return;
  }
  // The sink, bundled so that a plain node process running as nobody can load it.
  const dir = mkdtempSync(join(tmpdir(), 'ss-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const sink = join(dir, 'sink.mjs');
  buildSync({ entryPoints: [fileURLToPath(new URL('../../lib/report/log-sink.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'node', outfile: sink, logLevel: 'silent' });
  chmodSync(sink, 0o644);
  const logdir = join(dir, 'log');
  mkdirSync(logdir, { mode: 0o750 });
  const mainlog = join(logdir, 'mainlog');
  openMainLog(mainlog, () => t.fail('root can write'))('written by root');
  t.equal(statSync(mainlog).mode & 0o777, 0o640 & ~process.umask());
  const script = `import(${JSON.stringify(sink)}).then(({ openMainLog }) => {
    const log = openMainLog(${JSON.stringify(mainlog)}, (l) => process.stderr.write('fallback: ' + l + '\\n'));
    log('from nobody');
    process.stdout.write('done');
  });`;
  // tap's process-on-spawn hook adds NODE_OPTIONS to every child; nobody cannot write tap's files, so drop it.
  const r = spawnSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10_000, cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'done', 'did not throw');
  t.equal(r.stderr, 'fallback: from nobody\n', 'the line went to the fallback');
  t.equal(readFileSync(mainlog, 'utf8'), 'written by root\n', 'the log is unchanged');
});
