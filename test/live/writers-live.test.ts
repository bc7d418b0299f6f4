// TunnelBindings, the operator's HTTPRoutes, Istio's Gateway API and Sidecar resources judged live
// (client-node → loopback API server → Snapshot) and offline (the same objects as manifests):
// the same findings and the same fixes, with and without -n.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectLive } from '../../src/collect/live.js';
import { formatRef, type KObject } from '../../src/core/k8s.js';
import { GATEWAY_API_GATEWAY } from '../../src/core/kinds.js';
import { MeshModel } from '../../src/model/model.js';
import { RULES } from '../../src/rules/index.js';
import { runRules } from '../../src/rules/run.js';
import type { Finding } from '../../src/rules/types.js';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import {
  apiGateway,
  cloudflaredConfigMap,
  deployment,
  httpRoute,
  namespace,
  operatorGatewayClass,
  operatorTunnel,
  pod,
  service,
  sidecarResource,
  tunnelBinding,
  TUNNEL_ID,
  type Obj,
} from '../support/build.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { snapshotOf } from '../support/rule-tester.js';

const OP = 'cloudflare-operator-system';
const CF_LABELS = { 'cloudflare-operator.io/app': 'cloudflared', 'cloudflare-operator.io/id': TUNNEL_ID, 'cloudflare-operator.io/tunnel': 'main-tunnel' };
const rules = (...codes: string[]) => RULES.filter((r) => codes.includes(r.meta.code));
const key = (f: Finding): string => `${f.code} ${f.severity} ${formatRef(f.resource)}${f.port !== undefined ? `:${f.port}` : ''}`;

/** The operator's config.json with one source, as it writes it in the operator namespace. */
function operatorConfig(source: { kind: string; namespace: string; name: string }, rulesJson: Array<Record<string, unknown>>): Obj {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `tunnel-config-${TUNNEL_ID}`, namespace: OP, labels: { 'cloudflare-operator.io/type': 'tunnel-config', 'cloudflare-operator.io/tunnel-id': TUNNEL_ID } },
    data: { 'config.json': JSON.stringify({ tunnelId: TUNNEL_ID, tunnelName: 'main-tunnel', sources: { [`${source.kind}/${source.namespace}/${source.name}`]: { ...source, rules: rulesJson } }, syncStatus: 'Synced' }) },
  };
}

/** The operator's cloudflared (running pods: live judges pods) and the app `web` in app. */
function operatorTunnelAndApp(ports: Array<{ name?: string; port: number }>): Obj[] {
  return [
    namespace(OP),
    operatorTunnel('ClusterTunnel', 'main-tunnel', { domain: 'example.com', tunnelId: TUNNEL_ID }),
    pod(OP, 'main-tunnel-a', { owner: 'main-tunnel', sidecar: 'none', labels: CF_LABELS, image: 'cloudflare/cloudflared:2025.11.1' }),
    namespace('app', { 'istio-injection': 'enabled' }),
    deployment('app', 'web', { ports: ports.map((p) => ({ port: p.port })) }),
    pod('app', 'web-1', { owner: 'web', ports: ports.map((p) => ({ port: p.port })) }),
    service('app', 'web', ports),
  ];
}

/** A TunnelBinding whose subject's port is TLS on 8443: the operator writes http:// (only 443 is https). */
const BINDING: Obj[] = [
  ...operatorTunnelAndApp([{ name: 'https', port: 8443 }]),
  tunnelBinding('app', 'web', [{ name: 'web', fqdn: 'web.example.com' }]),
  operatorConfig({ kind: 'TunnelBinding', namespace: 'app', name: 'web' }, [{ hostname: 'web.example.com', service: 'http://web.app.svc:8443', originRequest: { proxyAddress: '127.0.0.1' }, priority: 50 }]),
];

/** An HTTPRoute of the operator's Gateway whose backend Service does not exist. */
const OPERATOR_ROUTE: Obj[] = [
  ...operatorTunnelAndApp([{ name: 'http', port: 80 }]),
  ...operatorGatewayClass(),
  namespace('edge'),
  apiGateway('edge', 'public', 'cloudflare-tunnel'),
  httpRoute('app', 'web', { parents: [{ name: 'public', namespace: 'edge' }], hostnames: ['web.example.com'], rules: [{ backends: [{ name: 'wbe', port: 80 }] }] }),
  operatorConfig({ kind: 'HTTPRoute', namespace: OP, name: 'cloudflare-gateway-config' }, [{ hostname: 'web.example.com', service: 'http://wbe.app.svc:80', originRequest: {}, priority: 100 }]),
];

/** Istio's Gateway API: Gateway gw/public of class istio with what istiod generated for it, an HTTPRoute to a port the app's sidecar does not capture. */
const ISTIO_GATEWAY_API: Obj[] = [
  namespace('gw'),
  apiGateway('gw', 'public', 'istio'),
  { ...service('gw', 'public-istio', [{ name: 'status-port', port: 15021 }, { name: 'http', port: 80, appProtocol: 'http' }], { selector: { 'gateway.networking.k8s.io/gateway-name': 'public' } }) },
  pod('gw', 'public-istio-5d8f9c7b6-abcde', { sidecar: 'gateway', owner: 'public-istio', labels: { 'gateway.networking.k8s.io/gateway-name': 'public', 'service.istio.io/canonical-name': 'public-istio' } }),
  namespace('app', { 'istio-injection': 'enabled' }),
  deployment('app', 'admin', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, ports: [{ name: 'admin', port: 9091 }] }),
  pod('app', 'admin-1', { owner: 'admin', initExclude: '9091', ports: [{ name: 'admin', port: 9091 }] }),
  service('app', 'admin', [{ name: 'http-admin', port: 9091 }]),
  httpRoute('app', 'admin', { parents: [{ name: 'public', namespace: 'gw' }], hostnames: ['admin.example.com'], rules: [{ backends: [{ name: 'admin', port: 9091 }] }] }),
];

/** The operator's cloudflared with a sidecar in its namespace, the mesh-default Sidecar in istio-system importing `./*` only. */
const ROOT_SIDECAR: Obj[] = [
  namespace('istio-system'),
  sidecarResource('istio-system', 'default', { hosts: ['./*'], mode: 'REGISTRY_ONLY' }),
  ...operatorTunnelAndApp([{ name: 'http', port: 8080 }]).map((o) =>
    o.kind === 'Pod' && o.metadata.name === 'main-tunnel-a' ? pod(OP, 'main-tunnel-a', { owner: 'main-tunnel', labels: CF_LABELS, image: 'cloudflare/cloudflared:2025.11.1' }) : o,
  ),
  operatorConfig({ kind: 'Ingress', namespace: OP, name: 'cloudflare-tunnel-config' }, [{ hostname: 'web.example.com', service: 'http://web.app.svc:8080', priority: 100 }]),
];

/** A meshed hand-written cloudflared whose namespace's Sidecar imports only its own namespace, REGISTRY_ONLY; the mesh default in istio-system. */
function sidecarCase(): Obj[] {
  return [
    namespace('istio-system'),
    namespace('cf', { 'istio-injection': 'enabled' }),
    cloudflaredConfigMap('cf', 'cloudflared', [{ hostname: 'web.example.com', service: 'http://web.app.svc:8080' }, { service: 'http_status:404' }]),
    deployment('cf', 'cloudflared', { image: 'cloudflare/cloudflared:2025.11.1', args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'], volumes: [{ name: 'config', configMap: { name: 'cloudflared' } }] }),
    pod('cf', 'cloudflared-1', { owner: 'cloudflared', image: 'cloudflare/cloudflared:2025.11.1', args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'], volumes: [{ name: 'config', configMap: { name: 'cloudflared' } }] }),
    sidecarResource('cf', 'default', { hosts: ['./*'], mode: 'REGISTRY_ONLY' }),
    namespace('app', { 'istio-injection': 'enabled' }),
    deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }] }),
    pod('app', 'web-1', { owner: 'web', ports: [{ name: 'http', port: 8080 }] }),
    service('app', 'web', [{ name: 'http', port: 8080 }]),
  ];
}

interface Scenario {
  name: string;
  objects: Obj[];
  rules: typeof RULES;
  namespace?: string;
  expected: string[];
  /** The recommended fix's title of each finding (live and offline alike). */
  fixTitles?: RegExp[];
  liveFacts?: (model: MeshModel) => void;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'a TunnelBinding rule in the operator\'s config: the scheme is judged, the fix edits the TunnelBinding',
    objects: BINDING,
    rules: rules('TM301', 'TM303'),
    expected: ['TM301 error Service app/web:8443'],
    fixTitles: [/^Set protocol https in TunnelBinding app\/web subjects\[0\] \(web\)/],
    liveFacts: (model) => assert.equal(model.operator.written[0]?.rule?.source?.kind, 'TunnelBinding', 'the real rule is linked to the subject'),
  },
  {
    name: '-n app: the TunnelBinding, and its config and connectors in the operator namespace as evidence',
    objects: BINDING,
    rules: rules('TM301', 'TM303'),
    namespace: 'app',
    expected: ['TM301 error Service app/web:8443'],
    fixTitles: [/^Set protocol https in TunnelBinding app\/web/],
  },
  {
    name: "an HTTPRoute of the operator's Gateway to a Service that does not exist: reported on the HTTPRoute",
    objects: OPERATOR_ROUTE,
    rules: rules('TM305', 'TM303'),
    expected: ['TM305 error HTTPRoute app/web:80'],
    fixTitles: [/^Point HTTPRoute app\/web rules\[0\]\.backendRefs\[0\] \(wbe:80\) at Service app\/web port 80/],
  },
  {
    name: "Istio's Gateway API: the gateway's proxy sends auto mTLS to an uncaptured port (TM101)",
    objects: ISTIO_GATEWAY_API,
    rules: rules('TM101', 'TM104'),
    expected: ['TM101 error Service app/admin:9091'],
    liveFacts: (model) => assert.equal(model.routeEdges[0]?.clients[0]?.group.context.pod?.name, 'public-istio-5d8f9c7b6-abcde'),
  },
  {
    name: "-n app: the Gateway the HTTPRoute attaches to in gw, its pods and Service are collected as evidence",
    objects: ISTIO_GATEWAY_API,
    rules: rules('TM101', 'TM104'),
    namespace: 'app',
    expected: ['TM101 error Service app/admin:9091'],
    liveFacts: (model) => {
      assert.equal(model.covers(GATEWAY_API_GATEWAY, 'gw'), true);
      assert.equal(model.routeEdges[0]?.clients[0]?.group.context.pod?.name, 'public-istio-5d8f9c7b6-abcde');
    },
  },
  {
    name: "a namespace Sidecar hides the Service, REGISTRY_ONLY: BlackHoleCluster (TM406), the fix imports it",
    objects: sidecarCase(),
    rules: rules('TM406', 'TM102'),
    expected: ['TM406 error Service app/web:8080'],
    fixTitles: [/^Import app\/web\.app\.svc\.cluster\.local in Sidecar cf\/default/],
  },
  {
    name: "-n app: the operator's meshed cloudflared (found by label) under the mesh-default Sidecar of the root namespace, both collected",
    objects: ROOT_SIDECAR,
    rules: rules('TM406', 'TM102'),
    namespace: 'app',
    expected: ['TM406 error Service app/web:8080'],
    fixTitles: [/^Import app\/web\.app\.svc\.cluster\.local in Sidecar istio-system\/default/],
    liveFacts: (model) => assert.equal(model.covers('Sidecar', 'istio-system'), true),
  },
];

async function live(server: ApiServer, namespace?: string): Promise<MeshModel> {
  const kubeconfig = writeKubeconfig(server);
  const { snapshot } = await collectLive({ kubeconfig, allNamespaces: namespace === undefined, ...(namespace ? { namespace } : {}), requestTimeoutMs: 5000 });
  return new MeshModel(snapshot);
}

describe('TunnelBindings, HTTPRoutes, Istio Gateway API and Sidecars: live and offline agree', () => {
  for (const s of SCENARIOS) {
    describe(s.name, () => {
      let server: ApiServer;
      before(async () => {
        server = await startApiServer({ objects: s.objects as unknown as KObject[] });
      });
      after(async () => {
        await server.close();
      });
      const check = (found: Finding[]) => {
        assert.deepEqual(found.map(key), s.expected);
        s.fixTitles?.forEach((t, i) => assert.match(found[i]?.fixes[0]?.title ?? '', t));
      };
      it('offline finds exactly the expected findings and fixes', () => {
        check(runRules(new MeshModel(snapshotOf(s.objects, s.namespace)), { rules: s.rules, ...(s.namespace ? { namespace: s.namespace } : {}) }));
      });
      it('live (through client-node and the API) finds the same', async () => {
        const model = await live(server, s.namespace);
        assert.equal(model.snapshot.mode, 'live');
        check(runRules(model, { rules: s.rules, ...(s.namespace ? { namespace: s.namespace } : {}) }));
        s.liveFacts?.(model);
      });
    });
  }
});

describe('Sidecar resources that could not be listed', () => {
  let server: ApiServer;
  before(async () => {
    server = await startApiServer({ objects: sidecarCase() as unknown as KObject[], forbidden: [{ kind: 'Sidecar' }] });
  });
  after(async () => {
    await server.close();
  });
  it('leave what a meshed client sends unknown: the edge is not judged, never reported healthy', async () => {
    const model = await live(server);
    const endpoints = model.tunnelEdges.flatMap((e) => e.clients.flatMap((c) => c.endpoints));
    assert.ok(endpoints.length > 0);
    for (const ep of endpoints) {
      assert.equal(ep.outcome, 'unknown');
      assert.match(ep.why, /Sidecar resources could not be listed in cf \(forbidden\)/);
    }
    assert.deepEqual(runRules(model, { rules: rules('TM406', 'TM102', 'TM101') }).map(key), []);
    assert.deepEqual(model.snapshot.incomplete.map((e) => `${e.kind} ${e.reason}`), ['Sidecar forbidden']);
  });
});
