import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDetached } from '../../lib/queue/detach.js';

/** A child that records its working directory, one variable, and whether it leads its own session. */
const probe = (out: string): string[] => [
  '-e',
  `const fs = require('fs');
   const stat = fs.readFileSync('/proc/self/stat', 'utf8');
   const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
   fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({ cwd: process.cwd(), x: process.env.PROBE_X, leader: Number(f[3]) === process.pid }));`,
];

async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  return done();
}

for (const lean of [true, false]) {
  t.test(`spawnDetached (${lean ? 'process_wrap' : 'node:child_process'}): own session, cwd /, the given environment`, async (t) => {
    const out = join(t.testdir(), 'probe.json');
    const errors: Error[] = [];
    spawnDetached(process.execPath, probe(out), { PROBE_X: 'yes', PATH: process.env.PATH }, (e) => errors.push(e), { lean });
    t.ok(await until(() => existsSync(out) && readFileSync(out, 'utf8').endsWith('}')), 'the child ran');
    t.same(JSON.parse(readFileSync(out, 'utf8')), { cwd: '/', x: 'yes', leader: true });
    t.same(errors, []);
  });
}

t.test('a program that does not exist: the error is reported, nothing thrown', async (t) => {
  const errors: Error[] = [];
  t.doesNotThrow(() => spawnDetached('/nonexistent/send-smarthost-node', [], {}, (e) => errors.push(e)));
  t.ok(await until(() => errors.length === 1));
  t.match(errors[0]!.message, /ENOENT/);
});
