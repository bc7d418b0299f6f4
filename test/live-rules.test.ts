// The hygiene rules judged live (client-node → loopback API server → Snapshot) and offline
// (the same objects as manifests) must give the same findings: one scenario per rule family,
// plus a -n run where some kinds are only listed in the namespace in scope.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectLive } from '../src/collect/live.js';
import type { KObject } from '../src/core/k8s.js';
import { formatRef } from '../src/core/k8s.js';
import { MeshModel } from '../src/model/model.js';
import { RULES } from '../src/rules/index.js';
import { judge, type Judgement } from '../src/rules/judge.js';
import { runRules } from '../src/rules/run.js';
import type { Finding } from '../src/rules/types.js';
import { startApiServer, type ApiServer } from './support/apiserver.js';
import {
  cloudflaredConfigMap,
  deployment,
  destinationRule,
  istioGateway,
  namespace,
  operatorCloudflared,
  operatorTunnelConfig,
  peerAuthentication,
  pod,
  service,
  virtualService,
  type Obj,
} from './support/build.js';
import { writeKubeconfig } from './support/kubeconfig.js';
import { snapshotOf } from './support/rule-tester.js';

const OP = 'cloudflare-operator-system';
const CF_LABELS = { 'cloudflare-operator.io/app': 'cloudflared', 'cloudflare-operator.io/id': '6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f', app: 'main-tunnel' };
const EXCL_IN = 'traffic.sidecar.istio.io/excludeInboundPorts';

const rules = (...codes: string[]) => RULES.filter((r) => codes.includes(r.meta.code));

const key = (f: Finding): string => `${f.code} ${f.severity} ${formatRef(f.resource)}${f.port !== undefined ? `:${f.port}` : ''}`;

/** TM1xx hygiene: PeerAuthentication validity and port keys, capture annotation values. */
const TM1: Obj[] = [
  namespace('app', { 'istio-injection': 'enabled' }),
  deployment('app', 'gw', { annotations: { [EXCL_IN]: '9091-9092' }, ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
  pod('app', 'gw-1', { owner: 'gw', ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
  service('app', 'gw', [{ name: 'http', port: 8080 }, { name: 'http-admin', port: 80, targetPort: 9091 }]),
  peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 80: 'DISABLE' } }),
  peerAuthentication('istio-system', 'gw-root', { selector: { app: 'gw' }, mode: 'STRICT' }),
  destinationRule('app', 'gw', { host: 'gw.app.svc.cluster.local', portLevel: [{ port: 9091, tls: 'DISABLE' }] }),
];

/** TM2xx: a racing cloudflared, a half-injected rollout, a reserved port, an ambient conflict. */
const TM2: Obj[] = [
  namespace(OP, { 'istio-injection': 'enabled' }),
  operatorTunnelConfig([{ hostname: 'web.example.com', service: 'http://web.app.svc:80' }]),
  operatorCloudflared(),
  pod(OP, 'main-tunnel-a', { owner: 'main-tunnel', labels: CF_LABELS, image: 'cloudflare/cloudflared:2025.11.1' }),
  namespace('app', { 'istio-injection': 'enabled' }),
  deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }] }),
  pod('app', 'web-new', { owner: 'web', ports: [{ name: 'http', port: 8080 }] }),
  pod('app', 'web-old', { owner: 'web', sidecar: 'none', ports: [{ name: 'http', port: 8080 }] }),
  service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
  deployment('app', 'metrics', { ports: [{ port: 15020 }] }),
  pod('app', 'metrics-1', { owner: 'metrics', ports: [{ port: 15020 }] }),
  service('app', 'metrics', [{ name: 'http', port: 80, targetPort: 15020 }]),
  namespace('mixed', { 'istio-injection': 'enabled', 'istio.io/dataplane-mode': 'ambient' }),
];

/** TM4xx: references and duplicates. */
const TM4: Obj[] = [
  namespace('app'),
  deployment('app', 'reviews', { labels: { app: 'reviews', version: 'v1' } }),
  pod('app', 'reviews-1', { owner: 'reviews', labels: { app: 'reviews', version: 'v1' } }),
  service('app', 'reviews', [{ name: 'http', port: 9080 }]),
  destinationRule('app', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v9', labels: { version: 'v9' } }], created: '2024-01-01T00:00:00Z' }),
  destinationRule('app', 'reviews-tls', { host: 'reviews.app.svc.cluster.local', tls: 'ISTIO_MUTUAL', created: '2024-02-01T00:00:00Z' }),
  destinationRule('app', 'ghost', { host: 'ghost.app.svc.cluster.local' }),
  {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'app' },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] },
  },
  peerAuthentication('app', 'strict', { mode: 'STRICT', created: '2024-01-01T00:00:00Z' }),
  peerAuthentication('app', 'permissive', { mode: 'PERMISSIVE', created: '2024-03-01T00:00:00Z' }),
  peerAuthentication('app', 'nobody', { selector: { app: 'nobody' }, mode: 'STRICT' }),
];

/** -n app: Services of `other` are not listed live; a rule naming one must not become "unknown host". */
const SCOPED: Obj[] = [
  namespace('app', { 'istio-injection': 'enabled' }),
  namespace('other'),
  deployment('app', 'worker', { ports: [{ port: 9000 }] }),
  pod('app', 'worker-1', { owner: 'worker', ports: [{ port: 9000 }] }),
  service('other', 'db', [{ name: 'tcp', port: 5432 }]),
  destinationRule('app', 'db', { host: 'db.other.svc.cluster.local', tls: 'DISABLE' }),
  deployment('other', 'db', { ports: [{ port: 5432 }] }),
];

/** An ingress gateway routed by a VirtualService to a port its target keeps out of the sidecar. */
const GATEWAY: Obj[] = [
  namespace('istio-system'),
  pod('istio-system', 'istio-ingressgateway-1', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } }),
  namespace('app', { 'istio-injection': 'enabled' }),
  istioGateway('app', 'public'),
  virtualService('app', 'admin', { gateways: ['public'], host: 'gw', port: 9091 }),
  deployment('app', 'gw', { annotations: { [EXCL_IN]: '9091' }, ports: [{ name: 'admin', port: 9091 }] }),
  pod('app', 'gw-1', { owner: 'gw', initExclude: '9091', ports: [{ name: 'admin', port: 9091 }] }),
  service('app', 'gw', [{ name: 'http-admin', port: 9091 }]),
];

/** The same, with a shared Gateway in istio-system that the app's VirtualService names as `istio-system/public`. */
const SHARED_GATEWAY: Obj[] = GATEWAY.map((o) =>
  o.kind === 'Gateway' ? istioGateway('istio-system', 'public') : o.kind === 'VirtualService' ? virtualService('app', 'admin', { gateways: ['istio-system/public'], host: 'gw', port: 9091 }) : o,
);

/** Issue 12, Istio: the endpoints' tlsMode stage, a mixed headless Service, a tlsMode label without a sidecar. */
const HOLD = { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' };
const ISTIO_FIDELITY: Obj[] = [
  namespace(OP, { 'istio-injection': 'enabled' }),
  operatorTunnelConfig([
    { hostname: 'admin.example.com', service: 'http://gw.app.svc:9091' },
    { hostname: 'www.example.com', service: 'http://web.app.svc:80' },
    { hostname: 'hl.example.com', service: 'http://hl.app.svc:8080' },
    { hostname: 'lbl.example.com', service: 'http://lbl.app.svc:80' },
  ]),
  pod(OP, 'main-tunnel-a', { owner: 'main-tunnel', labels: CF_LABELS, annotations: HOLD, image: 'cloudflare/cloudflared:2025.11.1' }),
  namespace('istio-system'),
  peerAuthentication('istio-system', 'default', { mode: 'STRICT' }),
  namespace('app', { 'istio-injection': 'enabled' }),
  // Top-level ISTIO_MUTUAL, an entry for 9091 without tls: the label is kept though the workload PA disables 9091 (excluded).
  pod('app', 'gw-1', { owner: 'gw', initExclude: '9091', annotations: { [EXCL_IN]: '9091' }, ports: [{ name: 'admin', port: 9091 }] }),
  service('app', 'gw', [{ name: 'http-admin', port: 9091 }]),
  destinationRule('app', 'gw', { host: 'gw.app.svc.cluster.local', tls: 'ISTIO_MUTUAL', portLevel: [{ port: 9091 }] }),
  peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9091: 'DISABLE' } }),
  // Top-level DISABLE, an entry for 80 without tls: every label stripped, plaintext to STRICT.
  pod('app', 'web-1', { owner: 'web', ports: [{ name: 'http', port: 8080 }] }),
  service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
  destinationRule('app', 'web', { host: 'web.app.svc.cluster.local', tls: 'DISABLE', portLevel: [{ port: 80 }] }),
  // A headless Service with one pod not yet injected: plaintext to all, the injected one resets it.
  pod('app', 'hl-new', { owner: 'hl', ports: [{ name: 'http', port: 8080 }], podIP: '10.244.0.21' }),
  pod('app', 'hl-old', { owner: 'hl', sidecar: 'none', ports: [{ name: 'http', port: 8080 }], podIP: '10.244.0.22' }),
  service('app', 'hl', [{ name: 'http', port: 8080 }], { clusterIP: 'None' }),
  // Labelled tlsMode istio without a sidecar: auto mTLS sends it Istio mTLS.
  pod('app', 'lbl-1', { owner: 'lbl', sidecar: 'none', labels: { app: 'lbl', 'security.istio.io/tlsMode': 'istio' }, ports: [{ name: 'http', port: 8080 }] }),
  service('app', 'lbl', [{ name: 'http', port: 80, targetPort: 8080 }]),
];

/** Issue 12, cloudflared: a config.yaml in JSON syntax with Go-refused and Go-accepted rules; a Unicode host and its xn-- twin. */
const CLOUDFLARED_FIDELITY: Obj[] = [
  namespace('edge'),
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cloudflared', namespace: 'edge' },
    data: {
      'config.yaml': JSON.stringify({
        tunnel: 'main',
        ingress: [
          { hostname: 'a.example.com', service: 'http://web app:80' },
          { hostname: 'ssh.example.com', originRequest: { bastionMode: true } },
          { hostname: 'b.example.com', path: '(?i)^/api', service: 'http://web.edge:80' },
          { hostname: 'socks.example.com', service: 'socks-proxy', originRequest: { ipRules: [{ prefix: '10.0.0.0/33', allow: true }] } },
          { service: 'http_status:404' },
        ],
      }),
    },
  },
  cloudflaredConfigMap('edge', 'cf-idn', [{ hostname: 'bücher.example.com', service: 'http://web.edge:80' }, { hostname: 'xn--bcher-kva.example.com', service: 'http://web.edge:80' }, { service: 'http_status:404' }]),
];

async function live(server: ApiServer, s: Pick<Scenario, 'namespace' | 'rules'>): Promise<Judgement> {
  const kubeconfig = writeKubeconfig(server);
  const { snapshot } = await collectLive({ kubeconfig, allNamespaces: s.namespace === undefined, ...(s.namespace ? { namespace: s.namespace } : {}), requestTimeoutMs: 5000 });
  return judge(snapshot, { rules: s.rules, ...(s.namespace ? { namespace: s.namespace } : {}) });
}

function offline(objects: Obj[], s: Pick<Scenario, 'namespace' | 'rules'>): Judgement {
  return judge(snapshotOf(objects, s.namespace), { rules: s.rules, ...(s.namespace ? { namespace: s.namespace } : {}) });
}

interface Scenario {
  name: string;
  objects: Obj[];
  rules: typeof RULES;
  namespace?: string;
  expected: string[];
  /** Extra facts about the live model. */
  liveFacts?: (model: MeshModel) => void;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'issue 12, Istio: the tlsMode stage of a DestinationRule, a mixed headless Service, a tlsMode label without a sidecar',
    objects: ISTIO_FIDELITY,
    rules: rules('TM101', 'TM102', 'TM103'),
    expected: ['TM101 error Service app/gw:9091', 'TM102 error Service app/hl:8080', 'TM102 error Service app/web:80', 'TM103 error Service app/lbl:80'],
  },
  {
    name: "issue 12, cloudflared: a JSON-syntax config.yaml, Go's URL parser and regexps, ipRules, bastionMode, punycode aliases",
    objects: CLOUDFLARED_FIDELITY,
    rules: rules('TM306', 'TM309'),
    expected: ['TM306 error ConfigMap edge/cloudflared', 'TM309 warning ConfigMap edge/cf-idn'],
    liveFacts: (model) => {
      const findings = runRules(model, { rules: rules('TM306') });
      const message = findings[0]?.message ?? '';
      assert.match(message, /parse "http:\/\/web app:80": invalid character " " in host name/);
      assert.match(message, /unable to parse cidr: 10\.0\.0\.0\/33/);
      assert.doesNotMatch(message, /Rule #2|regex/, 'the bastion rule and the (?i) path are valid');
    },
  },
  {
    name: 'gateway routes: the ingress gateway sends auto mTLS to an excluded port (TM101, not TM104)',
    objects: GATEWAY,
    rules: rules('TM101', 'TM104'),
    expected: ['TM101 error Service app/gw:9091'],
    liveFacts: (model) => assert.equal(model.routeEdges[0]?.clients[0]?.group.context.pod?.name, 'istio-ingressgateway-1'),
  },
  {
    name: '-n app: the gateway pods in istio-system are not listed; the Gateway still makes its proxy a client',
    objects: GATEWAY,
    rules: rules('TM101', 'TM104'),
    namespace: 'app',
    expected: ['TM101 error Service app/gw:9091'],
    liveFacts: (model) => assert.match(model.routeEdges[0]?.clientEvidence ?? '', /proxy pods are not among the pods collected/),
  },
  {
    name: '-n app with a shared Gateway in istio-system: its Gateway and proxy pods are collected as evidence',
    objects: SHARED_GATEWAY,
    rules: rules('TM101', 'TM104'),
    namespace: 'app',
    expected: ['TM101 error Service app/gw:9091'],
    liveFacts: (model) => {
      assert.equal(model.routeEdges[0]?.clients[0]?.group.context.pod?.name, 'istio-ingressgateway-1');
      assert.equal(model.covers('Gateway', 'istio-system'), true);
    },
  },
  {
    name: 'TM1xx: invalid and mismatched port-level settings, a rejected capture annotation',
    objects: TM1,
    rules: rules('TM106', 'TM107', 'TM108'),
    expected: ['TM106 error PeerAuthentication istio-system/gw-root', 'TM107 error PeerAuthentication app/gw:80', 'TM107 error DestinationRule app/gw:9091', 'TM108 error Deployment app/gw'],
  },
  {
    name: 'TM2xx: startup race, late injection, mixed backends, reserved port, ambient conflict',
    objects: TM2,
    rules: rules('TM202', 'TM203', 'TM204', 'TM205', 'TM206', 'TM207', 'TM208', 'TM209'),
    expected: [
      'TM205 error Deployment app/metrics:15020',
      'TM202 warning Deployment cloudflare-operator-system/main-tunnel',
      'TM203 warning Deployment app/web',
      'TM204 warning Service app/web',
      'TM209 warning Namespace mixed',
    ],
  },
  {
    name: 'TM4xx: unknown host, undefined subset, merged rules, duplicate policies, empty selectors',
    objects: TM4,
    rules: rules('TM401', 'TM402', 'TM403', 'TM404', 'TM405'),
    expected: [
      'TM402 error VirtualService app/reviews',
      'TM401 warning DestinationRule app/ghost',
      'TM403 warning DestinationRule app/reviews-tls',
      'TM404 warning PeerAuthentication app/permissive',
      'TM405 info PeerAuthentication app/nobody',
      'TM405 info DestinationRule app/reviews',
    ],
  },
  {
    name: '-n app: a rule naming a Service in a namespace not listed live stays unjudged, a Service-less pod in scope is reported',
    objects: SCOPED,
    rules: rules('TM207', 'TM401'),
    namespace: 'app',
    expected: ['TM207 info Deployment app/worker'],
    liveFacts: (model) => {
      // The reason TM401 is silent live: Services were listed in app only, so db.other is unknown, not missing.
      assert.equal(model.service('other', 'db'), undefined);
      assert.equal(model.covers('Service', 'other'), false);
      assert.equal(model.covers('Service', 'app'), true);
    },
  },
];

describe('hygiene rules live and offline agree', () => {
  for (const s of SCENARIOS) {
    describe(s.name, () => {
      let server: ApiServer;
      before(async () => {
        server = await startApiServer({ objects: s.objects as unknown as KObject[] });
      });
      after(async () => {
        await server.close();
      });
      it('offline finds exactly the expected findings', () => {
        const found = offline(s.objects, s).findings;
        assert.deepEqual(found.map(key), s.expected);
      });
      it('live (through client-node and the API) finds the same', async () => {
        const { model, findings: found } = await live(server, s);
        assert.equal(model.snapshot.mode, 'live');
        assert.deepEqual(found.map(key), s.expected);
        s.liveFacts?.(model);
        // Evidence and fixes are built from the same model facts either way.
        for (const f of found) assert.ok(f.fixes.length > 0 || ['TM405', 'TM401', 'TM207'].includes(f.code), `${key(f)} has no fix`);
      });
    });
  }
});
