// The kinds rules read, in the groups the model reads them. A rule's `meta.inputs` is checked by
// the rule tester (each case judged again with only those kinds must give the same findings) and
// the union of all inputs is what live collection lists (src/core/kinds.ts; a test keeps them equal).

import type { KnownKind } from '../core/k8s.js';

/** Every kind whose pod template is judged as a pod (manifests) or that owns pods (live). */
export const WORKLOADS: readonly KnownKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'];

/** Pods and their sidecars: the pods, the workloads behind them, and the namespaces' injection and ambient labels. */
export const PODS: readonly KnownKind[] = ['Pod', ...WORKLOADS, 'Namespace'];

/** The Istio mesh config (ConfigMap istio-system/istio), the policies that decide mTLS, and the Sidecar resources that decide what a proxy sees. */
export const MESH_POLICY: readonly KnownKind[] = ['ConfigMap', 'PeerAuthentication', 'DestinationRule', 'Sidecar'];

/**
 * Tunnel configs (ConfigMaps) and what the Cloudflare operator writes them from: Ingresses through
 * their class config, TunnelBindings (both groups) and HTTPRoutes of its Gateways, and the Tunnels
 * they name (domain, tunnel id).
 */
export const TUNNELS: readonly KnownKind[] = [
  'ConfigMap',
  'Ingress',
  'IngressClass',
  'TunnelIngressClassConfig',
  'TunnelBinding',
  'TunnelBinding.networking.cfargotunnel.com',
  'Tunnel',
  'ClusterTunnel',
  'HTTPRoute',
  'Gateway.gateway.networking.k8s.io',
  'GatewayClass',
  'TunnelGatewayClassConfig',
];

/** Gateways as clients: the Istio Gateways VirtualServices bind to, and Gateway API Gateways of Istio's classes with their HTTPRoutes. */
export const GATEWAY_ROUTES: readonly KnownKind[] = ['VirtualService', 'Gateway', 'HTTPRoute', 'Gateway.gateway.networking.k8s.io', 'GatewayClass'];

/** What the edge resolver reads to judge one tunnel or gateway edge end to end. */
export const EDGES: readonly KnownKind[] = [...PODS, 'Service', ...MESH_POLICY, ...TUNNELS, ...GATEWAY_ROUTES];

/** A list of kinds without repeats, in first-seen order. */
export function kinds(...groups: ReadonlyArray<readonly KnownKind[] | KnownKind>): KnownKind[] {
  return [...new Set(groups.flat())];
}
