// TM503: a config dump that cannot stand for any pod of the input as it is now (no such pod, a
// pod replaced since, a pod without a proxy), or whose Envoy rejected updates and so runs an older
// configuration. Its edges are not compared, or are compared with a proxy that is behind.

import { kinds, PODS } from '../inputs.js';
import type { ObjectRef } from '../../core/k8s.js';
import type { DumpProblem } from '../../model/envoy/match.js';
import { describeDump } from '../../model/envoy/dump.js';
import { workloadOf } from '../../model/pods.js';
import { restartFix } from '../fixes.js';
import { envoyExample } from '../examples.js';
import type { FindingDraft, Rule, Severity } from '../types.js';

/** Problems that are facts about the input rather than about the mesh. */
const INFO: ReadonlySet<DumpProblem['kind']> = new Set(['not-a-sidecar', 'duplicate']);

/** `dumps/a.yaml:12` → `dumps/a.yaml`: where a document starts is evidence, not identity. */
function fileOf(source: string): string {
  return source.replace(/:\d+( \(.*\))?$/, '');
}

export const tm503: Rule = {
  meta: {
    code: 'TM503',
    name: 'envoy-dump-stale',
    severity: 'warning',
    summary: 'A config dump matches no pod of the input as it is now (gone, re-created, without a proxy), or its Envoy rejected updates and runs an older configuration.',
    description:
      "A dump is matched to a pod by its bootstrap node (node id `sidecar~IP~POD.NS~NS.svc.cluster.local`, metadata NAME and NAMESPACE), or by the pod it was fetched from or given for (NAMESPACE/POD=FILE). " +
      'A dump of a pod that is not in the input, that has been replaced since (its Deployment runs other pods, or the pod has another IP now), or that has no sidecar in the input describes another moment than the manifests: ' +
      'it is not compared, so the edges it was meant to check stay judged from the configuration alone. ' +
      "A dump whose listeners or clusters carry an error_state shows updates Envoy refused (NACKed, often an EnvoyFilter or an invalid setting): that proxy keeps running the configuration it had before.",
    howToFix:
      'Take the dumps and the objects at the same moment (`tunnelmesh snapshot --proxy-config`, or `istioctl proxy-config all POD -o json` next to `kubectl get … -o yaml`), name a dump without a bootstrap node with NAMESPACE/POD=FILE, ' +
      'and for rejected updates read the error (`istioctl proxy-status`, the istiod log) and fix the configuration it names; restart the pod once it is fixed.',
    inputs: kinds(PODS),
    extraInputs: ['Envoy config dumps (--proxy-config, --proxy-config-file)'],
    example: envoyExample('stale'),
  },
  check({ model }) {
    const out: FindingDraft[] = [];
    for (const p of model.proxyDumps.problems) {
      const pod = p.dump.input.pod ?? p.dump.node?.pod;
      const resource: ObjectRef = p.pod
        ? p.pod.fromTemplate
          ? workloadOf(p.pod)
          : { kind: 'Pod', namespace: p.pod.namespace, name: p.pod.name }
        : pod
          ? { kind: 'Pod', namespace: pod.namespace, name: pod.name }
          : { kind: 'EnvoyConfigDump', name: fileOf(p.dump.input.source) };
      const severity: Severity = INFO.has(p.kind) ? 'info' : 'warning';
      const node = p.dump.node;
      out.push({
        resource,
        ...(severity !== 'warning' ? { severity } : {}),
        message: `The config dump ${pod ? `of ${describeDump(p.dump)}` : `in ${fileOf(p.dump.input.source)}`} ${p.kind === 'rejected-updates' ? 'shows that ' : 'is not compared: '}${p.message}.`,
        symptom: p.kind === 'rejected-updates' ? 'configuration changes do not take effect on this proxy; istioctl proxy-status shows it STALE or NACKed' : 'the edges this dump was meant to check are judged from the configuration alone',
        evidence: [
          `source: ${p.dump.input.source}${p.dump.input.live ? ' (read live)' : ''}`,
          ...(node?.id ? [`bootstrap node id: ${node.id}`] : ['no bootstrap node in the dump']),
          ...(node?.istioVersion ? [`ISTIO_VERSION ${node.istioVersion}`] : []),
          ...(p.dump.newestUpdate ? [`newest update in the dump: ${p.dump.newestUpdate}`] : []),
          ...p.dump.rejected.slice(0, 5).map((r) => `rejected: ${r}`),
        ],
        fixes: p.kind === 'rejected-updates' && p.pod ? [restartFix(model, [p.pod], 'once the rejected configuration is fixed, a re-created pod starts from a configuration Envoy accepts')] : [],
        ...(p.pod ? { objects: [p.pod.object] } : {}),
      });
    }
    return out;
  },
};
