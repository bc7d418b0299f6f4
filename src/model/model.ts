// The model every rule reads: the object indexes (MeshIndex) plus what the resolver derives from
// them — tunnel configs (real and predicted), the Cloudflare operator's reading of the Ingresses,
// and the judged edges. The resolver modules read the indexes; they never import this one.

import { CFARGOTUNNEL_BINDING, GATEWAY_API_GATEWAY } from '../core/kinds.js';
import { objectsOfKind, type Snapshot } from '../core/snapshot.js';
import type { SourcesContext } from './operator-sources.js';
import { CONNECTOR_SELECTOR, OPERATOR_NAMESPACE } from '../core/wellknown.js';
import { buildTunnelEdges, type EdgeGap, type TunnelEdges, type TunnelEdge } from './edges.js';
import { MeshIndex, type ModelOptions } from './indexes.js';
import { buildOperatorView, type OperatorView } from './operator-view.js';
import { buildRouteEdges, type RouteEdge, type RouteEdges } from './routes.js';
import { ENVOY_DUMP_KIND } from '../core/envoy-dump.js';
import { ProxyDumps } from './envoy/match.js';
import { discoverTunnels, type TunnelConfig } from './tunnels.js';

export { MeshIndex, type ModelOptions, type RuleTarget } from './indexes.js';

export class MeshModel extends MeshIndex {
  /** Tunnel configs in the input, then the configs the operator would write where none is (predicted). */
  readonly tunnels: TunnelConfig[];
  /** The Cloudflare operator's reading of the Ingresses, TunnelBindings and HTTPRoutes: the rules each writes, and how. */
  readonly operator: OperatorView;
  private edgeCache?: TunnelEdges;
  private routeCache?: RouteEdges;
  private dumpCache?: ProxyDumps;

  constructor(snapshot: Snapshot, opts: ModelOptions = {}) {
    super(snapshot, opts);
    const discovered = discoverTunnels(objectsOfKind(snapshot, 'ConfigMap'), this.pods);
    const live = this.fromCluster;
    const sources: SourcesContext = {
      service: (ns, name) => this.service(ns, name),
      servicesCollected: (ns) => this.servicesCollected(ns),
      tunnels: [...objectsOfKind(snapshot, 'Tunnel'), ...objectsOfKind(snapshot, 'ClusterTunnel')],
      complete: (kind, ns) => live && this.unseen(kind, ns) === undefined,
    };
    this.operator = buildOperatorView({
      bindings: [...objectsOfKind(snapshot, 'TunnelBinding'), ...objectsOfKind(snapshot, CFARGOTUNNEL_BINDING)],
      routes: objectsOfKind(snapshot, 'HTTPRoute'),
      gateways: objectsOfKind(snapshot, GATEWAY_API_GATEWAY),
      gatewayClasses: objectsOfKind(snapshot, 'GatewayClass'),
      gatewayConfigs: objectsOfKind(snapshot, 'TunnelGatewayClassConfig'),
      operatorTunnels: sources.tunnels,
      sources,
      ingresses: objectsOfKind(snapshot, 'Ingress'),
      classes: objectsOfKind(snapshot, 'IngressClass'),
      classConfigs: objectsOfKind(snapshot, 'TunnelIngressClassConfig'),
      live,
      classesComplete: live && this.unseen('IngressClass') === undefined,
      classConfigsComplete: live && this.unseen('TunnelIngressClassConfig', OPERATOR_NAMESPACE) === undefined,
      service: (ns, name) => this.service(ns, name),
      pods: this.pods,
      tunnels: discovered,
      clusterDomain: this.clusterDomain,
    });
    this.tunnels = [...discovered, ...this.operator.predicted];
    for (const t of this.tunnels) {
      if (t.connectors.length > 0) continue;
      const why = this.connectorsUnseen(t);
      if (why) {
        t.connectorsUnseen = why;
        t.connectorEvidence = `${t.connectorEvidence}, but Pods ${why}`;
      }
    }
  }

  /** Every tunnel rule that reaches a Service in the cluster, judged per client and endpoint. */
  get tunnelEdges(): TunnelEdge[] {
    this.edgeCache ??= buildTunnelEdges(this, this.tunnels);
    return this.edgeCache.edges;
  }

  /** Every VirtualService route from an ingress gateway to a Service port, judged per gateway and endpoint. */
  get routeEdges(): RouteEdge[] {
    this.routeCache ??= buildRouteEdges(this);
    return this.routeCache.edges;
  }

  /** Tunnel rules, gateway routes and edges that could not be judged because their evidence was not seen. */
  get edgeGaps(): EdgeGap[] {
    this.edgeCache ??= buildTunnelEdges(this, this.tunnels);
    this.routeCache ??= buildRouteEdges(this);
    return [...this.edgeCache.gaps, ...this.routeCache.gaps];
  }

  /** The Envoy config dumps in the input, matched to the pods they were taken from. */
  get proxyDumps(): ProxyDumps {
    if (!this.dumpCache) {
      // A replayed snapshot keeps the fetches that failed as `incomplete` entries only.
      const gaps =
        this.snapshot.proxyConfigGaps ??
        this.snapshot.incomplete.flatMap((e) =>
          e.kind === ENVOY_DUMP_KIND && e.namespace && e.name ? [{ pod: { namespace: e.namespace, name: e.name }, reason: e.reason === 'forbidden' ? ('forbidden' as const) : ('error' as const), message: e.message ?? e.reason }] : [],
        );
      this.dumpCache = new ProxyDumps(this.snapshot.proxyConfigs ?? [], this.pods, gaps);
    }
    return this.dumpCache;
  }

  /** Why a tunnel's cloudflared pods may exist unseen (none were found). */
  private connectorsUnseen(t: TunnelConfig): string | undefined {
    const ns = t.namespace;
    if (t.layout === 'cloudflared-yaml') return this.unseen('Pod', ns);
    // The operator's connectors may run anywhere; the label-selected list finds them all.
    const labelled = this.snapshot.listed?.some((l) => l.kind === 'Pod' && l.labelSelector === CONNECTOR_SELECTOR && l.namespace === undefined);
    if (labelled) return undefined;
    const failure = this.snapshot.incomplete.find((e) => e.kind === 'Pod' && e.labelSelector === CONNECTOR_SELECTOR);
    if (failure) return `with label ${CONNECTOR_SELECTOR} could not be listed cluster-wide (${failure.reason})`;
    return this.unseen('Pod');
  }

}
