import t from 'tap';
import { errnoOf, queueLog } from '../../lib/report/mainlog.js';
import { HELD_BACK } from '../../lib/queue/attempt.js';
import { newHeader } from '../../lib/store/header.js';
import type { Attempt } from '../../lib/types.js';

const att = (over: Partial<Attempt>): Attempt => ({
  queried: 'mail.example.com', canonical: 'mx1.example.net', address: '192.0.2.25', port: 587, stage: 'done', result: 'delivered', reason: '250 2.0.0 queued as X',
  tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true }, ...over,
});

t.test('defer numbers as Exim', async (t) => {
  t.equal(errnoOf(undefined, HELD_BACK), -53);
  t.equal(errnoOf(att({ stage: 'rcpt', result: 'deferred', reason: '451 later' }), '451 later'), -44);
  t.equal(errnoOf(att({ stage: 'connect', result: 'deferred', reason: 'x: ECONNREFUSED' }), 'x'), 111);
  t.equal(errnoOf(att({ stage: 'starttls', result: 'deferred', reason: 'bad cert' }), 'x'), -37);
  t.equal(errnoOf(undefined, 'something'), -1);
});

t.test('events become Exim lines', async (t) => {
  const lines: string[] = [];
  const now = new Date(2026, 10, 28, 13, 2, 38).getTime();
  const log = queueLog((l) => lines.push(l), () => now, 'root');
  const h = newHeader('1kQb5w-000Abc-9S', 'root@juno.example', ['ann@example.net', 'bob@example.net'], 1234, now, { uid: 0, user: 'root' });
  log.arrival(h);
  const a = att({});
  log.recipient(h.id, { recipient: 'ann@example.net', result: 'delivered', reason: '250', host: 'mail.example.com' }, a);
  log.recipient(h.id, { recipient: 'bob@example.net', result: 'delivered', reason: '250', host: 'mail.example.com' }, a);
  const d = att({ stage: 'rcpt', result: 'deferred', reason: 'mx1.example.net [192.0.2.25]:587: 451 later' });
  log.recipient(h.id, { recipient: 'cy@example.net', result: 'deferred', reason: 'mx1.example.net [192.0.2.25]:587: 451 later' }, d);
  log.recipient(h.id, { recipient: 'dee@example.net', result: 'failed', reason: 'retry timeout exceeded' }, undefined);
  log.note(h.id, 'removed by root');
  log.note(h.id, 'frozen: delivery of a bounce failed');
  log.completed(h.id);
  const s = '2026-11-28 13:02:38 1kQb5w-000Abc-9S';
  t.same(lines, [
    `${s} <= root@juno.example U=root P=local S=1234`,
    `${s} => ann@example.net R=smarthost T=remote_smtp H=mx1.example.net [192.0.2.25]:587 X=TLSv1.3:TLS_AES_256_GCM_SHA384:256 CV=yes certname=mail.example.com C="250 2.0.0 queued as X"`,
    `${s} -> bob@example.net R=smarthost T=remote_smtp H=mx1.example.net [192.0.2.25]:587 X=TLSv1.3:TLS_AES_256_GCM_SHA384:256 CV=yes certname=mail.example.com C="250 2.0.0 queued as X"`,
    `${s} == cy@example.net R=smarthost T=remote_smtp defer (-44) H=mx1.example.net [192.0.2.25]:587: 451 later`,
    `${s} ** dee@example.net: retry timeout exceeded`,
    `${s} removed by root`,
    `${s} Frozen (delivery of a bounce failed)`,
    `${s} Completed`,
  ]);
});
