import t from 'tap';
import { prepareSmtpMessage } from '../../lib/submit/bs-message.js';
import { parseArgs } from '../../lib/submit/cli.js';

const CTX = { qualifyDomain: 'example.test', user: 'www-data' };

t.test('a -bs message is prepared as a piped one; the SMTP envelope stays', async (t) => {
  const data = Buffer.from('From: a@example.test\r\nBcc: hidden@x.test\r\nSubject: s\r\n\r\nline\r\n.\r\nafter a lone dot\r\n');
  const env = { sender: '', recipients: ['"a b"@dest.test', 'c@dest.test'] };
  const r = prepareSmtpMessage(data, env, parseArgs(['-bs']), CTX);
  t.same(r.envelope, env, 'null sender and quoted local part kept');
  t.equal(r.data.toString(), 'From: a@example.test\r\nSubject: s\r\n\r\nline\r\n.\r\nafter a lone dot\r\n', 'Bcc removed; a lone dot is data (already unstuffed)');
  const noSep = prepareSmtpMessage(Buffer.from('Subject: x\r\nnot a header\r\n'), { sender: 'a@b.test', recipients: ['c@d.test'] }, parseArgs(['-bs', '-t']), CTX);
  t.same(noSep.envelope.recipients, ['c@d.test'], '-t has no effect: SMTP gives the recipients');
  t.equal(noSep.data.toString(), 'Subject: x\r\n\r\nnot a header\r\n', 'header block closed as for piped mail');
});
