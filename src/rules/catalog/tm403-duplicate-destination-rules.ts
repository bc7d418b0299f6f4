// TM403: several DestinationRules for one host reach the same clients: rules in one namespace are
// merged (the oldest rule's trafficPolicy wins, subsets are concatenated), and a rule found at an
// earlier lookup step hides the rest entirely (domain §6).

import { drName, serviceOfHost, type IndexedRule } from '../../model/destinationrule.js';
import { refOf, type DestinationRule } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import { listing, unique } from '../edge-hits.js';
import { deleteStep, editFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

function stepText(step: string): string {
  return step === 'client-namespace' ? "the client's namespace" : step === 'service-namespace' ? "the Service's namespace" : 'the root namespace';
}

/**
 * Namespaces whose clients matter: where pods (or pod templates) are; with none in the input
 * (rules checked on their own), every namespace the input names.
 */
function clientNamespaces(model: MeshModel): string[] {
  const withPods = unique(model.pods.map((p) => p.namespace));
  if (withPods.length) return withPods.sort();
  return unique([
    ...model.namespaces.keys(),
    ...model.services.map((s) => s.namespace),
    ...model.destinationRules.all.map((r) => r.rule.metadata.namespace as string),
  ]).sort();
}

export const tm403: Rule = {
  meta: {
    code: 'TM403',
    name: 'duplicate-destination-rules',
    severity: 'warning',
    summary: 'Several DestinationRules for one host are visible to the same client namespace: they are merged, or one hides the other.',
    description:
      'For a host, a client uses the rules of the first namespace that has any: its own, then rules exported from the Service\'s namespace, then from the root ' +
      'namespace. Several rules in that namespace are merged: subsets are concatenated but only the oldest rule\'s trafficPolicy (tls, load balancing, port settings) ' +
      'is used. Rules at later steps are ignored for that client. Either way a setting you can read in one of the rules may not be in force.',
    howToFix: 'Keep one DestinationRule per host (merge the settings into it and delete the others), or scope a deliberate override with exportTo.',
    inputs: ['DestinationRule', 'Service', 'Pod', 'Namespace'],
  },
  check({ model }) {
    const byHost = new Map<string, IndexedRule[]>();
    for (const r of model.destinationRules.all) {
      if (r.rule.spec.workloadSelector || r.host.startsWith('*')) continue;
      byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    }
    const findings: FindingDraft[] = [];
    for (const [host, rules] of [...byHost].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (rules.length < 2) continue;
      const serviceNamespace = serviceOfHost(host, model.clusterDomain)?.namespace ?? (rules[0]?.rule.metadata.namespace as string);
      // Clients that see the same set of rules get one finding.
      const situations = new Map<string, { applied: IndexedRule[]; shadowed: IndexedRule[]; step: string; namespaces: string[] }>();
      for (const ns of clientNamespaces(model)) {
        const steps = model.destinationRules.candidates(ns, host, serviceNamespace);
        const all = steps.flatMap((s) => s.rules);
        if (all.length < 2) continue;
        const [first, ...rest] = steps;
        const applied = first?.rules ?? [];
        const shadowed = rest.flatMap((s) => s.rules);
        const key = `${applied.map((r) => drName(r.rule)).join('+')}|${shadowed.map((r) => drName(r.rule)).join('+')}`;
        const known = situations.get(key);
        if (known) known.namespaces.push(ns);
        else situations.set(key, { applied, shadowed, step: first?.step ?? '', namespaces: [ns] });
      }
      for (const s of situations.values()) {
        const merged = s.applied.length > 1;
        const names = [...s.applied, ...s.shadowed].map((r) => drName(r.rule));
        const loser = (s.shadowed[0] ?? s.applied[1]) as IndexedRule;
        const winner = s.applied[0] as IndexedRule;
        const clients = s.namespaces.length > 6 ? `${s.namespaces.length} namespaces` : `namespace${s.namespaces.length === 1 ? '' : 's'} ${listing(s.namespaces)}`;
        const what = [merged ? mergeText(s.applied) : `${drName(winner.rule)} applies`, s.shadowed.length ? `${listing(s.shadowed.map((r) => drName(r.rule)))} ${s.shadowed.length === 1 ? 'is' : 'are'} ignored` : ''].filter(Boolean);
        findings.push({
          resource: { kind: 'DestinationRule', namespace: loser.rule.metadata.namespace as string, name: loser.rule.metadata.name },
          message: `${names.length} DestinationRules for ${host} reach clients in ${clients}: ${what.join('; ')}.`,
          symptom: 'a tls mode, subset or load-balancing setting written in one of the rules is not the one in force for these clients',
          evidence: [
            `lookup for clients in ${s.namespaces[0]}: ${stepText(s.step)} has ${listing(s.applied.map((r) => drName(r.rule)))}`,
            ...[...s.applied, ...s.shadowed].map((r) => `${drName(r.rule)}: host ${r.rule.spec.host}, exportTo ${r.rule.spec.exportTo?.join(',') || '*'}, ${r.rule.spec.trafficPolicy ? 'has' : 'no'} trafficPolicy, subsets ${(r.rule.spec.subsets ?? []).map((x) => x.name).join(',') || 'none'}${r.rule.metadata.creationTimestamp ? `, created ${r.rule.metadata.creationTimestamp}` : ''}`),
          ],
          fixes: [mergeFix(model, winner.rule, [...s.applied, ...s.shadowed].filter((r) => r !== winner).map((r) => r.rule))],
          namespaces: unique([...s.namespaces, ...[...s.applied, ...s.shadowed].map((r) => r.rule.metadata.namespace as string)]),
          objects: [...s.applied, ...s.shadowed].map((r) => r.rule),
        });
      }
    }
    return findings;
  },
};

function timesUnknown(rules: IndexedRule[]): boolean {
  return rules.some((r) => !r.rule.metadata.creationTimestamp);
}

/** Istio's merge of rules for one host in one namespace: subsets combined, the oldest trafficPolicy used. */
function mergeText(applied: IndexedRule[]): string {
  const withPolicy = applied.filter((r) => r.rule.spec.trafficPolicy);
  const [used, ...dropped] = withPolicy;
  const names = new Map<string, number>();
  for (const r of applied) for (const s of r.rule.spec.subsets ?? []) names.set(s.name, (names.get(s.name) ?? 0) + 1);
  const clashing = [...names].filter(([, n]) => n > 1).map(([name]) => name);
  const order = timesUnknown(applied) ? ' (the input has no creation times: the one created first counts)' : '';
  return [
    `${listing(applied.map((r) => drName(r.rule)))} are merged: their subsets are combined`,
    used ? `the trafficPolicy of ${drName(used.rule)} is used${dropped.length ? ` and that of ${listing(dropped.map((r) => drName(r.rule)))} ignored${order}` : ''}` : 'none sets a trafficPolicy',
    clashing.length ? `subset${clashing.length === 1 ? '' : 's'} ${listing(clashing)} ${clashing.length === 1 ? 'is' : 'are'} defined twice and only the first definition counts${order}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** One rule carrying what the others add (subsets it lacks; their trafficPolicy if it has none). */
function mergeFix(model: MeshModel, winner: DestinationRule, others: DestinationRule[]): Fix {
  return editFix(
    model,
    winner,
    (copy) => {
      const names = new Set((copy.spec.subsets ?? []).map((s) => s.name));
      for (const o of others) {
        for (const subset of o.spec.subsets ?? []) {
          if (names.has(subset.name)) continue;
          names.add(subset.name);
          copy.spec.subsets = [...(copy.spec.subsets ?? []), structuredClone(subset)];
        }
        if (!copy.spec.trafficPolicy && o.spec.trafficPolicy) copy.spec.trafficPolicy = structuredClone(o.spec.trafficPolicy);
      }
    },
    `Merge into ${drName(winner)}`,
    [`carries the subsets (and, where it has none, the trafficPolicy) of ${listing(others.map(drName))}; review the result`, 'the others are then deleted'],
    { steps: others.map((o) => deleteStep(refOf(o))) },
  );
}
