// TM204: the ready pods behind one Service are partly meshed, partly not (a half-finished
// rollout): every verdict about the Service depends on which pod a request lands on.

import type { PodView } from '../../model/pods.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { listing } from '../edge-hits.js';
import { injectSidecarFix, restartFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

export const tm204: Rule = {
  meta: {
    code: 'TM204',
    name: 'mixed-sidecar-backends',
    severity: 'warning',
    summary: 'The ready pods behind one Service are partly with, partly without an Istio sidecar (a half-finished rollout or restart).',
    description:
      'Clients pick an endpoint per connection: with some backends meshed and some not, STRICT policies reset plaintext only on the meshed ones, auto mTLS sends mTLS ' +
      'to some and plaintext to others, and an error shows up for a fraction of the requests only.',
    howToFix: 'Restart the workloads whose pods predate injection, or inject (or exclude) every workload behind the Service consistently.',
    inputs: ['Pod', 'Service', 'Namespace', 'Deployment', 'ReplicaSet'],
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const svc of model.services) {
      const ready = model.backendsOf(svc).filter((p) => p.ready);
      const meshed = ready.filter((p) => p.sidecar.state === 'present' && p.sidecar.kind !== 'gateway');
      const plain = ready.filter((p) => p.sidecar.state === 'absent' && !p.sidecar.ambient);
      if (meshed.length === 0 || plain.length === 0) continue;
      const plainGroups = groupByWorkload(plain);
      const meshedGroups = groupByWorkload(meshed);
      const fixes: Fix[] = [];
      for (const g of plainGroups) {
        const pod = g.pods[0] as PodView;
        const today = pod.fromTemplate ? undefined : model.injectionIfRecreated(pod);
        fixes.push(
          today
            ? restartFix(model, g.pods, `the injector adds the sidecar to new pods (${today})`)
            : injectSidecarFix(model, pod, `every backend of Service ${svc.namespace}/${svc.name} then has a sidecar`),
        );
      }
      findings.push({
        resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
        message:
          `Service ${svc.namespace}/${svc.name} sends to ${ready.length} ready pods: ${plain.length} without a sidecar (${listing(plainGroups.map((g) => describeGroup(g)))}) ` +
          `and ${meshed.length} with one (${listing(meshedGroups.map((g) => describeGroup(g)))}); the same request works or fails depending on the pod it lands on.`,
        symptom: 'intermittent failures: a fraction of requests (those balanced to one kind of pod) get 503 UC / connection resets or bypass mesh policy',
        evidence: [...plainGroups, ...meshedGroups].map((g) => `${describeGroup(g)}: ${(g.pods[0] as PodView).sidecar.reason}`),
        fixes,
        objects: [svc.object, ...ready.map((p) => p.object)],
      });
    }
    return findings;
  },
};
