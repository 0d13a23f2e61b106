/**
 * The example systemd units in contrib/systemd stay in step with the
 * documented defaults (spool_directory, log_file_path) and with what the
 * man page promises (every 5 minutes, runs missed while off, hardening).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_LOG_FILE_PATH, DEFAULT_SPOOL_DIRECTORY } from '../../lib/route/config.js';

const DIR = new URL('../../contrib/systemd/', import.meta.url);

/** `Key=value` settings by section (repeated keys keep every value). */
function unit(name: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of readFileSync(new URL(name, DIR), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      out[section] ??= {};
      continue;
    }
    const i = line.indexOf('=');
    const key = line.slice(0, i);
    (out[section]![key] ??= []).push(line.slice(i + 1));
  }
  return out;
}

t.test('service', async (t) => {
  const u = unit('send-smarthost-queue.service');
  t.strictSame(u.Service!.Type, ['oneshot']);
  t.match(u.Service!.ExecStart![0], /\/send-smarthost -q$/);
  t.strictSame(u.Service!.ReadWritePaths, [DEFAULT_SPOOL_DIRECTORY], 'the spool is writable');
  t.strictSame(u.Service!.LogsDirectory!.map((d) => `/var/log/${d}`), [dirname(DEFAULT_LOG_FILE_PATH)], 'and the log directory');
  for (const [k, v] of [
    ['ProtectSystem', 'strict'],
    ['NoNewPrivileges', 'yes'],
    ['PrivateTmp', 'yes'],
  ]) t.strictSame(u.Service![k!], [v], `${k}=${v}`);
  t.strictSame(u.Service!.ProtectHome, ['read-only'], 'homes readable (configured files), never written');
});

t.test('timer', async (t) => {
  const u = unit('send-smarthost-queue.timer');
  t.strictSame(u.Timer!.OnCalendar, ['*:0/5'], 'every 5 minutes');
  t.strictSame(u.Timer!.Persistent, ['true']);
  t.strictSame(u.Timer!.Unit, ['send-smarthost-queue.service']);
  t.strictSame(u.Install!.WantedBy, ['timers.target']);
});

t.test('path', async (t) => {
  const u = unit('send-smarthost-queue.path');
  t.strictSame(u.Path!.PathChanged, [`${DEFAULT_SPOOL_DIRECTORY}/input`, `${DEFAULT_SPOOL_DIRECTORY}/incoming`]);
  t.strictSame(u.Path!.Unit, ['send-smarthost-queue.service']);
  t.strictSame(u.Install!.WantedBy, ['paths.target']);
});
