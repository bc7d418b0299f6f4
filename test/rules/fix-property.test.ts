// Issue 13's property, checked for every rule: over every rule fixture (the valid and invalid cases
// of test/rules/*.test.ts, collected through the rule tester), the demo, the CI fixtures and the
// realistic clusters of test/support/clusters.ts, each recommended fix applied as kubectl would
// take it removes its finding, adds no error or warning, and keeps every tunnel hostname on its
// origin; all recommended fixes applied together (composed per object) do the same.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { collectFromFiles } from '../../src/collect/files.js';
import type { KObject } from '../../src/core/k8s.js';
import { RULES } from '../../src/rules/index.js';
import { CLUSTERS } from '../support/clusters.js';
import { checkFixProperty, type PropertyReport } from '../support/fix-property.js';
import { caseCollector, snapshotOf, type RuleCases } from '../support/rule-tester.js';

caseCollector.cases = [];
for (const file of readdirSync(new URL('.', import.meta.url)).filter((f) => /^tm\d+\.test\.ts$/.test(f)).sort()) {
  await import(new URL(file, import.meta.url).href);
}
const collected: RuleCases[] = caseCollector.cases;
delete caseCollector.cases;

function assertProperty(report: PropertyReport): void {
  const failures = [...report.single.map((s) => `${s.finding} — "${s.fix}":\n    ${s.problems.join('\n    ')}`), ...report.all.map((p) => `all fixes together: ${p}`)];
  assert.deepEqual(failures, [], failures.join('\n'));
  // Issue 17 writes the fixes for rules that TunnelBindings and HTTPRoutes write; until then no input here needs one.
  assert.deepEqual(report.manual, []);
}

describe('every recommended fix works when applied (issue 13)', () => {
  it('covers every rule in the registry', () => {
    const covered = new Set(collected.map((c) => c.rule.meta.code));
    assert.deepEqual(RULES.map((r) => r.meta.code).filter((c) => !covered.has(c)), []);
  });
  for (const { rule, valid, invalid } of collected) {
    describe(`${rule.meta.code} fixtures`, () => {
      for (const c of [...valid, ...invalid]) {
        it(c.name, () => assertProperty(checkFixProperty(snapshotOf(c.objects, c.namespace).objects, c.namespace)));
      }
    });
  }
  for (const input of ['fixtures/demo', 'fixtures/ci/rendered.yaml', 'fixtures/ci/fixed/rendered.yaml']) {
    it(input, async () => {
      const objects: KObject[] = (await collectFromFiles([input])).objects;
      const report = checkFixProperty(objects);
      assert.ok(report.checked > 0 || input.includes('fixed'), 'the input has fixes to check');
      assertProperty(report);
    });
  }
  for (const cluster of CLUSTERS) {
    it(`cluster: ${cluster.name}`, () => {
      const report = checkFixProperty(snapshotOf(cluster.objects).objects);
      assert.ok(report.checked >= (cluster.minFixes ?? 1), `expected at least ${cluster.minFixes ?? 1} fixes, checked ${report.checked}`);
      assertProperty(report);
    });
  }
});
