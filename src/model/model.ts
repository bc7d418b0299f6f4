// The indexes every rule reads, built once from a Snapshot.

import { objectsOfKind, type IncompleteEntry, type Snapshot } from '../collect/snapshot.js';
import { DestinationRuleIndex } from './destinationrule.js';
import { buildTunnelEdges, type TunnelEdge } from './edges.js';
import type { KObject, Namespace, Workload } from './k8s.js';
import { meshSettingsFrom, type MeshSettings } from './mesh.js';
import { OPERATOR_NAMESPACE } from './operator.js';
import { buildOperatorView, type OperatorView } from './operator-view.js';
import { PeerAuthIndex } from './peerauth.js';
import { buildPodViews, type PodView } from './pods.js';
import { DEFAULT_CLUSTER_DOMAIN, selectedPods, serviceView, type ServiceView } from './services.js';
import { discoverTunnels, type TunnelConfig } from './tunnels.js';

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
  /** Tunnel configs in the input, then the configs the operator would write where none is (predicted). */
  readonly tunnels: TunnelConfig[];
  /** The Cloudflare operator's reading of the Ingresses: backends, their protocol chains and rules. */
  readonly operator: OperatorView;
  /** Model-level notes (assumptions) for the report. */
  readonly notes: string[] = [];
  private readonly podsByNamespace = new Map<string, PodView[]>();
  private readonly serviceByName = new Map<string, ServiceView>();
  private readonly backends = new Map<ServiceView, PodView[]>();
  private edgeCache?: TunnelEdge[];

  constructor(
    readonly snapshot: Snapshot,
    opts: ModelOptions = {},
  ) {
    this.clusterDomain = opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    const configMaps = objectsOfKind(snapshot, 'ConfigMap');
    this.mesh = meshSettingsFrom(configMaps, (m) => this.notes.push(m));
    this.namespaces = new Map(objectsOfKind(snapshot, 'Namespace').map((n) => [n.metadata.name, n]));
    const workloads = (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const).flatMap(
      (k) => objectsOfKind(snapshot, k) as Workload[],
    );
    this.pods = buildPodViews({
      pods: objectsOfKind(snapshot, 'Pod'),
      workloads,
      namespaces: this.namespaces,
      includeTemplates: snapshot.mode === 'files',
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
    const discovered = discoverTunnels(configMaps, this.pods);
    const live = snapshot.mode === 'live';
    this.operator = buildOperatorView({
      ingresses: objectsOfKind(snapshot, 'Ingress'),
      classes: objectsOfKind(snapshot, 'IngressClass'),
      classConfigs: objectsOfKind(snapshot, 'TunnelIngressClassConfig'),
      live,
      classesComplete: live && this.incompleteFor('IngressClass', []) === undefined,
      classConfigsComplete: live && this.incompleteFor('TunnelIngressClassConfig', [OPERATOR_NAMESPACE]) === undefined,
      service: (ns, name) => this.service(ns, name),
      pods: this.pods,
      tunnels: discovered,
      clusterDomain: this.clusterDomain,
    });
    this.tunnels = [...discovered, ...this.operator.predicted];
  }

  /**
   * Were a namespace's Services collected? Live: a complete Service list covered it. Files: the
   * input holds a Service of that namespace — manifests of one app often reference Services
   * another chart renders. A tunnel rule to a Service of a namespace not collected is unknown,
   * not missing.
   */
  servicesCollected(namespace: string): boolean {
    return this.snapshot.mode === 'live' ? this.covers('Service', namespace) : this.services.some((s) => s.namespace === namespace);
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
    return this.edgeCache;
  }

  /**
   * When a kind could not be listed (everywhere or in one of `namespaces`), a short reason
   * ("could not be listed in app: forbidden"); else undefined.
   */
  incompleteFor(kind: string, namespaces: Array<string | undefined>): string | undefined {
    const hit = this.snapshot.incomplete.find(
      (e: IncompleteEntry) =>
        e.kind === kind && e.reason !== 'not-installed' && (e.namespace === undefined || namespaces.includes(e.namespace)),
    );
    if (!hit) return undefined;
    return `could not be listed${hit.namespace ? ` in ${hit.namespace}` : ''} (${hit.reason})`;
  }

  /**
   * Were all objects of `kind` in `namespace` collected? Files: yes (the input is all there is).
   * Live: only when a complete list covered that namespace (`-n` lists some kinds elsewhere only
   * partly), so "no Service selects this pod" is a fact, not a gap in the collection.
   */
  covers(kind: string, namespace: string | undefined): boolean {
    if (this.snapshot.mode !== 'live' || !this.snapshot.listed) return true;
    return this.snapshot.listed.some((l) => l.kind === kind && (l.namespace === undefined || l.namespace === namespace));
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
