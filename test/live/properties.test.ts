// Property: partial RBAC and broken lists never invent a finding and never hide one silently.
// For random sets of forbidden (kind, namespace) pairs, kinds whose lists fail and kinds whose
// lists come back as a 200 that is not a list of that kind, against the
// demo and the STRICT scenario, under -A and -n: the run ends with exit 0, 1 or 3 and no
// internal error; its error findings are a subset of what the whole cluster gives; and when
// one is missing, the report says something could not be collected. (`npm run fuzz` runs it
// longer, like the file-input properties.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KINDS } from '../../src/core/kinds.js';
import type { FaultRule, ForbiddenRule } from '../support/apiserver.js';
import { demo, findingKeys, liveRun, strictObjects, type LiveCase } from './scenarios.js';

const FUZZ = process.env.FUZZ_RUNS !== undefined;
const RUNS = FUZZ ? Number(process.env.FUZZ_RUNS) : 1;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : FUZZ ? Date.now() % 2 ** 31 : 20261123;

const NAMESPACES = ['app', 'istio-system', 'cloudflare-operator-system', 'edge', 'shop'];
const KIND_NAMES = KINDS.map((k) => k.kind);

const forbiddenRule: fc.Arbitrary<ForbiddenRule> = fc.record(
  { kind: fc.constantFrom(...KIND_NAMES), namespace: fc.constantFrom(...NAMESPACES) },
  { requiredKeys: ['kind'] },
);

const scenarios = {
  demo: { objects: demo, scopes: [['-A'], ['-n', 'app'], ['-n', 'shop']] },
  strict: { objects: strictObjects, scopes: [['-A'], ['-n', 'app', '--tunnel-namespace', 'edge']] },
} as const;

type Plan = { scenario: keyof typeof scenarios; scope: number; forbidden: ForbiddenRule[]; failing: string[]; hostile: Array<{ kind: string; body: string }> };

/** 200s that are not the list asked for (a proxy or an aggregated API server having a bad day). */
const HOSTILE_BODIES = ['{}', '[]', 'null', '{"kind":"List","items":null}', '{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"InternalError","code":500}', '{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}'];

const plan: fc.Arbitrary<Plan> = fc.record({
  scenario: fc.constantFrom<Plan['scenario']>('demo', 'strict'),
  scope: fc.nat(),
  forbidden: fc.array(forbiddenRule, { maxLength: 4 }),
  // A 400 is not retried: a cheap stand-in for any list that fails for good.
  failing: fc.subarray(KIND_NAMES, { maxLength: 2 }),
  hostile: fc.array(fc.record({ kind: fc.constantFrom(...KIND_NAMES), body: fc.constantFrom(...HOSTILE_BODIES) }), { maxLength: 2 }),
});

const baselines = new Map<string, string[]>();

async function run(p: Plan, whole: boolean) {
  const s = scenarios[p.scenario];
  const scope = [...(s.scopes[p.scope % s.scopes.length] ?? [])];
  const faults: FaultRule[] = whole
    ? []
    : [...p.failing.map((kind): FaultRule => ({ status: 400, match: (r) => r.kind?.kind === kind })), ...p.hostile.map(({ kind, body }): FaultRule => ({ body, match: (r) => r.kind?.kind === kind }))];
  const c: LiveCase = { objects: s.objects() as never, scope, server: whole ? {} : { forbidden: p.forbidden, faults } };
  return { scope, result: await liveRun(c) };
}

describe(`live properties (seed ${SEED})`, () => {
  test('partial RBAC and failing lists: never a new finding, never a silently missing one', { timeout: FUZZ ? Infinity : 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const key = `${p.scenario} ${p.scope % scenarios[p.scenario].scopes.length}`;
        let whole = baselines.get(key);
        if (!whole) {
          const { result } = await run(p, true);
          assert.ok(result.code === 0 || result.code === 1, result.stderr);
          whole = findingKeys(result);
          baselines.set(key, whole);
        }
        const { scope, result } = await run(p, false);
        const context = `${p.scenario} ${scope.join(' ')} forbidden=${JSON.stringify(p.forbidden)} failing=${p.failing.join(',')} hostile=${JSON.stringify(p.hostile)}\n${result.stderr}`;
        assert.doesNotMatch(result.stderr, /internal error|\n\s+at /, context);
        assert.ok(result.code === 0 || result.code === 1 || result.code === 3, context);
        if (result.code === 3) return;
        const partial = findingKeys(result);
        for (const f of partial) assert.ok(whole.includes(f), `invented ${f}\n${context}`);
        const missing = whole.filter((f) => !partial.includes(f));
        if (missing.length) assert.ok(result.json.incomplete.length > 0, `${missing.join(', ')} gone with nothing reported missing\n${context}`);
      }),
      { seed: SEED, numRuns: 10 * RUNS },
    );
  });
});
