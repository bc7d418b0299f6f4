// TM206: a hostNetwork pod in a namespace that asks for injection: the injector never touches
// hostNetwork pods, so it stays outside the mesh whatever the namespace says.

import type { PodView } from '../../model/pods.js';
import { INJECT_KEY, namespaceInjectionLabel, optsOutOfInjection } from '../../model/sidecar.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { templatePatch } from '../fixes.js';
import type { FindingDraft, Rule } from '../types.js';

export const tm206: Rule = {
  meta: {
    code: 'TM206',
    name: 'unmeshable-pod',
    severity: 'info',
    summary: 'A hostNetwork: true pod in an injection-enabled namespace: Istio never injects it.',
    description:
      "A pod on the host's network shares the node's network namespace; Istio's injector skips it, so it has no sidecar, sends plaintext, and STRICT peers reset it. " +
      'The namespace label suggests otherwise.',
    howToFix: 'Say so explicitly with the pod template label sidecar.istio.io/inject: "false", or drop hostNetwork if the pod does not need it.',
    inputs: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Namespace'],
  },
  check({ model }) {
    const unmeshable = model.configuredPods().filter((p) => {
      if (p.spec.hostNetwork !== true || optsOutOfInjection(p.labels, p.annotations)) return false;
      return namespaceInjectionLabel(model.namespaces.get(p.namespace)?.metadata.labels) !== undefined;
    });
    const findings: FindingDraft[] = [];
    for (const group of groupByWorkload(unmeshable)) {
      const pod = group.pods[0] as PodView;
      const label = namespaceInjectionLabel(model.namespaces.get(pod.namespace)?.metadata.labels) as string;
      const optOut = templatePatch(model, pod, { metadata: { labels: { [INJECT_KEY]: 'false' } } }, ['states what happens anyway: hostNetwork pods are never injected']);
      optOut.title = `Mark ${optOut.target.kind} ${pod.namespace}/${optOut.target.name} as outside the mesh`;
      const podNetwork = templatePatch(model, pod, { spec: { hostNetwork: false } }, ['only if the pod does not need the node\'s network: it then gets its own network namespace and a sidecar']);
      podNetwork.title = `Run ${podNetwork.target.kind} ${pod.namespace}/${podNetwork.target.name} on the pod network`;
      findings.push({
        resource: group.workload,
        message: `${describeGroup(group)} uses hostNetwork: true in namespace ${pod.namespace} (${label}): Istio never injects it, so it is outside the mesh.`,
        symptom: 'its traffic is plaintext and carries no mesh identity; STRICT peers reset it',
        evidence: [`namespace ${pod.namespace}: ${label}`, `${describeGroup(group)}: spec.hostNetwork true`, `sidecar: ${pod.sidecar.reason}`],
        fixes: [optOut, podNetwork],
        objects: [pod.object],
      });
    }
    return findings;
  },
};
