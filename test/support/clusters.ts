// Realistic clusters for the fix property test: several tunnels and meshes in one input, the
// situations people have — seed 000's gateway behind the operator, a hand-written cloudflared in
// its own namespace, a gRPC service, STRICT namespaces, a private DestinationRule, running pods
// with and without owners, an ingress gateway in front of some of it.

import {
  cloudflaredConfigMap,
  cloudflaredDeployment,
  deployment,
  destinationRule,
  ingress,
  istioGateway,
  namespace,
  operatorCloudflared,
  operatorStack,
  operatorTunnelConfig,
  peerAuthentication,
  pod,
  service,
  virtualService,
  type Obj,
} from './build.js';

export interface Cluster {
  name: string;
  objects: Obj[];
  /** At least this many recommended fixes are checked (a cluster that lost its findings tests nothing). */
  minFixes?: number;
}

/** Two tunnels (the operator's, predicted from Ingresses, and a hand-written one) into three meshed namespaces. */
function twoTunnels(): Obj[] {
  return [
    ...operatorStack(),
    namespace('app', { 'istio-injection': 'enabled' }),
    namespace('shop', { 'istio-injection': 'enabled' }),
    namespace('edge', { 'istio-injection': 'enabled' }),
    namespace('payments', { 'istio-injection': 'enabled' }),
    // Seed 000: the gateway keeps its actuator out of the sidecar, misspelled on the second app.
    deployment('app', 'sg-cloud-gateway', {
      annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' },
      ports: [{ name: 'http', port: 8080 }, { name: 'actuator', port: 9091 }],
    }),
    service('app', 'sg-cloud-gateway', [{ name: 'http', port: 8080 }, { name: 'http-actuator', port: 9091 }]),
    deployment('shop', 'catalog', { annotations: { 'traffic.istio.io/excludeInboundPorts': '9090' }, ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }] }),
    service('shop', 'catalog', [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'http-metrics', port: 9090 }]),
    peerAuthentication('shop', 'default', { mode: 'STRICT' }),
    // The workload policy meant to open the metrics port is keyed by the Service port.
    peerAuthentication('shop', 'catalog', { selector: { app: 'catalog' }, portLevel: { 80: 'PERMISSIVE' } }),
    ingress('app', 'admin', [{ host: 'admin.example.com', service: 'sg-cloud-gateway', port: 9091 }, { host: 'api.example.com', service: 'sg-cloud-gateway', port: 8080 }]),
    ingress('shop', 'shop', [{ host: 'shop.example.com', service: 'catalog', port: 80 }]),
    // A hand-written connector in edge, with a plaintext gRPC backend and a rule cloudflared refuses.
    cloudflaredConfigMap('edge', 'cloudflared', [
      { hostname: 'grpc.example.com', service: 'http://ledger.payments.svc:9000' },
      { hostname: 'pay.example.com', service: 'https://ledger.payments.svc:8080' },
      { hostname: 'old.example.com', service: 'http://ledger.payments.svc:8080/v1' },
    ]),
    cloudflaredDeployment('edge', 'cloudflared', 'cloudflared', { annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' } }),
    deployment('payments', 'ledger', { ports: [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9000 }] }),
    service('payments', 'ledger', [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9000 }]),
  ];
}

/** Running pods (a live snapshot): a Deployment's pods, a bare debug pod, an owner-less cloudflared, a private DestinationRule. */
function livePods(): Obj[] {
  const cf = pod('tunnel', 'cloudflared', {
    sidecar: 'none',
    image: 'cloudflare/cloudflared:2025.11.1',
    args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'],
    volumes: [{ name: 'config', configMap: { name: 'cloudflared' } }],
  });
  return [
    namespace('tunnel'),
    cloudflaredConfigMap('tunnel', 'cloudflared', [{ hostname: 'web.example.com', service: 'https://web.app.svc:80' }, { hostname: 'gw.example.com', service: 'http://gw.app.svc:9091' }, { service: 'http_status:404' }]),
    cf,
    namespace('app', { 'istio-injection': 'enabled' }),
    deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }] }),
    pod('app', 'web-7d9f8b6c5d-a1b2c', { owner: 'web', ports: [{ name: 'http', port: 8080 }] }),
    pod('app', 'web-7d9f8b6c5d-d3e4f', { owner: 'web', ports: [{ name: 'http', port: 8080 }] }),
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
    deployment('app', 'gw', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
    pod('app', 'gw-7d9f8b6c5d-g5h6i', { owner: 'gw', annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, initExclude: '9091', ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
    service('app', 'gw', [{ name: 'http', port: 8080 }, { name: 'http-admin', port: 9091 }]),
    // Private to app: clients elsewhere do not see it.
    destinationRule('app', 'gw', { host: 'gw.app.svc.cluster.local', exportTo: ['.'], portLevel: [{ port: 9091, tls: 'DISABLE' }] }),
    peerAuthentication('app', 'default', { mode: 'STRICT' }),
  ];
}

/** A tunnel to the Istio ingress gateway, which routes to meshed backends by VirtualService. */
function throughGateway(): Obj[] {
  return [
    namespace('istio-system'),
    pod('istio-system', 'istio-ingressgateway-7d9f8b6c5d-x1y2z', { owner: 'istio-ingressgateway', sidecar: 'gateway', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' }, ports: [{ name: 'http2', port: 8080 }] }),
    deployment('istio-system', 'istio-ingressgateway', { labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' }, ports: [{ name: 'http2', port: 8080 }] }),
    service('istio-system', 'istio-ingressgateway', [{ name: 'http2', port: 80, targetPort: 8080 }], { selector: { istio: 'ingressgateway' } }),
    istioGateway('istio-system', 'public'),
    namespace('cloudflare-operator-system', { 'istio-injection': 'enabled' }),
    operatorTunnelConfig([{ hostname: 'www.example.com', service: 'http://istio-ingressgateway.istio-system.svc:80' }]),
    operatorCloudflared({ annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' } }),
    namespace('front', { 'istio-injection': 'enabled' }),
    deployment('front', 'site', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '8081' }, ports: [{ name: 'http', port: 8080 }, { name: 'status', port: 8081 }] }),
    service('front', 'site', [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'http-status', port: 8081 }]),
    virtualService('front', 'site', { gateways: ['istio-system/public'], hosts: ['www.example.com'], host: 'site.front.svc.cluster.local', port: 8081 }),
  ];
}

export const CLUSTERS: Cluster[] = [
  { name: 'two tunnels into three meshed namespaces (operator Ingresses and a hand-written connector)', objects: twoTunnels(), minFixes: 5 },
  { name: 'running pods: owned and owner-less, a private DestinationRule, STRICT', objects: livePods(), minFixes: 2 },
  { name: 'a tunnel to the Istio ingress gateway, routing to a port that bypasses the sidecar', objects: throughGateway(), minFixes: 1 },
];
