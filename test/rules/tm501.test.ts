import { tm501 } from '../../src/rules/catalog/tm501-envoy-client-disagrees.js';
import { heldUntilProxyStarts, cloudflaredConfigMap, destinationRule, istioGateway, namespace, peerAuthentication, pod, service, virtualService, type Obj } from '../support/build.js';
import { clusterName, envoyDump, type ClusterSpec, type DumpSpec, type EndpointSpec } from '../support/envoy.js';
import { testRule } from '../support/rule-tester.js';

const HOST = 'gateway.app.svc.cluster.local';
const CF = { pod: 'cloudflared-7d9f8b6c5d-abcde', namespace: 'edge', ip: '10.244.1.17', owner: 'cloudflared' };

interface Scenario {
  /** Annotations of the gateway pods (capture). */
  gatewayAnnotations?: Record<string, string>;
  initExclude?: string;
  port?: number;
  extra?: Obj[];
  /** The client's dump; omitted: none. */
  dump?: Partial<DumpSpec>;
  outboundExclude?: string;
}

/** A meshed cloudflared in `edge` sending a hostname to the gateway's port (9091 by default), two gateway pods. */
function scenario(s: Scenario = {}): Obj[] {
  const port = s.port ?? 9091;
  return [
    namespace('edge', { 'istio-injection': 'enabled' }),
    namespace('app', { 'istio-injection': 'enabled' }),
    cloudflaredConfigMap('edge', 'tunnel', [{ hostname: 'admin.example.com', service: `http://gateway.app.svc:${port}` }, { service: 'http_status:404' }]),
    heldUntilProxyStarts(pod('edge', CF.pod, {
      owner: 'cloudflared',
      podIP: CF.ip,
      image: 'cloudflare/cloudflared:2025.11.1',
      args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'],
      volumes: [{ name: 'config', configMap: { name: 'tunnel' } }],
      ...(s.outboundExclude ? { annotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': s.outboundExclude } } : {}),
    })),
    pod('app', 'gateway-7d9f8b6c5d-aaaaa', { owner: 'gateway', podIP: '10.244.2.31', ports: [{ port: 8080 }, { port: 9091 }], ...(s.gatewayAnnotations ? { annotations: s.gatewayAnnotations } : {}), ...(s.initExclude ? { initExclude: s.initExclude } : {}) }),
    pod('app', 'gateway-7d9f8b6c5d-bbbbb', { owner: 'gateway', podIP: '10.244.2.32', ports: [{ port: 8080 }, { port: 9091 }], ...(s.gatewayAnnotations ? { annotations: s.gatewayAnnotations } : {}), ...(s.initExclude ? { initExclude: s.initExclude } : {}) }),
    service('app', 'gateway', [{ name: 'http', port: 8080 }, { name: 'http-admin', port: 9091 }]),
    ...(s.extra ?? []),
    ...(s.dump ? [envoyDump({ ...CF, ...s.dump })] : []),
  ];
}

function endpoints(port: number, tlsMode: boolean): EndpointSpec[] {
  return [
    { ip: '10.244.2.31', port, tlsMode },
    { ip: '10.244.2.32', port, tlsMode },
  ];
}

function withEds(c: ClusterSpec, tlsMode: boolean): Partial<DumpSpec> {
  return { clusters: [c], endpoints: { [clusterName(c)]: endpoints(c.port, tlsMode) } };
}

const EXCLUDED = { gatewayAnnotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, initExclude: '9091' };
const AUTO_9091: ClusterSpec = { port: 9091, host: HOST, tls: 'auto' };
const FIX_DR = destinationRule('app', 'gateway-9091-no-mtls', { host: HOST, portLevel: [{ port: 9091, tls: 'DISABLE' }], created: '2026-11-20T10:00:00Z' });

testRule(tm501, {
  valid: [
    { name: 'no dump: nothing to compare', objects: scenario(EXCLUDED) },
    { name: 'the TM101 situation as Envoy has it: auto mTLS, endpoints tlsMode=istio (Envoy agrees)', objects: scenario({ ...EXCLUDED, dump: withEds(AUTO_9091, true) }) },
    {
      name: 'auto mTLS cluster, dump without endpoints (no ?include_eds): per-endpoint choice as predicted',
      objects: scenario({ ...EXCLUDED, dump: { clusters: [AUTO_9091] } }),
    },
    {
      name: 'the DestinationRule fix in effect: no transport socket, endpoints without tlsMode',
      objects: scenario({ ...EXCLUDED, extra: [FIX_DR], dump: withEds({ port: 9091, host: HOST, tls: 'DISABLE', destinationRule: 'app/gateway-9091-no-mtls', updated: '2026-11-20T10:00:05Z' }, false) }),
    },
    {
      name: 'DestinationRule ISTIO_MUTUAL: the cluster has the Istio mTLS socket',
      objects: scenario({ port: 8080, extra: [destinationRule('app', 'gateway', { host: HOST, tls: 'ISTIO_MUTUAL' })], dump: withEds({ port: 8080, host: HOST, tls: 'ISTIO_MUTUAL', destinationRule: 'app/gateway' }, true) }),
    },
    {
      name: 'namespace-wide DISABLE: auto mTLS off for the Service, no socket',
      objects: scenario({ port: 8080, extra: [peerAuthentication('app', 'default', { mode: 'DISABLE' })], dump: withEds({ port: 8080, host: HOST, tls: 'DISABLE' }, true) }),
    },
    { name: 'a dump without clusters (listeners only) is not compared', objects: scenario({ ...EXCLUDED, dump: { inbound: [] } }) },
    {
      name: "a DestinationRule's top-level DISABLE with a port entry without tls: the cluster is auto, the endpoints lose tlsMode (stage B), as Envoy has it",
      objects: scenario({ ...EXCLUDED, extra: [destinationRule('app', 'gateway', { host: HOST, tls: 'DISABLE', portLevel: [{ port: 9091 }] })], dump: withEds(AUTO_9091, false) }),
    },
    {
      name: 'the same, from a dump without endpoints: an auto cluster is what stage B predicts',
      objects: scenario({ ...EXCLUDED, extra: [destinationRule('app', 'gateway', { host: HOST, tls: 'DISABLE', portLevel: [{ port: 9091 }] })], dump: { clusters: [AUTO_9091] } }),
    },
    {
      name: "the client's port 9091 bypasses its sidecar (excludeOutboundPorts): Envoy's cluster is not used",
      objects: scenario({ ...EXCLUDED, outboundExclude: '9091', dump: withEds({ port: 9091, host: HOST, tls: 'DISABLE' }, false) }),
    },
  ],
  invalid: [
    {
      name: 'the TM101 fix applied after the dump was taken: the proxy still sends mTLS to the uncaptured port',
      objects: scenario({ ...EXCLUDED, extra: [FIX_DR], dump: { ...withEds(AUTO_9091, true), updated: '2026-11-20T09:12:00Z' } }),
      fixResolves: false,
      findings: [
        {
          resource: 'Service app/gateway',
          port: 9091,
          severity: 'error',
          message: [/cloudflared .* sends Istio mTLS to 10\.244\.2\.31:9091/, /configuration says it sends plaintext \(DestinationRule app\/gateway-9091-no-mtls sets tls DISABLE\)/, /the edge fails, although the configuration says it works/],
          evidence: [
            /Envoy disagrees \(dump of Pod edge\/cloudflared-7d9f8b6c5d-abcde/,
            /transport socket match tlsMode-istio \(endpoint metadata tlsMode=istio\)/,
            /can mean: the dump predates DestinationRule app\/gateway-9091-no-mtls \(created 2026-11-20T10:00:00Z/,
            /can mean: an EnvoyFilter/,
          ],
          fixes: [{ title: 'Restart Deployment edge/cloudflared', yaml: [/kubectl.kubernetes.io\/restartedAt/] }],
        },
      ],
    },
    {
      name: 'the fix applied, the dump without endpoints: the pod label stands in for the endpoint tlsMode',
      objects: scenario({ ...EXCLUDED, extra: [FIX_DR], dump: { clusters: [{ ...AUTO_9091, updated: '2026-11-20T09:12:00Z' }] } }),
      fixResolves: false,
      findings: [{ resource: 'Service app/gateway', port: 9091, severity: 'error', evidence: [/taking the endpoint's tlsMode from the pod's label \(tlsMode=istio\)/] }],
    },
    {
      name: "a DestinationRule sets ISTIO_MUTUAL, Envoy's cluster sends plaintext (built from another DestinationRule): works, but not as configured",
      objects: scenario({
        port: 8080,
        extra: [destinationRule('app', 'gateway', { host: HOST, tls: 'ISTIO_MUTUAL' })],
        dump: withEds({ port: 8080, host: HOST, tls: 'DISABLE', destinationRule: 'edge/gateway-plain' }, false),
      }),
      fixResolves: false,
      findings: [
        {
          resource: 'Service app/gateway',
          port: 8080,
          severity: 'warning',
          message: /sends plaintext to 10\.244\.2\.31:8080 .*where the configuration says it sends Istio mTLS/,
          evidence: [/can mean: Envoy's cluster was built from DestinationRule edge\/gateway-plain, while the configuration applies app\/gateway/],
        },
      ],
    },
    {
      name: 'Envoy originates TLS without a client certificate (SIMPLE) where auto mTLS is predicted: an EnvoyFilter or a DestinationRule not in the input',
      objects: scenario({ port: 8080, dump: withEds({ port: 8080, host: HOST, tls: 'SIMPLE' }, true) }),
      fixResolves: false,
      findings: [{ resource: 'Service app/gateway', port: 8080, severity: 'warning', message: /sends TLS \(originated by the sidecar\)/, evidence: [/can mean: an EnvoyFilter patching the cluster/] }],
    },
    {
      name: 'no cluster for the Service port: plaintext through PassthroughCluster into a STRICT target',
      objects: scenario({ port: 8080, extra: [peerAuthentication('istio-system', 'default', { mode: 'STRICT' })], dump: { clusters: [{ port: 80, host: 'other.app.svc.cluster.local', tls: 'auto' }] } }),
      fixResolves: false,
      findings: [
        {
          resource: 'Service app/gateway',
          port: 8080,
          severity: 'error',
          message: /has no cluster outbound\|8080\|\|gateway\.app\.svc\.cluster\.local/,
          evidence: [/requires mTLS on port 8080 \(STRICT\)/, /can mean: the Service is not visible to this proxy: a Sidecar resource/],
        },
      ],
    },
  ],
});

// Gateway routes: the ingress gateway's proxy is the client; a route to a subset uses the subset's cluster.
const gatewayObjects = (dump: Partial<DumpSpec>, extra: Obj[] = []): Obj[] => [
  namespace('istio-system'),
  namespace('app', { 'istio-injection': 'enabled' }),
  pod('istio-system', 'istio-ingressgateway-7d9f8b6c5d-ggggg', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { istio: 'ingressgateway' }, podIP: '10.244.0.40' }),
  istioGateway('istio-system', 'public'),
  virtualService('app', 'reviews', { hosts: ['reviews.example.com'], gateways: ['istio-system/public'], host: 'reviews', port: 9080, subset: 'v1' }),
  pod('app', 'reviews-v1-7d9f8b6c5d-rrrrr', { owner: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, podIP: '10.244.3.5', ports: [{ port: 9080 }] }),
  service('app', 'reviews', [{ name: 'http', port: 9080 }], { selector: { app: 'reviews' } }),
  destinationRule('app', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
  ...extra,
  envoyDump({ pod: 'istio-ingressgateway-7d9f8b6c5d-ggggg', namespace: 'istio-system', ip: '10.244.0.40', type: 'router', owner: 'istio-ingressgateway', ...dump }),
];

const V1: ClusterSpec = { port: 9080, host: 'reviews.app.svc.cluster.local', subset: 'v1', tls: 'auto', destinationRule: 'app/reviews' };

testRule(tm501, {
  valid: [
    {
      name: "gateway route to subset v1: the gateway's outbound|9080|v1|… cluster is auto mTLS, endpoint tlsMode=istio",
      objects: gatewayObjects({ clusters: [V1], endpoints: { [clusterName(V1)]: [{ ip: '10.244.3.5', port: 9080, tlsMode: true }] } }),
    },
  ],
  invalid: [
    {
      name: "gateway route to subset v1, the gateway's dump has only the Service's cluster: the subset is unknown to it",
      objects: gatewayObjects({ clusters: [{ port: 9080, host: 'reviews.app.svc.cluster.local', tls: 'auto' }] }),
      fixResolves: false,
      findings: [{ resource: 'Service app/reviews', port: 9080, message: /has no cluster outbound\|9080\|v1\|reviews\.app\.svc\.cluster\.local/, evidence: [/no DestinationRule this proxy sees defines subset v1/] }],
    },
  ],
});
