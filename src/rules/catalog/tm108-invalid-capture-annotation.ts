// TM108: a capture annotation whose value Istio's injector rejects: the webhook denies the
// pod, so the workload's pods are never created (or its next rollout stalls).

import { ANNOTATION, invalidCaptureAnnotations, isValidPrefix, type CaptureAnnotationProblem } from '../../model/capture.js';
import type { PodView } from '../../model/pods.js';
import { appContainers } from '../../model/ports.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { listing } from '../edge-hits.js';
import { templatePatch } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

const MAX_RANGE_EXPANSION = 64;

function isIpRangeKey(key: string): boolean {
  return key === ANNOTATION.includeOutboundIPRanges || key === ANNOTATION.excludeOutboundIPRanges;
}

/** The value Istio would accept that keeps what was meant: ranges expanded, port names resolved, junk dropped. */
export function repairedValue(problem: CaptureAnnotationProblem, pod: PodView): { value: string; notes: string[] } {
  const notes: string[] = [];
  if (isIpRangeKey(problem.key)) {
    const items = problem.value.split(',').flatMap((raw) => {
      const item = raw.trim();
      if (item === '') return [];
      if (item === '*' && problem.key === ANNOTATION.includeOutboundIPRanges) return ['*'];
      if (isValidPrefix(item)) return [item];
      const single = item.includes(':') ? `${item}/128` : `${item}/32`;
      if (isValidPrefix(single)) {
        notes.push(`${item} → ${single}`);
        return [single];
      }
      notes.push(`dropped ${JSON.stringify(item)}`);
      return [];
    });
    const value = items.includes('*') ? '*' : items.join(',');
    return { value, notes };
  }
  const names = new Map(appContainers(pod.spec).flatMap((c) => (c.ports ?? []).filter((p) => p.name).map((p) => [p.name as string, p.containerPort] as const)));
  const ports: string[] = [];
  for (const raw of problem.value.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (/^\d+$/.test(item) && Number(item) <= 65535) ports.push(String(Number(item)));
    else if (/^\d+-\d+$/.test(item)) {
      const [lo, hi] = item.split('-').map(Number) as [number, number];
      if (hi >= lo && hi <= 65535 && hi - lo < MAX_RANGE_EXPANSION) {
        for (let p = lo; p <= hi; p++) ports.push(String(p));
        notes.push(`range ${item} written out port by port`);
      } else notes.push(`dropped range ${item} (too wide to list; Istio takes single ports only)`);
    } else if (names.has(item)) {
      ports.push(String(names.get(item)));
      notes.push(`port name ${item} → ${names.get(item)}`);
    } else if (item === '*' && problem.key === ANNOTATION.includeInboundPorts) {
      notes.push('"*" can only stand alone: the whole value is "*"');
      return { value: '*', notes };
    } else if (item === '*' && problem.key === ANNOTATION.excludeInboundPorts) {
      notes.push(`dropped "*": to capture no inbound port, set ${ANNOTATION.includeInboundPorts}: "" instead`);
    } else if (item === '*' && problem.key === ANNOTATION.excludeOutboundPorts) {
      notes.push(`dropped "*": to send no outbound traffic through the sidecar, set ${ANNOTATION.includeOutboundIPRanges}: "" instead`);
    } else notes.push(`dropped ${JSON.stringify(item)}`);
  }
  return { value: [...new Set(ports)].join(','), notes };
}

export const tm108: Rule = {
  meta: {
    code: 'TM108',
    name: 'invalid-capture-annotation',
    severity: 'error',
    summary:
      'A traffic.sidecar.istio.io include/exclude annotation has a value the Istio injector rejects (non-numeric, a range, "*" in an exclude list, an empty item, a port above 65535, a malformed CIDR).',
    description:
      "Before injecting, Istio validates the capture annotations; a bad value makes the webhook deny the pod (\"invalid value '8000-8010' for annotation " +
      "'traffic.sidecar.istio.io/excludeInboundPorts'\"), so the ReplicaSet reports FailedCreate and no pod starts. Port lists are numbers separated by commas " +
      '(spaces around them are fine); IP ranges are CIDRs without spaces. includeOutboundPorts is not validated by the injector.',
    howToFix: 'Write the list the injector accepts: single port numbers (ranges written out), "*" only alone in includeInboundPorts, CIDRs with a prefix length.',
    inputs: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Namespace'],
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    const subjects = model.configuredPods().filter((p) => {
      // Validation happens only when the injector handles the pod.
      if (p.sidecar.state === 'absent') return false;
      return invalidCaptureAnnotations(p.annotations).length > 0;
    });
    for (const group of groupByWorkload(subjects)) {
      const pod = group.pods[0] as PodView;
      const problems = invalidCaptureAnnotations(pod.annotations);
      const repaired = problems.map((p) => ({ problem: p, ...repairedValue(p, pod) }));
      const fix: Fix = templatePatch(model, pod, { metadata: { annotations: Object.fromEntries(repaired.map((r) => [r.problem.key, r.value])) } }, [
        'values the injector accepts',
        ...repaired.flatMap((r) => r.notes.map((n) => `${r.problem.key}: ${n}`)),
      ]);
      fix.title = `Write ${listing(problems.map((p) => p.key))} as the injector accepts on ${fix.target?.kind} ${pod.namespace}/${fix.target?.name}`;
      const running = group.pods.some((p) => !p.fromTemplate);
      const outcome =
        pod.sidecar.state === 'unknown'
          ? `Whether the injector handles these pods is unknown (${pod.sidecar.reason}); if it does, it denies them at admission.`
          : running
            ? 'The injector denies the next pods of this workload: a rollout or restart leaves it without new pods.'
            : 'The injector denies its pods at admission: none is created.';
      findings.push({
        resource: group.workload,
        message:
          `${describeGroup(group)}: ${problems.map((p) => `annotation ${p.key}: "${p.value}" has ${p.invalid.length === 1 ? 'an item' : 'items'} Istio rejects (${p.invalid.map((i) => JSON.stringify(i)).join(', ')}; expected ${p.expected})`).join('; ')}. ${outcome}`,
        symptom: `ReplicaSet/Job events: FailedCreate … admission webhook "namespace.sidecar-injector.istio.io" denied the request: invalid value '${problems[0]?.value}' for annotation '${problems[0]?.key}'`,
        evidence: [`${pod.sidecar.reason}`, ...problems.map((p) => `${p.key}: "${p.value}" → invalid: ${p.invalid.map((i) => JSON.stringify(i)).join(', ')}`)],
        fixes: [fix],
        objects: [pod.object],
        // In the workload's pod template, or in the metadata of a pod that has no workload.
        field: { path: [...(group.workload.kind === 'Pod' ? [] : [...(group.workload.kind === 'CronJob' ? ['spec', 'jobTemplate'] : []), 'spec', 'template']), 'metadata', 'annotations', problems[0]?.key ?? ''] },
      });
    }
    return findings;
  },
};
