// Istio's Gateway API implementation: a Gateway of class `istio` (or any GatewayClass of
// controller istio.io/gateway-controller) makes istiod deploy a Deployment and a Service for it
// (pilot/pkg/config/kube/gatewaycommon: GetDefaultName `<gateway>-<class>`, unless annotation
// gateway.istio.io/name-override; extractServicePorts: status-port 15021 and one port per
// listener with appProtocol = the listener protocol; the kube-gateway template labels the pods
// gateway.networking.k8s.io/gateway-name=<gateway> and runs istio-proxy as `proxy router`).
// Live, those objects exist and are read as they are; in rendered manifests they do not, so
// they are predicted here. The gateway's pods are the clients of its HTTPRoutes' backends.

import type { GatewayApiGateway, GatewayClass, Namespace, Service, ServicePort, Workload } from '../core/k8s.js';
import { buildPodViews, type PodView } from './pods.js';
import { serviceView, type ServiceView } from './services.js';

export const ISTIO_GATEWAY_CONTROLLER = 'istio.io/gateway-controller';
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const NAME_OVERRIDE = 'gateway.istio.io/name-override';

export interface IstioGateway {
  gateway: GatewayApiGateway;
  /** `Gateway ns/name` */
  label: string;
  namespace: string;
  className: string;
  /** Name of the Deployment and Service istiod generates. */
  deploymentName: string;
  /** The generated Service as the input has it, else predicted (files). */
  service?: ServiceView;
  servicePredicted: boolean;
  /** The gateway proxy pods found by label, or one predicted pod (files). */
  pods: PodView[];
  podsPredicted: boolean;
  evidence: string;
}

/** Is this a Gateway Istio deploys? Class `istio` (istiod creates that GatewayClass) or a class of Istio's controller. */
export function isIstioGateway(gw: GatewayApiGateway, classes: readonly GatewayClass[]): { className: string } | undefined {
  const className = gw.spec?.gatewayClassName ?? '';
  const cls = classes.find((c) => c.metadata.name === className);
  if (cls) return cls.spec?.controllerName === ISTIO_GATEWAY_CONTROLLER ? { className } : undefined;
  return className === 'istio' ? { className } : undefined;
}

/** `sanitizeListenerNameForPort`: a listener name as a Service port name. */
function portName(name: string | undefined, protocol: string, index: number): string {
  const clean = (name ?? '').toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return clean || `${protocol.toLowerCase()}-${index}`;
}

/** The Service istiod would write for the Gateway. */
export function generatedService(gw: GatewayApiGateway, name: string): Service {
  const ports: ServicePort[] = [{ name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' }];
  const seen = new Set<number>();
  const names = new Set(['status-port']);
  (gw.spec?.listeners ?? []).forEach((l, i) => {
    if (typeof l.port !== 'number' || seen.has(l.port)) return;
    seen.add(l.port);
    const protocol = l.protocol ?? 'HTTP';
    let n = portName(l.name, protocol, i);
    if (names.has(n)) n = `${n}-${l.port}`;
    names.add(n);
    ports.push({ name: n, port: l.port, protocol: 'TCP', appProtocol: protocol.toLowerCase() });
  });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: gw.metadata.namespace as string, labels: { [GATEWAY_NAME_LABEL]: gw.metadata.name } },
    spec: { selector: { [GATEWAY_NAME_LABEL]: gw.metadata.name }, ports, type: 'LoadBalancer' },
  };
}

/** The Deployment istiod would write: one istio-proxy running as a router. */
function generatedDeployment(gw: GatewayApiGateway, name: string, className: string): Workload {
  const labels = {
    [GATEWAY_NAME_LABEL]: gw.metadata.name,
    'gateway.networking.k8s.io/gateway-class-name': className,
    'gateway.istio.io/managed': 'istio.io-gateway-controller',
    'sidecar.istio.io/inject': 'false',
    'service.istio.io/canonical-name': name,
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: gw.metadata.namespace as string },
    spec: {
      selector: { matchLabels: { [GATEWAY_NAME_LABEL]: gw.metadata.name } },
      template: { metadata: { labels }, spec: { containers: [{ name: 'istio-proxy', args: ['proxy', 'router'], ports: [{ name: 'status-port', containerPort: 15021 }] }] } },
    },
  };
}

export interface GatewayInfraInput {
  gateways: readonly GatewayApiGateway[];
  classes: readonly GatewayClass[];
  namespaces: Map<string, Namespace>;
  service(namespace: string, name: string): ServiceView | undefined;
  podsIn(namespace: string): PodView[];
  /** Rendered manifests: the generated objects do not exist yet and are predicted. */
  predict: boolean;
  clusterDomain: string;
}

export function istioGateways(input: GatewayInfraInput): IstioGateway[] {
  const out: IstioGateway[] = [];
  for (const gw of input.gateways) {
    const istio = isIstioGateway(gw, input.classes);
    if (!istio) continue;
    const ns = gw.metadata.namespace as string;
    const label = `Gateway ${ns}/${gw.metadata.name}`;
    // An address of type Hostname points at an existing Service: Istio deploys nothing (unmanaged).
    const hostname = gw.spec?.addresses?.find((a) => a.type === 'Hostname')?.value;
    const deploymentName = hostname ? (hostname.split('.')[0] as string) : (gw.metadata.annotations?.[NAME_OVERRIDE] ?? `${gw.metadata.name}-${istio.className}`);
    const serviceNs = hostname && hostname.split('.').length > 1 ? (hostname.split('.')[1] as string) : ns;
    const real = input.service(serviceNs, deploymentName);
    const proxies = input.podsIn(ns).filter((p) => p.labels[GATEWAY_NAME_LABEL] === gw.metadata.name && p.sidecar.kind === 'gateway');
    const g: IstioGateway = { gateway: gw, label, namespace: ns, className: istio.className, deploymentName, servicePredicted: false, pods: proxies, podsPredicted: false, evidence: '' };
    const how = hostname ? `spec.addresses Hostname ${hostname} (unmanaged: Istio deploys nothing)` : `istiod deploys Deployment and Service ${ns}/${deploymentName} for it (class ${istio.className}${gw.metadata.annotations?.[NAME_OVERRIDE] ? `, ${NAME_OVERRIDE}` : ''})`;
    if (real) g.service = real;
    else if (input.predict && !hostname) {
      g.service = serviceView(generatedService(gw, deploymentName), input.clusterDomain);
      g.servicePredicted = true;
    }
    if (proxies.length === 0 && input.predict && !hostname) {
      const deployment = generatedDeployment(gw, deploymentName, istio.className);
      const views = buildPodViews({ pods: [], workloads: [deployment], namespaces: input.namespaces, includeTemplates: true });
      g.pods = views.templates;
      g.podsPredicted = true;
    }
    g.evidence = `${label}: ${how}; ${g.podsPredicted ? 'its proxy is predicted (not in the input)' : `${proxies.length} proxy pod${proxies.length === 1 ? '' : 's'} labelled ${GATEWAY_NAME_LABEL}=${gw.metadata.name}`}`;
    out.push(g);
  }
  return out;
}
