// Istio's Gateway API (a Gateway of class istio, the Deployment and Service istiod generates for
// it, its proxies the clients of its HTTPRoutes' backends), Istio Sidecar resources deciding what
// a client's proxy sees, and the operator's Gateways that overwrite one source (TM311).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshModel } from '../../src/model/model.js';
import { tm101 } from '../../src/rules/catalog/tm101-mtls-to-uncaptured-port.js';
import { tm102 } from '../../src/rules/catalog/tm102-plaintext-to-strict.js';
import { tm311 } from '../../src/rules/catalog/tm311-gateway-rules-overwritten.js';
import { tm406 } from '../../src/rules/catalog/tm406-service-hidden-by-sidecar.js';
import {
  apiGateway,
  cloudflaredConfigMap,
  cloudflaredDeployment,
  deployment,
  destinationRule,
  httpRoute,
  namespace,
  operatorGatewayClass,
  peerAuthentication,
  service,
  sidecarResource,
  type Obj,
} from '../support/build.js';
import { snapshotOf, testRule } from '../support/rule-tester.js';

const EXCL_IN = 'traffic.sidecar.istio.io/excludeInboundPorts';

/** An app whose port 9091 the sidecar does not capture, behind an HTTPRoute of an Istio Gateway `public` in gw. */
function istioGatewayApp(o: { routeNamespace?: string; from?: 'All' | 'Same'; extra?: Obj[] } = {}): Obj[] {
  const gw = apiGateway('gw', 'public', 'istio');
  if (o.from === 'Same') (gw.spec as { listeners: Array<{ allowedRoutes?: unknown }> }).listeners[0]!.allowedRoutes = { namespaces: { from: 'Same' } };
  return [
    namespace('gw'),
    gw,
    namespace('app', { 'istio-injection': 'enabled' }),
    deployment('app', 'admin', { annotations: { [EXCL_IN]: '9091' }, ports: [{ name: 'admin', port: 9091 }] }),
    service('app', 'admin', [{ name: 'http-admin', port: 9091 }]),
    httpRoute(o.routeNamespace ?? 'app', 'admin', { parents: [{ name: 'public', namespace: 'gw' }], hostnames: ['admin.example.com'], rules: [{ backends: [{ name: 'admin', port: 9091, ...(o.routeNamespace && o.routeNamespace !== 'app' ? { namespace: 'app' } : {}) }] }] }),
    ...(o.extra ?? []),
  ];
}

describe("Istio's Gateway API: the gateway's proxy is the client of its HTTPRoutes' backends", () => {
  testRule(tm101, {
    valid: [
      { name: 'a DestinationRule in the gateway\'s namespace disables tls for the port (looked up from there first)', objects: istioGatewayApp({ extra: [destinationRule('gw', 'admin', { host: 'admin.app.svc.cluster.local', portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }) },
      { name: 'the listener admits routes of its own namespace only: the route is not attached', objects: istioGatewayApp({ from: 'Same' }) },
      { name: 'a Gateway of another class: Istio deploys nothing for it', objects: istioGatewayApp().map((o) => (o.kind === 'Gateway' ? apiGateway('gw', 'public', 'nginx') : o)) },
    ],
    invalid: [
      {
        name: 'the predicted gateway proxy (Deployment gw/public-istio) sends auto mTLS to an uncaptured port',
        objects: istioGatewayApp(),
        findings: [
          {
            resource: 'Service app/admin',
            port: 9091,
            message: ['istio gateway Deployment gw/public-istio', 'does not capture target port 9091'],
            evidence: ['HTTPRoute app/admin rules[0].backendRefs[0] through Gateway gw/public', 'istiod deploys Deployment and Service gw/public-istio for it (class istio)'],
          },
        ],
      },
    ],
  });

  it('a tunnel rule to the generated Service continues through the HTTPRoute (explain follows it), and is not a missing backend', async () => {
    const objects = [
      ...istioGatewayApp(),
      namespace('edge'),
      cloudflaredConfigMap('edge', 'cloudflared', [{ hostname: 'admin.example.com', service: 'http://public-istio.gw.svc:80' }, { service: 'http_status:404' }]),
      cloudflaredDeployment('edge', 'cloudflared', 'cloudflared'),
    ];
    const model = new MeshModel(snapshotOf(objects));
    const { allBackends } = await import('../../src/model/backends.js');
    const view = allBackends(model).find((v) => v.rule?.hostname === 'admin.example.com');
    assert.equal(view?.edge?.service.name, 'public-istio', 'the generated Service (predicted: not in the input)');
    assert.deepEqual(view?.onward?.map((r) => `${r.route.kind} ${r.route.metadata.name} ${r.service.name}:${r.servicePort.port}`), ['HTTPRoute admin admin:9091']);
    const { runRules } = await import('../../src/rules/run.js');
    assert.deepEqual(runRules(model).filter((f) => f.code === 'TM305').map((f) => f.message), []);
  });
});

/** A meshed cloudflared in cf with a Sidecar resource, to a STRICT app. */
function sidecarCase(sidecars: Obj[], o: { strict?: boolean } = {}): Obj[] {
  return [
    namespace('cf', { 'istio-injection': 'enabled' }),
    cloudflaredConfigMap('cf', 'cloudflared', [{ hostname: 'web.example.com', service: 'http://web.app.svc:8080' }, { service: 'http_status:404' }]),
    cloudflaredDeployment('cf', 'cloudflared', 'cloudflared'),
    namespace('app', { 'istio-injection': 'enabled' }),
    deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }] }),
    service('app', 'web', [{ name: 'http', port: 8080 }]),
    ...(o.strict === false ? [] : [peerAuthentication('app', 'strict', { mode: 'STRICT' })]),
    namespace('istio-system'),
    ...sidecars,
  ];
}

describe('Sidecar resources decide what a client sees', () => {
  testRule(tm406, {
    valid: [
      { name: 'egress imports the Service\'s namespace', objects: sidecarCase([sidecarResource('cf', 'default', { hosts: ['./*', 'app/*'], mode: 'REGISTRY_ONLY' })]) },
      { name: '*/* imports everything', objects: sidecarCase([sidecarResource('cf', 'default', { hosts: ['*/*'], mode: 'REGISTRY_ONLY' })]) },
      { name: 'a host pattern under the cluster domain', objects: sidecarCase([sidecarResource('cf', 'default', { hosts: ['*/*.app.svc.cluster.local'], mode: 'REGISTRY_ONLY' })]) },
      { name: 'a Sidecar selecting other workloads does not apply', objects: sidecarCase([sidecarResource('cf', 'narrow', { hosts: ['./*'], mode: 'REGISTRY_ONLY', selector: { app: 'other' } })]) },
      { name: 'ALLOW_ANY passes it through (TM102 judges what arrives)', objects: sidecarCase([sidecarResource('cf', 'default', { hosts: ['./*'], mode: 'ALLOW_ANY' })]) },
      {
        name: 'the namespace default wins over the root (mesh) default',
        objects: sidecarCase([sidecarResource('cf', 'default', { hosts: ['*/*'] }), sidecarResource('istio-system', 'default', { hosts: ['./*'], mode: 'REGISTRY_ONLY' })]),
      },
    ],
    invalid: [
      {
        name: "the namespace's Sidecar imports only ./* and REGISTRY_ONLY: BlackHoleCluster; the fix imports the Service",
        objects: sidecarCase([sidecarResource('cf', 'default', { hosts: ['./*', 'istio-system/*'], mode: 'REGISTRY_ONLY' })]),
        findings: [
          {
            resource: 'Service app/web',
            port: 8080,
            message: ['Sidecar cf/default does not import', 'BlackHoleCluster'],
            evidence: ['Sidecar cf/default is the default of namespace cf', 'do not import app/web.app.svc.cluster.local port 8080'],
            fixes: [{ title: /^Import app\/web\.app\.svc\.cluster\.local in Sidecar cf\/default/, yaml: ['- app/web.app.svc.cluster.local'] }],
          },
        ],
      },
      {
        name: 'the root namespace Sidecar is the mesh default; ./* there means the client\'s own namespace',
        objects: sidecarCase([sidecarResource('istio-system', 'default', { hosts: ['./*'], mode: 'REGISTRY_ONLY' })]),
        findings: [{ resource: 'Service app/web', port: 8080, evidence: ['is the mesh default (root namespace istio-system)', 'egress hosts (cf/*)'] }],
      },
      {
        name: 'a workloadSelector Sidecar beats the namespace default; ~ excludes',
        objects: sidecarCase([sidecarResource('cf', 'cloudflared', { hosts: ['*/*', '~app/*'], mode: 'REGISTRY_ONLY', selector: { app: 'cloudflared' } }), sidecarResource('cf', 'default', { hosts: ['*/*'] })]),
        findings: [{ resource: 'Service app/web', port: 8080, evidence: ['Sidecar cf/cloudflared selects it (workloadSelector)'] }],
      },
      {
        name: 'meshConfig outboundTrafficPolicy REGISTRY_ONLY applies when the Sidecar sets none; a listener for another port imports nothing for 8080',
        objects: [
          ...sidecarCase([sidecarResource('cf', 'default', { hosts: ['app/*'], port: 9090 })]),
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' } },
        ],
        findings: [{ resource: 'Service app/web', port: 8080, evidence: ['outboundTrafficPolicy REGISTRY_ONLY (meshConfig'] }],
      },
    ],
  });

  testRule(tm102, {
    valid: [{ name: 'a Sidecar that imports the Service: auto mTLS', objects: sidecarCase([sidecarResource('cf', 'default', { hosts: ['app/*'], mode: 'ALLOW_ANY' })]) }],
    invalid: [
      {
        name: 'ALLOW_ANY passes a hidden Service through in plaintext: STRICT resets it; the recommended fix imports the Service',
        objects: sidecarCase([sidecarResource('cf', 'default', { hosts: ['./*'], mode: 'ALLOW_ANY' })]),
        findings: [{ resource: 'Service app/web', port: 8080, evidence: ['PassthroughCluster, plaintext to the original destination'], fixes: [{ title: /^Import app\/web\.app\.svc\.cluster\.local in Sidecar cf\/default/ }] }],
      },
    ],
  });
});

describe('TM311: Gateways of the operator sharing one TunnelGatewayClassConfig', () => {
  const routeTo = (gw: string, host: string): Obj =>
    httpRoute('app', `r-${gw}`, { parents: [{ name: gw, namespace: 'edge' }], hostnames: [host], rules: [{ backends: [{ name: 'web', port: 80 }] }] });
  const base: Obj[] = [...operatorGatewayClass(), namespace('edge'), apiGateway('edge', 'one', 'cloudflare-tunnel'), service('app', 'web', [{ port: 80 }]), routeTo('one', 'one.example.com')];
  testRule(tm311, {
    valid: [{ name: 'one Gateway per class config', objects: base }],
    invalid: [
      {
        name: 'a second Gateway of the class: its reconcile erases the first one\'s rules; the fix gives it a class of its own',
        objects: [...base, apiGateway('edge', 'two', 'cloudflare-tunnel'), routeTo('two', 'two.example.com')],
        findings: [
          {
            resource: 'TunnelGatewayClassConfig cloudflare-operator-system/cloudflare-gateway-config',
            message: ['Gateway edge/one (1 rule) and Gateway edge/two (1 rule)', 'only the last Gateway reconciled keeps its routes'],
            fixes: [{ title: /^Give Gateway edge\/two a GatewayClass and TunnelGatewayClassConfig of its own/, yaml: ['gatewayClassName: cloudflare-tunnel-two', 'name: cloudflare-gateway-config-two'] }],
          },
        ],
      },
    ],
  });
});
