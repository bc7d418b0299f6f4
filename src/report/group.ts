// The table's grouping: the same finding on every pod of one workload (pods dumped without
// their ReplicaSet, each repeating the template's mistake) is one row naming the workload
// and its pods. JSON, SARIF and the compact format keep every finding.

import { formatRef, type ObjectRef } from '../core/k8s.js';
import type { Finding } from '../rules/types.js';

export interface FindingGroup {
  /** The first finding stands for the group (its message, evidence and fixes). */
  first: Finding;
  findings: Finding[];
  /** Set when the findings are on several pods of this workload. */
  workload?: ObjectRef;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The message with the pod's own name taken out, so the pods of one workload compare equal. */
function messageWithoutPod(f: Finding): string {
  const name = escapeRegExp(f.resource.name);
  return f.message.replace(new RegExp(`\\b${name}\\b`, 'g'), '<pod>');
}

/** Findings grouped across the pods of one workload, in the order of each group's first finding. */
export function groupAcrossPods(findings: Finding[], ownerOf: ((ref: ObjectRef) => ObjectRef | undefined) | undefined): FindingGroup[] {
  const groups: FindingGroup[] = [];
  const byKey = new Map<string, FindingGroup>();
  for (const f of findings) {
    const owner = f.resource.kind === 'Pod' && ownerOf ? ownerOf(f.resource) : undefined;
    if (!owner) {
      groups.push({ first: f, findings: [f] });
      continue;
    }
    const key = [f.code, f.severity, f.port ?? '', formatRef(owner), messageWithoutPod(f)].join('\u0000');
    const group = byKey.get(key);
    if (group) {
      group.findings.push(f);
      group.workload = owner;
    } else {
      // `workload` is set once a second pod joins: a workload with one pod stays a Pod row.
      const created: FindingGroup = { first: f, findings: [f] };
      byKey.set(key, created);
      groups.push(created);
    }
  }
  return groups;
}
