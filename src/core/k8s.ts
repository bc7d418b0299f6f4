// The slices of Kubernetes, Istio and Cloudflare-operator objects tunnelmesh reads.
// Objects stay plain JSON (no model classes): collect/validate.ts checks the fields
// declared here once, so the model can trust their types.

export type StringMap = Record<string, string>;

export interface OwnerReference {
  apiVersion?: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: StringMap;
  annotations?: StringMap;
  creationTimestamp?: string;
  uid?: string;
  resourceVersion?: string;
  ownerReferences?: OwnerReference[];
}

export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: ContainerPort[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  volumeMounts?: Array<{ name: string; mountPath?: string; subPath?: string }>;
  /** `Always` on an init container makes it a native sidecar (Kubernetes 1.28+). */
  restartPolicy?: string;
}

export interface Volume {
  name: string;
  configMap?: { name?: string };
  projected?: { sources?: Array<{ configMap?: { name?: string } }> };
  secret?: { secretName?: string };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostNetwork?: boolean;
}

export interface PodTemplate {
  metadata?: { labels?: StringMap; annotations?: StringMap; name?: string };
  spec: PodSpec;
}

export interface PodStatus {
  phase?: string;
  podIP?: string;
  conditions?: Array<{ type: string; status: string }>;
}

export interface Pod extends KObject {
  kind: 'Pod';
  spec: PodSpec;
  status?: PodStatus;
}

export interface Workload extends KObject {
  spec: {
    selector?: LabelSelector;
    replicas?: number;
    template?: PodTemplate;
    jobTemplate?: { spec?: { template?: PodTemplate } };
  };
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: StringMap;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface Service extends KObject {
  kind: 'Service';
  spec: {
    selector?: StringMap;
    ports?: ServicePort[];
    clusterIP?: string;
    clusterIPs?: string[];
    type?: string;
    externalName?: string;
  };
}

export interface ConfigMap extends KObject {
  kind: 'ConfigMap';
  data?: StringMap;
}

export interface Namespace extends KObject {
  kind: 'Namespace';
}

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthentication extends KObject {
  kind: 'PeerAuthentication';
  spec: {
    selector?: { matchLabels?: StringMap };
    mtls?: { mode?: string };
    portLevelMtls?: Record<string, { mode?: string }>;
  };
}

export interface ClientTls {
  mode?: string;
  [field: string]: unknown;
}

export interface PortTrafficPolicy {
  port?: { number?: number };
  tls?: ClientTls;
  [field: string]: unknown;
}

export interface TrafficPolicy {
  tls?: ClientTls;
  portLevelSettings?: PortTrafficPolicy[];
  [field: string]: unknown;
}

export interface DestinationRule extends KObject {
  kind: 'DestinationRule';
  spec: {
    host: string;
    trafficPolicy?: TrafficPolicy;
    subsets?: Array<{ name: string; labels?: StringMap; trafficPolicy?: TrafficPolicy }>;
    exportTo?: string[];
    workloadSelector?: { matchLabels?: StringMap };
  };
}

export interface Destination {
  host: string;
  subset?: string;
  port?: { number?: number };
}

export interface VirtualService extends KObject {
  kind: 'VirtualService';
  spec: {
    hosts?: string[];
    gateways?: string[];
    exportTo?: string[];
    http?: Array<{ route?: Array<{ destination?: Destination }> }>;
    tcp?: Array<{ route?: Array<{ destination?: Destination }> }>;
    tls?: Array<{ route?: Array<{ destination?: Destination }> }>;
  };
}

export interface ServiceEntry extends KObject {
  kind: 'ServiceEntry';
  spec: { hosts?: string[]; exportTo?: string[] };
}

export interface IngressBackend {
  service?: { name: string; port?: { number?: number; name?: string } };
}

export interface Ingress extends KObject {
  kind: 'Ingress';
  spec: {
    ingressClassName?: string;
    defaultBackend?: IngressBackend;
    rules?: Array<{
      host?: string;
      http?: { paths?: Array<{ path?: string; pathType?: string; backend: IngressBackend }> };
    }>;
  };
}

export interface IngressClass extends KObject {
  kind: 'IngressClass';
  spec: {
    controller?: string;
    parameters?: { apiGroup?: string; kind?: string; name?: string; namespace?: string; scope?: string };
  };
}

export interface TunnelIngressClassConfig extends KObject {
  kind: 'TunnelIngressClassConfig';
  spec: {
    tunnelRef?: { kind?: string; name?: string; namespace?: string };
    defaultProtocol?: string;
    defaultOriginRequest?: Record<string, unknown>;
    [field: string]: unknown;
  };
}

export interface TunnelBindingSubject {
  /** Only Service is served (the CRD defaults it). */
  kind?: string;
  name: string;
  spec?: {
    fqdn?: string;
    protocol?: string;
    path?: string;
    target?: string;
    caPool?: string;
    noTlsVerify?: boolean;
    http2Origin?: boolean;
    proxyAddress?: string;
    proxyPort?: number;
    proxyType?: string;
  };
}

export interface TunnelBindingRef {
  kind?: string;
  name?: string;
  disableDNSUpdates?: boolean;
}

/**
 * A TunnelBinding (both groups). `subjects` and `tunnelRef` sit at the top level: the CRD has no
 * spec. `spec` is read only to say that an object which nests them there is refused.
 */
export interface TunnelBinding extends KObject {
  kind: 'TunnelBinding';
  subjects?: TunnelBindingSubject[];
  tunnelRef?: TunnelBindingRef;
  spec?: { subjects?: TunnelBindingSubject[]; tunnelRef?: TunnelBindingRef };
}

/** The Cloudflare operator's Tunnel and ClusterTunnel, for their domain, fallback and tunnel id. */
export interface OperatorTunnel extends KObject {
  kind: 'Tunnel' | 'ClusterTunnel';
  spec?: { cloudflare?: { domain?: string }; fallbackTarget?: string };
  status?: { tunnelId?: string };
}

export interface TunnelGatewayClassConfig extends KObject {
  kind: 'TunnelGatewayClassConfig';
  spec: {
    tunnelRef?: { kind?: string; name?: string; namespace?: string };
    defaultOriginRequest?: Record<string, unknown>;
    fallbackTarget?: string;
    [field: string]: unknown;
  };
}

export interface GatewayClass extends KObject {
  kind: 'GatewayClass';
  spec: {
    controllerName?: string;
    parametersRef?: { group?: string; kind?: string; name?: string; namespace?: string };
  };
}

export interface GatewayListener {
  name?: string;
  port?: number;
  protocol?: string;
  hostname?: string;
  allowedRoutes?: { namespaces?: { from?: string; selector?: { matchLabels?: StringMap } } };
}

/** A Gateway of the Gateway API (kind id GATEWAY_API_GATEWAY), not Istio's networking.istio.io Gateway. */
export interface GatewayApiGateway extends KObject {
  kind: 'Gateway';
  spec: {
    gatewayClassName?: string;
    listeners?: GatewayListener[];
    addresses?: Array<{ type?: string; value?: string }>;
  };
}

export interface ParentReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  sectionName?: string;
  port?: number;
}

export interface HTTPBackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface HTTPRouteMatch {
  path?: { type?: string; value?: string };
  [field: string]: unknown;
}

export interface HTTPRoute extends KObject {
  kind: 'HTTPRoute';
  spec: {
    parentRefs?: ParentReference[];
    hostnames?: string[];
    rules?: Array<{ matches?: HTTPRouteMatch[]; backendRefs?: HTTPBackendRef[] }>;
  };
}

/** Istio's Sidecar resource: what a workload's sidecar sees and where it may send. */
export interface SidecarResource extends KObject {
  kind: 'Sidecar';
  spec: {
    /** Sidecar's selector is `labels`, not `matchLabels`. */
    workloadSelector?: { labels?: StringMap };
    egress?: Array<{ port?: { number?: number; protocol?: string; name?: string }; bind?: string; hosts?: string[] }>;
    outboundTrafficPolicy?: { mode?: string };
  };
}

/** Kind id → object type, for typed lookups in the snapshot (core/kinds.ts says what a kind id is). */
export interface KindMap {
  Namespace: Namespace;
  Pod: Pod;
  Service: Service;
  ConfigMap: ConfigMap;
  Deployment: Workload;
  StatefulSet: Workload;
  DaemonSet: Workload;
  ReplicaSet: Workload;
  Job: Workload;
  CronJob: Workload;
  Ingress: Ingress;
  IngressClass: IngressClass;
  PeerAuthentication: PeerAuthentication;
  DestinationRule: DestinationRule;
  VirtualService: VirtualService;
  ServiceEntry: ServiceEntry;
  Gateway: KObject;
  TunnelIngressClassConfig: TunnelIngressClassConfig;
  Sidecar: SidecarResource;
  TunnelBinding: TunnelBinding;
  'TunnelBinding.networking.cfargotunnel.com': TunnelBinding;
  Tunnel: OperatorTunnel;
  ClusterTunnel: OperatorTunnel;
  TunnelGatewayClassConfig: TunnelGatewayClassConfig;
  GatewayClass: GatewayClass;
  'Gateway.gateway.networking.k8s.io': GatewayApiGateway;
  HTTPRoute: HTTPRoute;
}

export type KnownKind = keyof KindMap;

export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export function refOf(obj: KObject): ObjectRef {
  return obj.metadata.namespace === undefined
    ? { kind: obj.kind, name: obj.metadata.name }
    : { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
}

/** `Kind ns/name` (or `Kind name` for cluster-scoped objects), as findings print it. */
export function formatRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

export function labelsOf(obj: { metadata?: { labels?: StringMap } }): StringMap {
  return obj.metadata?.labels ?? {};
}

export function annotationsOf(obj: { metadata?: { annotations?: StringMap } }): StringMap {
  return obj.metadata?.annotations ?? {};
}
