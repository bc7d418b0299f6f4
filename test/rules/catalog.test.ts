// The catalogue is complete and in order: every rule module under src/rules/catalog is registered
// (a rule left out of src/rules/index.ts would pass its own tests and never run), once, in code
// order; and what the rules declare they read is exactly what live collection lists.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { KINDS } from '../../src/core/kinds.js';
import { RULES } from '../../src/rules/index.js';
import type { Rule } from '../../src/rules/types.js';

const CATALOG = new URL('../../src/rules/catalog/', import.meta.url);

function isRule(v: unknown): v is Rule {
  return typeof v === 'object' && v !== null && 'meta' in v && 'check' in v;
}

describe('rule catalogue', () => {
  test('every rule module is registered in src/rules/index.ts, once', async () => {
    const files = readdirSync(CATALOG).filter((f) => f.endsWith('.ts')).sort();
    assert.ok(files.length >= 30, `rule modules found: ${files.length}`);
    for (const file of files) {
      const exported = Object.values(await import(new URL(file, CATALOG).href)).filter(isRule);
      assert.equal(exported.length, 1, `${file} exports one rule`);
      const rule = exported[0] as Rule;
      assert.ok(RULES.includes(rule), `${file} (${rule.meta.code}) is not in RULES`);
      assert.ok(file.toLowerCase().startsWith(rule.meta.code.toLowerCase()), `${file} is named after its code ${rule.meta.code}`);
    }
    assert.equal(RULES.length, files.length, 'RULES holds nothing that is not a catalogue module');
    assert.equal(new Set(RULES.map((r) => r.meta.code)).size, RULES.length, 'codes are unique');
    assert.equal(new Set(RULES.map((r) => r.meta.name)).size, RULES.length, 'names are unique');
  });

  test('RULES is in code order', () => {
    const codes = RULES.map((r) => r.meta.code);
    assert.deepEqual(codes, [...codes].sort());
  });

  test('what the rules read is what live collection lists (and deploy/rbac.yaml allows)', () => {
    const read = new Set<string>(RULES.flatMap((r) => r.meta.inputs));
    const listed = new Set(KINDS.map((k) => k.id)); // kind ids: Istio's Gateway and the Gateway API's are two kinds
    assert.deepEqual([...read].filter((k) => !listed.has(k)).sort(), [], 'kinds a rule reads that are never collected');
    assert.deepEqual([...listed].filter((k) => !read.has(k)).sort(), [], 'kinds collected that no rule reads');
  });
});
