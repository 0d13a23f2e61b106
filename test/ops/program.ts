/**
 * The operator command line (lib/ops/program.ts, commander): --help lists
 * every sendmail flag of cli.ts's table, --version names the release.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { operatorMain, versionText } from '../../lib/ops/program.js';
import { FLAGS } from '../../lib/submit/cli.js';
import { VERSION } from '../../lib/version.js';
import { memoryIo as io } from '../../fixtures/peers/memory-io.js';

t.test('--help: usage, the options, and every sendmail flag', async (t) => {
  const x = io();
  t.equal(await operatorMain(['--help'], x), 0);
  t.match(x.out, /^Usage: send-smarthost \[sendmail flags\] \[--\] \[recipient \.\.\.\]\n/);
  t.match(x.out, /--version +print the version and exit/);
  for (const f of FLAGS) t.ok(x.out.includes(`  ${f.flag}`), `lists ${f.flag}`);
  t.match(x.out, /Accepted for sendmail compatibility and ignored:\n {2}-o<X>/);
  t.equal(x.err, '');
  const y = io();
  t.equal(await operatorMain(['--help', '-t', 'whatever'], y), 0, 'the first word decides');
  t.equal(y.out, x.out);
});

t.test('--version', async (t) => {
  const x = io();
  t.equal(await operatorMain(['--version'], x), 0);
  t.equal(x.out, `send-smarthost ${VERSION} (Node.js ${process.version})\n`);
  t.equal(versionText(), x.out);
});

t.test('VERSION is package.json\'s version', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(VERSION, pkg.version);
});
