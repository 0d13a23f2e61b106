import t from 'tap';
import { allowedSender, senderAllowed, senderFixups, type SenderPolicy } from '../../lib/submit/sender-policy.js';

const P: SenderPolicy = { trusted: false, login: 'www-data', qualifyDomain: 'host.example.test', untrustedSetSender: ['*'], localFromCheck: true, localSenderRetain: false };
const msg = (head: string) => Buffer.from(`${head}\r\n\r\nbody\r\n`);

t.test('untrusted_set_sender patterns', async (t) => {
  t.ok(senderAllowed('boss@example.com', ['*']));
  t.ok(senderAllowed('x@Example.ORG', ['*@example.org']));
  t.notOk(senderAllowed('x@example.org.evil', ['*@example.org']));
  t.ok(senderAllowed('list-bounces@example.com', ['^[a-z]+-bounces@example\\.com$']));
  t.ok(senderAllowed('Boss@example.com', ['boss@example.com']), 'one address, case-insensitive');
  t.notOk(senderAllowed('boss@example.com', []), "empty: none (Exim's default)");
});

t.test('the envelope sender: kept for the trusted, the allowed and the null sender; else the login', async (t) => {
  t.same(allowedSender('boss@example.com', P), { sender: 'boss@example.com' }, 'default * keeps PHP and cron -f working');
  const strict = { ...P, untrustedSetSender: [] };
  t.same(allowedSender('boss@example.com', strict), { sender: 'www-data@host.example.test', note: 'sender <boss@example.com> not allowed for www-data (untrusted_set_sender): <www-data@host.example.test>' });
  t.same(allowedSender('', strict), { sender: '' }, 'the null sender is always allowed');
  t.same(allowedSender('boss@example.com', { ...strict, trusted: true }), { sender: 'boss@example.com' });
});

t.test('local_from_check: Sender: naming the real user when From: is not theirs; a user-written Sender: removed', async (t) => {
  const forged = senderFixups(msg('From: Boss <boss@example.com>\r\nSender: boss@example.com\r\nSubject: pay'), P);
  t.equal(forged.data.toString(), 'From: Boss <boss@example.com>\r\nSubject: pay\r\nSender: www-data@host.example.test\r\n\r\nbody\r\n');
  t.equal(forged.notes.length, 2);
  const own = senderFixups(msg('From: Web <www-data@host.example.test>'), P);
  t.equal(own.data.toString(), 'From: Web <www-data@host.example.test>\r\n\r\nbody\r\n', 'their own From: needs no Sender:');
  t.equal(senderFixups(msg('From: a@x.test, b@x.test'), P).data.toString().match(/^Sender: /gm)?.length, 1, 'several From: addresses: Sender: added');
  t.equal(senderFixups(msg('From: boss@example.com\r\nSender: me@x.test'), { ...P, localFromCheck: false, localSenderRetain: true }).data.toString(), 'From: boss@example.com\r\nSender: me@x.test\r\n\r\nbody\r\n', 'both off: as given');
  t.equal(senderFixups(msg('From: boss@example.com'), { ...P, trusted: true }).data.toString(), 'From: boss@example.com\r\n\r\nbody\r\n', 'trusted: as given');
  t.equal(senderFixups(Buffer.from('From: boss@example.com'), P).data.toString(), 'From: boss@example.com\r\nSender: www-data@host.example.test\r\n', 'a message that is all header');
});
