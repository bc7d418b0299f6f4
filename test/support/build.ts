// Builders for the Kubernetes, Istio and operator objects the tests are made of.
// They write what real clusters and charts contain (injected pods with istio-init args,
// operator tunnel-config ConfigMaps), so a case reads like the situation it stands for.

import jsyaml from 'js-yaml';

export type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown } };
type Labels = Record<string, string>;

export function namespace(name: string, labels: Labels = {}): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export interface PortSpec {
  name?: string;
  port: number;
}

export interface PodOptions {
  labels?: Labels;
  annotations?: Labels;
  ports?: PortSpec[];
  image?: string;
  args?: string[];
  hostNetwork?: boolean;
  volumes?: unknown[];
  /** Extra containers (e.g. a second app container). */
  containers?: unknown[];
}

function appContainers(o: PodOptions, name: string): unknown[] {
  return [
    {
      name,
      image: o.image ?? `registry.example.com/${name}:1.0`,
      ...(o.args ? { args: o.args } : {}),
      ...(o.ports ? { ports: o.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.port })) } : {}),
    },
    ...(o.containers ?? []),
  ];
}

function podSpec(o: PodOptions, name: string): Record<string, unknown> {
  return {
    containers: appContainers(o, name),
    ...(o.hostNetwork ? { hostNetwork: true } : {}),
    ...(o.volumes ? { volumes: o.volumes } : {}),
  };
}

/** A Deployment as a chart renders it: no sidecar in the template (the injector adds it). */
export function deployment(ns: string, name: string, o: PodOptions = {}): Obj {
  const labels = o.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels, ...(o.annotations ? { annotations: o.annotations } : {}) }, spec: podSpec(o, name) },
    },
  };
}

export interface RunningPodOptions extends PodOptions {
  /** classic: istio-proxy container + istio-init; native: istio-proxy init container (restartPolicy Always); none. */
  sidecar?: 'classic' | 'native' | 'none' | 'gateway';
  /** istio-init `-d` (exclude inbound) and `-b` (include inbound), as the injector rendered them. */
  initExclude?: string;
  initInclude?: string;
  /** Owning Deployment (through a ReplicaSet named <deployment>-<hash>). */
  owner?: string;
  ready?: boolean;
  podIP?: string;
  /** Leave the tlsMode label off even with a sidecar. */
  noTlsModeLabel?: boolean;
}

const HASH = '7d9f8b6c5d';

/** A running Pod as the API server returns it, sidecar injected or not. */
export function pod(ns: string, name: string, o: RunningPodOptions = {}): Obj {
  const sidecar = o.sidecar ?? 'classic';
  const labels: Labels = { ...(o.labels ?? { app: o.owner ?? name }) };
  if (o.owner) labels['pod-template-hash'] = HASH;
  if (sidecar !== 'none' && sidecar !== 'gateway' && !o.noTlsModeLabel) labels['security.istio.io/tlsMode'] = 'istio';
  const containers = appContainers(o, o.owner ?? name);
  const initContainers: unknown[] = [];
  const proxy = { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.26.2', args: ['proxy', sidecar === 'gateway' ? 'router' : 'sidecar'] };
  if (sidecar !== 'none' && sidecar !== 'gateway') {
    const exclude = ['15090', '15021', '15020', ...(o.initExclude ? [o.initExclude] : [])].join(',');
    initContainers.push({
      name: 'istio-init',
      image: 'docker.io/istio/proxyv2:1.26.2',
      args: ['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', o.initInclude ?? '*', '-d', exclude],
    });
  }
  if (sidecar === 'classic' || sidecar === 'gateway') containers.push(proxy);
  if (sidecar === 'native') initContainers.push({ ...proxy, restartPolicy: 'Always' });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels,
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${o.owner}-${HASH}`, controller: true }] } : {}),
    },
    spec: { ...(initContainers.length ? { initContainers } : {}), containers, ...(o.hostNetwork ? { hostNetwork: true } : {}), ...(o.volumes ? { volumes: o.volumes } : {}) },
    status: {
      phase: 'Running',
      podIP: o.podIP ?? '10.244.0.10',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

export interface ServicePortSpec {
  name?: string;
  port: number;
  targetPort?: number | string;
  appProtocol?: string;
  protocol?: string;
}

export function service(ns: string, name: string, ports: ServicePortSpec[], o: { selector?: Labels; clusterIP?: string; annotations?: Labels } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: { selector: o.selector ?? { app: name }, ...(o.clusterIP ? { clusterIP: o.clusterIP } : {}), ports },
  };
}

export function peerAuthentication(
  ns: string,
  name: string,
  o: { selector?: Labels; mode?: string; portLevel?: Record<number, string>; created?: string } = {},
): Obj {
  const spec: Record<string, unknown> = {};
  if (o.selector) spec.selector = { matchLabels: o.selector };
  if (o.mode) spec.mtls = { mode: o.mode };
  if (o.portLevel) spec.portLevelMtls = Object.fromEntries(Object.entries(o.portLevel).map(([p, m]) => [p, { mode: m }]));
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace: ns, ...(o.created ? { creationTimestamp: o.created } : {}) },
    spec,
  };
}

export interface DestinationRuleOptions {
  host: string;
  tls?: string;
  /** Service port → tls mode (undefined = an entry without tls). */
  portLevel?: Array<{ port: number; tls?: string }>;
  exportTo?: string[];
  subsets?: unknown[];
  created?: string;
  workloadSelector?: Labels;
}

export function destinationRule(ns: string, name: string, o: DestinationRuleOptions): Obj {
  const trafficPolicy: Record<string, unknown> = {};
  if (o.tls) trafficPolicy.tls = { mode: o.tls };
  if (o.portLevel) trafficPolicy.portLevelSettings = o.portLevel.map((p) => ({ port: { number: p.port }, ...(p.tls ? { tls: { mode: p.tls } } : {}) }));
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name, namespace: ns, ...(o.created ? { creationTimestamp: o.created } : {}) },
    spec: {
      host: o.host,
      ...(Object.keys(trafficPolicy).length ? { trafficPolicy } : {}),
      ...(o.exportTo ? { exportTo: o.exportTo } : {}),
      ...(o.subsets ? { subsets: o.subsets } : {}),
      ...(o.workloadSelector ? { workloadSelector: { matchLabels: o.workloadSelector } } : {}),
    },
  };
}

export function meshConfig(mesh: Record<string, unknown>): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: jsyaml.dump(mesh) } };
}

export interface TunnelRuleSpec {
  hostname?: string;
  path?: string;
  service: string;
  originRequest?: Record<string, unknown>;
  priority?: number;
}

export const TUNNEL_ID = '6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f';

/** The Cloudflare operator's (v0.34+) tunnel config: `tunnel-config-<id>` with config.json. */
export function operatorTunnelConfig(rules: TunnelRuleSpec[], o: { namespace?: string; id?: string; tunnelName?: string } = {}): Obj {
  const ns = o.namespace ?? 'cloudflare-operator-system';
  const id = o.id ?? TUNNEL_ID;
  const json = {
    tunnelId: id,
    accountId: '0123456789abcdef0123456789abcdef',
    tunnelName: o.tunnelName ?? 'main-tunnel',
    sources: { [`Ingress/${ns}/cloudflare-tunnel-config`]: { kind: 'Ingress', namespace: ns, name: 'cloudflare-tunnel-config', rules } },
    syncStatus: 'Synced',
  };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `tunnel-config-${id}`, namespace: ns, labels: { 'cloudflare-operator.io/type': 'tunnel-config', 'cloudflare-operator.io/tunnel-id': id } },
    data: { 'config.json': JSON.stringify(json, null, 2) },
  };
}

/** The operator's cloudflared, as a Deployment (templates) — token mode, no ConfigMap mounted. */
export function operatorCloudflared(o: { namespace?: string; id?: string; name?: string; annotations?: Labels; labels?: Labels } = {}): Obj {
  const ns = o.namespace ?? 'cloudflare-operator-system';
  const name = o.name ?? 'main-tunnel';
  const labels = {
    'cloudflare-operator.io/app': 'cloudflared',
    'cloudflare-operator.io/tunnel': name,
    'cloudflare-operator.io/id': o.id ?? TUNNEL_ID,
    ...(o.labels ?? {}),
  };
  return deployment(ns, name, {
    labels,
    image: 'cloudflare/cloudflared:2025.11.1',
    args: ['tunnel', '--metrics', '0.0.0.0:2000', 'run', '--token', '$(TUNNEL_TOKEN)'],
    ...(o.annotations ? { annotations: o.annotations } : {}),
  });
}

/** A hand-written cloudflared config (config.yaml in a ConfigMap). */
export function cloudflaredConfigMap(ns: string, name: string, rules: TunnelRuleSpec[], extra: Record<string, unknown> = {}): Obj {
  const config = { tunnel: 'main', 'credentials-file': '/etc/cloudflared/creds/credentials.json', ...extra, ingress: rules };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { 'config.yaml': jsyaml.dump(config) } };
}

/** A hand-written cloudflared Deployment mounting its config ConfigMap. */
export function cloudflaredDeployment(ns: string, name: string, configMap: string, o: { labels?: Labels; annotations?: Labels } = {}): Obj {
  return deployment(ns, name, {
    labels: o.labels ?? { app: name },
    ...(o.annotations ? { annotations: o.annotations } : {}),
    image: 'cloudflare/cloudflared:2025.11.1',
    args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'],
    volumes: [{ name: 'config', configMap: { name: configMap } }],
  });
}

export function toYaml(objects: Obj[]): string {
  return objects.map((o) => jsyaml.dump(o, { lineWidth: -1 })).join('---\n');
}

export interface IngressPathSpec {
  host?: string;
  path?: string;
  pathType?: string;
  service: string;
  /** A number, or a port name. */
  port?: number | string;
}

/** An Ingress; `className` null leaves spec.ingressClassName out. */
export function ingress(ns: string, name: string, paths: IngressPathSpec[], o: { annotations?: Labels; className?: string | null } = {}): Obj {
  const rules: Array<{ host?: string; http: { paths: unknown[] } }> = [];
  for (const p of paths) {
    let rule = rules.find((r) => r.host === p.host);
    if (!rule) {
      rule = { ...(p.host !== undefined ? { host: p.host } : {}), http: { paths: [] } };
      rules.push(rule);
    }
    const port = p.port === undefined ? undefined : typeof p.port === 'number' ? { number: p.port } : { name: p.port };
    rule.http.paths.push({ path: p.path ?? '/', pathType: p.pathType ?? 'Prefix', backend: { service: { name: p.service, ...(port ? { port } : {}) } } });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: { ...(o.className === null ? {} : { ingressClassName: o.className ?? 'cloudflare-tunnel' }), rules },
  };
}

export function ingressClass(
  name = 'cloudflare-tunnel',
  o: { controller?: string; parameters?: Record<string, string> | null; isDefault?: boolean } = {},
): Obj {
  const parameters =
    o.parameters === null
      ? undefined
      : (o.parameters ?? { apiGroup: 'networking.cloudflare-operator.io', kind: 'TunnelIngressClassConfig', name: 'cloudflare-tunnel-config', namespace: 'cloudflare-operator-system' });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name, ...(o.isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    spec: { controller: o.controller ?? 'cloudflare-operator.io/ingress-controller', ...(parameters ? { parameters } : {}) },
  };
}

export function tunnelIngressClassConfig(
  o: { name?: string; namespace?: string; tunnelRef?: { kind: string; name: string; namespace?: string }; defaultProtocol?: string | null; defaultOriginRequest?: Record<string, unknown> } = {},
): Obj {
  return {
    apiVersion: 'networking.cloudflare-operator.io/v1alpha2',
    kind: 'TunnelIngressClassConfig',
    metadata: { name: o.name ?? 'cloudflare-tunnel-config', namespace: o.namespace ?? 'cloudflare-operator-system' },
    spec: {
      tunnelRef: o.tunnelRef ?? { kind: 'ClusterTunnel', name: 'main-tunnel' },
      ...(o.defaultProtocol === null ? {} : { defaultProtocol: o.defaultProtocol ?? 'http' }),
      ...(o.defaultOriginRequest ? { defaultOriginRequest: o.defaultOriginRequest } : {}),
    },
  };
}

/**
 * The Cloudflare operator as rendered manifests show it: the IngressClass, its
 * TunnelIngressClassConfig and the tunnel's cloudflared Deployment (injected when its namespace is).
 */
export function operatorStack(o: { meshed?: boolean; ticc?: Parameters<typeof tunnelIngressClassConfig>[0] } = {}): Obj[] {
  return [
    namespace('cloudflare-operator-system', o.meshed === false ? {} : { 'istio-injection': 'enabled' }),
    ingressClass(),
    tunnelIngressClassConfig(o.ticc),
    operatorCloudflared(),
  ];
}

/** An Istio Gateway (networking.istio.io/v1) selecting ingress gateway pods. */
export function istioGateway(ns: string, name: string, selector: Labels = { istio: 'ingressgateway' }): Obj {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: ns },
    spec: { selector, servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
  };
}

/** A VirtualService routing every request to one destination. */
export function virtualService(
  ns: string,
  name: string,
  o: { gateways?: string[]; hosts?: string[]; host: string; port?: number; subset?: string },
): Obj {
  const destination = { host: o.host, ...(o.port !== undefined ? { port: { number: o.port } } : {}), ...(o.subset ? { subset: o.subset } : {}) };
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: ns },
    spec: { hosts: o.hosts ?? ['*'], ...(o.gateways ? { gateways: o.gateways } : {}), http: [{ route: [{ destination }] }] },
  };
}

// ---- TunnelBinding, Gateway API, Sidecar ---------------------------------------------------

export interface SubjectSpec {
  name: string;
  fqdn?: string;
  protocol?: string;
  target?: string;
  path?: string;
  noTlsVerify?: boolean;
  http2Origin?: boolean;
  caPool?: string;
}

/**
 * A TunnelBinding: the Cloudflare operator's group by default (`group: 'cfargotunnel'` for
 * adyanth's); `wrapped` nests subjects and tunnelRef under spec:, as some examples do (refused).
 */
export function tunnelBinding(
  ns: string,
  name: string,
  subjects: SubjectSpec[],
  o: { tunnelRef?: { kind: string; name: string }; group?: 'operator' | 'cfargotunnel'; wrapped?: boolean } = {},
): Obj {
  const list = subjects.map(({ name: subject, ...spec }) => ({ name: subject, ...(Object.keys(spec).length ? { spec } : {}) }));
  const body = { subjects: list, tunnelRef: o.tunnelRef ?? { kind: 'ClusterTunnel', name: 'main-tunnel' } };
  return {
    apiVersion: o.group === 'cfargotunnel' ? 'networking.cfargotunnel.com/v1alpha1' : 'networking.cloudflare-operator.io/v1alpha1',
    kind: 'TunnelBinding',
    metadata: { name, namespace: ns },
    ...(o.wrapped ? { spec: body } : body),
  };
}

/** The operator's Tunnel (namespaced) or ClusterTunnel, with the domain a subject without fqdn uses. */
export function operatorTunnel(kind: 'Tunnel' | 'ClusterTunnel', name: string, o: { namespace?: string; domain?: string; tunnelId?: string } = {}): Obj {
  return {
    apiVersion: 'networking.cloudflare-operator.io/v1alpha2',
    kind,
    metadata: { name, ...(kind === 'Tunnel' ? { namespace: o.namespace ?? 'default' } : {}) },
    spec: { newTunnel: { name }, cloudflare: { domain: o.domain ?? 'example.com', secret: 'cloudflare-secrets' } },
    ...(o.tunnelId ? { status: { tunnelId: o.tunnelId } } : {}),
  };
}

export function gatewayClass(name: string, controllerName: string, parametersRef?: Record<string, string>): Obj {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name }, spec: { controllerName, ...(parametersRef ? { parametersRef } : {}) } };
}

export function tunnelGatewayClassConfig(o: { name?: string; namespace?: string; tunnelRef?: { kind: string; name: string; namespace?: string }; defaultOriginRequest?: Record<string, unknown> } = {}): Obj {
  return {
    apiVersion: 'networking.cloudflare-operator.io/v1alpha2',
    kind: 'TunnelGatewayClassConfig',
    metadata: { name: o.name ?? 'cloudflare-gateway-config', namespace: o.namespace ?? 'cloudflare-operator-system' },
    spec: { tunnelRef: o.tunnelRef ?? { kind: 'ClusterTunnel', name: 'main-tunnel' }, ...(o.defaultOriginRequest ? { defaultOriginRequest: o.defaultOriginRequest } : {}) },
  };
}

/** The operator's GatewayClass and its TunnelGatewayClassConfig. */
export function operatorGatewayClass(o: { tunnelRef?: { kind: string; name: string; namespace?: string }; defaultOriginRequest?: Record<string, unknown> } = {}): Obj[] {
  return [
    gatewayClass('cloudflare-tunnel', 'cloudflare-operator.io/gateway-controller', {
      group: 'networking.cloudflare-operator.io',
      kind: 'TunnelGatewayClassConfig',
      name: 'cloudflare-gateway-config',
      namespace: 'cloudflare-operator-system',
    }),
    tunnelGatewayClassConfig(o),
  ];
}

/** A Gateway API Gateway (gateway.networking.k8s.io/v1), listeners admitting routes from every namespace. */
export function apiGateway(ns: string, name: string, className: string, listeners: Array<{ name: string; port: number; protocol?: string }> = [{ name: 'http', port: 80 }]): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: ns },
    spec: { gatewayClassName: className, listeners: listeners.map((l) => ({ name: l.name, port: l.port, protocol: l.protocol ?? 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } })) },
  };
}

export interface RouteRuleSpec {
  path?: string;
  pathType?: string;
  backends: Array<{ name: string; port?: number; namespace?: string }>;
}

export function httpRoute(ns: string, name: string, o: { parents: Array<{ name: string; namespace?: string; sectionName?: string }>; hostnames?: string[]; rules: RouteRuleSpec[] }): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns },
    spec: {
      parentRefs: o.parents,
      ...(o.hostnames ? { hostnames: o.hostnames } : {}),
      rules: o.rules.map((r) => ({
        ...(r.path !== undefined ? { matches: [{ path: { type: r.pathType ?? 'PathPrefix', value: r.path } }] } : {}),
        backendRefs: r.backends.map((b) => ({ name: b.name, ...(b.port !== undefined ? { port: b.port } : {}), ...(b.namespace ? { namespace: b.namespace } : {}) })),
      })),
    },
  };
}

/** An Istio Sidecar resource. */
export function sidecarResource(ns: string, name: string, o: { hosts?: string[]; selector?: Labels; mode?: 'ALLOW_ANY' | 'REGISTRY_ONLY'; port?: number; created?: string } = {}): Obj {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name, namespace: ns, ...(o.created ? { creationTimestamp: o.created } : {}) },
    spec: {
      ...(o.selector ? { workloadSelector: { labels: o.selector } } : {}),
      ...(o.hosts ? { egress: [{ ...(o.port ? { port: { number: o.port, protocol: 'HTTP', name: `http-${o.port}` } } : {}), hosts: o.hosts }] } : {}),
      ...(o.mode ? { outboundTrafficPolicy: { mode: o.mode } } : {}),
    },
  };
}

/**
 * A running pod as the injector leaves it with holdApplicationUntilProxyStarts: istio-proxy first,
 * with its postStart hook `pilot-agent wait` (so TM202 has nothing to say about it).
 */
export function heldUntilProxyStarts(p: Obj): Obj {
  const spec = structuredClone(p.spec) as { containers: Array<Record<string, unknown>> };
  const proxy = spec.containers.find((c) => c.name === 'istio-proxy');
  if (!proxy) return p;
  proxy.lifecycle = { postStart: { exec: { command: ['pilot-agent', 'wait'] } } };
  spec.containers = [proxy, ...spec.containers.filter((c) => c !== proxy)];
  return { ...p, spec };
}
