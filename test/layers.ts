/**
 * The import graph of lib/ follows the stages (architecture.md): shared
 * vocabulary at the bottom, each stage importing only itself and what is
 * below it, main.ts (and fast.ts, the entry bundle's) wiring everything. No cycles.
 */
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = fileURLToPath(new URL('../lib/', import.meta.url));
const SHARED = new Set(['types.ts', 'errors.ts', 'data.ts', 'version.ts', 'check-report.ts', 'report/trace.ts']);
/** What each stage may import besides SHARED and itself. */
const ALLOWED: Record<string, string[]> = {
  submit: [],
  route: [],
  deliver: [],
  // the files of the spool and their checks: below everything that handles a message's life
  store: [],
  // the reports (trace, main log, bounce, listing, dead.letter) render what the store holds
  report: ['store'],
  // a message's life: received, spooled, claimed, attempted, settled
  queue: ['deliver', 'route', 'report', 'store'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const files = walk(LIB).map((f) => relative(LIB, f));
const importsOf = (f: string): string[] =>
  [...readFileSync(join(LIB, f), 'utf8').matchAll(/(?:from\s+|import\(\s*)'(\.{1,2}\/[^']+)\.js'/g)].map((m) => relative(LIB, resolve(dirname(join(LIB, f)), m[1]! + '.ts')));

t.test('every import points down the stages', async (t) => {
  for (const f of files) {
    if (f === 'main.ts' || f === 'fast.ts' || f.startsWith('ops/')) continue; // the composition roots (ops/: the operator command line)
    const stage = f.includes('/') ? f.split('/')[0]! : '';
    for (const imp of importsOf(f)) {
      const target = imp.includes('/') ? imp.split('/')[0]! : '';
      const ok = SHARED.has(imp) || (stage !== '' && target === stage) || (ALLOWED[stage] ?? []).includes(target);
      if (SHARED.has(f)) t.ok(SHARED.has(imp), `${f} (shared) imports only shared modules, not ${imp}`);
      else t.ok(ok, `${f} may import ${imp}`);
    }
  }
  t.ok(files.includes('main.ts'), 'main.ts exists');
});

t.test('no import cycles', async (t) => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'visiting') {
      cycles.push([...path, f].join(' -> '));
      return;
    }
    state.set(f, 'visiting');
    for (const imp of importsOf(f)) if (files.includes(imp)) visit(imp, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  t.same(cycles, []);
});
