// Does a pod have a sidecar (domain §2), and for pod templates, would the injector add one (§2b)?

import type { Container, PodSpec, StringMap } from '../core/k8s.js';

export { PROXY_CONTAINER } from '../core/wellknown.js';
import { PROXY_CONTAINER } from '../core/wellknown.js';
export const INIT_CONTAINER = 'istio-init';
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';
export const INJECT_KEY = 'sidecar.istio.io/inject';
export const REV_LABEL = 'istio.io/rev';
export const INJECTION_LABEL = 'istio-injection';
export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
export const INJECT_TEMPLATES = 'inject.istio.io/templates';

/**
 * present: the pod runs (or will run) an Envoy sidecar; absent: it does not;
 * unknown: a template whose namespace labels are not known, so injection cannot be predicted.
 */
export type SidecarState = 'present' | 'absent' | 'unknown';

export interface SidecarInfo {
  state: SidecarState;
  /** classic: istio-proxy in containers; native: an init container with restartPolicy Always;
   *  gateway: the proxy IS the workload (ingress/egress gateway); injected: predicted, type decided at admission. */
  kind?: 'classic' | 'native' | 'gateway' | 'injected';
  predicted: boolean;
  /** No sidecar, but ztunnel captures the pod (ambient mode). */
  ambient: boolean;
  /** Pod carries `security.istio.io/tlsMode: istio`, which clients read for auto mTLS. */
  tlsModeLabel: boolean;
  /** Why, in one line. */
  reason: string;
}

export interface InjectionDecision {
  inject: boolean | 'unknown';
  reason: string;
}

/** Labels Istio's gateway controllers put on gateway and waypoint pods. */
const GATEWAY_POD_LABELS = ['gateway.networking.k8s.io/gateway-name', 'istio.io/gateway-name'];

/** istio-proxy running as a gateway or waypoint (`proxy router` / `proxy waypoint`), not as a sidecar. */
function isGatewayProxy(c: Container, labels: StringMap): boolean {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  return argv.includes('router') || argv.includes('waypoint') || GATEWAY_POD_LABELS.some((l) => labels[l] !== undefined);
}

/** Sidecar presence read from the spec (a running Pod, or a template already injected by istioctl kube-inject). */
export function observedProxy(spec: PodSpec, labels: StringMap = {}): SidecarInfo['kind'] | undefined {
  const main = spec.containers.find((c) => c.name === PROXY_CONTAINER);
  if (main) return isGatewayProxy(main, labels) ? 'gateway' : 'classic';
  const native = spec.initContainers?.find((c) => c.name === PROXY_CONTAINER && c.restartPolicy === 'Always');
  return native ? 'native' : undefined;
}

/** Namespaces the injector never touches. */
export const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

/**
 * What the injection webhooks would do (Istio's default MutatingWebhookConfiguration):
 * namespace `istio-injection=enabled`, else namespace `istio.io/rev`, else (namespace without
 * either label) pod label `sidecar.istio.io/inject=true` or `istio.io/rev`; pod label or the
 * deprecated annotation `sidecar.istio.io/inject=false` vetoes; hostNetwork pods never.
 * `nsLabels` undefined = the Namespace is not known.
 */

export function predictInjection(
  nsLabels: StringMap | undefined,
  podLabels: StringMap,
  podAnnotations: StringMap,
  hostNetwork: boolean,
  namespace?: string,
): InjectionDecision {
  if (hostNetwork) return { inject: false, reason: 'hostNetwork pods are never injected' };
  if (namespace && IGNORED_NAMESPACES.has(namespace)) return { inject: false, reason: `the injector ignores namespace ${namespace}` };
  if (podLabels[INJECT_KEY] === 'false') return { inject: false, reason: `pod label ${INJECT_KEY}=false` };
  // The label, when set, beats the annotation; only exact "true"/"false" count.
  if (podLabels[INJECT_KEY] !== 'true' && podAnnotations[INJECT_KEY] === 'false') {
    return { inject: false, reason: `pod annotation ${INJECT_KEY}=false (deprecated form, still a veto)` };
  }
  const podOptIn =
    podLabels[INJECT_KEY] === 'true'
      ? `pod label ${INJECT_KEY}=true`
      : podLabels[REV_LABEL]
        ? `pod label ${REV_LABEL}=${podLabels[REV_LABEL]}`
        : undefined;
  if (nsLabels === undefined) {
    if (podOptIn) return { inject: true, reason: `${podOptIn} (assuming the namespace does not disable injection)` };
    return { inject: 'unknown', reason: 'namespace labels not known (add the Namespace object, or run against the cluster)' };
  }
  const nsInjection = nsLabels[INJECTION_LABEL];
  if (nsInjection !== undefined) {
    return nsInjection === 'enabled'
      ? { inject: true, reason: `namespace label ${INJECTION_LABEL}=enabled` }
      : { inject: false, reason: `namespace label ${INJECTION_LABEL}=${nsInjection}` };
  }
  if (nsLabels[REV_LABEL]) return { inject: true, reason: `namespace label ${REV_LABEL}=${nsLabels[REV_LABEL]}` };
  if (podOptIn) return { inject: true, reason: podOptIn };
  const annotationOnly = podAnnotations[INJECT_KEY] === 'true' ? ` (annotation ${INJECT_KEY}=true cannot trigger injection)` : '';
  return { inject: false, reason: `no injection label on the namespace or the pod${annotationOnly}` };
}

export function isAmbient(nsLabels: StringMap | undefined, podLabels: StringMap): boolean {
  const podMode = podLabels[DATAPLANE_MODE_LABEL];
  if (podMode === 'none') return false;
  return podMode === 'ambient' || nsLabels?.[DATAPLANE_MODE_LABEL] === 'ambient';
}

export interface SidecarInput {
  spec: PodSpec;
  labels: StringMap;
  annotations: StringMap;
  nsLabels: StringMap | undefined;
  namespace: string;
  /** A template of a workload (predict), or a running Pod (observe). */
  template: boolean;
}

export function sidecarInfo(input: SidecarInput): SidecarInfo {
  const { spec, labels, annotations, nsLabels, template, namespace } = input;
  const observed = observedProxy(spec, labels);
  const tlsModeLabel = labels[TLS_MODE_LABEL] === 'istio';
  const ambientCapture = isAmbient(nsLabels, labels);
  if (observed) {
    const where = observed === 'native' ? 'init container istio-proxy with restartPolicy: Always (native sidecar)' : observed === 'gateway' ? 'istio-proxy runs as a gateway (router)' : 'container istio-proxy';
    return { state: 'present', kind: observed, predicted: false, ambient: false, tlsModeLabel, reason: where };
  }
  if (!template) {
    return {
      state: 'absent',
      predicted: false,
      ambient: ambientCapture,
      tlsModeLabel,
      reason: ambientCapture ? 'no istio-proxy; captured by ztunnel (ambient mode)' : 'no istio-proxy container',
    };
  }
  const decision = predictInjection(nsLabels, labels, annotations, spec.hostNetwork === true, namespace);
  if (decision.inject === true) {
    // The injector adds the tlsMode label together with the proxy; the gateway template makes a gateway.
    if (/(^|,)\s*gateway\s*(,|$)/.test(annotations[INJECT_TEMPLATES] ?? '')) {
      return { state: 'present', kind: 'gateway', predicted: true, ambient: false, tlsModeLabel, reason: `gateway injected at admission (${INJECT_TEMPLATES}=gateway): ${decision.reason}` };
    }
    return { state: 'present', kind: 'injected', predicted: true, ambient: false, tlsModeLabel: true, reason: `injected at admission: ${decision.reason}` };
  }
  if (decision.inject === 'unknown') {
    return { state: 'unknown', predicted: true, ambient: false, tlsModeLabel: false, reason: decision.reason };
  }
  return {
    state: 'absent',
    predicted: true,
    ambient: ambientCapture,
    tlsModeLabel,
    reason: ambientCapture ? `not injected (${decision.reason}); captured by ztunnel (ambient mode)` : `not injected: ${decision.reason}`,
  };
}

/**
 * Does the namespace ask the webhook to inject its pods? `istio-injection=enabled`, or
 * `istio.io/rev` while `istio-injection` is absent (istio-injection wins over istio.io/rev).
 */
export function namespaceInjectionLabel(nsLabels: StringMap | undefined): string | undefined {
  if (!nsLabels) return undefined;
  const injection = nsLabels[INJECTION_LABEL];
  if (injection !== undefined) return injection === 'enabled' ? `${INJECTION_LABEL}=enabled` : undefined;
  const rev = nsLabels[REV_LABEL];
  return rev ? `${REV_LABEL}=${rev}` : undefined;
}

/** The pod opts out explicitly: label, or the deprecated annotation when no label says otherwise. */
export function optsOutOfInjection(labels: StringMap, annotations: StringMap): boolean {
  const label = labels[INJECT_KEY];
  if (label !== undefined) return label === 'false';
  return annotations[INJECT_KEY] === 'false';
}
