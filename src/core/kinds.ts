// The Kubernetes kinds tunnelmesh reads, and where the API server serves them.
// One table drives the live collector, the loopback test server and deploy/rbac.yaml,
// so the three can never disagree about what is requested.
//
// Two API groups can define a kind of the same name: `Gateway` is Istio's
// (networking.istio.io) and the Gateway API's (gateway.networking.k8s.io); TunnelBinding is the
// Cloudflare operator's (networking.cloudflare-operator.io) and adyanth's
// (networking.cfargotunnel.com). Inside tunnelmesh every object is keyed by its *kind id*,
// decided from apiVersion and kind when it is read (`kindIdOf`): the kind name for the group
// that had it first (Istio's Gateway, the operator's TunnelBinding), `Kind.group` — kubectl's
// own spelling, `kubectl get gateway.gateway.networking.k8s.io` — for the other. The object keeps
// its real `kind`: output, fixes and suppressions name it as the user wrote it; indexes,
// duplicates, listed scopes and `incomplete` use the id, so both coexist in one input.

export interface KindInfo {
  /** The object's `kind` as written. */
  kind: string;
  /** The kind id: `kind`, or `Kind.group` when another group's kind has the same name. */
  id: string;
  /** API group; '' is the core group (served under /api). */
  group: string;
  /** Versions to try, preferred first (older clusters only serve the later ones). */
  versions: string[];
  plural: string;
  namespaced: boolean;
  /** Served by a CRD that may not be installed: a 404 means "none of those". */
  crd: boolean;
}

/** Kind ids of the kinds whose name another group also uses. */
export const GATEWAY_API_GATEWAY = 'Gateway.gateway.networking.k8s.io';
export const CFARGOTUNNEL_BINDING = 'TunnelBinding.networking.cfargotunnel.com';

type KindRow = Omit<KindInfo, 'id'> & { id?: string };

const ROWS: readonly KindRow[] = [
  { kind: 'Namespace', group: '', versions: ['v1'], plural: 'namespaces', namespaced: false, crd: false },
  { kind: 'Pod', group: '', versions: ['v1'], plural: 'pods', namespaced: true, crd: false },
  { kind: 'Service', group: '', versions: ['v1'], plural: 'services', namespaced: true, crd: false },
  { kind: 'ConfigMap', group: '', versions: ['v1'], plural: 'configmaps', namespaced: true, crd: false },
  { kind: 'Deployment', group: 'apps', versions: ['v1'], plural: 'deployments', namespaced: true, crd: false },
  { kind: 'StatefulSet', group: 'apps', versions: ['v1'], plural: 'statefulsets', namespaced: true, crd: false },
  { kind: 'DaemonSet', group: 'apps', versions: ['v1'], plural: 'daemonsets', namespaced: true, crd: false },
  { kind: 'ReplicaSet', group: 'apps', versions: ['v1'], plural: 'replicasets', namespaced: true, crd: false },
  { kind: 'Job', group: 'batch', versions: ['v1'], plural: 'jobs', namespaced: true, crd: false },
  { kind: 'CronJob', group: 'batch', versions: ['v1'], plural: 'cronjobs', namespaced: true, crd: false },
  { kind: 'Ingress', group: 'networking.k8s.io', versions: ['v1'], plural: 'ingresses', namespaced: true, crd: false },
  { kind: 'IngressClass', group: 'networking.k8s.io', versions: ['v1'], plural: 'ingressclasses', namespaced: false, crd: false },
  { kind: 'PeerAuthentication', group: 'security.istio.io', versions: ['v1', 'v1beta1'], plural: 'peerauthentications', namespaced: true, crd: true },
  { kind: 'DestinationRule', group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'destinationrules', namespaced: true, crd: true },
  { kind: 'VirtualService', group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'virtualservices', namespaced: true, crd: true },
  { kind: 'ServiceEntry', group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'serviceentries', namespaced: true, crd: true },
  { kind: 'Gateway', group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'gateways', namespaced: true, crd: true },
  {
    kind: 'TunnelIngressClassConfig',
    group: 'networking.cloudflare-operator.io',
    versions: ['v1alpha2', 'v1alpha1'],
    plural: 'tunnelingressclassconfigs',
    namespaced: true,
    crd: true,
  },
  { kind: 'Sidecar', group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'sidecars', namespaced: true, crd: true },
  // The Cloudflare operator's TunnelBinding (deprecated upstream, still served) and adyanth's, whose operator it forked.
  { kind: 'TunnelBinding', group: 'networking.cloudflare-operator.io', versions: ['v1alpha1'], plural: 'tunnelbindings', namespaced: true, crd: true },
  { kind: 'TunnelBinding', id: CFARGOTUNNEL_BINDING, group: 'networking.cfargotunnel.com', versions: ['v1alpha1'], plural: 'tunnelbindings', namespaced: true, crd: true },
  // Tunnels: their domain names a subject without fqdn, their status the tunnel id.
  { kind: 'Tunnel', group: 'networking.cloudflare-operator.io', versions: ['v1alpha2', 'v1alpha1'], plural: 'tunnels', namespaced: true, crd: true },
  { kind: 'ClusterTunnel', group: 'networking.cloudflare-operator.io', versions: ['v1alpha2', 'v1alpha1'], plural: 'clustertunnels', namespaced: false, crd: true },
  { kind: 'TunnelGatewayClassConfig', group: 'networking.cloudflare-operator.io', versions: ['v1alpha2'], plural: 'tunnelgatewayclassconfigs', namespaced: true, crd: true },
  // Gateway API: the Cloudflare operator's gateway controller and Istio's both read these.
  { kind: 'GatewayClass', group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], plural: 'gatewayclasses', namespaced: false, crd: true },
  { kind: 'Gateway', id: GATEWAY_API_GATEWAY, group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], plural: 'gateways', namespaced: true, crd: true },
  { kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], plural: 'httproutes', namespaced: true, crd: true },
];

export const KINDS: readonly KindInfo[] = ROWS.map((r) => ({ ...r, id: r.id ?? r.kind }));

const byId = new Map(KINDS.map((k) => [k.id, k]));
const byName = new Map<string, KindInfo[]>();
for (const k of KINDS) byName.set(k.kind, [...(byName.get(k.kind) ?? []), k]);

/** The group of an apiVersion (`networking.istio.io/v1` → `networking.istio.io`, `v1` → ''). */
export function groupOf(apiVersion: string | undefined): string {
  const slash = apiVersion?.indexOf('/') ?? -1;
  return slash < 0 ? '' : (apiVersion as string).slice(0, slash);
}

/**
 * The KindInfo of an object as written. A kind name only one group defines is taken whatever
 * the apiVersion says (as before the table knew groups); a name several groups define is
 * decided by the apiVersion's group, and an unknown group is no kind tunnelmesh reads.
 */
export function kindOfObject(kind: string, apiVersion: string | undefined): KindInfo | undefined {
  const candidates = byName.get(kind);
  if (!candidates) return undefined;
  if (candidates.length === 1) return candidates[0];
  const group = groupOf(apiVersion);
  return candidates.find((k) => k.group === group);
}

/** The kind id of an object (see the top of this file); its kind name when tunnelmesh does not read the kind. */
export function kindIdOf(o: { kind: string; apiVersion?: string }): string {
  return kindOfObject(o.kind, o.apiVersion)?.id ?? o.kind;
}

/** KindInfo by kind id (`Gateway` is Istio's; the Gateway API's is GATEWAY_API_GATEWAY). */
export function kindInfo(id: string): KindInfo | undefined {
  return byId.get(id);
}

/** Kinds whose pod template is judged as a predicted pod (manifests in CI hold these, not Pods). */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export function isWorkloadKind(kind: string): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/** REST path of a list (or of one object when name is given). */
export function resourcePath(info: KindInfo, version: string, namespace?: string, name?: string): string {
  const base = info.group === '' ? `/api/${version}` : `/apis/${info.group}/${version}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const tail = name ? `/${encodeURIComponent(name)}` : '';
  return `${base}${ns}/${info.plural}${tail}`;
}

/** apiVersion string as written in manifests (`v1`, `apps/v1`, `networking.istio.io/v1`). */
export function apiVersionOf(info: KindInfo, version: string): string {
  return info.group === '' ? version : `${info.group}/${version}`;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Read verbs the collector uses: list, and get (the istio mesh config). Never watch. */
export const READ_VERBS = ['get', 'list'] as const;

/**
 * The ClusterRole rules tunnelmesh needs: get and list on exactly the resources in KINDS, one
 * rule per API group (core first, then by name). deploy/rbac.yaml holds these; a test keeps
 * them equal, and checks a live run's requests against them.
 */
export function clusterRoleRules(kinds: readonly KindInfo[] = KINDS): PolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const k of kinds) {
    const set = byGroup.get(k.group) ?? new Set<string>();
    set.add(k.plural);
    byGroup.set(k.group, set);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .map(([group, resources]) => ({ apiGroups: [group], resources: [...resources].sort(), verbs: [...READ_VERBS] }));
}

/**
 * The optional grant `--proxy-config` needs: GET through the pod proxy subresource to Envoy's admin
 * port (`/api/v1/namespaces/NS/pods/NAME:15000/proxy/config_dump`). It is not part of the reader
 * role: get on pods/proxy lets its holder send GET requests to any port of the pods it covers, so
 * deploy/rbac.yaml holds it as a ClusterRole of its own, to bind where it is wanted.
 */
export const PROXY_CONFIG_ROLE_RULES: readonly PolicyRule[] = [{ apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] }];
