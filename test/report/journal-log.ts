import t from 'tap';
import { journalLog, replayJournal, teeLog } from '../../lib/report/journal-log.js';
import { queueLog, type QueueLog } from '../../lib/report/mainlog.js';
import { initSpool, spoolLayout } from '../../lib/store/spool.js';
import { readJournal } from '../../lib/store/journal.js';
import { newHeader } from '../../lib/store/header.js';

const ID = '1jiFk5-0006UE-9S';
const AT = Date.UTC(2026, 10, 28, 12, 0, 0);

t.test('a journal written by one process is replayed by another, line for line, into the main log', async (t) => {
  const l = spoolLayout(t.testdir());
  initSpool(l);
  const j = journalLog(l, () => AT + 1000);
  const h = newHeader(ID, 'www@x.test', ['b@y.test'], 42, AT, { uid: 33, user: 'www-data' });
  j.arrival(h);
  j.recipient(ID, { recipient: 'b@y.test', result: 'delivered', reason: '250 ok', host: 'mx.test' }, { queried: 'mx.test', canonical: 'mx.test', address: '192.0.2.1', port: 25, stage: 'done', result: 'delivered', reason: '250 ok', tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true } });
  j.completed(ID);
  t.ok(j.ok(), 'written');
  const read = readJournal(l, ID)!;
  t.equal(read.events.length, 3);
  const lines: string[] = [];
  const log = queueLog((line) => lines.push(line), () => AT + 5000, 'root');
  const r = replayJournal(ID, read.events, { uid: 33, user: 'www-data' }, log);
  t.same(r, { arrival: true, refused: 0 });
  t.match(lines[0], new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${ID} <= www@x.test U=www-data P=local S=42$`));
  t.match(lines[1], /=> b@y.test R=smarthost T=remote_smtp H=mx.test \[192.0.2.1\]:25 X=TLSv1.3:TLS_AES_256_GCM_SHA384:256 CV=yes certname=mx.test C="250 ok"/);
  t.match(lines[2], new RegExp(`${ID} Completed$`));
});

t.test('replay trusts nothing: bad shapes, owner-only notes and line breaks are refused or escaped', async (t) => {
  const lines: string[] = [];
  const log = queueLog((line) => lines.push(line), () => AT, 'root');
  const r = replayJournal(
    ID,
    [
      null,
      { ev: 'arrival', at: AT, sender: 'a b@x', size: 1 },
      { ev: 'note', at: AT, text: 'removed by root' },
      { ev: 'note', at: AT, text: 'frozen: fake' },
      { ev: 'rcpt', at: AT, r: { recipient: 'x@y', result: 'stolen', reason: '' } },
      { ev: 'note', at: -1, text: 'no time' },
      { ev: 'note', at: AT, text: 'two\nlines' },
      { ev: 'unknown', at: AT },
    ],
    { uid: 33, user: 'www-data' },
    log,
  );
  t.same(r, { arrival: false, refused: 7 });
  t.same(lines.length, 1);
  t.match(lines[0], /two\\nlines$/, 'one line, escaped');
});

t.test('teeLog: the main log first; the journal for what it could not take; the rest to the last resort', async (t) => {
  const l = spoolLayout(t.testdir());
  initSpool(l);
  let failed: string | undefined;
  const main = queueLog((line) => (failed = line), () => AT, 'nobody');
  const lost: string[] = [];
  const tee: QueueLog = teeLog(main, journalLog(l, () => AT), () => {
    const f = failed;
    failed = undefined;
    return f;
  }, (line) => lost.push(line));
  tee.completed(ID);
  t.equal(readJournal(l, ID)!.events.length, 1, 'journaled');
  tee.completed('not-an-id');
  t.equal(lost.length, 1, 'what no journal can take goes to the last resort');
});
