// TM209: sidecar and ambient asked for at once: a namespace labelled for ambient and for
// injection, or a pod with a sidecar (observed or predicted) that ambient mode would capture.
// The sidecar wins (ztunnel skips pods that have one), which is rarely what was meant.

import type { Namespace } from '../../core/k8s.js';
import type { PodView } from '../../model/pods.js';
import { DATAPLANE_MODE_LABEL, INJECTION_LABEL, isAmbient, namespaceInjectionLabel, REV_LABEL } from '../../model/sidecar.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { listing } from '../edge-hits.js';
import { templatePatch, where } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { withComments } from '../yaml.js';

const SYMPTOM = 'the workloads run with sidecars, not in ambient mode: ztunnel skips them, waypoints and ambient policies do not apply to them';

/** A JSON merge patch removing labels (null deletes a key in a merge patch). */
function dropNamespaceLabels(ns: Namespace, labels: string[], why: string[], file: string): Fix {
  return {
    title: `Remove label${labels.length === 1 ? '' : 's'} ${labels.join(', ')} from Namespace ${ns.metadata.name}${file}`,
    yaml: withComments(
      [...why, `same as: kubectl label namespace ${ns.metadata.name} ${labels.map((l) => `${l}-`).join(' ')}`, `apply with: kubectl patch namespace ${ns.metadata.name} --type merge --patch-file <this file>`],
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.metadata.name, labels: Object.fromEntries(labels.map((l) => [l, null])) } },
    ),
    target: { kind: 'Namespace', name: ns.metadata.name },
    apply: 'merge-patch',
  };
}

export const tm209: Rule = {
  meta: {
    code: 'TM209',
    name: 'ambient-sidecar-conflict',
    severity: 'warning',
    summary: 'A pod with a sidecar in an ambient namespace, or both ambient and injection labels on one namespace or pod.',
    description:
      'istio.io/dataplane-mode=ambient asks ztunnel to capture the pods; istio-injection=enabled, istio.io/rev or sidecar.istio.io/inject=true asks the webhook for a sidecar. ' +
      'Both together give pods with sidecars that ambient mode then skips: the workload is not in ambient mode, and which mode a pod ends up in depends on when it was created.',
    howToFix: 'Choose one: remove the ambient label to stay on sidecars, or remove the injection label (and restart) to move to ambient.',
    inputs: ['Namespace', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet'],
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    const conflictingNamespaces = new Set<string>();
    for (const ns of model.namespaces.values()) {
      const labels = ns.metadata.labels ?? {};
      const injection = namespaceInjectionLabel(labels);
      if (labels[DATAPLANE_MODE_LABEL] !== 'ambient' || !injection) continue;
      conflictingNamespaces.add(ns.metadata.name);
      const withSidecar = groupByWorkload(model.podsIn(ns.metadata.name).filter((p) => p.sidecar.state === 'present' && p.sidecar.kind !== 'gateway'));
      const injectionLabels = [INJECTION_LABEL, REV_LABEL].filter((l) => labels[l] !== undefined);
      const file = where(model, ns);
      findings.push({
        resource: { kind: 'Namespace', name: ns.metadata.name },
        message:
          `Namespace ${ns.metadata.name} asks for ambient mode (${DATAPLANE_MODE_LABEL}=ambient) and for sidecar injection (${injection}): new pods get sidecars and ztunnel skips them.` +
          (withSidecar.length ? ` Affected: ${listing(withSidecar.slice(0, 6).map((g) => describeGroup(g)))}${withSidecar.length > 6 ? ` and ${withSidecar.length - 6} more` : ''}.` : ''),
        symptom: SYMPTOM,
        evidence: [`Namespace ${ns.metadata.name} labels: ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')}`, ...withSidecar.slice(0, 6).map((g) => `${describeGroup(g)}: ${(g.pods[0] as PodView).sidecar.reason}`)],
        fixes: [
          dropNamespaceLabels(ns, [DATAPLANE_MODE_LABEL], ['stay on sidecars: keeps what the running pods already are'], file),
          dropNamespaceLabels(ns, injectionLabels, ['move to ambient: then restart the workloads so their pods come back without sidecars'], file),
        ],
        objects: [ns],
      });
    }
    // Pods (or templates) with a sidecar that ambient mode would otherwise capture.
    const conflicted = model.pods.filter(
      (p) =>
        !conflictingNamespaces.has(p.namespace) &&
        p.sidecar.state === 'present' &&
        p.sidecar.kind !== 'gateway' &&
        isAmbient(model.namespaces.get(p.namespace)?.metadata.labels, p.labels),
    );
    for (const group of groupByWorkload(conflicted)) {
      const pod = group.pods[0] as PodView;
      const ambientFrom = pod.labels[DATAPLANE_MODE_LABEL] === 'ambient' ? `pod label ${DATAPLANE_MODE_LABEL}=ambient` : `namespace ${pod.namespace} label ${DATAPLANE_MODE_LABEL}=ambient`;
      const keep = templatePatch(model, pod, { metadata: { labels: { [DATAPLANE_MODE_LABEL]: 'none' } } }, ['opts the workload out of ambient mode explicitly: it stays on its sidecar']);
      keep.title = `Keep ${keep.target.kind} ${pod.namespace}/${keep.target.name} on its sidecar (${DATAPLANE_MODE_LABEL}: none)`;
      const move = templatePatch(model, pod, { metadata: { labels: { 'sidecar.istio.io/inject': 'false' } } }, ['moves the workload to ambient: new pods come without a sidecar and ztunnel captures them']);
      move.title = `Move ${move.target.kind} ${pod.namespace}/${move.target.name} to ambient (no sidecar)`;
      findings.push({
        resource: group.workload,
        message: `${describeGroup(group)} ${pod.fromTemplate ? 'gets' : 'has'} an Istio sidecar (${pod.sidecar.reason}) while ${ambientFrom} puts it in ambient mode: ztunnel skips pods with sidecars.`,
        symptom: SYMPTOM,
        evidence: [`sidecar: ${pod.sidecar.reason}`, `ambient: ${ambientFrom}`],
        fixes: [keep, move],
        objects: [pod.object],
      });
    }
    return findings;
  },
};
