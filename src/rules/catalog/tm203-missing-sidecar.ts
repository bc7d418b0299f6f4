// TM203: a running pod the injector would inject today has no sidecar: it was created before
// injection was enabled for it (or while the injector was bypassed). It needs a restart.

import type { PodView } from '../../model/pods.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { restartFix } from '../fixes.js';
import type { FindingDraft, Rule } from '../types.js';

export const tm203: Rule = {
  meta: {
    code: 'TM203',
    name: 'missing-sidecar',
    severity: 'warning',
    summary: 'A running pod that the injector would inject has no sidecar: it was created before injection was enabled; restart it.',
    description:
      'Injection happens only when a pod is created. Labelling a namespace istio-injection=enabled (or istio.io/rev, or the pod template sidecar.istio.io/inject=true) ' +
      'does nothing to pods already running: they stay outside the mesh, send plaintext, are reset by STRICT peers and lack the tlsMode label clients use for auto mTLS.',
    howToFix: 'Restart the workload (kubectl rollout restart) so its new pods are injected.',
    inputs: ['Pod', 'Namespace', 'Deployment', 'ReplicaSet'],
  },
  check({ model }) {
    const missing = model.pods.filter(
      (p) => !p.fromTemplate && p.sidecar.state === 'absent' && !p.sidecar.ambient && model.injectionIfRecreated(p) !== undefined,
    );
    const findings: FindingDraft[] = [];
    for (const group of groupByWorkload(missing)) {
      const pod = group.pods[0] as PodView;
      const reason = model.injectionIfRecreated(pod) as string;
      findings.push({
        resource: group.workload,
        message: `${describeGroup(group)} ${group.pods.length === 1 ? 'has' : 'have'} no Istio sidecar although the injector would add one today (${reason}): ${group.pods.length === 1 ? 'it was' : 'they were'} created before injection was enabled.`,
        symptom: 'these pods are outside the mesh: STRICT peers reset their connections (503 UC), meshed clients reach them in plaintext, only some requests fail while other pods of the mesh work',
        evidence: [
          `injection for ${pod.namespace}: ${reason}`,
          ...(/istio\.io\/rev=/.test(reason) ? [`a revision label injects only where a control plane of that revision is installed (kubectl get mutatingwebhookconfigurations); if none is, no pod gets a sidecar and a restart does not help`] : []),
          ...group.pods.slice(0, 10).map((p) => `Pod ${p.namespace}/${p.name}: ${p.sidecar.reason}`)],
        fixes: [restartFix(model, group.pods, 'new pods are created through the injector and get the sidecar')],
        objects: group.pods.map((p) => p.object),
      });
    }
    return findings;
  },
};
