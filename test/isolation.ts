/**
 * No test and no demo reads or writes a system path (issue 9, point 10): the
 * configurations they write name their own spool_directory and log_file_path
 * in a temporary directory. (Before, the demo and test/e2e-trust.ts used
 * /var/spool/send-smarthost as root, and an earlier failed delivery's retry
 * hints there made them fail.)
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseConfig } from '../lib/route/config.js';
import { writeConfig } from '../fixtures/peers/run-cli.js';
import { demoConfig } from '../demo/config.js';

const under = (p: string, dir: string): boolean => p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

t.test('writeConfig: a spool and a main log of its own when the test names none', async (t) => {
  const file = writeConfig(['route_data = mail.dev.example.test']);
  const c = parseConfig(readFileSync(file, 'utf8'), file);
  t.ok(under(c.spoolDirectory, tmpdir()), `spool_directory ${c.spoolDirectory} is temporary`);
  t.ok(under(c.logFilePath, tmpdir()), `log_file_path ${c.logFilePath} is temporary`);
  const named = writeConfig(['route_data = x', 'spool_directory = /nonexistent/spool']);
  t.equal(parseConfig(readFileSync(named, 'utf8'), named).spoolDirectory, '/nonexistent/spool', 'a test that names one keeps it');
});

t.test('the demo names its own spool and log', async (t) => {
  const c = parseConfig(demoConfig({ dir: '/tmp/demo-x', root: '/r', smtpPort: 1, dnsPort: 2 }).join('\n'), 'demo.conf');
  t.equal(c.spoolDirectory, '/tmp/demo-x/spool');
  t.equal(c.logFilePath, '/tmp/demo-x/mainlog');
});
