// TM402: a VirtualService routes to a subset that no DestinationRule applying to its clients
// defines: Envoy has no cluster for it and answers 503 NR (no route / no healthy upstream).

import { objectsOfKind } from '../../core/snapshot.js';
import { drName, isWildcardHost, resolveHost, serviceOfHost, type IndexedRule, type RuleMatch } from '../../model/destinationrule.js';
import type { DestinationRule, StringMap, VirtualService } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import { routeDestinations, type RouteDestination } from '../../model/virtualservice.js';
import { listing, unique } from '../edge-hits.js';
import { createFix, dnsName, editFix, istioApiVersion } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

interface Missing {
  route: RouteDestination;
  host: string;
  subset: string;
  serviceNamespace: string;
  match?: RuleMatch;
}

/** Labels a subset named like this would select: a backend label whose value is the name, else `version: <name>`. */
function subsetLabels(model: MeshModel, host: string, subset: string): { labels: StringMap; guessed: boolean } {
  const target = serviceOfHost(host, model.clusterDomain);
  const svc = target ? model.service(target.namespace, target.name) : undefined;
  for (const pod of svc ? model.backendsOf(svc) : []) {
    const hit = Object.entries(pod.labels).find(([k, v]) => v === subset && k !== 'pod-template-hash');
    if (hit) return { labels: { [hit[0]]: hit[1] }, guessed: false };
  }
  return { labels: { version: subset }, guessed: true };
}

function subsetsFor(model: MeshModel, missing: Missing[]): Array<{ name: string; labels: StringMap }> {
  return unique(missing.map((m) => m.subset)).map((name) => ({ name, labels: subsetLabels(model, (missing[0] as Missing).host, name).labels }));
}

export const tm402: Rule = {
  meta: {
    code: 'TM402',
    name: 'subset-undefined',
    severity: 'error',
    summary: 'A VirtualService routes to a subset that no applicable DestinationRule defines (503 NR).',
    description:
      "A route's destination.subset must be defined by the DestinationRule its clients apply to the host (the client's namespace first, then rules exported " +
      "from the Service's namespace, then the root namespace; the first namespace with a rule wins). Without it Envoy has no cluster for the route and every request gets 503 NR.",
    howToFix: 'Define the subset (with labels that select the pods) in the DestinationRule in force for the host, or drop the subset from the route.',
    inputs: ['VirtualService', 'DestinationRule', 'Service', 'Pod', 'Deployment'],
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const vs of objectsOfKind(model.snapshot, 'VirtualService')) {
      const ns = vs.metadata.namespace as string;
      if (model.incompleteFor('DestinationRule', [ns, model.mesh.rootNamespace])) continue;
      const missing: Missing[] = [];
      for (const route of routeDestinations(vs)) {
        const subset = route.destination.subset;
        if (!subset) continue;
        const host = resolveHost(route.destination.host, ns, model.clusterDomain);
        if (isWildcardHost(host)) continue;
        const serviceNamespace = serviceOfHost(host, model.clusterDomain)?.namespace ?? ns;
        // Rules of a namespace that was not listed (or could not be) may define it.
        if (model.incompleteFor('DestinationRule', [serviceNamespace])) continue;
        if (![ns, serviceNamespace, model.mesh.rootNamespace].every((n) => model.covers('DestinationRule', n))) continue;
        const match = model.destinationRules.lookup({ namespace: ns }, host, serviceNamespace);
        const defined = new Set(match?.rules.flatMap((r) => (r.rule.spec.subsets ?? []).map((s) => s.name)) ?? []);
        if (!defined.has(subset)) missing.push({ route, host, subset, serviceNamespace, ...(match ? { match } : {}) });
      }
      if (missing.length === 0) continue;
      const fixes: Fix[] = [];
      for (const host of unique(missing.map((m) => m.host))) {
        const forHost = missing.filter((m) => m.host === host);
        fixes.push(defineSubsets(model, forHost));
      }
      fixes.push(dropSubsets(model, vs, missing));
      const first = missing[0] as Missing;
      findings.push({
        resource: { kind: 'VirtualService', namespace: ns, name: vs.metadata.name },
        message: `VirtualService ${ns}/${vs.metadata.name} routes to ${listing(unique(missing.map((m) => `subset ${m.subset} of ${m.host}`)))}, which no DestinationRule applying to it defines: those routes answer 503 NR.`,
        symptom: '503 NR (no route / no healthy upstream) on every request the route takes',
        evidence: missing.map((m) =>
          m.match
            ? `${m.route.path}: ${m.host} subset ${m.subset}; ${m.match.rules.map((r) => drName(r.rule)).join(' + ')} applies (from namespace ${ns}) and defines ${listing(unique(m.match.rules.flatMap((r) => (r.rule.spec.subsets ?? []).map((s) => s.name)))) || 'no subsets'}`
            : `${m.route.path}: ${m.host} subset ${m.subset}; no DestinationRule for ${m.host} is visible from namespace ${ns}`,
        ),
        fixes,
        namespaces: unique([ns, first.serviceNamespace]),
        objects: [vs, ...unique(missing.flatMap((m) => m.match?.rules.map((r) => r.rule) ?? []))],
      });
    }
    return findings;
  },
};

function defineSubsets(model: MeshModel, missing: Missing[]): Fix {
  const first = missing[0] as Missing;
  const subsets = subsetsFor(model, missing);
  const guessed = subsets.filter((s) => subsetLabels(model, first.host, s.name).guessed).map((s) => s.name);
  const comments = guessed.length ? [`no pod behind ${first.host} carries a label with the value ${listing(guessed)}: the labels are a guess, adjust them to the pods' version label`] : [];
  if (first.match) {
    // The rule that already lists subsets is where a reader looks for them.
    const rule: DestinationRule = (first.match.rules.find((r) => (r.rule.spec.subsets ?? []).length) ?? (first.match.rules[0] as IndexedRule)).rule;
    return editFix(
      model,
      rule,
      (copy) => void (copy.spec.subsets = [...(copy.spec.subsets ?? []), ...subsets]),
      `Define subset${subsets.length === 1 ? '' : 's'} ${listing(subsets.map((s) => s.name))} in ${drName(rule)}`,
      [`${drName(rule)} is the rule in force for ${first.host}`, ...comments],
    );
  }
  const target = serviceOfHost(first.host, model.clusterDomain);
  const base = dnsName(target?.name ?? first.host);
  const taken = (n: string): boolean => model.destinationRules.all.some((r) => r.rule.metadata.namespace === first.serviceNamespace && r.rule.metadata.name === n);
  const name = taken(base) ? dnsName(base, 'subsets') : base;
  return createFix(
    `DestinationRule ${first.serviceNamespace}/${name} with subset${subsets.length === 1 ? '' : 's'} ${listing(subsets.map((s) => s.name))}`,
    [`defines the subsets for ${first.host} (exported to every namespace by default)`, ...comments],
    { apiVersion: istioApiVersion(model, 'DestinationRule'), kind: 'DestinationRule', metadata: { name, namespace: first.serviceNamespace }, spec: { host: first.host, subsets } },
  );
}

function dropSubsets(model: MeshModel, vs: VirtualService, missing: Missing[]): Fix {
  const paths = new Set(missing.map((m) => m.route.path));
  return editFix(
    model,
    vs,
    (copy) => {
      for (const r of routeDestinations(copy)) if (paths.has(r.path)) delete r.destination.subset;
    },
    `Route to the whole service instead of the undefined subset${missing.length === 1 ? '' : 's'} in VirtualService ${vs.metadata.namespace}/${vs.metadata.name}`,
    ['traffic then goes to every pod of the service'],
  );
}
