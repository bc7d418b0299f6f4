// The layers read top-down and never back up: cli → report → rules → model → core, and
// collect → core. No module imports one of a layer above its own, and no import cycle exists
// (type-only imports included: a type cycle is a design cycle).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** What each layer may import besides itself. */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  collect: ['core', 'errors.ts'],
  model: ['core', 'errors.ts'],
  rules: ['core', 'model', 'errors.ts'],
  report: ['core', 'model', 'rules', 'errors.ts'],
  cli: ['core', 'collect', 'model', 'rules', 'report', 'errors.ts'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    const spec = (m[1] ?? m[2]) as string;
    out.push(relative(SRC, normalize(join(dirname(file), spec.replace(/\.js$/, '.ts')))));
  }
  return out;
}

const layerOf = (path: string): string => (path.includes('/') ? (path.split('/')[0] as string) : path);

const graph = new Map(sources(SRC).map((f) => [relative(SRC, f), imports(f)]));

describe('architecture', () => {
  test('no layer imports one above it', () => {
    const violations: string[] = [];
    for (const [file, deps] of graph) {
      const layer = layerOf(file);
      const allowed = ALLOWED[layer];
      if (!allowed) continue; // top-level files (errors.ts)
      for (const dep of deps) {
        const target = layerOf(dep);
        if (target !== layer && !allowed.includes(target)) violations.push(`${file} → ${dep}`);
      }
    }
    assert.deepEqual(violations, []);
  });

  test('no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const dep of graph.get(file) ?? []) {
        if (!graph.has(dep)) continue;
        if (state.get(dep) === 'visiting') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' → '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
    assert.deepEqual(cycles, []);
  });

  test('every import resolves to a source file', () => {
    const missing = [...graph].flatMap(([file, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${file} → ${d}`));
    assert.deepEqual(missing, []);
  });
});
