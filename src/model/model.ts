// The indexes every rule reads, built once from a Snapshot.

import { objectsOfKind, type Snapshot } from '../collect/snapshot.js';
import { DestinationRuleIndex } from './destinationrule.js';
import { buildTunnelEdges, type EdgeGap, type TunnelEdges, type TunnelEdge } from './edges.js';
import type { KObject, Namespace, Workload } from './k8s.js';
import { DEFAULT_ROOT_NAMESPACE, meshSettingsFrom, type MeshSettings } from './mesh.js';
import { PeerAuthIndex } from './peerauth.js';
import { buildPodViews, type PodView } from './pods.js';
import { DEFAULT_CLUSTER_DOMAIN, selectedPods, serviceView, type ServiceView } from './services.js';
import { CONNECTOR_SELECTOR, discoverTunnels, type TunnelConfig } from './tunnels.js';

export interface ModelOptions {
  clusterDomain?: string;
}

export class MeshModel {
  readonly mesh: MeshSettings;
  readonly clusterDomain: string;
  readonly namespaces: Map<string, Namespace>;
  readonly pods: PodView[];
  readonly services: ServiceView[];
  readonly peerAuth: PeerAuthIndex;
  readonly destinationRules: DestinationRuleIndex;
  readonly tunnels: TunnelConfig[];
  /** Model-level notes (assumptions) for the report. */
  readonly notes: string[] = [];
  /**
   * Live: why the mesh config (ConfigMap istio-system/istio) was not seen, when it was not:
   * then the root namespace and enableAutoMtls are not known, and verdicts needing them are unknown.
   */
  readonly meshUnseen: string | undefined;
  private readonly podsByNamespace = new Map<string, PodView[]>();
  private readonly serviceByName = new Map<string, ServiceView>();
  private readonly backends = new Map<ServiceView, PodView[]>();
  private edgeCache?: TunnelEdges;

  constructor(
    readonly snapshot: Snapshot,
    opts: ModelOptions = {},
  ) {
    this.clusterDomain = opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    const configMaps = objectsOfKind(snapshot, 'ConfigMap');
    this.mesh = meshSettingsFrom(configMaps, (m) => this.notes.push(m));
    this.meshUnseen = this.meshConfigUnseen();
    this.namespaces = new Map(objectsOfKind(snapshot, 'Namespace').map((n) => [n.metadata.name, n]));
    const workloads = (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const).flatMap(
      (k) => objectsOfKind(snapshot, k) as Workload[],
    );
    this.pods = buildPodViews({
      pods: objectsOfKind(snapshot, 'Pod'),
      workloads,
      namespaces: this.namespaces,
      includeTemplates: snapshot.mode === 'files',
      namespaceUnseen: (ns) => (this.namespaces.has(ns) ? undefined : this.unseen('Namespace')),
    });
    for (const p of this.pods) push(this.podsByNamespace, p.namespace, p);
    this.services = objectsOfKind(snapshot, 'Service').map((s) => serviceView(s, this.clusterDomain));
    for (const s of this.services) this.serviceByName.set(`${s.namespace}/${s.name}`, s);
    this.peerAuth = new PeerAuthIndex(objectsOfKind(snapshot, 'PeerAuthentication'), this.mesh.rootNamespace);
    this.destinationRules = new DestinationRuleIndex(
      objectsOfKind(snapshot, 'DestinationRule'),
      this.mesh.rootNamespace,
      this.clusterDomain,
    );
    this.tunnels = discoverTunnels(configMaps, this.pods);
    for (const t of this.tunnels) {
      if (t.connectors.length > 0) continue;
      const why = this.connectorsUnseen(t);
      if (why) {
        t.connectorsUnseen = why;
        t.connectorEvidence = `${t.connectorEvidence}, but Pods ${why}`;
      }
    }
  }

  podsIn(namespace: string): PodView[] {
    return this.podsByNamespace.get(namespace) ?? [];
  }

  service(namespace: string, name: string): ServiceView | undefined {
    return this.serviceByName.get(`${namespace}/${name}`);
  }

  /** Pods (ready or not) a Service selects. */
  backendsOf(svc: ServiceView): PodView[] {
    let pods = this.backends.get(svc);
    if (!pods) {
      pods = selectedPods(svc, this.podsIn(svc.namespace));
      this.backends.set(svc, pods);
    }
    return pods;
  }

  /** Every tunnel rule that reaches a Service in the cluster, judged per client and endpoint. */
  get tunnelEdges(): TunnelEdge[] {
    this.edgeCache ??= buildTunnelEdges(this);
    return this.edgeCache.edges;
  }

  /** Tunnel rules and edges that could not be judged because their evidence was not seen. */
  get edgeGaps(): EdgeGap[] {
    this.edgeCache ??= buildTunnelEdges(this);
    return this.edgeCache.gaps;
  }

  /**
   * Why objects of `kind` in `namespace` (undefined: in every namespace, or a cluster-scoped
   * kind) may exist without having been seen — "could not be listed in app (forbidden)" — or
   * undefined when a complete list covered them. Files: the input is all there is, always seen.
   */
  unseen(kind: string, namespace?: string): string | undefined {
    const listed = this.snapshot.listed;
    if (!listed) return undefined;
    const covered = listed.some(
      (l) => l.kind === kind && l.labelSelector === undefined && l.name === undefined && (l.namespace === undefined || l.namespace === namespace),
    );
    if (covered) return undefined;
    const where = namespace ? ` in ${namespace}` : '';
    const failure = this.snapshot.incomplete.find(
      (e) => e.kind === kind && e.labelSelector === undefined && e.name === undefined && (e.namespace === undefined || e.namespace === namespace),
    );
    return failure ? `could not be listed${where} (${failure.reason})` : `were not collected${where}`;
  }

  /** The first of `namespaces` whose objects of `kind` were not all seen, as a reason; else undefined. */
  incompleteFor(kind: string, namespaces: Array<string | undefined>): string | undefined {
    for (const ns of namespaces) {
      if (ns === undefined) continue;
      const why = this.unseen(kind, ns);
      if (why) return why;
    }
    return undefined;
  }

  /** Policies of `kind` in the root namespace not seen, or the root namespace itself not known. */
  rootUnseen(kind: string): string | undefined {
    if (this.meshUnseen) return `in the root namespace are not known: ${this.meshUnseen}`;
    return this.incompleteFor(kind, [this.mesh.rootNamespace]);
  }

  private meshConfigUnseen(): string | undefined {
    const listed = this.snapshot.listed;
    if (!listed) return undefined;
    const ns = DEFAULT_ROOT_NAMESPACE;
    const seen = listed.some(
      (l) => l.kind === 'ConfigMap' && l.labelSelector === undefined && (l.namespace === undefined || l.namespace === ns) && (l.name === undefined || l.name === 'istio'),
    );
    if (seen) return undefined;
    const failure = this.snapshot.incomplete.find(
      (e) => e.kind === 'ConfigMap' && (e.namespace === undefined || e.namespace === ns) && e.labelSelector === undefined && (e.name === undefined || e.name === 'istio'),
    );
    return `the mesh config (ConfigMap ${ns}/istio) ${failure ? `could not be read (${failure.reason})` : 'was not read'}`;
  }

  /** Why a tunnel's cloudflared pods may exist unseen (none were found). */
  private connectorsUnseen(t: TunnelConfig): string | undefined {
    const ns = t.configMap.metadata.namespace as string;
    if (t.layout === 'cloudflared-yaml') return this.unseen('Pod', ns);
    // The operator's connectors may run anywhere; the label-selected list finds them all.
    const labelled = this.snapshot.listed?.some((l) => l.kind === 'Pod' && l.labelSelector === CONNECTOR_SELECTOR && l.namespace === undefined);
    if (labelled) return undefined;
    const failure = this.snapshot.incomplete.find((e) => e.kind === 'Pod' && e.labelSelector === CONNECTOR_SELECTOR);
    if (failure) return `with label ${CONNECTOR_SELECTOR} could not be listed cluster-wide (${failure.reason})`;
    return this.unseen('Pod');
  }

  /** Source line of an object, for SARIF and messages (files mode). */
  positionOf(o: KObject): { file: string; line: number } | undefined {
    return this.snapshot.positions.get(o);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
