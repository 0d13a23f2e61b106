process.env.TZ = 'UTC';
import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { appendDeadLetter, asctime, mboxEntry } from '../../lib/report/dead-letter.js';

const at = new Date(Date.UTC(2026, 10, 8, 13, 2, 38));

t.test('asctime and mboxEntry', async (t) => {
  t.equal(asctime(at), 'Sun Nov  8 13:02:38 2026');
  const msg = Buffer.from('From: ann@juno\r\nSubject: x\r\n\r\nFrom here on\r\n>From quoted\r\n>>From more\r\nnot From \r\nlast');
  t.equal(
    mboxEntry('ann@juno', msg, at).toString(),
    'From ann@juno Sun Nov  8 13:02:38 2026\nFrom: ann@juno\nSubject: x\n\n>From here on\n>>From quoted\n>>>From more\nnot From \nlast\n\n',
    'mboxrd quoting, LF line ends, a final newline and a blank line',
  );
  t.match(mboxEntry('', Buffer.from('x\n'), at).toString(), /^From MAILER-DAEMON Sun/, 'null sender');
  t.match(mboxEntry('a b@c', Buffer.from('x\n'), at).toString(), /^From a_b@c Sun/, 'no white space in the separator');
  const bin = Buffer.from([0x53, 0x3a, 0x20, 0xc3, 0xa9, 0xff, 0x0a]);
  t.ok(mboxEntry('a@b', bin, at).includes(bin), 'bytes kept as they are');
});

t.test('appendDeadLetter', async (t) => {
  const home = t.testdir({});
  const path = await appendDeadLetter(home, { sender: 'ann@juno', data: Buffer.from('Subject: one\n\nbody 1\n'), at });
  t.equal(path, join(home, 'dead.letter'));
  t.equal(statSync(path).mode & 0o777, 0o600, 'mode 0600');
  await appendDeadLetter(home, { sender: '', data: Buffer.from('Subject: two\r\n\r\nbody 2\r\n'), at });
  t.equal(
    readFileSync(path, 'utf8'),
    'From ann@juno Sun Nov  8 13:02:38 2026\nSubject: one\n\nbody 1\n\nFrom MAILER-DAEMON Sun Nov  8 13:02:38 2026\nSubject: two\n\nbody 2\n\n',
    'appended, both kept',
  );

  chmodSync(path, 0o644);
  await appendDeadLetter(home, { sender: 'x@y', data: Buffer.from('z\n'), at });
  t.equal(statSync(path).mode & 0o777, 0o644, 'an existing file keeps its mode');
});

t.test('refusals', async (t) => {
  const dir = t.testdir({ target: 'keep\n', linked: {}, dirhome: { 'dead.letter': {} } });
  symlinkSync(join(dir, 'target'), join(dir, 'linked', 'dead.letter'));
  await t.rejects(appendDeadLetter(join(dir, 'linked'), { sender: 'a@b', data: Buffer.from('x\n'), at }), {
    code: 'E_IO',
    kind: 'io',
    message: `cannot save the message in ${join(dir, 'linked', 'dead.letter')}: it is a symbolic link`,
  });
  t.equal(readFileSync(join(dir, 'target'), 'utf8'), 'keep\n', 'the link target is untouched');
  await t.rejects(appendDeadLetter(join(dir, 'dirhome'), { sender: 'a@b', data: Buffer.from('x\n'), at }), { code: "E_IO", message: /: not a regular file$/ });
  await t.rejects(appendDeadLetter(join(dir, 'missing'), { sender: 'a@b', data: Buffer.from('x\n'), at }), { message: /: no such directory$/ });
  writeFileSync(join(dir, 'file'), '');
  await t.rejects(appendDeadLetter(join(dir, 'file'), { sender: 'a@b', data: Buffer.from('x\n'), at }), { message: /: no such directory$/ });
  if (process.getuid?.() !== 0) {
    mkdirSync(join(dir, 'ro'), { mode: 0o500 });
    await t.rejects(appendDeadLetter(join(dir, 'ro'), { sender: 'a@b', data: Buffer.from('x\n'), at }), { message: /: permission denied$/ });
  }
});

t.test('a FIFO named dead.letter does not block', async (t) => {
  const home = t.testdir({});
  try {
    execFileSync('mkfifo', [join(home, 'dead.letter')]);
  } catch {
    t.pass('skipped: no mkfifo here');
    return;
  }
  await t.rejects(appendDeadLetter(home, { sender: 'a@b', data: Buffer.from('x\n'), at }), { code: 'E_IO', message: /: not a regular file$/ });
});
