// Istio's catalogue of annotation and label keys, as data.
//
// Source (repo istio/api, read from a stored copy of the repository):
//   - annotation/annotations.yaml at commit ce96e937d0cf81510bec0ea173e2954b46322d45
//     (the newest stored version found; it already lists istio.io/use-waypoint-canary-weight,
//     istio.io/ignore-policy-attachment, ambient.istio.io/dns-capture and
//     sidecar.istio.io/statsCompression).
//   - label/labels.yaml at commit 5b0e093433b80f8d6a7306c82baa6880bef04aba
//     (istio/api PR #3598 "add locality label", Nov 2025; adds topology.istio.io/locality).
// The two commits differ because the files are versioned separately. Entries keep the
// order of the yaml files. `resources`, `deprecated` and `hidden` are copied from each entry.
//
// After the yaml-derived entries, each list has extra keys that Istio's injector,
// CNI plugin or istiod read but that the yaml does not list. Each one has a comment
// saying where it was seen. Those entries set `deprecated: false` and `hidden: false`
// because the yaml gives no flags for them.

export interface IstioKey {
  name: string;
  kind: 'annotation' | 'label';
  resources: string[];
  deprecated: boolean;
  hidden: boolean;
}

function annotation(name: string, resources: string[], deprecated = false, hidden = false): IstioKey {
  return { name, kind: 'annotation', resources, deprecated, hidden };
}

function label(name: string, resources: string[], deprecated = false, hidden = false): IstioKey {
  return { name, kind: 'label', resources, deprecated, hidden };
}

const POD = ['Pod'];

export const ISTIO_ANNOTATIONS: readonly IstioKey[] = [
  // --- istio/api annotation/annotations.yaml @ ce96e937 ---
  annotation('prometheus.istio.io/merge-metrics', POD),
  annotation('alpha.istio.io/kubernetes-serviceaccounts', ['Service'], true, true),
  annotation('alpha.istio.io/canonical-serviceaccounts', ['Service'], true, true),
  annotation('networking.istio.io/exportTo', ['Service']),
  // Deprecated as an annotation in favour of the sidecar.istio.io/inject label (both are still read).
  annotation('sidecar.istio.io/inject', POD, true, false),
  annotation('sidecar.istio.io/status', POD),
  annotation('sidecar.istio.io/rewriteAppHTTPProbers', POD),
  annotation('sidecar.istio.io/discoveryAddress', POD, true, false),
  annotation('sidecar.istio.io/proxyImage', POD),
  annotation('sidecar.istio.io/proxyImageType', POD),
  annotation('sidecar.istio.io/proxyCPU', POD),
  annotation('sidecar.istio.io/proxyCPULimit', POD),
  annotation('sidecar.istio.io/proxyMemory', POD),
  annotation('sidecar.istio.io/proxyMemoryLimit', POD),
  annotation('sidecar.istio.io/interceptionMode', POD),
  annotation('sidecar.istio.io/bootstrapOverride', POD),
  annotation('sidecar.istio.io/statsInclusionPrefixes', POD, true, false),
  annotation('sidecar.istio.io/statsInclusionSuffixes', POD, true, false),
  annotation('sidecar.istio.io/statsInclusionRegexps', POD, true, false),
  annotation('sidecar.istio.io/statsHistogramBuckets', POD),
  annotation('sidecar.istio.io/statsFlushInterval', POD),
  annotation('sidecar.istio.io/statsEvictionInterval', POD),
  annotation('sidecar.istio.io/statsHistogramBins', POD),
  annotation('sidecar.istio.io/userVolume', POD),
  annotation('sidecar.istio.io/userVolumeMount', POD),
  annotation('status.sidecar.istio.io/port', POD),
  annotation('sidecar.istio.io/logLevel', POD),
  annotation('sidecar.istio.io/componentLogLevel', POD),
  annotation('sidecar.istio.io/agentLogLevel', POD),
  annotation('sidecar.istio.io/nativeSidecar', POD),
  annotation('readiness.status.sidecar.istio.io/initialDelaySeconds', POD),
  annotation('readiness.status.sidecar.istio.io/periodSeconds', POD),
  annotation('readiness.status.sidecar.istio.io/failureThreshold', POD),
  annotation('readiness.status.sidecar.istio.io/applicationPorts', POD),
  annotation('traffic.istio.io/nodeSelector', ['Service']),
  annotation('traffic.sidecar.istio.io/includeOutboundIPRanges', POD),
  annotation('traffic.sidecar.istio.io/excludeOutboundIPRanges', POD),
  annotation('traffic.sidecar.istio.io/includeInboundPorts', POD),
  annotation('traffic.sidecar.istio.io/excludeInboundPorts', POD),
  annotation('traffic.sidecar.istio.io/excludeInterfaces', POD),
  annotation('traffic.sidecar.istio.io/includeOutboundPorts', POD),
  annotation('traffic.sidecar.istio.io/excludeOutboundPorts', POD),
  // Deprecated in favour of istio.io/reroute-virtual-interfaces.
  annotation('traffic.sidecar.istio.io/kubevirtInterfaces', POD, true, false),
  annotation('kubernetes.io/ingress.class', ['Ingress']),
  annotation('galley.istio.io/analyze-suppress', ['Any']),
  annotation('proxy.istio.io/config', POD),
  annotation('istio.io/dry-run', ['AuthorizationPolicy']),
  // As an annotation: the revision a proxy actually connected to (set by Istio, not by users).
  annotation('istio.io/rev', POD),
  annotation('istio.io/ignore-policy-attachment', ['BackendTLSPolicy', 'BackendTrafficPolicy']),
  annotation('proxy.istio.io/overrides', POD, false, true),
  annotation('inject.istio.io/templates', POD),
  annotation('sidecar.istio.io/extraStatTags', POD, true, false),
  annotation('istio.io/autoRegistrationGroup', ['WorkloadEntry'], false, true),
  annotation('istio.io/workloadController', ['WorkloadEntry'], false, true),
  annotation('istio.io/connectedAt', ['WorkloadEntry'], false, true),
  annotation('istio.io/disconnectedAt', ['WorkloadEntry'], false, true),
  annotation('topology.istio.io/controlPlaneClusters', ['Namespace']),
  annotation('gateway.istio.io/controller-version', ['Any'], false, true),
  annotation('ambient.istio.io/redirection', POD),
  annotation('ambient.istio.io/waypoint-inbound-binding', ['GatewayClass', 'Gateway'], false, true),
  annotation('gateway.istio.io/service-account', ['Gateway'], false, true),
  annotation('gateway.istio.io/name-override', ['Gateway'], false, true),
  annotation('networking.istio.io/service-type', ['Gateway'], false, true),
  annotation('networking.istio.io/traffic-distribution', ['Namespace', 'Service', 'ServiceEntry']),
  annotation('istio.io/use-waypoint-canary-weight', ['Service', 'ServiceEntry', 'Namespace']),
  annotation('ambient.istio.io/bypass-inbound-capture', POD),
  annotation('istio.io/reroute-virtual-interfaces', POD),
  annotation('ambient.istio.io/dns-capture', POD, false, true),
  annotation('sidecar.istio.io/statsCompression', POD, true, false),

  // --- Extra keys read by the injector / CNI but absent from annotations.yaml ---
  // Read by the sidecar injection template (istio/istio
  // manifests/charts/istio-control/istio-discovery/files/injection-template.yaml):
  // `$capNetBindService := (eq (annotation .ObjectMeta "sidecar.istio.io/capNetBindService" ...) "true")`.
  annotation('sidecar.istio.io/capNetBindService', POD),
  // Read (isset) and written by the same injection template when it picks the default
  // container for `kubectl logs/exec`; Kubernetes keys, not Istio's, but the injector reads them.
  annotation('kubectl.kubernetes.io/default-container', POD),
  annotation('kubectl.kubernetes.io/default-logs-container', POD),
  // Read and appended to by the injection template when istio-cni runs with the multus
  // provider (`appendMultusNetwork` in istio/istio pkg/kube/inject/template.go).
  annotation('k8s.v1.cni.cncf.io/networks', POD),
  // Read by the injector for Prometheus metrics merging (istio/istio pkg/kube/inject/webhook.go,
  // getPrometheusScrapeConfiguration / clearPrometheusAnnotations; names are matched after
  // Prometheus label sanitising, so prometheus.io.scrape etc. also match).
  annotation('prometheus.io/scrape', POD),
  annotation('prometheus.io/port', POD),
  annotation('prometheus.io/path', POD),
];

export const ISTIO_LABELS: readonly IstioKey[] = [
  // --- istio/api label/labels.yaml @ 5b0e0934 ---
  // Still written by the injector (default "istio") and read by auto mTLS endpoint matching,
  // even though labels.yaml marks it deprecated and hidden.
  label('security.istio.io/tlsMode', POD, true, true),
  label('service.istio.io/canonical-name', POD),
  label('networking.istio.io/gatewayPort', ['Service']),
  label('service.istio.io/canonical-revision', POD),
  label('service.istio.io/workload-name', ['Pod', 'WorkloadEntry']),
  label('istio.io/rev', ['Namespace', 'Gateway', 'Pod']),
  label('istio.io/tag', ['MutatingWebhookConfiguration']),
  label('operator.istio.io/component', ['Any'], false, true),
  label('operator.istio.io/managed', ['Any'], false, true),
  label('operator.istio.io/version', ['Any'], false, true),
  label('topology.istio.io/subzone', ['Node']),
  label('topology.istio.io/network', ['Namespace', 'Pod', 'Service']),
  label('topology.istio.io/cluster', POD),
  label('topology.istio.io/locality', POD),
  label('sidecar.istio.io/inject', POD),
  label('gateway.istio.io/managed', ['ServiceAccount', 'Deployment', 'Service']),
  label('gateway.networking.k8s.io/gateway-name', [
    'ServiceAccount',
    'Deployment',
    'Service',
    'PodDisruptionBudget',
    'HorizontalPodAutoscaler',
  ]),
  label('gateway.networking.k8s.io/gateway-class-name', [
    'ServiceAccount',
    'Deployment',
    'Service',
    'PodDisruptionBudget',
    'HorizontalPodAutoscaler',
  ]),
  label('istio.io/dataplane-mode', ['Pod', 'Namespace']),
  label('istio.io/use-waypoint', ['Pod', 'WorkloadEntry', 'Service', 'ServiceEntry', 'Namespace']),
  label('istio.io/use-waypoint-namespace', ['Pod', 'WorkloadEntry', 'Service', 'ServiceEntry', 'Namespace']),
  label('istio.io/waypoint-for', ['GatewayClass', 'Gateway']),
  label('networking.istio.io/enable-autoallocate-ip', ['ServiceEntry']),

  // --- Extra keys read by the injector / istiod but absent from labels.yaml ---
  // Namespace label matched by the sidecar-injector MutatingWebhookConfiguration
  // namespaceSelector (`istio-injection: enabled`, and `DoesNotExist` in the revision and
  // object webhooks). Seen in istio/istio
  // manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml and in a
  // rendered 1.19 configuration.
  label('istio-injection', ['Namespace']),
  // Pod label read by ambientInjectRequired (istio/istio pkg/kube/inject/inject.go @ b0d2c6ad,
  // `ambientInjectInit`, marked "TODO: generate label"); only "true" injects.
  label('ambient.istio.io/init', POD),
  // Pod label written by the injection template when proxy metadata
  // ISTIO_META_ENABLE_HBONE is "true" (`networking.istio.io/tunnel: http`).
  label('networking.istio.io/tunnel', POD),
  // Labels istiod reads (defaults of PILOT_PERSISTENT_SESSION_LABEL,
  // PILOT_PERSISTENT_SESSION_HEADER_LABEL and PILOT_DRAINING_LABEL in istio/istio
  // pilot/pkg/features/experimental.go @ 74e6fb3c).
  label('istio.io/persistent-session', ['Service']),
  label('istio.io/persistent-session-header', ['Service']),
  label('istio.io/draining', POD),
];
