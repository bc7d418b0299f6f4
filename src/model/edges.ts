// Tunnel edges: each tunnel rule that points at a Service port in the cluster, with every
// distinct client (cloudflared workload) judged against every endpoint pod.

import type { ObjectRef, ServicePort } from '../core/k8s.js';
import type { MeshIndex } from './indexes.js';
import { describePod, workloadOf, type PodView } from './pods.js';
import { findServicePort, type ServiceView } from './services.js';
import { judgeEndpoint, type ClientContext, type EndpointVerdict } from './traffic.js';
import { serviceKind } from './cloudflared.js';
import {
  parseOriginUrl,
  serviceAddress,
  type OriginUrl,
  type ServiceAddress,
  type TunnelConfig,
  type TunnelRule,
} from './tunnels.js';

export interface ClientGroup {
  /** A representative pod, or none when the client's pods are not in the input (a gateway known by its Gateway only). */
  context: ClientContext;
  pods: PodView[];
  workload: ObjectRef;
}

/** Clients found as pods (tunnel connectors always are). */
export interface PodClientGroup extends ClientGroup {
  context: ClientContext & { pod: PodView };
}

export interface ClientVerdicts<G extends ClientGroup = ClientGroup> {
  group: G;
  endpoints: EndpointVerdict[];
}

export interface TunnelEdge {
  tunnel: TunnelConfig;
  rule: TunnelRule;
  url: OriginUrl;
  address: ServiceAddress;
  service: ServiceView;
  servicePort: ServicePort;
  clients: Array<ClientVerdicts<PodClientGroup>>;
}

export type RuleTarget =
  | { kind: 'service'; url: OriginUrl; address: ServiceAddress; service: ServiceView; servicePort: ServicePort }
  | { kind: 'no-service'; url: OriginUrl; address: ServiceAddress }
  | { kind: 'no-port'; url: OriginUrl; address: ServiceAddress; service: ServiceView }
  | { kind: 'external'; url: OriginUrl }
  /** The Service was not found, but Services there were not all seen (live, partial RBAC). */
  | { kind: 'unseen'; url: OriginUrl; address: ServiceAddress; why: string }
  | { kind: 'special' }
  | { kind: 'unparsable' };

/** Identity of one tunnel rule: findings carry it so a view of one backend finds its findings. */
export function ruleKey(tunnel: TunnelConfig, rule: TunnelRule): string {
  return `${tunnel.label}#${rule.index}`;
}

/** Where a rule's service URL leads inside the cluster (or that it leads elsewhere). */
export function resolveRuleTarget(model: MeshIndex, tunnel: TunnelConfig, rule: TunnelRule): RuleTarget {
  const kind = serviceKind(rule.service, rule.originRequest, tunnel.originRequest);
  if (kind.kind === 'special') return { kind: 'special' };
  const url = kind.kind === 'invalid' ? undefined : parseOriginUrl(rule.service);
  if (!url) return { kind: 'unparsable' };
  const connectorNs = tunnel.connectors[0]?.namespace ?? tunnel.namespace;
  const byIp = model.serviceByClusterIP(url.host);
  const address = byIp
    ? { name: byIp.name, namespace: byIp.namespace, form: `ClusterIP ${url.host}` }
    : serviceAddress(url.host, connectorNs, model.clusterDomain);
  if (!address) return { kind: 'external', url };
  const service = model.service(address.namespace, address.name);
  if (!service) {
    const unseen = model.unseen('Service', address.namespace);
    if (unseen && (address.form !== 'name.namespace' || model.namespaces.has(address.namespace) || model.unseen('Namespace'))) {
      return { kind: 'unseen', url, address, why: `Services ${unseen}` };
    }
    // `name.namespace` is also how an external domain looks: only a known namespace makes it ours.
    const looksInternal = address.form !== 'name.namespace' || model.namespaces.has(address.namespace);
    return looksInternal ? { kind: 'no-service', url, address } : { kind: 'external', url };
  }
  const servicePort = url.port === undefined ? undefined : findServicePort(service, url.port);
  if (!servicePort) return { kind: 'no-port', url, address, service };
  return { kind: 'service', url, address, service, servicePort };
}

/** Clients (connectors, gateway proxies) with the same workload and the same sidecar situation are one client. */
export function groupClients(pods: PodView[], role = 'cloudflared'): PodClientGroup[] {
  const groups = new Map<string, PodClientGroup>();
  for (const pod of pods) {
    const workload = workloadOf(pod);
    const key = `${workload.kind}/${workload.namespace}/${workload.name}|${pod.sidecar.state}|${pod.sidecar.ambient}|${pod.outbound.source}`;
    const existing = groups.get(key);
    if (existing) existing.pods.push(pod);
    else {
      const label = pod.owner ? `${role} ${workload.kind} ${workload.namespace}/${workload.name}` : `${role} ${describePod(pod)}`;
      groups.set(key, { context: { pod, namespace: pod.namespace, label }, pods: [pod], workload });
    }
  }
  return [...groups.values()];
}

/** A tunnel rule or edge whose evidence was not seen (the report says it was not judged, and why). */
export interface EdgeGap {
  /** Namespace of the Service the rule targets (for -n). */
  namespace: string;
  /** What was not judged: a tunnel rule (`ruleKey`) or a gateway route (`routeKey`). */
  edge: 'tunnel-rule' | 'gateway-route';
  key: string;
  text: string;
}

export interface TunnelEdges {
  edges: TunnelEdge[];
  gaps: EdgeGap[];
}

export function buildTunnelEdges(model: MeshIndex, tunnels: readonly TunnelConfig[]): TunnelEdges {
  const edges: TunnelEdge[] = [];
  const gaps: EdgeGap[] = [];
  for (const tunnel of tunnels) {
    const clients = groupClients(tunnel.connectors);
    for (const rule of tunnel.rules) {
      // The operator repeats a TunnelBinding's rules under every binding of its tunnel: the first copy is the edge.
      if (rule.written?.rule && rule.written.rule !== rule) continue;
      const target = resolveRuleTarget(model, tunnel, rule);
      if (target.kind === 'unseen') {
        gaps.push({ namespace: target.address.namespace, edge: 'tunnel-rule', key: ruleKey(tunnel, rule), text: `${tunnel.label} rule #${rule.index} (${rule.hostname ?? '*'} → ${rule.service}) not judged: ${target.why}` });
        continue;
      }
      if (target.kind !== 'service') continue;
      const podsUnseen = model.incompleteFor('Pod', [target.service.namespace]);
      if (podsUnseen) {
        const key = `${target.service.namespace}/${target.service.name}:${target.servicePort.port}`;
        gaps.push({ namespace: target.service.namespace, edge: 'tunnel-rule', key: ruleKey(tunnel, rule), text: `edge to ${key} not judged: Pods ${podsUnseen}, so its endpoints are not known` });
        continue;
      }
      const backends = model.backendsOf(target.service);
      edges.push({
        tunnel,
        rule,
        url: target.url,
        address: target.address,
        service: target.service,
        servicePort: target.servicePort,
        clients: clients.map((group) => ({
          group,
          endpoints: backends.map((pod) => judgeEndpoint(model, group.context, target.service, target.servicePort, pod, target.url.scheme)),
        })),
      });
    }
  }
  return { edges, gaps };
}
