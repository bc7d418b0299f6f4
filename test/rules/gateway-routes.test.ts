// Mesh edges through an Istio ingress gateway (rules.md: "mesh edges from VirtualServices /
// gateways"): a Gateway-bound VirtualService makes the gateway's proxy a client of the routed
// Service port, judged by the same edge rules as a tunnel's cloudflared.

import { tm101 } from '../../src/rules/catalog/tm101-mtls-to-uncaptured-port.js';
import { tm102 } from '../../src/rules/catalog/tm102-plaintext-to-strict.js';
import { tm104 } from '../../src/rules/catalog/tm104-uncaptured-port-exposed.js';
import { deployment, destinationRule, istioGateway, namespace, peerAuthentication, pod, service, virtualService, type Obj } from '../support/build.js';
import { findingsOf, testRule } from '../support/rule-tester.js';
import assert from 'node:assert/strict';
import { it } from 'node:test';

const FQDN = 'gw.app.svc.cluster.local';

interface Scenario {
  /** Gateway proxy pods in the input (default true). */
  gatewayPods?: boolean;
  gateways?: string[];
  destinationHost?: string;
  /** null: the destination names no port (allowed when the Service has one). */
  destinationPort?: number | null;
  subset?: string;
  excluded?: string;
  extra?: Obj[];
}

/** cloudflared → istio-ingressgateway → (Gateway + VirtualService) → app/gw, whose pods keep 9091 out of the sidecar. */
function scenario(s: Scenario = {}): Obj[] {
  return [
    namespace('istio-system'),
    namespace('app', { 'istio-injection': 'enabled' }),
    ...(s.gatewayPods === false
      ? []
      : [pod('istio-system', 'istio-ingressgateway-1', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } })]),
    istioGateway('app', 'public'),
    virtualService('app', 'admin', { gateways: s.gateways ?? ['public'], host: s.destinationHost ?? 'gw', ...(s.destinationPort === null ? {} : { port: s.destinationPort ?? 9091 }), ...(s.subset ? { subset: s.subset } : {}) }),
    deployment('app', 'gw', {
      annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': s.excluded ?? '9091' },
      ports: [
        { name: 'http', port: 8080 },
        { name: 'admin', port: 9091 },
      ],
    }),
    service('app', 'gw', [
      { name: 'http', port: 8080 },
      { name: 'http-admin', port: 9091 },
    ]),
    ...(s.extra ?? []),
  ];
}

testRule(tm101, {
  valid: [
    { name: 'a DestinationRule disables tls for the Service port', objects: scenario({ extra: [destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }) },
    {
      name: 'the routed subset disables tls (the subset policy overrides the top level)',
      objects: scenario({
        subset: 'v1',
        extra: [destinationRule('app', 'gw', { host: FQDN, subsets: [{ name: 'v1', labels: { app: 'gw' }, trafficPolicy: { tls: { mode: 'DISABLE' } } }] })],
      }),
    },
    { name: 'the route goes to the captured port', objects: scenario({ destinationPort: 8080 }) },
    { name: 'the VirtualService is bound to the mesh only (sidecars, not a gateway)', objects: scenario({ gateways: ['mesh'] }) },
    { name: 'the VirtualService has no gateways (it applies to sidecars)', objects: scenario({ gateways: [] }) },
    { name: 'the Gateway it names is not in the input', objects: scenario({ gateways: ['other/public'] }) },
    { name: 'a dotted host (gw.app) is taken as written: no Service of the input', objects: scenario({ destinationHost: 'gw.app' }) },
    { name: 'the route names a port the Service does not have', objects: scenario({ destinationPort: 9999 }) },
    { name: 'the route names no port and the Service has two: Istio cannot pick one, nothing judged', objects: scenario({ destinationPort: null }) },
    {
      name: 'the selector matches pods without a proxy: not a gateway, nothing judged',
      objects: [...scenario({ gatewayPods: false }), pod('istio-system', 'lookalike', { sidecar: 'none', labels: { istio: 'ingressgateway' } })],
    },
  ],
  invalid: [
    {
      name: 'the ingress gateway sends auto mTLS to the excluded port',
      objects: scenario(),
      findings: [
        {
          resource: 'Service app/gw',
          port: 9091,
          message: ['ingress gateway Deployment istio-system/istio-ingressgateway sends Istio mTLS to Service app/gw port 9091', 'does not capture target port 9091'],
          symptom: 'the ingress gateway answers 503',
          evidence: [
            `VirtualService app/admin http[0].route[0] through Gateway app/public: * → ${FQDN}:9091`,
            'client: Gateway app/public (selector istio=ingressgateway) selects 1 proxy pod',
            'no DestinationRule for gw.app.svc.cluster.local is visible from namespace istio-system',
            'NOT captured',
          ],
          fixes: [{ title: 'DestinationRule app/gw-9091-no-mtls', yaml: [`host: ${FQDN}`, /number: 9091\n\s+tls:\n\s+mode: DISABLE/] }],
        },
      ],
    },
    {
      name: 'gateway pods not in the input (CI manifests of one app): judged as a gateway proxy in the Gateway namespace',
      objects: scenario({ gatewayPods: false, destinationHost: FQDN, destinationPort: null }).map((o) =>
        o.kind === 'Service' ? service('app', 'gw', [{ name: 'http-admin', port: 9091 }]) : o,
      ),
      findings: [{ resource: 'Service app/gw', port: 9091, message: 'the ingress gateway of Gateway app/public', evidence: ['its proxy pods are not among the pods collected'] }],
    },
    {
      name: 'a subset without a tls policy keeps auto mTLS',
      objects: scenario({ subset: 'v1', extra: [destinationRule('app', 'gw', { host: FQDN, subsets: [{ name: 'v1', labels: { app: 'gw' } }] })] }),
      findings: [{ resource: 'Service app/gw', port: 9091, evidence: ['subset v1'] }],
    },
  ],
});

/** Two versions behind one Service; only v2 keeps 9091 out of its sidecar. */
function versions(subset: string): Obj[] {
  const ports = [{ name: 'admin', port: 9091 }];
  return [
    namespace('istio-system'),
    namespace('app', { 'istio-injection': 'enabled' }),
    pod('istio-system', 'istio-ingressgateway-1', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } }),
    istioGateway('app', 'public'),
    virtualService('app', 'admin', { gateways: ['public'], host: 'gw', port: 9091, subset }),
    deployment('app', 'gw-v1', { labels: { app: 'gw', version: 'v1' }, ports }),
    deployment('app', 'gw-v2', { labels: { app: 'gw', version: 'v2' }, annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, ports }),
    service('app', 'gw', [{ name: 'http-admin', port: 9091 }], { selector: { app: 'gw' } }),
    destinationRule('app', 'gw', { host: 'gw', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }),
  ];
}

testRule(tm101, {
  valid: [
    { name: "the route's subset (v1) holds only pods that capture the port", objects: versions('v1') },
    { name: 'the route names a subset no DestinationRule defines: it routes nowhere (TM402), nothing to judge here', objects: versions('v9') },
  ],
  invalid: [
    {
      name: "the route's subset (v2) holds the pods that exclude the port",
      objects: versions('v2'),
      findings: [{ resource: 'Service app/gw', port: 9091, message: 'the sidecar of Deployment app/gw-v2 does not capture' }],
    },
  ],
});

testRule(tm102, {
  valid: [{ name: 'the gateway sends auto mTLS to a STRICT captured port', objects: scenario({ excluded: '', extra: [peerAuthentication('app', 'default', { mode: 'STRICT' })] }) }],
  invalid: [
    {
      name: "a DestinationRule makes the gateway send plaintext to a STRICT port",
      objects: scenario({
        excluded: '',
        extra: [peerAuthentication('app', 'default', { mode: 'STRICT' }), destinationRule('app', 'gw', { host: FQDN, tls: 'DISABLE' })],
      }),
      findings: [{ resource: 'Service app/gw', port: 9091, message: 'ingress gateway Deployment istio-system/istio-ingressgateway', fixes: [{}, { title: /DestinationRule app\/gw/ }] }],
    },
  ],
});

it('TM104 steps aside where a gateway route makes it TM101 (one finding per port)', () => {
  const codes = findingsOf([tm101, tm104], scenario()).map((f) => `${f.code}:${f.port}`);
  assert.deepEqual(codes, ['TM101:9091']);
  const withoutRoute = findingsOf([tm101, tm104], scenario({ gateways: ['mesh'] })).map((f) => `${f.code}:${f.port}`);
  assert.deepEqual(withoutRoute, ['TM104:9091']);
});
