import t from 'tap';
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, lutimesSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanOrphans, dataSize, initSpool, listMessages, ORPHAN_AGE, readData, readHeader, removeMessage, spoolAccess, spoolLayout, storeMessage, writeHeader } from '../../lib/store/spool.js';
import { newHeader } from '../../lib/store/header.js';
import { writeFileAtomic } from '../../lib/store/atomic.js';
import { crc32 } from '../../lib/store/crc.js';

const hdr = (id: string) => newHeader(id, 'a@x.test', ['b@y.test'], 5, Date.now(), { uid: 0, user: 'root' });

t.test('init creates the layout with its modes (also over existing dirs)', async (t) => {
  const l = spoolLayout(join(t.testdir(), 'spool'));
  const lines = initSpool(l);
  t.same(lines.map((x) => x.split(' ')[1]), ['0755', '0700', '0700', '1733', '0700', '0700']);
  t.equal(statSync(l.corrupt).mode & 0o7777, 0o700, 'corrupt/ is private');
  t.equal(statSync(l.incoming).mode & 0o7777, 0o1733, 'sticky, writable, not listable');
  t.equal(statSync(l.input).mode & 0o7777, 0o700);
  initSpool(l);
  t.equal(statSync(l.incoming).mode & 0o7777, 0o1733, 'idempotent');
  t.same(spoolAccess(l), { how: 'direct' });
});

t.test('no spool: say so and how to make it', async (t) => {
  const a = spoolAccess(spoolLayout(join(t.testdir(), 'none')));
  t.equal(a.how, 'none');
  t.match(a, { reason: /does not exist \(run send-smarthost --init-spool\)/ });
});

t.test('store, read, update, list, remove', async (t) => {
  const l = spoolLayout(t.testdir());
  initSpool(l);
  const h = hdr('1jiFk5-0006UE-9S');
  storeMessage(l, h, Buffer.from('hello'));
  t.same(readHeader(l, h.id), h);
  t.equal(h.crc, crc32(Buffer.from('hello')), 'the header records the CRC-32 of the data');
  t.equal(readData(l, h).toString(), 'hello');
  t.equal(dataSize(l, h.id), 5);
  t.equal(statSync(join(l.input, `${h.id}-D`)).mode & 0o777, 0o600, 'data 0600');
  t.equal(statSync(join(l.input, `${h.id}-H`)).mode & 0o777, 0o600, 'header 0600');
  t.same(readdirSync(l.tmp), [], 'no temporary file left');
  writeHeader(l, { ...h, attempts: 3 });
  t.equal(readHeader(l, h.id)!.attempts, 3);
  t.same(listMessages(l), [h.id]);
  t.throws(() => storeMessage(l, { ...h }, Buffer.from('other')), { code: 'EEXIST' }, 'an id in use is never overwritten');
  t.equal(readData(l, h).toString(), 'hello', 'data untouched');
  t.ok(removeMessage(l, h.id));
  t.notOk(removeMessage(l, h.id), 'second removal: not queued');
  t.same(readdirSync(l.input), []);
  t.equal(readHeader(l, 'not-an-id/../x'), undefined, 'ids are checked before use as names');
});

t.test('a -D without -H is not a message, and goes after a day', async (t) => {
  const l = spoolLayout(t.testdir());
  initSpool(l);
  writeFileSync(join(l.input, '1jiFk5-0006UE-9S-D'), 'x');
  writeFileSync(join(l.input, '1jiFk5-0006UE-9T-D'), 'fresh');
  writeFileSync(join(l.tmp, '1jiFk5-0006UE-9S-H.123'), 'half');
  symlinkSync('1 2', join(l.input, '1jiFk5-0006UE-9U-L'));
  writeFileSync(join(l.input, '1jiFk5-0006UE-9U-L.new.77'), '1 2');
  const old = (Date.now() - ORPHAN_AGE - 60_000) / 1000;
  for (const f of [join(l.input, '1jiFk5-0006UE-9S-D'), join(l.tmp, '1jiFk5-0006UE-9S-H.123'), join(l.input, '1jiFk5-0006UE-9U-L.new.77')]) utimesSync(f, old, old);
  lutimesSync(join(l.input, '1jiFk5-0006UE-9U-L'), old, old); // a lock is a symlink: its own times
  t.same(listMessages(l), []);
  const removed = cleanOrphans(l, Date.now());
  t.equal(removed.length, 4);
  t.same(readdirSync(l.input), ['1jiFk5-0006UE-9T-D'], 'a fresh orphan may be a submission in progress');
});

t.test('atomic write: failure leaves no temporary file', async (t) => {
  const dir = t.testdir();
  t.throws(() => writeFileAtomic(join(dir, 'nodir', 'f'), 'x', { tmpDir: dir, what: 'X' }));
  t.same(readdirSync(dir), []);
  writeFileAtomic(join(dir, 'f'), 'one', { tmpDir: dir, what: 'X' });
  writeFileAtomic(join(dir, 'f'), 'two', { tmpDir: dir, what: 'X' });
  t.same(readdirSync(dir), ['f']);
  t.throws(() => writeFileAtomic(join(dir, 'f'), 'three', { tmpDir: dir, what: 'X', noReplace: true }), { code: 'EEXIST' });
  t.same(readdirSync(dir), ['f']);
});

t.test('the one rule: a header or data file that is not what it says is refused, never read as a message', async (t) => {
  const dir = t.testdir({ secret: 'x' });
  const l = spoolLayout(join(dir, 's'));
  initSpool(l);
  const a = hdr('1jiFk5-0006UE-9A');
  storeMessage(l, a, Buffer.from('hello'));
  // point 4: a header copied under another id's name
  writeFileSync(join(l.input, '1jiFk5-0006UE-9B-H'), readFileSync(join(l.input, `${a.id}-H`)));
  t.throws(() => readHeader(l, '1jiFk5-0006UE-9B'), /9B-H: damaged \(holds the id "1jiFk5-0006UE-9A", not its name's\)/);
  // point 3: data cut, padded, or changed in place
  writeFileSync(join(l.input, `${a.id}-D`), 'hell');
  t.throws(() => readData(l, a), /damaged \(data is 4 bytes, its envelope says 5\)/);
  writeFileSync(join(l.input, `${a.id}-D`), 'hello!');
  t.throws(() => readData(l, a), /data is 6 bytes/);
  writeFileSync(join(l.input, `${a.id}-D`), 'jello');
  t.throws(() => readData(l, a), /damaged \(data CRC-32 [0-9a-f]{8} differs from its envelope's [0-9a-f]{8}\)/);
  t.equal(readData(l, { ...a, crc: undefined, size: 5 }).toString(), 'jello', 'an older header without a CRC: the size is checked');
  // point 1: no symlink followed, no FIFO opened for reading, no hard link
  rmSync(join(l.input, `${a.id}-D`));
  symlinkSync(join(dir, 'secret'), join(l.input, `${a.id}-D`));
  t.throws(() => readData(l, a), /symbolic link/);
  rmSync(join(l.input, `${a.id}-D`));
  linkSync(join(dir, 'secret'), join(l.input, `${a.id}-D`));
  t.throws(() => readData(l, a), /several links/);
  rmSync(join(l.input, `${a.id}-D`));
  execFileSync('mkfifo', [join(l.input, `${a.id}-D`)]);
  t.throws(() => readData(l, a), /not a regular file \(FIFO\)/, 'refused without blocking');
  rmSync(join(l.input, `${a.id}-H`));
  mkdirSync(join(l.input, `${a.id}-H`));
  t.throws(() => readHeader(l, a.id), /not a regular file \(directory\)/);
});
