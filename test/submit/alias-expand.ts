import t from 'tap';
import { parseAliases, parseIncludeList } from '../../lib/submit/aliases.js';
import { applyAliases, expandAliases, type IncludeResult, type LoadedAliases } from '../../lib/submit/alias-expand.js';
import { noTrace } from '../../lib/report/trace.js';
import { SmarthostError, exitCodeFor } from '../../lib/errors.js';

const F = '/etc/aliases';
const OPTS = { qualifyDomain: 'example.com', localDomains: ['example.com', 'Host.Example.NET', 'localhost'] };

function load(text: string, includes: Record<string, string | { error: string }> = {}): LoadedAliases {
  const inc = new Map<string, IncludeResult>();
  for (const [p, v] of Object.entries(includes)) inc.set(p, typeof v === 'string' ? { targets: parseIncludeList(v, p) } : v);
  return { file: F, entries: parseAliases(text, F), includes: inc };
}

t.test('expansion table', async (t) => {
  const rows: [string, string, string[], string[]][] = [
    ['cron MAILTO=root', 'root: admin@corp.test\n', ['root@example.com'], ['admin@corp.test']],
    ['FQDN and localhost are local, any case', 'root: admin@corp.test\n', ['ROOT@host.example.net', 'root@LOCALHOST'], ['admin@corp.test']],
    ['other domains are never aliased', 'root: admin@corp.test\n', ['root@elsewhere.test'], ['root@elsewhere.test']],
    ['recursive, unqualified targets qualified', 'postmaster: root\nroot: ops\nops: a@corp.test, b@corp.test\n', ['postmaster@example.com'], ['a@corp.test', 'b@corp.test']],
    ['unaliased local name kept', 'root: admin@corp.test\n', ['bob@example.com'], ['bob@example.com']],
    ['dedupe across recipients and aliases', 'root: admin@corp.test\nwww: root\n', ['root@example.com', 'www@example.com', 'admin@CORP.test'], ['admin@corp.test']],
    ['order kept', 'a: z@x.test, y@x.test\n', ['first@x.test', 'a@example.com', 'last@x.test'], ['first@x.test', 'z@x.test', 'y@x.test', 'last@x.test']],
    ['self reference is kept (sendmail idiom)', 'bob: bob, archive@x.test\n', ['bob@example.com'], ['bob@example.com', 'archive@x.test']],
    ['backslash stops expansion', 'root: \\root, ops\nops: o@x.test\n', ['root@example.com'], ['root@example.com', 'o@x.test']],
    ['loop a -> b -> a keeps a', 'a: b\nb: a\n', ['a@example.com'], ['a@example.com']],
    ['loop with a branch', 'a: b, x@y.test\nb: a, c@y.test\n', ['a@example.com'], ['a@example.com', 'c@y.test', 'x@y.test']],
    ['quoted local part matches the name', 'root: admin@corp.test\n', ['"root"@example.com'], ['admin@corp.test']],
    ['local part case kept in results', 'root: Admin.Person@Corp.test\n', ['root@example.com'], ['Admin.Person@Corp.test']],
  ];
  for (const [label, text, input, want] of rows) t.same(expandAliases(input, load(text), OPTS).recipients, want, label);
});

t.test('no aliases: recipients unchanged', async (t) => {
  t.same(expandAliases(['root@example.com'], undefined, OPTS), { recipients: ['root@example.com'], origins: new Map(), notes: [], warnings: [] });
});

t.test('origins: the aliases each recipient came through, nearest first, with file:line (for -bt)', async (t) => {
  const x = expandAliases(['root@example.com', 'bob@example.org'], load('root: ops\nops: ann@example.org, \\ops\npostmaster: root\n'), OPTS);
  t.same(x.recipients, ['ann@example.org', 'ops@example.com', 'bob@example.org']);
  t.same(x.origins.get('ann@example.org'), [
    { address: 'ops@example.com', where: '/etc/aliases:2' },
    { address: 'root@example.com', where: '/etc/aliases:1' },
  ]);
  t.same(x.origins.get('ops@example.com'), [{ address: 'ops@example.com', where: '/etc/aliases:2' }, { address: 'root@example.com', where: '/etc/aliases:1' }], '\\ops: delivered as itself, through the aliases that named it');
  t.equal(x.origins.get('bob@example.org'), undefined, 'not an alias: no origin');
});

t.test('applyAliases: each generated recipient keeps the address the submitter gave (its parent, for -bp)', async (t) => {
  const ctx = { qualifyDomain: 'example.com', fqdn: 'host.example.net', tracer: noTrace, warn: () => {} };
  const e = applyAliases({ sender: 's@x.test', recipients: ['root@example.com', 'bob@example.org'] }, load('root: ops\nops: ann@example.org, cy@example.org\n'), ctx);
  t.same(e.recipients, ['ann@example.org', 'cy@example.org', 'bob@example.org']);
  t.same(e.parents, { 'ann@example.org': 'root@example.com', 'cy@example.org': 'root@example.com' }, 'the top-level address, not the nearest alias');
  const plain = applyAliases({ sender: 's@x.test', recipients: ['bob@example.org'] }, load('root: ops\n'), ctx);
  t.notOk('parents' in plain, 'no alias used: no parents');
});

t.test('trace notes name file:line', async (t) => {
  const x = expandAliases(['root@host.example.net'], load('# x\nroot: admin@example.org\n'), OPTS);
  t.same(x.notes, ['root@host.example.net -> admin@example.org (/etc/aliases:2)']);
  const loop = expandAliases(['a@example.com'], load('a: b\nb: a\n'), OPTS);
  t.ok(loop.notes.includes('alias loop a -> b -> a: a@example.com kept as an address'), loop.notes.join('\n'));
});

t.test('depth bound', async (t) => {
  const chain = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: a${i + 1}`).join('\n') + '\n';
  t.same(expandAliases(['a0@example.com'], load(chain(10)), OPTS).recipients, ['a10@example.com'], '10 levels expand');
  t.throws(() => expandAliases(['a0@example.com'], load(chain(11)), OPTS), /^\/etc\/aliases:11: aliases nested deeper than 10 levels \(a0 -> a1 -> .* -> a10\)$/);
  t.throws(() => expandAliases(['a0@example.com'], load(chain(4)), { ...OPTS, maxDepth: 3 }), /nested deeper than 3 levels/);
});

t.test('fan-out bound', async (t) => {
  const text = `big: ${Array.from({ length: 30 }, (_, i) => `u${i}@x.test`).join(', ')}\n`;
  t.equal(expandAliases(['big@example.com'], load(text), OPTS).recipients.length, 30);
  t.throws(() => expandAliases(['big@example.com'], load(text), { ...OPTS, maxRecipients: 20 }), /more than 20 recipients/);
});

t.test('pipes and files: skipped with a warning, never the only target', async (t) => {
  const x = expandAliases(['root@example.com'], load('root: |/usr/bin/procmail, /var/log/mail, admin@corp.test\n'), OPTS);
  t.same(x.recipients, ['admin@corp.test']);
  t.same(x.warnings, [
    '/etc/aliases:1: alias "root": pipe "|/usr/bin/procmail" cannot be delivered through a smarthost; skipped',
    '/etc/aliases:1: alias "root": file "/var/log/mail" cannot be delivered through a smarthost; skipped',
  ]);
  t.ok(x.notes.some((n) => n.includes('skipped')));
  for (const text of ['root: |/usr/bin/procmail\n', 'root: ops\nops: "/var/mail/x"\n']) {
    try {
      expandAliases(['root@example.com'], load(text), OPTS);
      t.fail('should fail');
    } catch (err) {
      t.ok(err instanceof SmarthostError);
      t.equal(exitCodeFor((err as SmarthostError).kind), 78);
      t.match((err as SmarthostError).message, /^\/etc\/aliases:\d: alias "(root|ops)" \(for (root|ops)@example\.com\) has no address a smarthost can deliver to/);
    }
  }
});

t.test(':include:', async (t) => {
  const text = 'list: :include:/etc/mail/list, owner@x.test\nbroken: :include:/etc/mail/secret\nself: :include:/etc/mail/self\nempty: :include:/etc/mail/empty\n';
  const al = load(text, {
    '/etc/mail/list': '# members\nm1@x.test, m2\nm2\n',
    '/etc/mail/secret': { error: 'cannot read: permission denied' },
    '/etc/mail/self': 'a@x.test\n:include:/etc/mail/self\n',
    '/etc/mail/empty': '# nobody\n',
  });
  const x = expandAliases(['list@example.com'], al, OPTS);
  t.same(x.recipients, ['m1@x.test', 'm2@example.com', 'owner@x.test']);
  t.ok(x.notes.includes('list@example.com -> :include:/etc/mail/list (/etc/aliases:1)'));
  t.ok(x.notes.includes('list@example.com -> m1@x.test (/etc/mail/list:2)'), 'include items traced with their own file:line');
  t.throws(() => expandAliases(['broken@example.com'], al, OPTS), /^\/etc\/aliases:2: :include:\/etc\/mail\/secret: cannot read: permission denied$/);
  t.throws(() => expandAliases(['self@example.com'], al, OPTS), /^\/etc\/mail\/self:2: :include:\/etc\/mail\/self includes itself$/);
  t.throws(() => expandAliases(['empty@example.com'], al, OPTS), /alias "empty" .* has no address/);
  t.same(expandAliases(['other@example.com'], al, OPTS).recipients, ['other@example.com'], 'an unreadable include only matters when used');
});

t.test('bad target address surfaces at expansion with file:line', async (t) => {
  // parseAliases checks syntax; an address valid in syntax but failing with the real qualify domain is impossible,
  // so feed an entry directly.
  const al = load('root: x\n');
  const e = al.entries.get('root')!;
  e.targets = [{ file: F, line: 1, kind: 'address', address: 'a b', noExpand: false }];
  t.throws(() => expandAliases(['root@example.com'], al, OPTS), /^\/etc\/aliases:1: bad address "a b"/);
});
