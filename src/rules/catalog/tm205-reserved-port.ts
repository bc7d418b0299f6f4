// TM205: an application container declares a port inside 15000-15100, which the Istio sidecar
// keeps for itself (Envoy's listeners, the agent, admin, DNS, HBONE).

import type { KObject, Workload } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import type { PodView } from '../../model/pods.js';
import { appContainers, isReservedPort, reservedPortUse } from '../../model/ports.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { listing, unique } from '../edge-hits.js';
import { editFix, servicePortsFix, workloadObject } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

interface Clash {
  container: string;
  port: number;
  name?: string;
}

function clashes(pod: PodView): Clash[] {
  return appContainers(pod.spec).flatMap((c) =>
    (c.ports ?? []).filter((p) => isReservedPort(p.containerPort)).map((p) => ({ container: c.name, port: p.containerPort, ...(p.name ? { name: p.name } : {}) })),
  );
}

/** A free port outside the reserved range for each clashing one (8080 upward). */
function replacementPorts(pod: PodView, ports: number[]): Map<number, number> {
  const used = new Set(appContainers(pod.spec).flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)));
  const out = new Map<number, number>();
  let next = 8080;
  for (const port of ports) {
    while (used.has(next) || isReservedPort(next)) next++;
    out.set(port, next);
    used.add(next);
  }
  return out;
}

/** Moves the application's ports (istio-proxy keeps its own). */
function movePorts(spec: PodView['spec'] | undefined, moves: Map<number, number>): void {
  for (const c of spec ? appContainers(spec) : []) {
    for (const p of c.ports ?? []) p.containerPort = moves.get(p.containerPort) ?? p.containerPort;
  }
}

export const tm205: Rule = {
  meta: {
    code: 'TM205',
    name: 'reserved-port',
    severity: 'error',
    summary: 'An application container (not istio-proxy) declares a port in 15000-15100, which the Istio sidecar reserves.',
    description:
      'The sidecar listens on ports of this range in the pod\'s network namespace (15001 and 15006 take every redirected connection, 15000 admin, 15020/15021 ' +
      'status and health, 15090 telemetry, 15053 DNS, 15008 HBONE). An application binding one of them fails to start or steals the proxy\'s traffic, and ' +
      'inbound connections to 15020, 15021 and 15090 bypass capture.',
    howToFix: "Move the application to a port outside 15000-15100 (its own setting and the containerPort), and the Services' targetPort with it.",
    inputs: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Service', 'Namespace'],
  },
  check({ model }) {
    const subjects = model
      .configuredPods()
      .filter((p) => p.sidecar.state === 'present' && p.sidecar.kind !== 'gateway' && clashes(p).length > 0);
    const findings: FindingDraft[] = [];
    for (const group of groupByWorkload(subjects)) {
      const pod = group.pods[0] as PodView;
      const found = clashes(pod);
      const ports = unique(found.map((c) => c.port)).sort((a, b) => a - b);
      const moves = replacementPorts(pod, ports);
      findings.push({
        resource: group.workload,
        port: ports[0] as number,
        message: `${describeGroup(group)} declares ${listing(found.map((c) => `port ${c.port} in container ${c.container}`))}, which the Istio sidecar reserves (${listing(unique(ports.map((p) => `${p}: ${reservedPortUse(p)}`)))}).`,
        symptom: 'the application or istio-proxy fails to bind ("address already in use"), or its traffic is taken over by the proxy; health checks and metrics on that port misbehave',
        evidence: [`sidecar: ${pod.sidecar.reason}`, ...found.map((c) => `container ${c.container}: containerPort ${c.port}${c.name ? ` (${c.name})` : ''}`)],
        fixes: moveFixes(model, pod, moves),
        objects: [pod.object],
      });
    }
    return findings;
  },
};

function moveFixes(model: MeshModel, pod: PodView, moves: Map<number, number>): Fix[] {
  const summary = listing([...moves].map(([from, to]) => `${from} → ${to}`));
  const fixes: Fix[] = [];
  const comments = [`the application must listen on the new port too (its own configuration or args): ${summary}`];
  const owner: KObject | undefined = pod.owner || pod.fromTemplate ? workloadObject(model, pod) : pod.object;
  if (owner) {
    fixes.push(
      editFix(
        model,
        owner,
        (copy) => {
          const spec = copy.kind === 'Pod' ? (copy.spec as PodView['spec']) : copy.kind === 'CronJob' ? (copy as Workload).spec.jobTemplate?.spec?.template?.spec : (copy as Workload).spec.template?.spec;
          movePorts(spec, moves);
        },
        `Move ${owner.kind} ${pod.namespace}/${owner.metadata.name} off the sidecar's ports (${summary})`,
        owner.kind === 'Pod' ? [...comments, 'a bare Pod cannot change its ports in place: it is deleted and created again'] : comments,
        owner.kind === 'Pod' ? { apply: 'replace' } : {},
      ),
    );
  }
  // Services that reach the old port by number follow it; a named targetPort follows the containerPort by itself.
  for (const svc of model.servicesOf(pod)) {
    const affected = svc.ports.filter((sp) => {
      const target = sp.targetPort ?? sp.port;
      return typeof target === 'number' ? moves.has(target) : /^\d+$/.test(target) && moves.has(Number(target));
    });
    if (affected.length === 0) continue;
    fixes.push(
      servicePortsFix(
        model,
        svc,
        (sp) => {
          const to = moves.get(Number(sp.targetPort ?? sp.port));
          return to === undefined ? sp : { ...sp, targetPort: to };
        },
        `Point Service ${svc.namespace}/${svc.name} at the new target port${affected.length === 1 ? '' : 's'}`,
        [`targetPort follows the application: ${summary}`],
      ),
    );
  }
  return fixes;
}
