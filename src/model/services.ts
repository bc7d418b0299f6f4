// Services, their ports, and the three port numbers of domain §7.

import type { Service, ServicePort } from '../core/k8s.js';
import { isEmptySelector, matchesLabels } from '../core/labels.js';
import type { PodView } from './pods.js';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export interface ServiceView {
  object: Service;
  namespace: string;
  name: string;
  fqdn: string;
  ports: ServicePort[];
  selector?: Record<string, string>;
  clusterIP?: string;
  headless: boolean;
}

export function serviceView(svc: Service, clusterDomain: string): ServiceView {
  const ns = svc.metadata.namespace as string;
  const view: ServiceView = {
    object: svc,
    namespace: ns,
    name: svc.metadata.name,
    fqdn: `${svc.metadata.name}.${ns}.svc.${clusterDomain}`,
    ports: svc.spec?.ports ?? [],
    headless: svc.spec?.clusterIP === 'None',
  };
  if (!isEmptySelector(svc.spec?.selector)) view.selector = svc.spec?.selector as Record<string, string>;
  const ip = svc.spec?.clusterIP;
  if (ip && ip !== 'None') view.clusterIP = ip;
  return view;
}

/** Pods (and predicted pods) a Service sends to: same namespace, labels match the selector. */
export function selectedPods(svc: ServiceView, podsInNamespace: PodView[]): PodView[] {
  const selector = svc.selector;
  if (!selector) return [];
  return podsInNamespace.filter((p) => matchesLabels(selector, p.labels));
}

export function formatServicePort(p: ServicePort): string {
  return p.name ? `${p.port} (${p.name})` : String(p.port);
}

export type TargetPort = { port: number; via?: string } | { port: undefined; missingName: string };

/**
 * The container port a Service port reaches on one pod. A named targetPort resolves per pod
 * through `containerPort` names; a pod without that name gets no endpoint for the port.
 */
export function resolveTargetPort(sp: ServicePort, pod: PodView): TargetPort {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return { port: target };
  if (/^\d+$/.test(target)) return { port: Number(target) };
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  for (const c of containers) {
    const cp = c.ports?.find((p) => p.name === target);
    if (cp) return { port: cp.containerPort, via: `targetPort "${target}" = containerPort ${cp.containerPort} of container ${c.name}` };
  }
  return { port: undefined, missingName: target };
}

export function findServicePort(svc: ServiceView, port: number): ServicePort | undefined {
  return svc.ports.find((p) => p.port === port);
}

export function isUdp(sp: ServicePort): boolean {
  return (sp.protocol ?? 'TCP').toUpperCase() === 'UDP';
}
