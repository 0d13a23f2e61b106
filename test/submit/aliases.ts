import t from 'tap';
import { parseAliases, parseIncludeList, parseTarget } from '../../lib/submit/aliases.js';
import { SmarthostError, exitCodeFor } from '../../lib/errors.js';

const F = '/etc/aliases';

/** The entries as plain data: name → targets rendered as text. */
function render(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, e] of parseAliases(text, F)) {
    out[k] = e.targets.map((x) =>
      x.kind === 'address' ? `${x.noExpand ? '\\' : ''}${x.address}@${x.line}` : x.kind === 'pipe' ? `|${x.command}` : x.kind === 'file' ? `file:${x.path}` : `include:${x.path}`,
    );
  }
  return out;
}

t.test('parseAliases: accepted syntax', async (t) => {
  const rows: [string, string, Record<string, string[]>][] = [
    ['simple', 'root: admin@example.com\n', { root: ['admin@example.com@1'] }],
    ['list', 'staff: a@x.test, b@x.test ,c\n', { staff: ['a@x.test@1', 'b@x.test@1', 'c@1'] }],
    ['name case folded, CRLF', 'Root: admin@example.com\r\nPostMaster: root\r\n', { root: ['admin@example.com@1'], postmaster: ['root@2'] }],
    ['comments and blank lines', '# comment\n\nroot: a@x.test\n   # indented comment\n\t\nwww: root\n', { root: ['a@x.test@3'], www: ['root@6'] }],
    ['continuation lines', 'team: a@x.test,\n  b@x.test,\n\tc@x.test\nother: d\n', { team: ['a@x.test@1', 'b@x.test@1', 'c@x.test@1'], other: ['d@4'] }],
    ['comment inside a continued entry', 'team: a@x.test,\n# note\n  b@x.test\n', { team: ['a@x.test@1', 'b@x.test@1'] }],
    ['quoted local part with a comma', 'odd: "quoted, name", b\n', { odd: ['"quoted, name"@1', 'b@1'] }],
    ['angle brackets and display names', 'a: <x@y.test>, Admin Person <z@y.test>\n', { a: ['x@y.test@1', 'z@y.test@1'] }],
    ['backslash: no further expansion', 'bob: \\bob, archive@x.test\n', { bob: ['\\bob@1', 'archive@x.test@1'] }],
    ['pipe, file, include', 'p: |/usr/bin/procmail, "|/bin/cat -v", /var/mail/log, "/var/mail/x y", :include:/etc/mail/list\n', { p: ['|/usr/bin/procmail', '|/bin/cat -v', 'file:/var/mail/log', 'file:/var/mail/x y', 'include:/etc/mail/list'] }],
    ['space before the colon, quoted name', '"mailer-daemon" : postmaster\nnoc  :root\n', { 'mailer-daemon': ['postmaster@1'], noc: ['root@2'] }],
    ['BOM and no final newline', '\uFEFFroot: a@x.test', { root: ['a@x.test@1'] }],
    ['empty file', '', {}],
  ];
  for (const [label, text, want] of rows) t.same(render(text), want, label);
  const e = parseAliases('x: a\n\n\nroot: b,\n c\n', F).get('root')!;
  t.equal(e.line, 4, 'entry keeps its first line');
  t.equal(e.file, F);
  t.equal(e.name, 'root');
});

t.test('parseAliases: errors name file:line', async (t) => {
  const rows: [string, string, RegExp][] = [
    ['no colon', 'root admin\n', /^\/etc\/aliases:1: expected "name: address, \.\.\."/],
    ['continuation first', '  a@x.test\n', /^\/etc\/aliases:1: continuation line/],
    ['no targets', 'root:\n', /^\/etc\/aliases:1: alias "root" has no targets/],
    ['twice', 'root: a\nx: b\nROOT: c\n', /^\/etc\/aliases:3: alias "ROOT" is defined twice \(first on line 1\)/],
    ['domain in name', 'root@x.test: a\n', /^\/etc\/aliases:1: alias name "root@x.test" has a domain/],
    ['empty item', 'root: a,,b\n', /^\/etc\/aliases:1: empty target/],
    ['trailing comma', 'root: a,\n', /^\/etc\/aliases:1: empty target/],
    ['unterminated quote', 'root: "abc\n', /^\/etc\/aliases:1: unterminated quoted string/],
    ['bad address', 'root: a b@x.test\n', /^\/etc\/aliases:1: bad address "a b@x\.test": white space/],
    ['control character', 'root: a\u0001b@x.test\n', /^\/etc\/aliases:1: bad address "a\\u0001b@x\.test": control character/],
    ['relative include', 'root: :include:list\n', /^\/etc\/aliases:1: :include: needs an absolute path/],
    ['empty pipe', 'root: |\n', /^\/etc\/aliases:1: empty pipe command/],
    ['error on a continued line reports the entry line', 'a: x\nroot: b,\n  c d\n', /^\/etc\/aliases:2: bad address "c d"/],
  ];
  for (const [label, text, want] of rows) {
    try {
      parseAliases(text, F);
      t.fail(`${label}: should fail`);
    } catch (err) {
      t.ok(err instanceof SmarthostError, label);
      t.equal((err as SmarthostError).code, 'E_CONFIG', `${label}: E_CONFIG`);
      t.equal(exitCodeFor((err as SmarthostError).kind), 78, `${label}: exit 78`);
      t.match((err as SmarthostError).message, want, label);
    }
  }
});

t.test('parseTarget and parseIncludeList', async (t) => {
  t.same(parseTarget('"|cmd x"', 'f', 2), { file: 'f', line: 2, kind: 'pipe', command: 'cmd x' });
  t.same(parseTarget(':INCLUDE: /a/b', 'f', 1), { file: 'f', line: 1, kind: 'include', path: '/a/b' });
  const list = parseIncludeList('# members\na@x.test, b@x.test,\n\nc\n|/bin/x\n', '/etc/mail/list');
  t.same(
    list.map((x) => [x.kind, x.kind === 'address' ? x.address : '', x.line]),
    [
      ['address', 'a@x.test', 2],
      ['address', 'b@x.test', 2],
      ['address', 'c', 4],
      ['pipe', '', 5],
    ],
  );
  t.throws(() => parseIncludeList('ok@x.test\nbad address\n', '/l'), /^\/l:2: bad address "bad address"/);
});
