// Deterministic synthetic clusters for the benchmark: at scale 1, about 16k objects
// (10k Pods, 2k Services with their Deployments and DestinationRules, Ingresses and an
// operator tunnel config with 2k rules), as `kubectl get -o json` would dump them.

import type { KObject } from '../src/core/k8s.js';

/** A small seeded PRNG (mulberry32): the same scale always gives the same cluster. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TUNNEL_ID = 'b3c1e0a2-7d44-4b8e-9f10-2c3d4e5f6a7b';
const OPERATOR_NS = 'cloudflare-operator-system';

function injectedPodSpec(app: string, exclude: string | undefined): Record<string, unknown> {
  return {
    initContainers: [
      {
        name: 'istio-init',
        image: 'docker.io/istio/proxyv2:1.26.2',
        args: ['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*', '-d', `15090,15021,15020${exclude ? `,${exclude}` : ''}`],
        resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '10m', memory: '40Mi' } },
      },
    ],
    containers: [
      {
        name: app,
        image: `registry.example.com/${app}:1.4.2`,
        ports: [
          { name: 'http', containerPort: 8080, protocol: 'TCP' },
          { name: 'metrics', containerPort: 9091, protocol: 'TCP' },
        ],
        env: [
          { name: 'JAVA_OPTS', value: '-Xmx512m -XX:+UseG1GC' },
          { name: 'SPRING_PROFILES_ACTIVE', value: 'production' },
        ],
        resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m', memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/actuator/health', port: 9091 }, periodSeconds: 10 },
      },
      {
        name: 'istio-proxy',
        image: 'docker.io/istio/proxyv2:1.26.2',
        args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning'],
        ports: [{ name: 'http-envoy-prom', containerPort: 15090, protocol: 'TCP' }],
        resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
      },
    ],
    serviceAccountName: app,
  };
}

/** The name of the n-th application namespace of a generated cluster. */
export function generatedNamespace(n: number): string {
  return `team-${String(n).padStart(3, '0')}`;
}

export function generateCluster(scale: number): KObject[] {
  const random = rng(0x7a11 + scale);
  const namespaces = Math.round(100 * scale);
  const servicesPerNs = 20;
  const podsPerService = 5;
  const objects: KObject[] = [];
  const push = (o: Record<string, unknown>): void => {
    objects.push(o as unknown as KObject);
  };
  const tunnelRules: Array<Record<string, unknown>> = [];

  push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
  push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NS, labels: { 'istio-injection': 'enabled' } } });
  push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'rootNamespace: istio-system\nenableAutoMtls: true\n' } });
  push({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'istio-system' }, spec: { mtls: { mode: 'PERMISSIVE' } } });

  for (let n = 0; n < namespaces; n++) {
    const ns = generatedNamespace(n);
    const injected = n % 4 !== 3;
    push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: injected ? { 'istio-injection': 'enabled' } : {} } });
    for (let s = 0; s < servicesPerNs; s++) {
      const app = `svc-${String(s).padStart(2, '0')}`;
      // About one workload in fifty keeps its metrics port out of the mesh.
      const exclude = random() < 0.02 ? '9091' : undefined;
      const labels = { app, version: 'v1' };
      const hash = (Math.floor(random() * 0xffffffff) >>> 0).toString(16).padStart(8, '0').slice(0, 9);
      push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, namespace: ns, labels },
        spec: {
          replicas: podsPerService,
          selector: { matchLabels: labels },
          template: { metadata: { labels, ...(exclude ? { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': exclude } } : {}) }, spec: { containers: [{ name: app, image: `registry.example.com/${app}:1.4.2` }] } },
        },
      });
      for (let p = 0; p < podsPerService; p++) {
        const suffix = Math.floor(random() * 36 ** 5).toString(36).padStart(5, '0');
        push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${app}-${hash}-${suffix}`,
            namespace: ns,
            labels: { ...labels, 'pod-template-hash': hash, ...(injected ? { 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': app } : {}) },
            annotations: {
              ...(exclude ? { 'traffic.sidecar.istio.io/excludeInboundPorts': exclude } : {}),
              ...(injected ? { 'sidecar.istio.io/status': '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"revision":"default"}' } : {}),
            },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-${hash}`, controller: true, uid: `uid-${ns}-${app}` }],
            creationTimestamp: '2026-10-01T12:00:00Z',
          },
          spec: injected ? injectedPodSpec(app, exclude) : { containers: [{ name: app, image: `registry.example.com/${app}:1.4.2`, ports: [{ name: 'http', containerPort: 8080 }] }] },
          status: {
            phase: 'Running',
            podIP: `10.${(n >> 8) & 255}.${n & 255}.${s * podsPerService + p + 2}`,
            conditions: [
              { type: 'Ready', status: 'True' },
              { type: 'ContainersReady', status: 'True' },
            ],
          },
        });
      }
      push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: app, namespace: ns },
        spec: {
          selector: labels,
          clusterIP: `10.96.${n & 255}.${s + 10}`,
          ports: [
            { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
            { name: 'http-metrics', port: 9091, targetPort: 'metrics', protocol: 'TCP' },
          ],
        },
      });
      push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: app, namespace: ns },
        spec: { host: `${app}.${ns}.svc.cluster.local`, trafficPolicy: { connectionPool: { http: { http2MaxRequests: 1000 } } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
      });
      tunnelRules.push({ hostname: `${app}.${ns}.example.com`, service: `http://${app}.${ns}.svc:${s % 10 === 0 ? 9091 : 80}`, priority: 100 });
    }
    for (let i = 0; i < 5; i++) {
      const rules = Array.from({ length: 4 }, (_, j) => {
        const app = `svc-${String(i * 4 + j).padStart(2, '0')}`;
        return { host: `${app}.${ns}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: app, port: { number: 80 } } } }] } };
      });
      push({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: `public-${i}`, namespace: ns }, spec: { ingressClassName: 'cloudflare-tunnel', rules } });
    }
  }

  push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `tunnel-config-${TUNNEL_ID}`, namespace: OPERATOR_NS, labels: { 'cloudflare-operator.io/type': 'tunnel-config', 'cloudflare-operator.io/tunnel-id': TUNNEL_ID } },
    data: {
      'config.json': JSON.stringify({
        tunnelId: TUNNEL_ID,
        accountId: '0123456789abcdef0123456789abcdef',
        tunnelName: 'edge',
        sources: { [`Ingress/${OPERATOR_NS}/cloudflare-tunnel-config`]: { kind: 'Ingress', namespace: OPERATOR_NS, name: 'cloudflare-tunnel-config', rules: tunnelRules } },
        syncStatus: 'Synced',
      }),
    },
  });
  for (let r = 0; r < 2; r++) {
    push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `edge-5c6d7f8b9-${r}abcd`,
        namespace: OPERATOR_NS,
        labels: { 'cloudflare-operator.io/app': 'cloudflared', 'cloudflare-operator.io/tunnel': 'edge', 'cloudflare-operator.io/id': TUNNEL_ID, 'pod-template-hash': '5c6d7f8b9', 'security.istio.io/tlsMode': 'istio' },
        annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'edge-5c6d7f8b9', controller: true }],
      },
      spec: { ...injectedPodSpec('cloudflared', undefined), containers: [{ name: 'cloudflared', image: 'cloudflare/cloudflared:2025.11.1', args: ['tunnel', 'run', '--token', '$(TUNNEL_TOKEN)'] }, { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.26.2', args: ['proxy', 'sidecar'] }] },
      status: { phase: 'Running', podIP: `10.250.0.${r + 2}`, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  return objects;
}

/** `kubectl get … -o json` style. */
export function asJsonList(objects: KObject[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objects }, null, 2);
}
