// Mesh edges through an Istio ingress gateway: a VirtualService bound to an Istio Gateway, or an
// HTTPRoute attached to a Gateway API Gateway Istio deploys (gateway-api.ts), routes the gateway's
// proxy to a Service port. The gateway is an Envoy with auto mTLS, so it is judged as a meshed
// client exactly like a cloudflared with a sidecar (domain §1, §4), its DestinationRules looked
// up from its own namespace. A tunnel that points at the gateway's Service is judged ok up to the
// gateway; these edges judge the hop after it.

import { objectsOfKind } from '../core/snapshot.js';
import { GATEWAY_NAME_LABEL, type IstioGateway } from './gateway-api.js';
import { hostMatches, resolveHost, serviceOfHost } from './destinationrule.js';
import { groupClients, type ClientGroup, type ClientVerdicts, type EdgeGap } from './edges.js';
import { formatRef, refOf, type HTTPRoute, type KObject, type ServicePort, type StringMap, type VirtualService } from '../core/k8s.js';
import { matchesLabels } from '../core/labels.js';
import type { MeshIndex } from './indexes.js';
import type { PodView } from './pods.js';
import type { ServiceView } from './services.js';
import { judgeEndpoint, type ClientContext } from './traffic.js';
import { routeDestinations } from './virtualservice.js';

const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export interface RouteEdge {
  /** The VirtualService or HTTPRoute that routes. */
  route: VirtualService | HTTPRoute;
  /** `http[0].route[1]` in the VirtualService, `rules[0].backendRefs[1]` in the HTTPRoute. */
  path: string;
  /** The hostnames the route takes (VirtualService hosts, HTTPRoute hostnames; empty: any). */
  hosts: string[];
  /** The Gateway the route is bound to (`namespace/name`), an Istio Gateway or a Gateway API one. */
  gateway: { namespace: string; name: string; selector: StringMap };
  /** How the gateway's proxies were found: evidence for the findings. */
  clientEvidence: string;
  service: ServiceView;
  servicePort: ServicePort;
  subset?: string;
  clients: ClientVerdicts[];
}

export interface RouteEdges {
  edges: RouteEdge[];
  gaps: EdgeGap[];
}

interface GatewayRef {
  namespace: string;
  name: string;
}

/** `gateways:` entries: `name` (the VirtualService's namespace), `ns/name`; `mesh` means sidecars, not a gateway. */
function gatewayRefs(vs: VirtualService): GatewayRef[] {
  const out: GatewayRef[] = [];
  for (const g of vs.spec?.gateways ?? []) {
    if (typeof g !== 'string' || g === 'mesh' || g === '') continue;
    const slash = g.indexOf('/');
    out.push(slash < 0 ? { namespace: vs.metadata.namespace ?? 'default', name: g } : { namespace: g.slice(0, slash), name: g.slice(slash + 1) });
  }
  return out;
}

function selectorOf(gw: KObject): StringMap | undefined {
  const selector = (gw.spec as { selector?: unknown } | undefined)?.selector;
  if (!selector || typeof selector !== 'object' || Array.isArray(selector)) return undefined;
  const out: StringMap = {};
  for (const [k, v] of Object.entries(selector)) if (typeof v === 'string') out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

function describeSelector(selector: StringMap): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * The gateway's proxies as clients. Istio matches a Gateway's selector against pods in every
 * namespace. When none is in the input (CI manifests of one app rarely hold the gateway), the
 * client is "a gateway proxy in the Gateway's namespace": it still sends auto mTLS, and the
 * Gateway's namespace is where its DestinationRules are looked up first (where gateways
 * usually run; the evidence says it is assumed). Selected pods without a proxy are not a
 * gateway: nothing is judged.
 */
function gatewayClients(model: MeshIndex, gw: GatewayRef, selector: StringMap): { groups: ClientGroup[]; evidence: string } | undefined {
  const what = `Gateway ${gw.namespace}/${gw.name} (selector ${describeSelector(selector)})`;
  const selected = model.pods.filter((p) => matchesLabels(selector, p.labels));
  const proxies = selected.filter((p) => p.sidecar.state === 'present');
  if (proxies.length > 0) {
    return { groups: groupClients(proxies, 'ingress gateway'), evidence: `${what} selects ${proxies.length} proxy pod${proxies.length === 1 ? '' : 's'}` };
  }
  if (selected.length > 0) return undefined;
  const context: ClientContext = { namespace: gw.namespace, label: `the ingress gateway of ${what}` };
  return {
    groups: [{ context, pods: [], workload: { kind: 'Gateway', namespace: gw.namespace, name: gw.name } }],
    evidence: `${what}: its proxy pods are not among the pods collected; judged as a gateway proxy in namespace ${gw.namespace} (assumed)`,
  };
}

export function buildRouteEdges(model: MeshIndex): RouteEdges {
  const edges: RouteEdge[] = [];
  const gaps: EdgeGap[] = [];
  const gateways = new Map<string, KObject>();
  // Many VirtualServices share one Gateway: its proxies are found once.
  const clientsByGateway = new Map<string, ReturnType<typeof gatewayClients>>();
  for (const gw of objectsOfKind(model.snapshot, 'Gateway')) gateways.set(`${gw.metadata.namespace ?? 'default'}/${gw.metadata.name}`, gw);
  for (const vs of objectsOfKind(model.snapshot, 'VirtualService')) {
    const vsNamespace = vs.metadata.namespace ?? 'default';
    for (const ref of gatewayRefs(vs)) {
      const gwKey = `${ref.namespace}/${ref.name}`;
      const gw = gateways.get(gwKey);
      const selector = gw && selectorOf(gw);
      if (!selector) continue; // TM4xx rules speak of references that lead nowhere; nothing to judge here
      if (!clientsByGateway.has(gwKey)) clientsByGateway.set(gwKey, gatewayClients(model, ref, selector));
      const found = clientsByGateway.get(gwKey);
      if (!found) continue;
      for (const { path, destination } of routeDestinations(vs)) {
        const host = resolveHost(destination.host, vsNamespace, model.clusterDomain);
        const named = serviceOfHost(host, model.clusterDomain);
        const service = named && model.service(named.namespace, named.name);
        if (!service) continue;
        const servicePort = routePort(service, destination.port?.number);
        if (!servicePort) continue;
        const where = `${formatRef(refOf(vs))} ${path}`;
        const podsUnseen = model.incompleteFor('Pod', [service.namespace]);
        if (podsUnseen) {
          gaps.push({ namespace: service.namespace, edge: 'gateway-route', key: routeKey({ route: vs, path }), text: `${where} (gateway → ${service.namespace}/${service.name}:${servicePort.port}) not judged: Pods ${podsUnseen}` });
          continue;
        }
        const subset = destination.subset;
        const backends = subset ? subsetBackends(model, found.groups[0]?.context, service, subset) : model.backendsOf(service);
        if (!backends) continue; // an undefined subset routes nowhere (503 NR): TM402 says so
        edges.push({
          route: vs,
          path,
          hosts: (vs.spec?.hosts ?? []).filter((h): h is string => typeof h === 'string'),
          gateway: { ...ref, selector },
          clientEvidence: found.evidence,
          service,
          servicePort,
          ...(subset ? { subset } : {}),
          clients: found.groups.map((group) => {
            const context: ClientContext = subset ? { ...group.context, subset } : group.context;
            return { group, endpoints: backends.map((pod) => judgeEndpoint(model, context, service, servicePort, pod)) };
          }),
        });
      }
    }
  }
  buildHttpRouteEdges(model, edges, gaps);
  return { edges, gaps };
}

/**
 * Does a parentRef attach the route to the Gateway, as the Gateway API (and Istio) reads it:
 * group and kind default to the Gateway API's Gateway, the namespace to the route's; a
 * sectionName must name a listener; the listener's allowedRoutes (default: the Gateway's own
 * namespace) must admit the route's namespace.
 */
function attaches(model: MeshIndex, route: HTTPRoute, g: IstioGateway): { ok: boolean; why?: string } {
  const gw = g.gateway;
  const rns = route.metadata.namespace as string;
  for (const p of route.spec?.parentRefs ?? []) {
    if ((p.group ?? GATEWAY_API_GROUP) !== GATEWAY_API_GROUP || (p.kind ?? 'Gateway') !== 'Gateway') continue;
    if (p.name !== gw.metadata.name || (p.namespace ?? rns) !== g.namespace) continue;
    const listeners = (gw.spec?.listeners ?? []).filter((l) => (p.sectionName === undefined || l.name === p.sectionName) && (p.port === undefined || l.port === p.port));
    if (listeners.length === 0) return { ok: false, why: `parentRef sectionName ${p.sectionName ?? ''}${p.port ? ` port ${p.port}` : ''} names no listener of ${g.label}` };
    const admitted = listeners.some((l) => {
      const from = l.allowedRoutes?.namespaces;
      const mode = from?.from ?? 'Same';
      if (mode === 'All') return true;
      if (mode === 'Same') return rns === g.namespace;
      const labels = model.namespaces.get(rns)?.metadata.labels;
      return labels !== undefined && matchesLabels(from?.selector?.matchLabels ?? {}, labels);
    });
    return admitted ? { ok: true } : { ok: false, why: `no listener of ${g.label} admits routes from namespace ${rns} (allowedRoutes.namespaces.from defaults to Same)` };
  }
  return { ok: false };
}

/** HTTPRoutes attached to Gateways Istio deploys: the gateway's proxies are clients of each backendRef. */
function buildHttpRouteEdges(model: MeshIndex, edges: RouteEdge[], gaps: EdgeGap[]): void {
  const routes = objectsOfKind(model.snapshot, 'HTTPRoute');
  for (const g of model.istioGateways) {
    const selector = { [GATEWAY_NAME_LABEL]: g.gateway.metadata.name };
    const found = istioGatewayClients(model, g);
    for (const route of routes) {
      const attached = attaches(model, route, g);
      if (!attached.ok) continue; // not attached: Istio routes nothing of it through this Gateway
      const rns = route.metadata.namespace as string;
      (route.spec?.rules ?? []).forEach((rule, ri) => {
        (rule.backendRefs ?? []).forEach((b, bi) => {
          if ((b.group ?? '') !== '' || (b.kind ?? 'Service') !== 'Service') return;
          const path = `rules[${ri}].backendRefs[${bi}]`;
          const where = `${formatRef(refOf(route))} ${path}`;
          const ns = b.namespace ?? rns;
          if (ns !== rns) {
            // Istio honours a cross-namespace backendRef only with a ReferenceGrant there, which tunnelmesh does not read.
            gaps.push({ namespace: ns, edge: 'gateway-route', key: routeKey({ route, path }), text: `${where} (gateway → ${ns}/${b.name}) not judged: a backendRef to another namespace needs a ReferenceGrant in ${ns}, which tunnelmesh does not read` });
            return;
          }
          const service = model.service(ns, b.name);
          if (!service) return;
          const servicePort = b.port === undefined ? undefined : service.ports.find((p) => p.port === b.port);
          if (!servicePort) return; // a Service backendRef without port is invalid for Istio; a port the Service lacks routes nowhere
          const podsUnseen = model.incompleteFor('Pod', [service.namespace]);
          if (podsUnseen) {
            gaps.push({ namespace: service.namespace, edge: 'gateway-route', key: routeKey({ route, path }), text: `${where} (gateway → ${service.namespace}/${service.name}:${servicePort.port}) not judged: Pods ${podsUnseen}` });
            return;
          }
          if (!found) return;
          const backends = model.backendsOf(service);
          edges.push({
            route,
            path,
            hosts: route.spec?.hostnames ?? [],
            gateway: { namespace: g.namespace, name: g.gateway.metadata.name, selector },
            clientEvidence: found.evidence,
            service,
            servicePort,
            clients: found.groups.map((group) => ({ group, endpoints: backends.map((pod) => judgeEndpoint(model, group.context, service, servicePort, pod)) })),
          });
        });
      });
    }
  }
}

/** The proxies of an Istio Gateway API Gateway as clients (predicted in rendered manifests; assumed when its pods were not seen). */
function istioGatewayClients(model: MeshIndex, g: IstioGateway): { groups: ClientGroup[]; evidence: string } | undefined {
  if (g.pods.length > 0) return { groups: groupClients(g.pods, 'istio gateway'), evidence: g.evidence };
  const unseen = model.incompleteFor('Pod', [g.namespace]);
  if (!unseen) return undefined; // its pods were listed and none runs: nothing sends
  const context: ClientContext = { namespace: g.namespace, label: `the gateway proxy of ${g.label}` };
  return {
    groups: [{ context, pods: [], workload: { kind: 'Gateway', namespace: g.namespace, name: g.gateway.metadata.name } }],
    evidence: `${g.evidence}; Pods ${unseen}: judged as a gateway proxy in namespace ${g.namespace} (assumed)`,
  };
}

/** Identity of one gateway route (findings carry it, like a tunnel rule's key). */
export function routeKey(edge: Pick<RouteEdge, 'route' | 'path'>): string {
  return `${formatRef(refOf(edge.route))}#${edge.path}`;
}

/**
 * The gateway routes a request continues on when a tunnel edge ends at gateway proxies: routes
 * of those proxies whose VirtualService hosts take the request's Host (any host when the tunnel
 * rule has none).
 */
export function onwardRoutes(routeEdges: readonly RouteEdge[], proxies: ReadonlySet<unknown>, host: string | undefined): RouteEdge[] {
  if (proxies.size === 0) return [];
  return routeEdges.filter(
    (e) =>
      e.clients.some((c) => c.group.pods.some((p) => proxies.has(p))) &&
      (host === undefined || e.hosts.length === 0 || e.hosts.some((h) => hostMatches(h.toLowerCase(), host.toLowerCase()))),
  );
}

/**
 * A route to a subset reaches only the Service's pods with the subset's labels, as the
 * DestinationRule the gateway sees defines them; undefined when no rule it sees defines it.
 */
function subsetBackends(model: MeshIndex, client: ClientContext | undefined, service: ServiceView, subset: string): PodView[] | undefined {
  const namespace = client?.pod?.namespace ?? client?.namespace;
  const match = namespace === undefined ? undefined : model.destinationRules.lookup({ namespace, ...(client?.pod ? { labels: client.pod.labels } : {}) }, service.fqdn, service.namespace);
  const defined = match?.rules.flatMap((r) => r.rule.spec.subsets ?? []).find((s) => s.name === subset);
  if (!defined) return undefined;
  return model.backendsOf(service).filter((p) => matchesLabels(defined.labels ?? {}, p.labels));
}

/** A destination names its port, or the Service has exactly one (Istio's rule for omitting it). */
function routePort(service: ServiceView, port: number | undefined): ServicePort | undefined {
  if (port === undefined) return service.ports.length === 1 ? service.ports[0] : undefined;
  return service.ports.find((p) => p.port === port);
}
