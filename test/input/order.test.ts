// Property: the same objects in any order give byte-identical output, in every format — doctor
// -o table/json/yaml/sarif/codequality, explain-protocol text and JSON for every Ingress and
// Service port, and the snapshot. CI diffs and caches depend on it.
//
// Each object is written to its own file (so positions — file and line — are the same whatever
// the order) and the files are given to -f in a shuffled order. Inside objects, the lists whose
// order carries no meaning to Istio or cloudflared are shuffled too (a pod's containers, their
// ports and env, its volumes and owner references, label and annotation keys of pods and pod
// templates). The snapshot echoes objects as they are, so it is compared under the object order
// only. The one line that echoes the command line (the table title, with the -f list) is
// compared without it. (`npm run fuzz` runs more cases with a fresh seed.)

import assert from 'node:assert/strict';
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import jsyaml from 'js-yaml';
import { generateCluster } from '../../bench/generate.js';
import { cloudflaredConfigMap, deployment, destinationRule, namespace, operatorCloudflared, operatorTunnelConfig, peerAuthentication, pod, service, type Obj } from '../support/build.js';
import { loadManifests } from '../support/bin.js';
import { demoObjects, runInProcess } from '../support/cli.js';
import { lazyTempDir } from '../support/tmp.js';
import { strictObjects } from '../live/scenarios.js';

const FUZZ = process.env.FUZZ_RUNS !== undefined;
const RUNS = FUZZ ? Number(process.env.FUZZ_RUNS) : 1;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : FUZZ ? Date.now() % 2 ** 31 : 20261123;

type Doc = Record<string, any>;

/** Several pods per workload (which one stands for it?), duplicate policies, a half-meshed Service, two tunnels. */
function mixed(): Obj[] {
  const connector = (name: string) =>
    pod('edge', name, { sidecar: 'none', owner: 'cloudflared', image: 'cloudflare/cloudflared:2025.11.1', args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'], volumes: [{ name: 'config', configMap: { name: 'tunnel' } }] });
  return [
    namespace('app', { 'istio-injection': 'enabled' }),
    namespace('edge'),
    cloudflaredConfigMap('edge', 'tunnel', [
      { hostname: 'a.example.com', service: 'http://gw.app.svc:9091' },
      { hostname: 'b.example.com', service: 'https://gw.app.svc:80' },
      { hostname: 'c.example.com', service: 'http://half.app.svc:80' },
      { service: 'http_status:404' },
    ]),
    connector('cloudflared-6b5d4c3b2a-n1'),
    connector('cloudflared-6b5d4c3b2a-n2'),
    operatorTunnelConfig([{ hostname: 'd.example.com', service: 'http://half.app.svc.cluster.local:80', priority: 1 }, { hostname: 'e.example.com', service: 'http://gw.app.svc:80', priority: 1 }]),
    operatorCloudflared(),
    ...['x1', 'x2', 'x3'].map((s) => pod('app', `gw-7d9f8b6c5d-${s}`, { owner: 'gw', labels: { app: 'gw', tier: 'edge' }, ports: [{ port: 8080 }, { port: 9091 }], annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' } })),
    ...['y1', 'y2'].map((s) => pod('app', `half-5c4d3e2f1a-${s}`, { owner: 'half', labels: { app: 'half' }, ports: [{ port: 8080 }] })),
    ...['z1', 'z2'].map((s) => pod('app', `half-5c4d3e2f1a-${s}`, { owner: 'half', sidecar: 'none', labels: { app: 'half' }, ports: [{ port: 8080 }] })),
    service('app', 'gw', [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'http-admin', port: 9091, targetPort: 9091 }], { selector: { app: 'gw' } }),
    service('app', 'half', [{ name: 'http', port: 80, targetPort: 8080 }], { selector: { app: 'half' } }),
    peerAuthentication('app', 'strict', { mode: 'STRICT' }),
    peerAuthentication('app', 'strict-too', { mode: 'STRICT' }),
    destinationRule('app', 'gw', { host: 'gw.app.svc.cluster.local', tls: 'ISTIO_MUTUAL' }),
    destinationRule('app', 'gw-dup', { host: 'gw.app.svc.cluster.local', portLevel: [{ port: 9091, tls: 'DISABLE' }] }),
    deployment('app', 'idle', { ports: [{ name: 'http', port: 7000 }], annotations: { 'traffic.istio.io/excludeInboundPorts': '7000' } }),
  ];
}

const SCENARIOS: Record<string, () => Doc[]> = {
  demo: () => demoObjects() as Doc[],
  ci: () => loadManifests('fixtures/ci/rendered.yaml') as Doc[],
  strict: () => strictObjects() as Doc[],
  mixed: () => mixed() as Doc[],
  bench: () => generateCluster(0.01) as unknown as Doc[],
};

/** Every command whose output must not depend on the order (snapshot: see the header). */
function commands(objects: Doc[]): string[][] {
  const out: string[][] = ['table', 'json', 'yaml', 'sarif', 'codequality'].map((f) => ['doctor', '-o', f]);
  for (const o of objects) {
    if (o.kind === 'Ingress') for (const f of ['json', 'text']) out.push(['explain-protocol', `ingress/${o.metadata.name}`, '-n', o.metadata.namespace, '-o', f]);
    if (o.kind === 'Service') for (const p of o.spec?.ports ?? []) out.push(['explain-protocol', `service/${o.metadata.name}:${p.port}`, '-n', o.metadata.namespace, '-o', 'json']);
  }
  return out;
}

const permute = <T>(items: readonly T[], keys: readonly number[]): T[] =>
  items.map((item, i) => ({ item, key: keys[i % keys.length] ?? 0, i })).sort((a, b) => a.key - b.key || a.i - b.i).map((x) => x.item);

const permuteKeys = (map: Record<string, unknown> | undefined, keys: readonly number[]): Record<string, unknown> | undefined =>
  map && Object.fromEntries(permute(Object.entries(map), keys));

/** The lists inside an object whose order carries no meaning, permuted; a copy. */
function shuffleInside(o: Doc, keys: readonly number[]): Doc {
  const copy = structuredClone(o);
  const podSpec = copy.kind === 'Pod' ? copy.spec : copy.spec?.template?.spec;
  for (const meta of [copy.kind === 'Pod' ? copy.metadata : undefined, copy.spec?.template?.metadata]) {
    if (!meta) continue;
    if (meta.labels) meta.labels = permuteKeys(meta.labels, keys);
    if (meta.annotations) meta.annotations = permuteKeys(meta.annotations, keys);
    if (meta.ownerReferences) meta.ownerReferences = permute(meta.ownerReferences, keys);
  }
  if (podSpec) {
    if (Array.isArray(podSpec.containers)) podSpec.containers = permute(podSpec.containers, keys);
    if (Array.isArray(podSpec.volumes)) podSpec.volumes = permute(podSpec.volumes, keys);
    for (const c of [...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])]) {
      if (Array.isArray(c.ports)) c.ports = permute(c.ports, keys);
      if (Array.isArray(c.env)) c.env = permute(c.env, keys);
    }
  }
  return copy;
}

const root = lazyTempDir('order');

async function outputs(dir: string, objects: Doc[], order: number[], cmds: string[][], withSnapshot: boolean): Promise<string[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = objects.map((o, i) => join(dir, `${String(i).padStart(4, '0')}-${o.kind}.yaml`));
  objects.forEach((o, i) => writeFileSync(files[i] as string, jsyaml.dump(o, { lineWidth: -1 })));
  const args = order.map((i) => ['-f', files[i] as string]).flat();
  const results: string[] = [];
  for (const cmd of [...cmds, ...(withSnapshot ? [['snapshot']] : [])]) {
    const run = await runInProcess([...cmd, ...args]);
    // The table and explain titles repeat the -f list as given: the one echo of the order.
    const text = `exit ${run.code}\n${run.stdout}\n--- stderr\n${run.stderr}`.replace(/^(tunnelmesh (doctor|explain-protocol) .*objects from ).*$/m, '$1<the -f list>');
    results.push(`$ ${cmd.join(' ')}\n${text}`);
  }
  return results;
}

/** Line numbers of positions in the objects' files (field lines, SARIF regions, file:line references). */
function maskLines(text: string): string {
  return text.replace(/("?(?:line|startLine|endLine|begin|end)"?: )\d+/g, '$1<n>').replace(/(\.ya?ml):\d+/g, '$1:<n>');
}

function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  const i = la.findIndex((l, j) => l !== lb[j]);
  return `${la[0]}\nline ${i + 1}:\n${la.slice(Math.max(0, i - 12), i).join('\n')}\n  in order: ${la[i]}\n  shuffled: ${lb[i]}`;
}

describe(`output independent of input order (seed ${SEED})`, () => {
  process.env.SOURCE_DATE_EPOCH ??= '1764547200'; // the snapshot's collectedAt, fixed
  for (const [name, make] of Object.entries(SCENARIOS)) {
    test(`${name}: objects in any order, lists without meaning in any order — the same bytes`, { timeout: FUZZ ? Infinity : 120_000 }, async () => {
      const objects = make();
      const cmds = commands(objects);
      const natural = objects.map((_, i) => i);
      const dir = join(root(), name);
      const baseline = await outputs(dir, objects, natural, cmds, true);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { minLength: objects.length, maxLength: objects.length }), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.boolean(), async (orderKeys, insideKeys, inside) => {
          const order = permute(natural, orderKeys);
          // The snapshot echoes each object as it is: compared when only the object order changed.
          const shuffled = inside ? objects.map((o) => shuffleInside(o, insideKeys)) : objects;
          const got = await outputs(dir, shuffled, order, cmds, !inside);
          // Shuffling inside an object rewrites its file: the line of a field in it may move (the
          // position is the user's text, reported as it is); everything else must be the same bytes.
          const same = inside ? maskLines : (t: string) => t;
          got.forEach((text, i) => {
            if (same(text) !== same(baseline[i] as string)) assert.fail(firstDifference(same(baseline[i] as string), same(text)));
          });
        }),
        // A smaller permutation says no more than the first failing one: no shrinking.
        { seed: SEED, numRuns: (name === 'bench' ? 2 : 6) * RUNS, endOnFailure: true, includeErrorInReport: true },
      );
    });
  }
});
