import t from 'tap';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupId, initLogDir } from '../../lib/report/log-dir.js';
import { initSpool, spoolLayout } from '../../lib/store/spool.js';

t.test('groupId', async (t) => {
  const text = 'root:x:0:\nadm:x:4:syslog,ann\nstaff:x:50:\n';
  t.equal(groupId(text, 'adm'), 4);
  t.equal(groupId(text, 'wheel'), undefined);
  t.equal(groupId('adm:x::\n', 'adm'), undefined);
});

t.test('made with its mode and group, said; an existing one left as it is', async (t) => {
  const dir = t.testdir();
  const spool = spoolLayout(join(dir, 'spool'));
  initSpool(spool);
  const groups = join(dir, 'group');
  writeFileSync(groups, `adm:x:${process.getgid?.() ?? 0}:\n`);
  const line = initLogDir(join(dir, 'log', 'sub', 'mainlog'), spool, groups);
  const st = statSync(join(dir, 'log', 'sub'));
  if (process.getuid?.() === 0) {
    t.equal(line, `${join(dir, 'log', 'sub')} 2750 (the log directory, group adm)`);
    t.equal(st.mode & 0o7777, 0o2750, 'set-group-ID: the log files get group adm');
    t.equal(st.gid, process.getgid?.() ?? 0);
  } else {
    t.equal(line, `${join(dir, 'log', 'sub')} 0750 (the log directory)`);
    t.equal(st.mode & 0o7777, 0o750);
  }
  t.equal(statSync(join(dir, 'log')).mode & 0o777, 0o755, 'a missing parent: 0755');
  const noAdm = join(dir, 'group2');
  writeFileSync(noAdm, 'staff:x:50:\n');
  t.equal(initLogDir(join(dir, 'log2', 'mainlog'), spool, noAdm), `${join(dir, 'log2')} 0750 (the log directory)`);
  mkdirSync(join(dir, 'mine'), { mode: 0o711 });
  t.equal(initLogDir(join(dir, 'mine', 'mainlog'), spool, groups), `${join(dir, 'mine')} 0711 (the log directory: there already, left as it is)`);
  t.equal(statSync(join(dir, 'mine')).mode & 0o7777, 0o711, 'not changed');
  writeFileSync(join(dir, 'file'), '');
  t.throws(() => initLogDir(join(dir, 'file', 'x', 'mainlog'), spool, groups), { code: 'E_IO', message: /cannot create .*file\/x: ENOTDIR/ });
});
