// Property-based tests (fast-check): manifests derived from fixtures/demo and the test
// builders, mutated and damaged (test/support/mutate.ts), plus random documents, through the
// real CLI (main() in this process). For every input: no internal error and no stack trace,
// no hang (the test's timeout), exit code 0, 1 or 2 (2 with one `tunnelmesh: <file>…` line and nothing on stdout;
// 0/1 with the JSON report), and the same output when the same input is judged again.
//
// `npm test` runs a fixed seed and a few hundred inputs; `npm run fuzz` runs many more with a
// fresh seed (FUZZ_RUNS, FUZZ_SEED to replay one; fast-check prints the seed and path of any
// failure, shrunk to a small counterexample).

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import jsyaml from 'js-yaml';
import {
  cloudflaredConfigMap,
  cloudflaredDeployment,
  deployment,
  destinationRule,
  meshConfig,
  namespace,
  operatorCloudflared,
  operatorTunnelConfig,
  peerAuthentication,
  service,
} from '../support/build.js';
import { assertErrorDocument, demoTexts, ROOT, runInProcess, type CliRun } from '../support/cli.js';
import { lazyTempDir } from '../support/tmp.js';
import { mutatedManifests, randomDocuments, type Json, type Sample } from '../support/mutate.js';
import { strictObjects } from '../live/scenarios.js';

const FUZZ = process.env.FUZZ_RUNS !== undefined;
const RUNS = FUZZ ? Number(process.env.FUZZ_RUNS) : 1;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : FUZZ ? Date.now() % 2 ** 31 : 20261123;

const dir = lazyTempDir('fuzz')();
let counter = 0;

/** The seed manifests: the demo dump, the STRICT scenario, and rendered-chart style templates. */
function seeds(): Json[][] {
  const demo = demoTexts().flatMap((t) => jsyaml.loadAll(t.text)) as Json[];
  const chart = [
    namespace('app', { 'istio-injection': 'enabled' }),
    namespace('edge'),
    deployment('app', 'gw', { ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }], annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' } }),
    service('app', 'gw', [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'http-admin', port: 9091, targetPort: 'admin' }]),
    cloudflaredConfigMap('edge', 'tunnel', [{ hostname: 'a.example.com', service: 'http://gw.app:9091' }, { hostname: 'b.example.com', path: '^/api', service: 'https://gw.app.svc:80', originRequest: { http2Origin: true } }, { service: 'http_status:404' }]),
    cloudflaredDeployment('edge', 'cloudflared', 'tunnel', { labels: { app: 'cloudflared', 'sidecar.istio.io/inject': 'true' } }),
    operatorTunnelConfig([{ hostname: 'c.example.com', service: 'http://gw.app.svc.cluster.local:80', priority: 1 }]),
    operatorCloudflared(),
    peerAuthentication('app', 'gw', { selector: { app: 'gw' }, mode: 'STRICT', portLevel: { 9091: 'DISABLE' } }),
    peerAuthentication('istio-system', 'default', { mode: 'PERMISSIVE' }),
    destinationRule('app', 'gw', { host: 'gw.app.svc.cluster.local', portLevel: [{ port: 9091, tls: 'DISABLE' }, { port: 80 }], exportTo: ['*'] }),
    destinationRule('istio-system', 'all', { host: '*.local', tls: 'ISTIO_MUTUAL' }),
    meshConfig({ rootNamespace: 'istio-system', enableAutoMtls: true, defaultConfig: { holdApplicationUntilProxyStarts: true } }),
  ];
  return [demo, strictObjects() as Json[], chart as Json[]];
}

function write(sample: Sample): string {
  const path = join(dir, `sample-${++counter}.${sample.ext}`);
  writeFileSync(path, sample.text);
  return path;
}

/** What must hold for any input; returns the run for the stability check. */
function assertWellBehaved(run: CliRun, path: string): void {
  const context = `exit ${run.code}\n--- stderr ---\n${run.stderr.slice(0, 2000)}\n--- input ${path}`;
  assert.doesNotMatch(run.stderr, /internal error/, context);
  assert.doesNotMatch(run.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `stack trace\n${context}`);
  assert.ok(run.code === 0 || run.code === 1 || run.code === 2, context);
  if (run.code === 2) {
    assertErrorDocument(run, 2);
    const lines = run.stderr.split('\n').filter(Boolean);
    const last = lines[lines.length - 1] ?? '';
    // -n naming a namespace the (mutated) input no longer holds is refused too, naming the namespace.
    const unknownNamespace = /^tunnelmesh: namespace \S+ does not exist \(no object of the input is in it\)/.test(last);
    assert.ok(last.startsWith(`tunnelmesh: ${path}`) || unknownNamespace, `the refusal names the file\n${context}`);
    assert.ok(!last.startsWith(`tunnelmesh: warning:`), context);
  } else {
    const report = JSON.parse(run.stdout) as { findings: unknown[]; incomplete: unknown[]; notes: unknown[] };
    assert.ok(Array.isArray(report.findings) && Array.isArray(report.incomplete) && Array.isArray(report.notes), context);
  }
}

/** Failing inputs are kept here (git-ignored) to replay: tunnelmesh doctor -f <file>. */
const FAILURES = join(ROOT, 'fuzz-failures');

async function judgeTwice(sample: Sample): Promise<void> {
  const path = write(sample);
  const args = ['doctor', '-o', 'json', '-f', path, ...sample.args];
  const first = await runInProcess(args);
  try {
    assertWellBehaved(first, path);
  } catch (err) {
    mkdirSync(FAILURES, { recursive: true });
    // Shrinking calls this for every smaller input that still fails: the last one written is the smallest.
    const kept = join(FAILURES, `seed-${SEED}.${sample.ext}`);
    writeFileSync(kept, sample.text);
    throw new Error(`${(err as Error).message}\nkept as ${kept} (args: ${sample.args.join(' ') || 'none'})`);
  }
  const second = await runInProcess(args);
  assert.deepEqual({ code: second.code, stdout: second.stdout, stderr: second.stderr }, { code: first.code, stdout: first.stdout, stderr: first.stderr }, `unstable output on ${path}`);
}

const params = (numRuns: number): fc.Parameters<[Sample]> => ({ seed: SEED, numRuns: numRuns * RUNS });

describe(`properties (seed ${SEED}${FUZZ ? `, ${RUNS}× runs` : ''})`, () => {
  test('the seed manifests themselves are judged (exit 0/1) and stable', async () => {
    for (const objects of seeds()) {
      const sample: Sample = { text: objects.map((o) => jsyaml.dump(o)).join('---\n'), ext: 'yaml', args: [] };
      await judgeTwice(sample);
      const run = await runInProcess(['doctor', '-o', 'json', '-f', write(sample)]);
      assert.ok(run.code === 0 || run.code === 1, run.stderr);
    }
  });

  test('mutated manifests: no crash, no hang, exit 0/1/2, stable output', { timeout: FUZZ ? Infinity : 60_000 }, async () => {
    await fc.assert(fc.asyncProperty(mutatedManifests(seeds()), judgeTwice), params(150));
  });

  test('random documents: no crash, no hang, exit 0/1/2, stable output', { timeout: FUZZ ? Infinity : 60_000 }, async () => {
    await fc.assert(fc.asyncProperty(randomDocuments(), judgeTwice), params(60));
  });
});
