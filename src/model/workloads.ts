// Workloads as findings name them: many pods of one Deployment/StatefulSet/DaemonSet are one
// subject (ReplicaSet → Deployment resolved in pods.ts), so a finding lists its pods once.

import { formatRef, type ObjectRef } from '../core/k8s.js';
import { describePod, workloadOf, type PodView } from './pods.js';

export interface WorkloadGroup {
  workload: ObjectRef;
  /** The pods (or the one pod template) of the workload, in input order. */
  pods: PodView[];
}

export function workloadKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** Pods grouped by owning workload, in order of first appearance. */
export function groupByWorkload(pods: readonly PodView[]): WorkloadGroup[] {
  const groups = new Map<string, WorkloadGroup>();
  for (const pod of pods) {
    const workload = workloadOf(pod);
    const key = workloadKey(workload);
    const group = groups.get(key);
    if (group) group.pods.push(pod);
    else groups.set(key, { workload, pods: [pod] });
  }
  return [...groups.values()];
}

/** `Deployment app/web (pod template)`, `Deployment app/web (pods web-1, web-2)`, `Pod app/x`. */
export function describeGroup(g: WorkloadGroup, max = 5): string {
  const first = g.pods[0];
  if (g.pods.length === 1 && first && (first.fromTemplate || !first.owner)) return describePod(first);
  const names = g.pods.map((p) => p.name);
  const shown = names.slice(0, max).join(', ');
  const more = names.length > max ? ` and ${names.length - max} more` : '';
  return `${formatRef(g.workload)} (pod${names.length === 1 ? '' : 's'} ${shown}${more})`;
}

/** Pods of Jobs and CronJobs run to completion and are clients, never Service backends. */
export function isBatchPod(p: PodView): boolean {
  const kind = workloadOf(p).kind;
  return kind === 'Job' || kind === 'CronJob';
}
