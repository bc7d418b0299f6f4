// TM207: a meshed pod no Service selects. Istio builds its inbound configuration and routes from
// Services; a pod outside every Service gets only passthrough handling and no mesh routing.

import type { PodView } from '../../model/pods.js';
import { appContainers } from '../../model/ports.js';
import { isInboundCaptured } from '../../model/capture.js';
import { describeGroup, groupByWorkload, isBatchPod } from '../../model/workloads.js';
import { createFix, workloadSelector } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

export const tm207: Rule = {
  meta: {
    code: 'TM207',
    name: 'pod-without-service',
    severity: 'info',
    summary: 'A meshed pod that no Service selects (Istio routes by Service). cloudflared pods and Jobs are exempt.',
    description:
      'Istio knows workloads through Services: without one, nothing in the mesh can address the pod by name, VirtualService and DestinationRule settings ' +
      'never apply to it, and inbound traffic gets generic passthrough handling. Pure clients (cloudflared, Jobs) are fine without one.',
    howToFix: 'Add a Service selecting the workload, with its ports named by protocol (http-…, grpc-…, tcp-…).',
    inputs: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Service', 'Namespace'],
  },
  check({ model }) {
    const lonely = model.pods.filter(
      (p) =>
        p.sidecar.state === 'present' &&
        p.sidecar.kind !== 'gateway' &&
        !p.isCloudflared &&
        !isBatchPod(p) &&
        model.covers('Service', p.namespace) &&
        model.servicesOf(p).length === 0,
    );
    const findings: FindingDraft[] = [];
    for (const group of groupByWorkload(lonely)) {
      const pod = group.pods[0] as PodView;
      const declared = appContainers(pod.spec).flatMap((c) => (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP').toUpperCase() !== 'UDP'));
      // A port the sidecar does not capture, exposed by a Service, gets meshed clients' mTLS (TM104): left out.
      const ports = declared.filter((p) => isInboundCaptured(pod.inbound, p.containerPort));
      const uncaptured = declared.filter((p) => !ports.includes(p)).map((p) => p.containerPort);
      const fixes: Fix[] = [];
      if (ports.length) {
        const name = group.workload.name;
        fixes.push(
          createFix(`Service ${pod.namespace}/${name} for ${group.workload.kind} ${pod.namespace}/${name}`, [
            'selects the workload\'s pods with its own selector and exposes its declared container ports',
            'name each port by protocol (http-…, grpc-…, tcp-…) so Istio does not have to sniff it',
            ...(uncaptured.length ? [`port${uncaptured.length === 1 ? '' : 's'} ${uncaptured.join(', ')} bypass${uncaptured.length === 1 ? 'es' : ''} the sidecar and ${uncaptured.length === 1 ? 'is' : 'are'} left out: exposed, meshed clients would send ${uncaptured.length === 1 ? 'it' : 'them'} Istio mTLS (add a DestinationRule tls DISABLE for ${uncaptured.length === 1 ? 'it' : 'them'} first)`] : []),
          ], {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name, namespace: pod.namespace },
            spec: {
              selector: workloadSelector(model, pod, undefined),
              ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : ports.length > 1 ? { name: `tcp-${p.containerPort}` } : {}), port: p.containerPort, targetPort: p.containerPort })),
            },
          }),
        );
      }
      findings.push({
        resource: group.workload,
        message: `${describeGroup(group)} ${group.pods.length === 1 ? 'has' : 'have'} an Istio sidecar but no Service in ${pod.namespace} selects ${group.pods.length === 1 ? 'it' : 'them'}: Istio cannot route to ${group.pods.length === 1 ? 'it' : 'them'} by name and applies no routing or DestinationRule to ${group.pods.length === 1 ? 'its' : 'their'} inbound traffic.`,
        symptom: 'nothing in the mesh can reach it by a Service name; VirtualService and DestinationRule settings never apply to its traffic',
        evidence: [`sidecar: ${pod.sidecar.reason}`, `labels: ${Object.entries(pod.labels).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}`, `no Service in ${pod.namespace} has a selector matching these labels`],
        fixes,
        objects: [pod.object],
      });
    }
    return findings;
  },
};
