// Inputs of any length: no array is ever spread into a call (`push(...items)` passes each item
// on the stack and dies at ~126,000 of them: "Maximum call stack size exceeded"). A source
// check finds every such call in src/; a List past that size goes through the CLI. The
// 1,000,000-item List lives in `npm run bench` (time and memory), not here.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { ROOT, runInProcess } from '../support/cli.js';
import { lazyTempDir } from '../support/tmp.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** `f(...xs)` and `new C(...xs)` anywhere in src/, as file:line. */
function spreadCalls(): string[] {
  const found: string[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (ts.isSpreadElement(node) && (ts.isCallExpression(node.parent) || ts.isNewExpression(node.parent))) {
        found.push(`${file.slice(ROOT.length)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.parent.getText().slice(0, 80)}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('inputs of any length', () => {
  test('src/ spreads no array into a call (use pushAll / maxOf from src/core/arrays.ts)', () => {
    assert.deepEqual(spreadCalls(), []);
  });

  test('a kind: List of 200,000 items (past the ~126k where a spread overflows the stack): judged, no internal error', async () => {
    const items: string[] = ['{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"app"}}'];
    for (let i = 0; i < 200_000; i++) items.push(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa-${i}","namespace":"app"}}`);
    const path = join(lazyTempDir('scale')(), 'list.json');
    writeFileSync(path, `{"apiVersion":"v1","kind":"List","items":[${items.join(',')}]}`);
    const run = await runInProcess(['doctor', '-f', path, '-o', 'json']);
    assert.doesNotMatch(run.stderr, /internal error|Maximum call stack/, run.stderr.slice(0, 500));
    assert.equal(run.code, 0, run.stderr.slice(0, 500));
    assert.deepEqual(JSON.parse(run.stdout).findings, []);
  });
});
