// Scenarios shared by the TM3xx rule tests: an app behind the Cloudflare operator (Ingress only,
// as rendered manifests hold it), or behind a hand-written cloudflared config.

import {
  apiGateway,
  httpRoute,
  operatorCloudflared,
  operatorGatewayClass,
  operatorTunnel,
  tunnelBinding,
  type RouteRuleSpec,
  type SubjectSpec,
  cloudflaredConfigMap,
  cloudflaredDeployment,
  deployment,
  ingress,
  namespace,
  operatorStack,
  service,
  type IngressPathSpec,
  type Obj,
  type ServicePortSpec,
  type TunnelRuleSpec,
} from './build.js';

export interface AppOptions {
  ports: ServicePortSpec[];
  /** The pods run a sidecar (namespace injection). Default true. */
  meshed?: boolean;
  serviceAnnotations?: Record<string, string>;
  name?: string;
}

/** Namespace app, Deployment and Service `web` with the given Service ports. */
export function app(o: AppOptions): Obj[] {
  const name = o.name ?? 'web';
  // A named targetPort is a named container port (numbered like the Service port), as charts write it.
  const containerPorts = [...new Map(o.ports.map((p) => (typeof p.targetPort === 'string' ? [p.port, { name: p.targetPort, port: p.port }] : [typeof p.targetPort === 'number' ? p.targetPort : p.port, { port: typeof p.targetPort === 'number' ? p.targetPort : p.port }]))).values()];
  return [
    namespace('app', o.meshed === false ? {} : { 'istio-injection': 'enabled' }),
    deployment('app', name, { ports: containerPorts }),
    service('app', name, o.ports, o.serviceAnnotations ? { annotations: o.serviceAnnotations } : {}),
  ];
}

/** The operator, its class config and cloudflared, and one Ingress `web` in app. */
export function viaOperator(paths: IngressPathSpec[], o: AppOptions & { annotations?: Record<string, string>; ticc?: NonNullable<Parameters<typeof operatorStack>[0]>['ticc'] }): Obj[] {
  return [...operatorStack(o.ticc ? { ticc: o.ticc } : {}), ...app(o), ingress('app', 'web', paths, o.annotations ? { annotations: o.annotations } : {})];
}

/** A hand-written cloudflared in namespace edge with its config.yaml. */
export function viaConfig(rules: TunnelRuleSpec[], o: AppOptions & { extra?: Record<string, unknown> }): Obj[] {
  return [namespace('edge'), cloudflaredConfigMap('edge', 'cloudflared', rules, o.extra ?? {}), cloudflaredDeployment('edge', 'cloudflared', 'cloudflared'), ...app(o)];
}

/** The operator's cloudflared for ClusterTunnel main-tunnel, and a TunnelBinding `web` in app with the given subjects. */
export function viaBinding(subjects: SubjectSpec[], o: AppOptions & { group?: 'operator' | 'cfargotunnel' }): Obj[] {
  return [
    namespace('cloudflare-operator-system', { 'istio-injection': 'enabled' }),
    operatorCloudflared(),
    operatorTunnel('ClusterTunnel', 'main-tunnel', { domain: 'example.com' }),
    ...app(o),
    tunnelBinding('app', 'web', subjects, o.group ? { group: o.group } : {}),
  ];
}

/** The operator's GatewayClass, a Gateway `public` in edge, and an HTTPRoute `web` in app with the given rules. */
export function viaHttpRoute(rules: RouteRuleSpec[], o: AppOptions & { hostnames?: string[]; defaultOriginRequest?: Record<string, unknown> }): Obj[] {
  return [
    namespace('cloudflare-operator-system', { 'istio-injection': 'enabled' }),
    operatorCloudflared(),
    ...operatorGatewayClass(o.defaultOriginRequest ? { defaultOriginRequest: o.defaultOriginRequest } : {}),
    namespace('edge'),
    apiGateway('edge', 'public', 'cloudflare-tunnel'),
    ...app(o),
    httpRoute('app', 'web', { parents: [{ name: 'public', namespace: 'edge' }], hostnames: o.hostnames ?? ['web.example.com'], rules }),
  ];
}
