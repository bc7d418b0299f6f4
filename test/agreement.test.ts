// One edge, one verdict: each scenario is judged through `doctor -f`, live `doctor -A`, live and
// offline `doctor -n NS`, and `explain-protocol` for every backend (offline and live, with and
// without -n), and every entry point must say the same about every edge. Each scenario is a way
// the verdict used to depend on how the question was asked.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KObject } from '../src/core/k8s.js';
import { startApiServer, type ApiServer } from './support/apiserver.js';
import {
  cloudflaredConfigMap,
  cloudflaredDeployment,
  deployment,
  destinationRule,
  ingress,
  istioGateway,
  namespace,
  peerAuthentication,
  pod,
  service,
  toYaml,
  virtualService,
  type Obj,
} from './support/build.js';
import { DEMO_DIR, demoObjects, runInProcess } from './support/cli.js';
import { writeKubeconfig } from './support/kubeconfig.js';
import { lazyTempDir } from './support/tmp.js';

const tmp = lazyTempDir('agreement');

interface ExplainCase {
  target: string;
  /** -n for the explain run (the target's namespace), when the target needs one. */
  namespace?: string;
  verdict: 'ok' | 'broken' | 'unknown';
  codes: string[];
}

interface Scenario {
  name: string;
  objects: Obj[] | KObject[];
  /** The namespace of the broken Service (what a user passes to -n). */
  namespace: string;
  /** Findings at error/warning severity, as `CODE Kind ns/name:port`. */
  expected: string[];
  explain: ExplainCase[];
}

/** A hand-written cloudflared (Deployment, its running pod with a sidecar, its ConfigMap) in namespace edge. */
function handWrittenTunnel(rules: Array<{ hostname?: string; service: string }>, o: { sidecar?: 'native' | 'none' } = {}): Obj[] {
  // A native sidecar starts before cloudflared (no TM202 to distract from the edge).
  const sidecar = o.sidecar ?? 'native';
  const annotations = { 'sidecar.istio.io/nativeSidecar': 'true' };
  return [
    namespace('edge', sidecar === 'none' ? {} : { 'istio-injection': 'enabled' }),
    cloudflaredConfigMap('edge', 'tunnel', [...rules, { service: 'http_status:404' }]),
    cloudflaredDeployment('edge', 'cloudflared', 'tunnel', { annotations }),
    pod('edge', 'cloudflared-7d9f8b6c5d-abcde', {
      sidecar,
      annotations,
      owner: 'cloudflared',
      image: 'cloudflare/cloudflared:2025.11.1',
      args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'],
      volumes: [{ name: 'config', configMap: { name: 'tunnel' } }],
    }),
  ];
}

/** Namespace app with a meshed workload whose port 9091 is excluded from capture (the seed's situation). */
function excludedPortApp(name = 'sg'): Obj[] {
  const annotations = { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' };
  return [
    namespace('app', { 'istio-injection': 'enabled' }),
    deployment('app', name, { annotations, ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
    pod('app', `${name}-7d9f8b6c5d-aaaaa`, { owner: name, annotations, initExclude: '9091', ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
    service('app', name, [{ name: 'http-admin', port: 9091 }]),
  ];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'a hand-written tunnel in another namespace (the seed outage under -n)',
    objects: [namespace('istio-system'), ...handWrittenTunnel([{ hostname: 'admin.example.com', service: 'http://sg.app.svc:9091' }]), ...excludedPortApp()],
    namespace: 'app',
    expected: ['TM101 Service app/sg:9091'],
    explain: [
      { target: 'service/sg:9091', namespace: 'app', verdict: 'broken', codes: ['TM101'] },
      { target: 'https://admin.example.com/', verdict: 'broken', codes: ['TM101'] },
    ],
  },
  {
    name: "the operator's v0.34 layout (fixtures/demo)",
    objects: demoObjects(),
    namespace: 'app',
    expected: ['TM101 Service app/sg-cloud-gateway:9091'],
    explain: [
      { target: 'ingress/spring-boot-admin', namespace: 'app', verdict: 'broken', codes: ['TM101'] },
      { target: 'service/sg-cloud-gateway:9091', namespace: 'app', verdict: 'broken', codes: ['TM101'] },
      { target: 'https://admin.example.com/', verdict: 'broken', codes: ['TM101'] },
    ],
  },
  {
    name: 'an Ingress whose IngressClass is not in the input, served by a hand-written config',
    objects: [
      namespace('istio-system'),
      ...handWrittenTunnel([{ hostname: 'admin.example.com', service: 'http://sg.app.svc:9091' }]),
      ...excludedPortApp(),
      ingress('app', 'admin', [{ host: 'admin.example.com', service: 'sg', port: 9091 }], { className: 'cloudflare-tunnel' }),
    ],
    namespace: 'app',
    expected: ['TM101 Service app/sg:9091'],
    explain: [{ target: 'ingress/admin', namespace: 'app', verdict: 'broken', codes: ['TM101'] }],
  },
  {
    name: "an Ingress the operator's config has no rule for, whose host a hand-written config serves",
    objects: [
      ...(demoObjects() as unknown as Obj[]),
      ingress('app', 'extra', [{ host: 'extra.example.com', service: 'sg-cloud-gateway', port: 9091 }]),
      ...handWrittenTunnel([{ hostname: 'extra.example.com', service: 'http://sg-cloud-gateway.app.svc:9091' }]),
    ],
    namespace: 'app',
    expected: ['TM101 Service app/sg-cloud-gateway:9091', 'TM303 Ingress app/extra:9091'],
    explain: [{ target: 'ingress/extra', namespace: 'app', verdict: 'broken', codes: ['TM101'] }],
  },
  {
    name: 'through an Istio ingress gateway (the hop after it is broken)',
    objects: [
      ...handWrittenTunnel([{ hostname: 'admin.example.com', service: 'http://istio-ingressgateway.istio-system.svc:80' }], { sidecar: 'none' }),
      namespace('istio-system'),
      pod('istio-system', 'istio-ingressgateway-7d9f8b6c5d-ggggg', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, ports: [{ port: 8080 }] }),
      service('istio-system', 'istio-ingressgateway', [{ name: 'http2', port: 80, targetPort: 8080 }], { selector: { istio: 'ingressgateway' } }),
      istioGateway('istio-system', 'public'),
      virtualService('app', 'admin', { gateways: ['istio-system/public'], hosts: ['admin.example.com'], host: 'sg', port: 9091 }),
      ...excludedPortApp(),
    ],
    namespace: 'app',
    expected: ['TM101 Service app/sg:9091'],
    explain: [{ target: 'https://admin.example.com/', verdict: 'broken', codes: ['TM101'] }],
  },
  {
    name: 'a plaintext tunnel from another namespace into an ambient STRICT workload',
    objects: [
      namespace('istio-system'),
      ...handWrittenTunnel([{ hostname: 'web.example.com', service: 'http://web.app.svc:80' }], { sidecar: 'none' }),
      namespace('app', { 'istio.io/dataplane-mode': 'ambient' }),
      deployment('app', 'web', { ports: [{ port: 8080 }] }),
      pod('app', 'web-7d9f8b6c5d-wwwww', { sidecar: 'none', owner: 'web', ports: [{ port: 8080 }] }),
      service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
      peerAuthentication('app', 'default', { mode: 'STRICT' }),
    ],
    namespace: 'app',
    expected: ['TM102 Service app/web:80'],
    explain: [
      { target: 'service/web:80', namespace: 'app', verdict: 'broken', codes: ['TM102'] },
      { target: 'https://web.example.com/', verdict: 'broken', codes: ['TM102'] },
    ],
  },
  {
    name: 'a healthy edge stays ok everywhere (a DestinationRule disables tls for the excluded port)',
    objects: [
      namespace('istio-system'),
      ...handWrittenTunnel([{ hostname: 'admin.example.com', service: 'http://sg.app.svc:9091' }]),
      ...excludedPortApp(),
      destinationRule('app', 'sg-admin-plaintext', { host: 'sg.app.svc.cluster.local', portLevel: [{ port: 9091, tls: 'DISABLE' }] }),
    ],
    namespace: 'app',
    expected: [],
    explain: [
      { target: 'service/sg:9091', namespace: 'app', verdict: 'ok', codes: [] },
      { target: 'https://admin.example.com/', verdict: 'ok', codes: [] },
    ],
  },
];

type Json = { findings: Array<{ code: string; severity: string; resource: { kind: string; namespace?: string; name: string }; port: number | null }> };

function keys(doc: Json): string[] {
  return doc.findings
    .filter((f) => f.severity !== 'info')
    .map((f) => `${f.code} ${f.resource.kind} ${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.name}${f.port !== null ? `:${f.port}` : ''}`)
    .sort();
}

function parse(run: { code: number | null; stdout: string; stderr: string }, what: string): any {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`${what}: not JSON (exit ${run.code})\n${run.stdout}\n${run.stderr}`);
  }
}

for (const s of SCENARIOS) {
  describe(`agreement: ${s.name}`, () => {
    let server: ApiServer;
    let file: string;
    let kubeconfig: string;
    before(async () => {
      file = join(tmp(), `${s.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, toYaml(s.objects as Obj[]));
      server = await startApiServer({ objects: s.objects as KObject[] });
      kubeconfig = writeKubeconfig(server);
    });
    after(() => server.close());

    const where = {
      'doctor -f': () => ['-f', file],
      'doctor -f -n NS': () => ['-f', file, '-n', s.namespace],
      'live doctor -A': () => ['--kubeconfig', kubeconfig, '-A'],
      'live doctor -n NS': () => ['--kubeconfig', kubeconfig, '-n', s.namespace],
    };

    for (const [label, args] of Object.entries(where)) {
      test(`${label}: ${s.expected.join(', ') || 'no error or warning'}`, async () => {
        const run = await runInProcess(['doctor', '-o', 'json', ...args()]);
        const doc = parse(run, label);
        assert.deepEqual(keys(doc), [...s.expected].sort(), run.stderr);
        assert.equal(run.code, s.expected.some((k) => doc.findings.find((f: Json['findings'][number]) => k.startsWith(f.code) && f.severity === 'error')) ? 1 : 0, run.stderr);
        assert.equal(doc.summary.edges.notJudged, 0, `every edge judged:\n${doc.notes.join('\n')}`);
      });
    }

    for (const e of s.explain) {
      const explainWhere = {
        offline: () => ['-f', file, ...(e.namespace ? ['-n', e.namespace] : [])],
        live: () => ['--kubeconfig', kubeconfig, ...(e.namespace ? ['-n', e.namespace] : [])],
      };
      for (const [label, args] of Object.entries(explainWhere)) {
        test(`explain-protocol ${e.target} (${label}): ${e.verdict} ${e.codes.join(', ')}`, async () => {
          const run = await runInProcess(['explain-protocol', e.target, '-o', 'json', ...args()]);
          const doc = parse(run, `explain ${e.target}`);
          assert.ok(doc.backends.length > 0, run.stderr);
          const served = doc.backends.filter((b: { tunnelRule: unknown }) => b.tunnelRule !== null);
          assert.ok(served.length > 0, `a tunnel rule serves ${e.target}: ${JSON.stringify(doc.backends.map((b: { missing: unknown }) => b.missing))}`);
          for (const b of served) {
            assert.equal(b.verdict, e.verdict, `${e.target}: ${JSON.stringify({ missing: b.missing, codes: b.codes })}`);
            assert.deepEqual(b.codes.filter((c: string) => !c.startsWith('TM2') && !c.startsWith('TM3')), e.codes);
          }
          // An Ingress backs the backend: the operator chain is shown, live and offline alike.
          if (e.target.startsWith('ingress/')) for (const b of doc.backends) assert.notEqual(b.protocol, null, 'the operator chain is shown');
          assert.equal(run.code, e.verdict === 'broken' ? 1 : 0, run.stderr);
        });
      }
    }
  });
}

test('the demo is judged the same from its directory and from one file of its objects', async () => {
  const a = parse(await runInProcess(['doctor', '-o', 'json', '-f', DEMO_DIR]), 'dir');
  const file = join(tmp(), 'demo.yaml');
  writeFileSync(file, toYaml(demoObjects() as unknown as Obj[]));
  const b = parse(await runInProcess(['doctor', '-o', 'json', '-f', file]), 'file');
  assert.deepEqual(keys(a), keys(b));
  assert.deepEqual(a.summary, b.summary);
});
