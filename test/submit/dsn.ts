import t from 'tap';
import { checkEnvid, dsnRequest } from '../../lib/submit/dsn.js';
import { finishMessage } from '../../lib/submit/finish.js';
import { parseArgs } from '../../lib/submit/cli.js';
import { SmarthostError } from '../../lib/errors.js';

t.test('checkEnvid: printable ASCII, at most 100 characters', async (t) => {
  t.equal(checkEnvid('abc+1=x'), 'abc+1=x');
  t.equal(checkEnvid('a'.repeat(100)), 'a'.repeat(100));
  for (const bad of ['a b', 'jösé', 'x\r\nRCPT TO:<evil@x>', 'nul\u0000', 'a'.repeat(101)]) {
    t.throws(() => checkEnvid(bad), { code: 'E_USAGE' }, JSON.stringify(bad.slice(0, 20)));
  }
});

t.test('dsnRequest from -N -R -V', async (t) => {
  t.equal(dsnRequest(parseArgs(['a@example.test'])), undefined);
  t.same(dsnRequest(parseArgs(['-N', 'success,failure', '-R', 'hdrs', '-V', 'env+1', 'a@example.test'])), { notify: 'SUCCESS,FAILURE', ret: 'HDRS', envid: 'env+1' });
  t.same(dsnRequest(parseArgs(['-Nnever', 'a@example.test'])), { notify: 'NEVER' });
  t.same(dsnRequest(parseArgs(['-Rfull', 'a@example.test'])), { ret: 'FULL' });
});

t.test('finishMessage: tidies the data and attaches the DSN request', async (t) => {
  const inv = parseArgs(['-F', 'Cron Daemon', '-N', 'delay', 'a@example.test']);
  const out = finishMessage({ envelope: { sender: 'c@example.test', recipients: ['a@example.test'] }, data: Buffer.from('Subject: x\n\nhi\n') }, inv, {
    qualifyDomain: 'example.test',
    fqdn: 'h.example.test',
    now: new Date('2026-11-28T13:00:00Z'),
    random: Buffer.from([1, 2]),
    tzOffsetMinutes: 0,
  });
  t.same(out.envelope, { sender: 'c@example.test', recipients: ['a@example.test'], dsn: { notify: 'DELAY' } });
  t.equal(out.data.toString(), 'Subject: x\r\nDate: Sat, 28 Nov 2026 13:00:00 +0000\r\nMessage-ID: <20261128130000.0102@h.example.test>\r\nFrom: Cron Daemon <c@example.test>\r\n\r\nhi\r\n');
  t.same(out.notes, ['bare LF/CR line ends converted to CRLF', 'added header fields: Date, Message-ID, From']);
  t.ok(out.envelope !== undefined && !(out instanceof SmarthostError));
});

t.test('finishMessage keeps a DSN request the envelope already has (-bs parameters)', async (t) => {
  const inv = parseArgs(['-N', 'delay', 'a@example.test']);
  const out = finishMessage({ envelope: { sender: '', recipients: ['a@example.test'], dsn: { ret: 'FULL' } }, data: Buffer.from('Subject: x\r\n\r\nhi\r\n') }, inv, {
    qualifyDomain: 'example.test',
    fqdn: 'h.example.test',
    now: new Date('2026-11-28T13:00:00Z'),
    random: Buffer.from([1]),
  });
  t.same(out.envelope.dsn, { ret: 'FULL' });
  t.match(out.data.toString(), /\r\nFrom: MAILER-DAEMON@example\.test\r\n/, 'null sender: MAILER-DAEMON');
});
