// The object indexes every resolver step and rule reads, built once from a Snapshot, and the
// oracle of what was seen (a live run may not have listed everything). Nothing here judges an
// edge: the resolver (traffic, edges, routes) reads these indexes; MeshModel adds what it derives.

import { GATEWAY_API_GATEWAY } from '../core/kinds.js';
import { objectsOfKind, type Snapshot } from '../core/snapshot.js';
import { istioGateways, type IstioGateway } from './gateway-api.js';
import type { DestinationRule, KObject, Namespace, Workload } from '../core/k8s.js';
import { matchesLabels } from '../core/labels.js';
import { DestinationRuleIndex, isWildcardHost, serviceOfHost } from './destinationrule.js';
import { DEFAULT_ROOT_NAMESPACE, DEFAULTS_ASSUMED, meshSettingsFrom, settingsOf, type GivenMeshConfig, type MeshSettings } from './mesh.js';
import { PeerAuthIndex } from './peerauth.js';
import { buildPodViews, workloadOf, type PodView } from './pods.js';
import { predictInjection } from './sidecar.js';
import { DEFAULT_CLUSTER_DOMAIN, selectedPods, serviceView, type ServiceView } from './services.js';
import { SidecarIndex } from './visibility.js';
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
  /** --mesh-config: used instead of the input's (or the cluster's) istio ConfigMap. */
  meshConfig?: GivenMeshConfig;
}

export class MeshIndex {
  readonly mesh: MeshSettings;
  readonly clusterDomain: string;
  readonly namespaces: Map<string, Namespace>;
  readonly pods: PodView[];
  /** One predicted pod per top-level workload (see PodViews.templates). */
  readonly templates: PodView[];
  readonly services: ServiceView[];
  readonly peerAuth: PeerAuthIndex;
  readonly destinationRules: DestinationRuleIndex;
  /** Istio Sidecar resources: which Services a client's sidecar sees (the DestinationRule lookup consults it). */
  readonly sidecars: SidecarIndex;
  /** Model-level notes (assumptions) for the report. */
  readonly notes: string[] = [];
  /**
   * Live: why the mesh config (ConfigMap istio-system/istio) was not seen, when it was not:
   * then the root namespace and enableAutoMtls are not known, and verdicts needing them are unknown.
   */
  readonly meshUnseen: string | undefined;
  /**
   * The objects are a cluster's (a live run, or the replay of one's snapshot): running pods are
   * judged, not workload templates, and the operator behaves as it does at run time.
   */
  readonly fromCluster: boolean;
  private readonly podsByNamespace = new Map<string, PodView[]>();
  private readonly serviceByName = new Map<string, ServiceView>();
  private readonly serviceByIP = new Map<string, ServiceView>();
  private readonly servicesByNamespace = new Map<string, ServiceView[]>();
  private readonly backends = new Map<ServiceView, PodView[]>();
  /** Gateway API Gateways Istio deploys, with their generated Service and proxy pods (predicted in rendered manifests). */
  readonly istioGateways: IstioGateway[];
  /** Generated gateway Services by `ns/name`, for the ones the input does not hold and for their predicted pods. */
  private readonly generated = new Map<string, IstioGateway>();

  constructor(
    readonly snapshot: Snapshot,
    opts: ModelOptions = {},
  ) {
    this.clusterDomain = opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    this.fromCluster = snapshot.mode === 'live' || snapshot.live !== undefined;
    const configMaps = objectsOfKind(snapshot, 'ConfigMap');
    if (opts.meshConfig) {
      this.mesh = settingsOf(opts.meshConfig.mesh, opts.meshConfig.source);
      this.meshUnseen = undefined;
      if (snapshot.mode === 'live') this.notes.push(`${opts.meshConfig.source} is used instead of the cluster's mesh config (ConfigMap ${DEFAULT_ROOT_NAMESPACE}/istio)`);
    } else {
      this.mesh = meshSettingsFrom(configMaps, (m) => this.notes.push(m));
      this.meshUnseen = this.meshConfigUnseen();
      if (snapshot.mode === 'files' && this.mesh.defaulted && !this.meshUnseen) this.notes.push(DEFAULTS_ASSUMED);
    }
    this.namespaces = new Map(objectsOfKind(snapshot, 'Namespace').map((n) => [n.metadata.name, n]));
    const workloads = (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const).flatMap(
      (k) => objectsOfKind(snapshot, k) as Workload[],
    );
    const views = buildPodViews({
      pods: objectsOfKind(snapshot, 'Pod'),
      workloads,
      namespaces: this.namespaces,
      // A replayed live snapshot judges running pods only, as the live run did.
      includeTemplates: !this.fromCluster,
      namespaceUnseen: (ns) => (this.namespaces.has(ns) ? undefined : this.unseen('Namespace')),
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
    this.istioGateways = istioGateways({
      gateways: objectsOfKind(snapshot, GATEWAY_API_GATEWAY),
      classes: objectsOfKind(snapshot, 'GatewayClass'),
      namespaces: this.namespaces,
      service: (ns, name) => this.serviceByName.get(`${ns}/${name}`),
      podsIn: (ns) => this.podsIn(ns),
      // Rendered manifests hold the Gateway, not what istiod generates for it at run time.
      predict: !this.fromCluster,
      clusterDomain: this.clusterDomain,
    });
    for (const g of this.istioGateways) if (g.service) this.generated.set(`${g.service.namespace}/${g.service.name}`, g);
    this.peerAuth = new PeerAuthIndex(objectsOfKind(snapshot, 'PeerAuthentication'), this.mesh.rootNamespace);
    this.sidecars = new SidecarIndex(objectsOfKind(snapshot, 'Sidecar'), this.mesh.rootNamespace, {
      mode: this.mesh.outboundTrafficPolicy,
      source: this.mesh.defaulted ? "Istio's default" : `meshConfig, ${this.mesh.source}`,
    });
    this.destinationRules = new DestinationRuleIndex(
      objectsOfKind(snapshot, 'DestinationRule'),
      this.mesh.rootNamespace,
      this.clusterDomain,
      this.mesh.defaultDestinationRuleExportTo ? { defaultExportTo: this.mesh.defaultDestinationRuleExportTo } : {},
    );

  }

  /**
   * Were a namespace's Services collected? Live: a complete Service list covered it. Files: the
   * input holds a Service of that namespace — manifests of one app often reference Services
   * another chart renders. A tunnel rule to a Service of a namespace not collected is unknown,
   * not missing.
   */
  servicesCollected(namespace: string): boolean {
    return this.fromCluster ? this.covers('Service', namespace) : this.servicesByNamespace.has(namespace);
  }

  podsIn(namespace: string): PodView[] {
    return this.podsByNamespace.get(namespace) ?? [];
  }

  /** A Service of the input, or the one istiod generates for a Gateway API Gateway (predicted in rendered manifests). */
  service(namespace: string, name: string): ServiceView | undefined {
    return this.serviceByName.get(`${namespace}/${name}`) ?? this.generated.get(`${namespace}/${name}`)?.service;
  }

  /** The Istio Gateway API Gateway whose generated Service this is. */
  gatewayOfService(svc: ServiceView): IstioGateway | undefined {
    const g = this.generated.get(`${svc.namespace}/${svc.name}`);
    return g?.service === svc ? g : undefined;
  }

  serviceByClusterIP(ip: string): ServiceView | undefined {
    return this.serviceByIP.get(ip);
  }

  /** Pods (ready or not) a Service selects. */
  backendsOf(svc: ServiceView): PodView[] {
    let pods = this.backends.get(svc);
    if (!pods) {
      pods = svc.selector ? selectedPods(svc, this.podsWithLabels(svc.namespace, svc.selector)) : [];
      // A generated gateway Service whose proxies are not in the input sends to the predicted proxy.
      const gw = pods.length === 0 ? this.gatewayOfService(svc) : undefined;
      if (gw?.podsPredicted) pods = gw.pods;
      this.backends.set(svc, pods);
    }
    return pods;
  }

  /** Pods of a namespace by `key=value` label, so a selector is matched against few pods, not all. */
  private readonly podsByLabel = new Map<string, Map<string, PodView[]>>();

  /** The pods of `namespace` carrying the rarest of the selector's labels (a superset of its matches). */
  private podsWithLabels(namespace: string, selector: Record<string, string>): PodView[] {
    let index = this.podsByLabel.get(namespace);
    if (!index) {
      index = new Map();
      for (const p of this.podsIn(namespace)) for (const k in p.labels) push(index, `${k}=${p.labels[k]}`, p);
      this.podsByLabel.set(namespace, index);
    }
    let best: PodView[] | undefined;
    for (const k in selector) {
      const list = index.get(`${k}=${selector[k]}`) ?? [];
      if (!best || list.length < best.length) best = list;
    }
    return best ?? this.podsIn(namespace);
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

  /**
   * Why objects of `kind` in `namespace` (undefined: in every namespace, or a cluster-scoped
   * kind) may exist without having been seen — "could not be listed in app (forbidden)" — or
   * undefined when a complete list covered them. Files: the input is all there is, always seen.
   */
  unseen(kind: string, namespace?: string): string | undefined {
    const listed = this.snapshot.listed;
    if (!listed) return undefined;
    const covered = listed.some(
      (l) => l.kind === kind && l.labelSelector === undefined && l.name === undefined && l.filter === undefined && (l.namespace === undefined || l.namespace === namespace),
    );
    if (covered) return undefined;
    const where = namespace ? ` in ${namespace}` : '';
    const failure = this.snapshot.incomplete.find(
      (e) => e.kind === kind && e.labelSelector === undefined && e.name === undefined && e.filter === undefined && (e.namespace === undefined || e.namespace === namespace),
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

  protected meshConfigUnseen(): string | undefined {
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

  /**
   * Were all objects of `kind` in `namespace` collected? Files: yes (the input is all there is).
   * Live: only when a complete list covered that namespace (`-n` lists some kinds elsewhere only
   * partly), so "no Service selects this pod" is a fact, not a gap in the collection.
   */
  covers(kind: string, namespace: string | undefined): boolean {
    return this.unseen(kind, namespace) === undefined;
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
