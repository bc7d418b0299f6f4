// TM405: a selector that selects no pod: a workload PeerAuthentication whose matchLabels fit no
// pod of its namespace, or a DestinationRule subset whose labels fit none of its Service's pods.

import { objectsOfKind } from '../../core/snapshot.js';
import { drName, resolveHost } from '../../model/destinationrule.js';
import type { PeerAuthentication, StringMap } from '../../core/k8s.js';
import { formatLabels, matchesLabels } from '../../core/labels.js';
import type { MeshModel } from '../../model/model.js';
import { formatSelector, paName, podsSelectedBy, scopeOf } from '../../model/peerauth.js';
import { routeDestinations } from '../../model/virtualservice.js';
import { groupByWorkload } from '../../model/workloads.js';
import { listing, unique } from '../edge-hits.js';
import { editFix, workloadSelector } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

/** Labels Istio adds to endpoints from the node (a subset may select on them; pods do not carry them). */
const TOPOLOGY_LABELS = /^(topology\.kubernetes\.io\/(region|zone)|topology\.istio\.io\/(subzone|network|cluster)|kubernetes\.io\/hostname|failure-domain\.beta\.kubernetes\.io\/(region|zone))$/;

function labelValues(pods: ReadonlyArray<{ labels: StringMap }>, key: string): string[] {
  return unique(pods.map((p) => p.labels[key]).filter((v): v is string => v !== undefined)).sort();
}

export const tm405: Rule = {
  meta: {
    code: 'TM405',
    name: 'selector-matches-nothing',
    severity: 'info',
    summary: 'A PeerAuthentication selector or a DestinationRule subset selects no pod.',
    description:
      "A workload PeerAuthentication applies to the pods its matchLabels select in its own namespace; a subset to the pods of the rule's Service that carry its labels. " +
      'Selecting none, the policy does nothing and a route to the subset has no endpoint (503 no healthy upstream). Usually a label typo or a workload that was renamed.',
    howToFix: "Use labels the pods really carry (the finding lists them), or delete the policy/subset if the workload is gone.",
    inputs: ['PeerAuthentication', 'DestinationRule', 'VirtualService', 'Service', 'Pod', 'Deployment'],
  },
  check({ model }) {
    return [...peerAuthFindings(model), ...subsetFindings(model)];
  },
};

function peerAuthFindings(model: MeshModel): FindingDraft[] {
  const findings: FindingDraft[] = [];
  for (const pa of objectsOfKind(model.snapshot, 'PeerAuthentication')) {
    const ns = pa.metadata.namespace as string;
    if (scopeOf(pa, model.mesh.rootNamespace) !== 'workload' || !model.covers('Pod', ns)) continue;
    const pods = model.podsIn(ns);
    if (podsSelectedBy(pa, pods).length > 0) continue;
    const selector = pa.spec?.selector?.matchLabels ?? {};
    // The workload it was probably meant for: most selector pairs in common, at least one.
    let best: { score: number; group: ReturnType<typeof groupByWorkload>[number] } | undefined;
    for (const group of groupByWorkload(pods)) {
      const labels = (group.pods[0] as (typeof pods)[number]).labels;
      const score = Object.entries(selector).filter(([k, v]) => labels[k] === v).length + Object.keys(selector).filter((k) => labels[k] !== undefined).length / 100;
      if (score >= 0.01 && (!best || score > best.score)) best = { score, group };
    }
    const fixes: Fix[] = [];
    if (best) {
      const target = best.group;
      const labels = workloadSelector(model, target.pods[0] as (typeof pods)[number], undefined);
      fixes.push(
        editFix(model, pa, (copy: PeerAuthentication) => void (copy.spec.selector = { matchLabels: labels }), `Select ${target.workload.kind} ${ns}/${target.workload.name} in ${paName(pa)}`, [
          `${target.workload.kind} ${ns}/${target.workload.name} is the workload whose labels come closest to ${formatSelector(pa)}: check it is the one meant`,
        ]),
      );
    }
    const keys = Object.keys(selector);
    findings.push({
      resource: { kind: 'PeerAuthentication', namespace: ns, name: pa.metadata.name },
      message: `${paName(pa)} selects ${formatSelector(pa)}, which no pod in ${ns} carries: the policy applies to nothing.`,
      symptom: 'the mTLS mode it sets is not in force anywhere',
      evidence: [
        `${pods.length} pod${pods.length === 1 ? '' : 's'} or pod template${pods.length === 1 ? '' : 's'} in ${ns}`,
        ...keys.map((k) => `label ${k} on pods in ${ns}: ${listing(labelValues(pods, k)) || 'none'}`),
      ],
      fixes,
      namespaces: [ns],
      objects: [pa],
    });
  }
  return findings;
}

function subsetFindings(model: MeshModel): FindingDraft[] {
  const findings: FindingDraft[] = [];
  const routed = new Set(
    objectsOfKind(model.snapshot, 'VirtualService').flatMap((vs) =>
      routeDestinations(vs)
        .filter((r) => r.destination.subset)
        .map((r) => `${resolveHost(r.destination.host, vs.metadata.namespace as string, model.clusterDomain)}|${r.destination.subset}`),
    ),
  );
  for (const { rule, host, service: svc } of model.ruleTargets()) {
    const ns = rule.metadata.namespace as string;
    if (!(rule.spec.subsets ?? []).length) continue;
    if (!svc?.selector || !model.covers('Pod', svc.namespace)) continue; // unknown host: TM401; no selector: endpoints are managed by hand
    const backends = model.backendsOf(svc);
    const empty = (rule.spec.subsets ?? []).filter((s) => {
      const labels = s.labels ?? {};
      if (Object.keys(labels).some((k) => TOPOLOGY_LABELS.test(k))) return false; // node labels: not visible here
      return !backends.some((p) => matchesLabels(labels, p.labels));
    });
    if (empty.length === 0) continue;
    const names = empty.map((s) => s.name);
    const usedByRoutes = names.filter((n) => routed.has(`${host}|${n}`));
    const fixes: Fix[] = [];
    if (usedByRoutes.length === 0) {
      fixes.push(
        editFix(model, rule, (copy) => void (copy.spec.subsets = (copy.spec.subsets ?? []).filter((s) => !names.includes(s.name))), `Remove subset${names.length === 1 ? '' : 's'} ${listing(names)} from ${drName(rule)}`, [
          'no VirtualService routes to them and no pod matches them',
        ]),
      );
    }
    const keys = unique(empty.flatMap((s) => Object.keys(s.labels ?? {})));
    findings.push({
      resource: { kind: 'DestinationRule', namespace: ns, name: rule.metadata.name },
      message:
        `${drName(rule)}: subset${names.length === 1 ? '' : 's'} ${listing(empty.map((s) => `${s.name} (${formatLabels(s.labels ?? {}) || 'no labels'})`))} select${names.length === 1 ? 's' : ''} no pod of Service ${svc.namespace}/${svc.name}.` +
        (usedByRoutes.length ? ` Routes to ${listing(usedByRoutes)} have no endpoint (503 no healthy upstream).` : ''),
      symptom: usedByRoutes.length ? '503 "no healthy upstream" on requests routed to the empty subset' : 'none until a route uses the subset',
      evidence: [
        `Service ${svc.namespace}/${svc.name} selects ${backends.length} pod${backends.length === 1 ? '' : 's'} or pod template${backends.length === 1 ? '' : 's'}`,
        ...keys.map((k) => `label ${k} on those pods: ${listing(labelValues(backends, k)) || 'none'}`),
      ],
      fixes,
      namespaces: unique([ns, svc.namespace]),
      objects: [rule, svc.object],
    });
  }
  return findings;
}
