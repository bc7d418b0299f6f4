// Ports a pod really has: what its containers declare, what Services reach on it, and the
// range the Istio sidecar keeps for itself.

import type { Container, PodSpec } from '../core/k8s.js';
import type { PodView } from './pods.js';
import { resolveTargetPort, type ServiceView } from './services.js';
import { INIT_CONTAINER, PROXY_CONTAINER } from './sidecar.js';

/** Istio's sidecar owns 15000–15100 (Envoy listeners, agent, admin, DNS, HBONE). */
export const RESERVED_PORTS = { from: 15000, to: 15100 } as const;

/** What the sidecar runs on the well-known ports of the range. */
const ISTIO_PORT_USES: Readonly<Record<number, string>> = {
  15000: 'Envoy admin',
  15001: 'Envoy outbound listener (iptables redirects all outgoing traffic here)',
  15004: 'pilot-agent debug',
  15006: 'Envoy inbound listener (iptables redirects all incoming traffic here)',
  15008: 'HBONE mTLS tunnel',
  15009: 'HBONE (gateways)',
  15020: 'pilot-agent merged Prometheus metrics and status',
  15021: 'health checks',
  15053: 'DNS proxy',
  15090: 'Envoy Prometheus telemetry',
};

export function isReservedPort(port: number): boolean {
  return port >= RESERVED_PORTS.from && port <= RESERVED_PORTS.to;
}

export function reservedPortUse(port: number): string {
  return ISTIO_PORT_USES[port] ?? `inside the range ${RESERVED_PORTS.from}-${RESERVED_PORTS.to} Istio reserves for the sidecar`;
}

/** Containers Istio adds (never the application's). */
const ISTIO_CONTAINERS = new Set([PROXY_CONTAINER, INIT_CONTAINER, 'istio-validation']);

/** The application's containers (regular and init), never istio-proxy/istio-init/istio-validation. */
export function appContainers(spec: PodSpec): Container[] {
  return [...spec.containers, ...(spec.initContainers ?? [])].filter((c) => !ISTIO_CONTAINERS.has(c.name));
}

export interface KnownPort {
  port: number;
  /** `containerPort of web`, `Service app/web port 80 → targetPort 8080`. */
  via: string;
}

/**
 * Ports the pod is known to listen on: declared container ports, and target ports Services
 * reach on it. Empty when nothing is declared (an undeclared port may still be open).
 */
export function knownPodPorts(pod: PodView, services: readonly ServiceView[]): KnownPort[] {
  const out: KnownPort[] = [];
  for (const c of appContainers(pod.spec)) {
    for (const p of c.ports ?? []) {
      if ((p.protocol ?? 'TCP').toUpperCase() !== 'UDP') out.push({ port: p.containerPort, via: `containerPort of ${c.name}${p.name ? ` (${p.name})` : ''}` });
    }
  }
  // Scraped metrics ports are often not declared as container ports.
  const scraped = pod.annotations['prometheus.io/port'];
  if (scraped && /^\d+$/.test(scraped)) out.push({ port: Number(scraped), via: 'annotation prometheus.io/port' });
  for (const svc of services) {
    for (const sp of svc.ports) {
      const tp = resolveTargetPort(sp, pod);
      if (tp.port !== undefined) out.push({ port: tp.port, via: `Service ${svc.namespace}/${svc.name} port ${sp.port} → targetPort ${tp.port}` });
    }
  }
  return out;
}
