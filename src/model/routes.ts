// Mesh edges through an Istio ingress gateway: a VirtualService bound to a Gateway routes the
// gateway's proxy to a Service port. The gateway is an Envoy with auto mTLS, so it is judged as a
// meshed client exactly like a cloudflared with a sidecar (domain §1, §4). A tunnel that points
// at the gateway's Service is judged ok up to the gateway; these edges judge the hop after it.

import { objectsOfKind } from '../core/snapshot.js';
import { hostMatches, resolveHost, serviceOfHost } from './destinationrule.js';
import { groupClients, type ClientGroup, type ClientVerdicts, type EdgeGap } from './edges.js';
import { formatRef, refOf, type KObject, type ServicePort, type StringMap, type VirtualService } from '../core/k8s.js';
import { matchesLabels } from '../core/labels.js';
import type { MeshIndex } from './indexes.js';
import type { PodView } from './pods.js';
import type { ServiceView } from './services.js';
import { judgeEndpoint, type ClientContext } from './traffic.js';
import { routeDestinations } from './virtualservice.js';

export interface RouteEdge {
  virtualService: VirtualService;
  /** `http[0].route[1]` in the VirtualService. */
  path: string;
  /** The Gateway the VirtualService is bound to (`namespace/name`). */
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
          gaps.push({ namespace: service.namespace, edge: 'gateway-route', key: routeKey({ virtualService: vs, path }), text: `${where} (gateway → ${service.namespace}/${service.name}:${servicePort.port}) not judged: Pods ${podsUnseen}` });
          continue;
        }
        const subset = destination.subset;
        const backends = subset ? subsetBackends(model, found.groups[0]?.context, service, subset) : model.backendsOf(service);
        if (!backends) continue; // an undefined subset routes nowhere (503 NR): TM402 says so
        edges.push({
          virtualService: vs,
          path,
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
  return { edges, gaps };
}

/** Identity of one gateway route (findings carry it, like a tunnel rule's key). */
export function routeKey(edge: Pick<RouteEdge, 'virtualService' | 'path'>): string {
  return `${formatRef(refOf(edge.virtualService))}#${edge.path}`;
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
      (host === undefined || (e.virtualService.spec?.hosts ?? ['*']).some((h) => typeof h === 'string' && hostMatches(h.toLowerCase(), host.toLowerCase()))),
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
