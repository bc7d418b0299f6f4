// The indexes every rule reads, built once from a Snapshot.

import { objectsOfKind, type IncompleteEntry, type Snapshot } from '../collect/snapshot.js';
import { DestinationRuleIndex, isWildcardHost, serviceOfHost } from './destinationrule.js';
import { buildTunnelEdges, type TunnelEdge } from './edges.js';
import type { DestinationRule, KObject, Namespace, Workload } from './k8s.js';
import { matchesLabels } from './labels.js';
import { meshSettingsFrom, type MeshSettings } from './mesh.js';
import { PeerAuthIndex } from './peerauth.js';
import { buildPodViews, workloadOf, type PodView } from './pods.js';
import { predictInjection } from './sidecar.js';
import { DEFAULT_CLUSTER_DOMAIN, selectedPods, serviceView, type ServiceView } from './services.js';
import { discoverTunnels, type TunnelConfig } from './tunnels.js';
import { workloadKey } from './workloads.js';

export interface RuleTarget {
  rule: DestinationRule;
  /** The host after short-name resolution. */
  host: string;
  /** `name.namespace.svc.<domain>` hosts: the Service named (which may not exist). */
  serviceRef?: { name: string; namespace: string };
  /** That Service, when it is in the input. */
  service?: ServiceView;
}

export interface ModelOptions {
  clusterDomain?: string;
}

export class MeshModel {
  readonly mesh: MeshSettings;
  readonly clusterDomain: string;
  readonly namespaces: Map<string, Namespace>;
  readonly pods: PodView[];
  /** One predicted pod per top-level workload (see PodViews.templates). */
  readonly templates: PodView[];
  readonly services: ServiceView[];
  readonly peerAuth: PeerAuthIndex;
  readonly destinationRules: DestinationRuleIndex;
  readonly tunnels: TunnelConfig[];
  /** Model-level notes (assumptions) for the report. */
  readonly notes: string[] = [];
  private readonly podsByNamespace = new Map<string, PodView[]>();
  private readonly serviceByName = new Map<string, ServiceView>();
  private readonly serviceByIP = new Map<string, ServiceView>();
  private readonly servicesByNamespace = new Map<string, ServiceView[]>();
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
    const views = buildPodViews({
      pods: objectsOfKind(snapshot, 'Pod'),
      workloads,
      namespaces: this.namespaces,
      // A replayed live snapshot judges running pods only, as the live run did.
      includeTemplates: snapshot.mode === 'files' && snapshot.live === undefined,
    });
    this.pods = views.pods;
    this.templates = views.templates;
    for (const p of this.pods) push(this.podsByNamespace, p.namespace, p);
    this.services = objectsOfKind(snapshot, 'Service').map((s) => serviceView(s, this.clusterDomain));
    for (const s of this.services) {
      this.serviceByName.set(`${s.namespace}/${s.name}`, s);
      if (s.clusterIP) this.serviceByIP.set(s.clusterIP, s);
      push(this.servicesByNamespace, s.namespace, s);
    }
    this.peerAuth = new PeerAuthIndex(objectsOfKind(snapshot, 'PeerAuthentication'), this.mesh.rootNamespace);
    this.destinationRules = new DestinationRuleIndex(
      objectsOfKind(snapshot, 'DestinationRule'),
      this.mesh.rootNamespace,
      this.clusterDomain,
    );
    this.tunnels = discoverTunnels(configMaps, this.pods);
  }

  podsIn(namespace: string): PodView[] {
    return this.podsByNamespace.get(namespace) ?? [];
  }

  service(namespace: string, name: string): ServiceView | undefined {
    return this.serviceByName.get(`${namespace}/${name}`);
  }

  serviceByClusterIP(ip: string): ServiceView | undefined {
    return this.serviceByIP.get(ip);
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

  /**
   * Why the injector would inject this pod if it were created now (its namespace labels must
   * be known), or undefined. A running pod without a sidecar and with an answer here predates
   * injection.
   */
  injectionIfRecreated(pod: PodView): string | undefined {
    const ns = this.namespaces.get(pod.namespace);
    if (!ns) return undefined;
    const decision = predictInjection(ns.metadata.labels ?? {}, pod.labels, pod.annotations, pod.spec.hostNetwork === true, pod.namespace);
    return decision.inject === true ? decision.reason : undefined;
  }

  /**
   * Every DestinationRule with a specific host (wildcards are policies, not references), the
   * host resolved as Istio does, and the Service it names when the host is a cluster name.
   */
  ruleTargets(): RuleTarget[] {
    const out: RuleTarget[] = [];
    for (const { rule, host } of this.destinationRules.all) {
      if (isWildcardHost(host)) continue;
      const serviceRef = serviceOfHost(host, this.clusterDomain);
      const service = serviceRef ? this.service(serviceRef.namespace, serviceRef.name) : undefined;
      out.push({ rule, host, ...(serviceRef ? { serviceRef } : {}), ...(service ? { service } : {}) });
    }
    return out;
  }

  /** Services in the pod's namespace whose selector matches it. */
  servicesOf(pod: PodView): ServiceView[] {
    return (this.servicesByNamespace.get(pod.namespace) ?? []).filter((s) => s.selector !== undefined && matchesLabels(s.selector, pod.labels));
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

  /**
   * The pods whose configuration rules judge once per workload: every workload template, plus
   * the pods no template in the input stands for (bare pods, owners not collected).
   */
  configuredPods(): PodView[] {
    const withTemplate = new Set(this.templates.map((t) => workloadKey(workloadOf(t))));
    return [...this.templates, ...this.pods.filter((p) => !p.fromTemplate && !withTemplate.has(workloadKey(workloadOf(p))))];
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
