// Shared by the edge rules: pick the judged endpoints with a given outcome and group them
// into one finding per (Service, Service port), with the evidence chain that led there.

import type { RuleMatch } from '../model/destinationrule.js';
import { ruleKey, type ClientVerdicts, type TunnelEdge } from '../model/edges.js';
import { routeKey, type RouteEdge } from '../model/routes.js';
import { formatRef, refOf, type KObject, type ObjectRef, type ServicePort } from '../core/k8s.js';
import type { MeshModel } from '../model/model.js';
import type { TunnelConfig, TunnelRule } from '../model/tunnels.js';
import { describePod, workloadOf, type PodView } from '../model/pods.js';
import { declaredSpeech } from '../model/protocol.js';
import { isInboundCaptured } from '../model/capture.js';
import { formatServicePort, resolveTargetPort, type ServiceView } from '../model/services.js';
import { judgeEndpoint, type ClientContext, type EndpointVerdict } from '../model/traffic.js';

/** A judged path: a tunnel rule's, or a gateway route's (the hop after an ingress gateway). */
export type PathEdge = TunnelEdge | RouteEdge;

export function isRouteEdge(edge: PathEdge): edge is RouteEdge {
  return 'route' in edge;
}

export interface EdgeHit {
  edge: PathEdge;
  client: ClientVerdicts;
  endpoint: EndpointVerdict;
}

export interface HitGroup {
  key: string;
  hits: EdgeHit[];
}

/** Judged endpoints matching `pred`, grouped by Service port, in a stable order. */
export function groupHits(model: MeshModel, pred: (v: EndpointVerdict, hit: Omit<EdgeHit, 'endpoint'>) => boolean): HitGroup[] {
  const groups = new Map<string, EdgeHit[]>();
  const edges: PathEdge[] = [...model.tunnelEdges, ...model.routeEdges];
  for (const edge of edges) {
    for (const client of edge.clients) {
      for (const endpoint of client.endpoints) {
        if (!pred(endpoint, { edge, client })) continue;
        const key = `${edge.service.namespace}/${edge.service.name}:${edge.servicePort.port}`;
        const list = groups.get(key) ?? [];
        list.push({ edge, client, endpoint });
        groups.set(key, list);
      }
    }
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, hits]) => ({ key, hits }));
}

export function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** "a, b and c" */
export function listing(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

export function workloadNames(pods: PodView[]): string[] {
  return unique(pods.map((p) => formatRef(workloadOf(p))));
}

export function clientNames(hits: EdgeHit[]): string[] {
  return unique(hits.map((h) => h.client.group.context.label));
}

/** Distinct values of a key, keeping the first hit of each. */
export function distinctBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

/** Where a rule came from: the Ingress backend, TunnelBinding subject or HTTPRoute backend it is built from, or its operator source. */
export function ruleOrigin(rule: TunnelRule): string {
  if (rule.backend) return `${rule.backend.label} (${rule.backend.host}${rule.backend.path ? ` ${rule.backend.path}` : ''}, protocol level ${rule.backend.chain?.level ?? '?'})`;
  if (rule.written) return rule.written.label;
  const s = rule.source;
  if (!s) return '';
  const ref = `${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
  return s.kind === 'Ingress' ? `the Ingress rules of TunnelIngressClassConfig ${ref}` : `${s.kind} ${ref}`;
}

export function ruleLine(edge: { tunnel: TunnelConfig; rule: TunnelRule }): string {
  const r = edge.rule;
  const host = r.hostname ?? '*';
  const path = r.path ? ` path ${r.path}` : '';
  const origin = ruleOrigin(r);
  const where = edge.tunnel.predicted ? `predicted for ${edge.tunnel.label}` : `in ${edge.tunnel.label} (${edge.tunnel.key})`;
  return `tunnel rule #${r.index} ${where}: ${host}${path} → ${r.service}${origin ? ` (from ${origin})` : ''}`;
}

/** `VirtualService app/x http[0].route[0] (through Gateway istio-system/gw): hosts → reviews:9080` */
export function routeLine(edge: RouteEdge): string {
  const vs = edge.route;
  const hosts = edge.hosts.join(', ') || '*';
  const subset = edge.subset ? ` subset ${edge.subset}` : '';
  return `${formatRef(refOf(vs))} ${edge.path} through Gateway ${edge.gateway.namespace}/${edge.gateway.name}: ${hosts} → ${edge.service.fqdn}:${edge.servicePort.port}${subset}`;
}

/** Where a path edge comes from: its tunnel rule or its gateway route. */
export function pathLine(edge: PathEdge): string {
  return isRouteEdge(edge) ? routeLine(edge) : ruleLine(edge);
}

/** The rule keys of a group of hits (FindingDraft.edges); gateway routes have keys of their own. */
export function hitEdges(hits: Array<{ edge: PathEdge }>): string[] {
  return unique(
    hits.map((h) =>
      isRouteEdge(h.edge) ? routeKey(h.edge) : ruleKey(h.edge.tunnel, h.edge.rule),
    ),
  );
}

export function serviceLine(edge: { service: ServiceView; servicePort: ServicePort }, endpoint: EndpointVerdict): string {
  const sp = edge.servicePort;
  const target = endpoint.targetPortNote ?? `targetPort ${endpoint.targetPort ?? '?'}`;
  return `Service ${edge.service.namespace}/${edge.service.name} port ${formatServicePort(sp)} → ${target} on ${describePod(endpoint.pod)}`;
}

/** The evidence chain of one hit: rule, client, what it sends and why, the target side. */
export function hitEvidence(hit: EdgeHit): string[] {
  const { edge, endpoint } = hit;
  const lines = [pathLine(edge), `client: ${isRouteEdge(edge) ? edge.clientEvidence : edge.tunnel.connectorEvidence}`];
  lines.push(...endpoint.sends.steps);
  if (endpoint.sends.condition) lines.push(`note: ${endpoint.sends.condition}`);
  lines.push(serviceLine(edge, endpoint));
  if (endpoint.captured !== undefined) {
    lines.push(
      `target sidecar: ${endpoint.pod.sidecar.reason}; port ${endpoint.targetPort} ${endpoint.captured ? 'captured' : 'NOT captured'} (${endpoint.pod.inbound.source})`,
    );
    lines.push(...endpoint.pod.inbound.notes);
  } else {
    lines.push(`target: ${endpoint.pod.sidecar.reason}`);
  }
  if (endpoint.server) lines.push(...endpoint.server.steps.map((s) => `accepts: ${s}`));
  lines.push(`result: ${endpoint.why}`);
  return lines;
}

/** Evidence for a group: the full chain of the first hit, then who else is affected. */
export function groupEvidence(hits: EdgeHit[]): string[] {
  const first = hits[0] as EdgeHit;
  const lines = hitEvidence(first);
  const otherPods = unique(hits.slice(1).map((h) => h.endpoint.pod)).filter((p) => p !== first.endpoint.pod);
  if (otherPods.length) lines.push(`also affected: ${listing(otherPods.slice(0, 10).map(describePod))}${otherPods.length > 10 ? ` and ${otherPods.length - 10} more` : ''}`);
  const otherRules = unique(hits.map((h) => h.edge)).filter((e) => e !== first.edge);
  for (const e of otherRules.slice(0, 5)) lines.push(`also via ${pathLine(e)}`);
  return lines;
}

/** Identity of a DestinationRule lookup result (fixes are made once per distinct rule in force). */
export function matchKey(match: RuleMatch | undefined): string {
  const rule = match?.rules[0]?.rule;
  return rule ? `${match.step}:${rule.metadata.namespace}/${rule.metadata.name}` : 'none';
}

export function serviceRef(edge: { service: ServiceView }): ObjectRef {
  return { kind: 'Service', namespace: edge.service.namespace, name: edge.service.name };
}

/** Namespaces a group touches besides the Service's (the clients'), for -n. */
export function hitNamespaces(hits: EdgeHit[]): string[] {
  return unique(hits.flatMap((h) => [h.client.group.context.pod?.namespace ?? h.client.group.context.namespace, h.endpoint.pod.namespace].filter((n): n is string => n !== undefined)));
}

export interface StaticHit {
  service: ServiceView;
  servicePort: ServicePort;
  client: ClientContext;
  endpoint: EndpointVerdict;
}

/**
 * Judges every Service port and backend for clients that are not tunnel connectors: `any`
 * meshed client (rules exported to everyone), or a client in a given namespace.
 */
export function staticHits(
  model: MeshModel,
  clients: ClientContext[] | ((service: ServiceView) => ClientContext[]),
  pred: (v: EndpointVerdict) => boolean,
  /** A cheap test that an endpoint could satisfy `pred` at all: the full judgement is skipped otherwise. */
  candidate: (service: ServiceView, servicePort: ServicePort, pod: PodView) => boolean = () => true,
): Map<string, StaticHit[]> {
  const out = new Map<string, StaticHit[]>();
  for (const service of model.services) {
    const backends = model.backendsOf(service);
    if (backends.length === 0) continue;
    const forService = typeof clients === 'function' ? clients(service) : clients;
    for (const servicePort of service.ports) {
      for (const pod of backends) {
        if (!candidate(service, servicePort, pod)) continue;
        for (const client of forService) {
          const endpoint = judgeEndpoint(model, client, service, servicePort, pod);
          if (!pred(endpoint)) continue;
          const key = `${service.namespace}/${service.name}:${servicePort.port}`;
          const list = out.get(key) ?? [];
          list.push({ service, servicePort, client, endpoint });
          out.set(key, list);
        }
      }
    }
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export const ANY_MESHED_CLIENT: ClientContext = { label: 'any meshed client' };

/** Could mTLS to this endpoint reach the application itself (a sidecar that does not capture the target port)? */
export function uncapturedSidecarPort(_service: ServiceView, servicePort: ServicePort, pod: PodView): boolean {
  if (pod.sidecar.state !== 'present' || pod.sidecar.kind === 'gateway') return false;
  const tp = resolveTargetPort(servicePort, pod);
  return tp.port !== undefined && !isInboundCaptured(pod.inbound, tp.port);
}

/** The lines that say where a tunnel rule comes from and, for an operator rule, how its scheme was decided. */
export function ruleEvidence(tunnel: TunnelConfig, rule: TunnelRule): string[] {
  const lines = [ruleLine({ tunnel, rule })];
  if (tunnel.predicted) lines.push(`${tunnel.label}: no tunnel config for it is in the input, so this is the rule ${rule.written ? 'the operator writes' : "the operator's chain resolves"}`);
  const b = rule.backend;
  if (b?.chain) lines.push(`operator protocol chain for ${b.label} port ${b.port.port}: level ${b.chain.level} decides ${b.chain.protocol} (${b.chain.source})`);
  const w = rule.written;
  if (w) {
    if (w.protocol.source) lines.push(`${w.label}: ${w.protocol.source}`);
    if (w.hostnameAssumed) lines.push(`${w.label}: ${w.hostnameAssumed}`);
    for (const d of w.dropped) lines.push(`${w.label}: not written: ${d}`);
  }
  return lines;
}

/** The object a rule comes from, for source positions and suppression: the Ingress, TunnelBinding or HTTPRoute that writes it, else its config. */
export function ruleObject(tunnel: TunnelConfig, rule: TunnelRule): KObject {
  return rule.backend?.ingress ?? rule.written?.writer ?? tunnel.object;
}

/** `Service app/x port 8080 (http): Istio protocol HTTP (port name "http")` */
export function portEvidence(svc: ServiceView, sp: ServicePort): string {
  return `Service ${svc.namespace}/${svc.name} port ${formatServicePort(sp)}${sp.appProtocol ? ` appProtocol ${sp.appProtocol}` : ''}: ${declaredSpeech(sp).source}`;
}

/** Tunnel edges grouped by Service port, in a stable order. */
export function edgesByServicePort(edges: TunnelEdge[]): TunnelEdge[][] {
  const groups = new Map<string, TunnelEdge[]>();
  for (const e of edges) {
    const key = `${e.service.namespace}/${e.service.name}:${e.servicePort.port}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, list]) => list);
}

/** "rule #0 of ConfigMap ns/x (admin.example.com)" */
export function ruleName(edge: { tunnel: TunnelConfig; rule: TunnelRule }): string {
  const r = edge.rule;
  return `rule #${r.index} ${edge.tunnel.predicted ? 'predicted for' : 'of'} ${edge.tunnel.label} (${r.hostname ?? '*'}${r.path ? ` ${r.path}` : ''})`;
}

/** Namespaces of the objects an edge involves (for -n). */
export function edgeNamespaces(edges: TunnelEdge[]): string[] {
  return unique(
    edges.flatMap((e) => [
      e.service.namespace,
      e.tunnel.namespace,
      ...(e.rule.backend ? [e.rule.backend.namespace] : []),
      ...(e.rule.written ? [e.rule.written.namespace] : []),
      ...e.tunnel.connectors.map((c) => c.namespace),
    ]),
  );
}

/** Edges whose rules come from one place (an Ingress backend's port, or one rule) need one fix. */
export function ruleSourceKey(e: { tunnel: TunnelConfig; rule: TunnelRule }): string {
  const b = e.rule.backend;
  if (b) return `${b.label}:${b.port.port}`;
  const w = e.rule.written;
  if (w) return w.at.kind === 'subject' ? `${w.label}` : `${w.writerKind} ${w.namespace}/${w.writer.metadata.name}#${w.at.rule}/${w.at.backend}`;
  return ruleKey(e.tunnel, e.rule);
}
