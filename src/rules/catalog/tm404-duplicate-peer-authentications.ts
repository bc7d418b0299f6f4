// TM404: several PeerAuthentications compete for one scope: Istio applies only the oldest
// namespace-wide (or mesh-wide) policy of a namespace, and only the oldest workload policy of a pod.

import { objectsOfKind } from '../../core/snapshot.js';
import { refOf, type PeerAuthentication } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import { modeOf, oldestFirst, paName, scopeOf } from '../../model/peerauth.js';
import type { PodView } from '../../model/pods.js';
import { describeGroup, groupByWorkload, type WorkloadGroup } from '../../model/workloads.js';
import { listing, unique } from '../edge-hits.js';
import { deleteStep, editFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

function describePolicy(pa: PeerAuthentication): string {
  const ports = Object.entries(pa.spec?.portLevelMtls ?? {}).map(([p, v]) => `${p}: ${modeOf(v.mode)}`);
  return `${paName(pa)}: mtls ${modeOf(pa.spec?.mtls?.mode)}${ports.length ? `, portLevelMtls ${ports.join(', ')}` : ''}${pa.metadata.creationTimestamp ? `, created ${pa.metadata.creationTimestamp}` : ', no creation time in the input'}`;
}

function orderNote(list: PeerAuthentication[]): string {
  const times = list.map((p) => p.metadata.creationTimestamp);
  if (times.some((t) => !t)) return 'the input has no creation times: the one created first wins (equal times: the name that sorts first)';
  return new Set(times).size < times.length ? 'equal creation times: the name that sorts first wins' : 'the oldest wins';
}

/** The policy in force, carrying what the ignored ones add where it says nothing. */
function mergeFix(model: MeshModel, winner: PeerAuthentication, others: PeerAuthentication[]): Fix {
  return editFix(
    model,
    winner,
    (copy) => {
      for (const o of others) {
        if (modeOf(copy.spec.mtls?.mode) === 'UNSET' && o.spec?.mtls?.mode) copy.spec.mtls = { mode: o.spec.mtls.mode };
        const ports = { ...(o.spec?.portLevelMtls ?? {}), ...(copy.spec.portLevelMtls ?? {}) };
        if (Object.keys(ports).length) copy.spec.portLevelMtls = ports;
      }
    },
    `Keep one policy: ${paName(winner)}`,
    [
      `the policy Istio applies today; settings of ${listing(others.map(paName))} it did not have are carried over (its own settings win): review them`,
      'the ignored ones are then deleted',
    ],
    { steps: others.map((o) => deleteStep(refOf(o))) },
  );
}

export const tm404: Rule = {
  meta: {
    code: 'TM404',
    name: 'duplicate-peer-authentications',
    severity: 'warning',
    summary: 'Several namespace-wide (or mesh-wide) PeerAuthentications in one namespace, or several workload PeerAuthentications selecting one pod: only the oldest counts.',
    description:
      'Istio keeps one policy per scope: the oldest namespace-wide policy of a namespace (the oldest mesh-wide one in the root namespace) and the oldest workload ' +
      'policy among those selecting a pod (equal creation times: the name that sorts first). The others are ignored, so their mode and port settings do nothing.',
    howToFix: 'Keep one policy per namespace and per workload: merge the settings into the one in force and delete the others.',
    inputs: ['PeerAuthentication', 'Pod', 'Deployment', 'ConfigMap'],
  },
  check({ model }) {
    const root = model.mesh.rootNamespace;
    const findings: FindingDraft[] = [];
    const all = objectsOfKind(model.snapshot, 'PeerAuthentication');
    // Namespace-wide and mesh-wide policies.
    for (const ns of unique(all.map((p) => p.metadata.namespace as string)).sort()) {
      const list = oldestFirst(all.filter((p) => p.metadata.namespace === ns && ['mesh', 'namespace'].includes(scopeOf(p, root))));
      if (list.length < 2) continue;
      const [winner, ...ignored] = list as [PeerAuthentication, ...PeerAuthentication[]];
      const scope = ns === root ? 'mesh-wide' : 'namespace-wide';
      findings.push({
        resource: { kind: 'PeerAuthentication', namespace: ns, name: (ignored[0] as PeerAuthentication).metadata.name },
        message: `${list.length} ${scope} PeerAuthentications in ${ns}: Istio applies ${paName(winner)} and ignores ${listing(ignored.map(paName))}.`,
        symptom: 'the mTLS mode written in the ignored policies is not in force',
        evidence: [...list.map(describePolicy), orderNote(list)],
        fixes: [mergeFix(model, winner, ignored)],
        namespaces: [ns],
        objects: list,
      });
    }
    // Workload policies competing for the same pods.
    const sets = new Map<string, { policies: PeerAuthentication[]; groups: WorkloadGroup[] }>();
    for (const group of groupByWorkload(model.pods)) {
      const pod = group.pods[0] as PodView;
      if (pod.namespace === root) continue;
      const list = model.peerAuth.workloadPolicies(pod.namespace, pod.labels);
      if (list.length < 2) continue;
      const key = list.map(paName).join('+');
      const known = sets.get(key);
      if (known) known.groups.push(group);
      else sets.set(key, { policies: list, groups: [group] });
    }
    for (const { policies, groups } of sets.values()) {
      const [winner, ...ignored] = policies as [PeerAuthentication, ...PeerAuthentication[]];
      findings.push({
        resource: { kind: 'PeerAuthentication', namespace: winner.metadata.namespace as string, name: (ignored[0] as PeerAuthentication).metadata.name },
        message: `${policies.length} workload PeerAuthentications select ${listing(groups.map((g) => describeGroup(g)))}: Istio applies ${paName(winner)} and ignores ${listing(ignored.map(paName))}.`,
        symptom: 'the mTLS mode and port settings written in the ignored policies are not in force for these pods',
        evidence: [...policies.map(describePolicy), orderNote(policies)],
        fixes: [mergeFix(model, winner, ignored)],
        objects: policies,
      });
    }
    return findings;
  },
};
