// ESLint's RuleTester, for tunnelmesh rules: `valid` cases must stay silent, `invalid` cases
// must report exactly the findings listed — and applying a finding's recommended fix to the
// input must make that finding go away (a fix that does not fix is a defect). Fixes are applied
// by src/rules/apply-fix.ts, as kubectl would take them; the property test
// (test/rules/fix-property.test.ts) goes further over every case here, with every rule.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsyaml from 'js-yaml';
import { collectFromTexts } from '../../src/collect/files.js';
import { ENVOY_DUMP_KIND } from '../../src/core/envoy-dump.js';
import { formatRef } from '../../src/core/k8s.js';
import type { KObject } from '../../src/core/k8s.js';
import { applyFix as applyFixToObjects } from '../../src/rules/apply-fix.js';
import { kindIdOf } from '../../src/core/kinds.js';
import { judge } from '../../src/rules/judge.js';
import type { Finding, Fix, Rule } from '../../src/rules/types.js';
import { toYaml, type Obj } from './build.js';

type Match = string | RegExp;

export interface ValidCase {
  name: string;
  objects: Obj[];
  namespace?: string;
}

export interface ExpectedFinding {
  /** `Service app/web` */
  resource: string;
  port?: number;
  severity?: Finding['severity'];
  message?: Match | Match[];
  symptom?: Match;
  evidence?: Match[];
  /** Expected fixes in order (titles and/or YAML fragments); fewer entries = a prefix. */
  fixes?: Array<{ title?: Match; yaml?: Match[] }>;
}

export interface InvalidCase extends ValidCase {
  findings: ExpectedFinding[];
  /** Apply each finding's first fix and expect it gone (default true). */
  fixResolves?: boolean;
}

export function snapshotOf(objects: Obj[], namespace?: string) {
  return collectFromTexts([{ name: 'case.yaml', text: toYaml(objects) }], namespace);
}

/** What doctor would report for these objects with only these rules: the same pipeline every entry point runs. */
export function findingsOf(rule: Rule | readonly Rule[], objects: Obj[], namespace?: string): Finding[] {
  return judge(snapshotOf(objects, namespace), { rules: Array.isArray(rule) ? rule : [rule as Rule], ...(namespace ? { namespace } : {}) }).findings;
}

/**
 * A rule's declared inputs are what it reads: the same case with every other kind taken out
 * must give the same findings (Istio's analyzers declare their inputs the same way).
 */
function assertDeclaredInputs(rule: Rule, c: ValidCase, expected: Finding[]): void {
  // Inputs are kind ids (core/kinds.ts): Istio's Gateway and the Gateway API's are two kinds.
  const declared = new Set<string>(rule.meta.inputs);
  // Envoy config dumps are tunnelmesh's own documents, not kinds: kept for the rules that declare them.
  if (rule.meta.extraInputs?.length) declared.add(ENVOY_DUMP_KIND);
  // Inputs are kind ids (core/kinds.ts): Istio's Gateway and the Gateway API's are two kinds.
  const id = (o: Obj): string => (o.kind === ENVOY_DUMP_KIND ? o.kind : kindIdOf({ kind: o.kind, ...(typeof o.apiVersion === 'string' ? { apiVersion: o.apiVersion } : {}) }));
  const kept = c.objects.filter((o) => declared.has(id(o)));
  if (kept.length === c.objects.length) return;
  const dropped = [...new Set(c.objects.filter((o) => !declared.has(id(o))).map(id))].sort();
  const found = findingsOf(rule, kept, c.namespace);
  assert.deepEqual(found.map(describeFinding), expected.map(describeFinding), `${rule.meta.code} reads more than meta.inputs declares: without ${dropped.join(', ')} the findings differ`);
}

function matches(text: string, m: Match): boolean {
  return typeof m === 'string' ? text.includes(m) : m.test(text);
}

function assertMatch(text: string, m: Match, what: string): void {
  assert.ok(matches(text, m), `${what}: expected ${m} in:\n${text}`);
}

function describeFinding(f: Finding): string {
  return `${f.code} ${formatRef(f.resource)}${f.port !== undefined ? `:${f.port}` : ''} — ${f.message}`;
}

export interface RuleCases {
  rule: Rule;
  valid: ValidCase[];
  invalid: InvalidCase[];
}

/**
 * Set by a test that wants the cases rather than the tests (the fix property test): while set,
 * testRule records its cases here and registers no test.
 */
export const caseCollector: { cases?: RuleCases[] } = {};

export function testRule(rule: Rule, cases: { valid: ValidCase[]; invalid: InvalidCase[] }): void {
  if (caseCollector.cases) {
    caseCollector.cases.push({ rule, ...cases });
    return;
  }
  describe(`${rule.meta.code} ${rule.meta.name}`, () => {
    for (const c of cases.valid) {
      it(`valid: ${c.name}`, () => {
        const found = findingsOf(rule, c.objects, c.namespace);
        assert.deepEqual(found.map(describeFinding), [], 'expected no findings');
        assertDeclaredInputs(rule, c, found);
      });
    }
    for (const c of cases.invalid) {
      it(`invalid: ${c.name}`, () => {
        const found = findingsOf(rule, c.objects, c.namespace);
        assertDeclaredInputs(rule, c, found);
        assert.equal(found.length, c.findings.length, `expected ${c.findings.length} finding(s), got:\n${found.map(describeFinding).join('\n')}`);
        c.findings.forEach((expected, i) => {
          const f = found[i] as Finding;
          assert.equal(formatRef(f.resource), expected.resource);
          if (expected.port !== undefined) assert.equal(f.port, expected.port);
          assert.equal(f.severity, expected.severity ?? rule.meta.severity);
          for (const m of [expected.message ?? []].flat()) assertMatch(f.message, m, 'message');
          if (expected.symptom !== undefined) assertMatch(f.symptom ?? '', expected.symptom, 'symptom');
          for (const m of expected.evidence ?? []) assertMatch(f.evidence.join('\n'), m, 'evidence');
          expected.fixes?.forEach((fx, j) => {
            const fix = f.fixes[j];
            assert.ok(fix, `fix ${j + 1} missing`);
            if (fx.title) assertMatch(fix.title, fx.title, `fix ${j + 1} title`);
            for (const y of fx.yaml ?? []) assertMatch(fix.yaml, y, `fix ${j + 1} yaml`);
          });
          for (const fix of f.fixes) assert.doesNotThrow(() => jsyaml.loadAll(fix.yaml), `fix "${fix.title}" is not valid YAML`);
        });
        if (c.fixResolves !== false) {
          for (const f of found) {
            const fix = f.fixes[0];
            // A manual fix says what works where no single change does: nothing to apply.
            if (!fix || fix.apply === 'manual') continue;
            const fixed = applyFix(c.objects, fix);
            const after = findingsOf(rule, fixed, c.namespace).filter((g) => formatRef(g.resource) === formatRef(f.resource) && g.port === f.port);
            assert.deepEqual(after.map(describeFinding), [], `applying "${f.fixes[0]?.title}" should resolve the finding`);
          }
        }
      });
    }
  });
}

/** Applies a fix as kubectl would take it (src/rules/apply-fix.ts): its YAML by its apply mode, then its steps. */
export function applyFix(objects: Obj[], fix: Fix): Obj[] {
  const normalized = snapshotOf(objects).objects;
  const applied = applyFixToObjects(normalized, fix);
  assert.deepEqual(applied.problems, [], `applying "${fix.title}"`);
  return applied.objects as unknown as Obj[];
}

export type { KObject };
