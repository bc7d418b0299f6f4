// TM403: several DestinationRules for one host reach the same clients: rules in one namespace are
// merged (the oldest rule's trafficPolicy wins, subsets are concatenated), and a rule found at an
// earlier lookup step hides the rest entirely (domain §6).

import { drName, entryName, serviceOfHost, type ConsolidatedRule, type IndexedRule } from '../../model/destinationrule.js';
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
    summary: 'Several DestinationRules for one host are visible to the same client namespace: they are merged (equal exportTo), or only the newest applies, or one hides the other.',
    description:
      'For a host, a client uses the rules of the first namespace that has any: its own, then rules exported from the Service\'s namespace, then from the root ' +
      'namespace. Several rules in that namespace are merged only when their exportTo lists are equal: subsets are concatenated but only the oldest rule\'s trafficPolicy ' +
      '(tls, load balancing, port settings) is used. Rules with different exportTo lists stay separate, and a client that sees several uses the newest. Rules at later steps ' +
      'are ignored for that client. Either way a setting you can read in one of the rules may not be in force.',
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
      // Clients that see the same situation get one finding.
      const situations = new Map<string, Situation>();
      for (const ns of clientNamespaces(model)) {
        const steps = model.destinationRules.candidates(ns, host, serviceNamespace);
        const all = steps.flatMap((s) => s.entries.flatMap((e) => e.rules));
        if (all.length < 2) continue;
        const [first, ...rest] = steps;
        const entries = first?.entries ?? [];
        // SidecarScope.DestinationRule: of several consolidated rules, the newest applies.
        const applied = entries.at(-1) as ConsolidatedRule;
        const unmerged = entries.slice(0, -1);
        const shadowed = rest.flatMap((s) => s.entries);
        const names = (list: ConsolidatedRule[]) => list.map(entryName).join('+');
        const key = `${entryName(applied)}|${names(unmerged)}|${names(shadowed)}`;
        const known = situations.get(key);
        if (known) known.namespaces.push(ns);
        else situations.set(key, { applied, unmerged, shadowed, step: first?.step ?? '', namespaces: [ns] });
      }
      for (const s of situations.values()) {
        const applied = s.applied.rules;
        const ignored = [...s.unmerged, ...s.shadowed].flatMap((e) => e.rules);
        const all = [...applied, ...ignored];
        const winner = applied[0] as IndexedRule;
        const loser = (s.shadowed[0]?.rules[0] ?? s.unmerged[0]?.rules[0] ?? applied.find((r) => r !== winner) ?? applied[1]) as IndexedRule;
        const clients = s.namespaces.length > 6 ? `${s.namespaces.length} namespaces` : `namespace${s.namespaces.length === 1 ? '' : 's'} ${listing(s.namespaces)}`;
        const what = [
          applied.length > 1 ? mergeText(applied) : `${drName(winner.rule)} applies`,
          s.unmerged.length
            ? `${listing(s.unmerged.map(entryName))} ${s.unmerged.length === 1 ? 'is' : 'are'} not merged with it (a different exportTo) and ignored: of the rules a client sees, the newest applies`
            : '',
          s.shadowed.length ? `${listing(s.shadowed.map(entryName))} ${s.shadowed.length === 1 ? 'is' : 'are'} ignored (found at a later lookup step)` : '',
        ].filter(Boolean);
        findings.push({
          resource: { kind: 'DestinationRule', namespace: loser.rule.metadata.namespace as string, name: loser.rule.metadata.name },
          message: `${all.length} DestinationRules for ${host} reach clients in ${clients}: ${what.join('; ')}.`,
          symptom: 'a tls mode, subset or load-balancing setting written in one of the rules is not the one in force for these clients',
          evidence: [
            `lookup for clients in ${s.namespaces[0]}: ${stepText(s.step)} has ${listing([...s.unmerged, s.applied].map(entryName))}`,
            ...(s.unmerged.length ? ['Istio merges rules for one host in one namespace only when their exportTo lists are equal; otherwise they stay separate and a client uses the newest'] : []),
            ...all.map((r) => `${drName(r.rule)}: host ${r.rule.spec.host}, exportTo ${r.rule.spec.exportTo?.join(',') || `(unset: ${model.mesh.defaultDestinationRuleExportTo?.join(',') ?? '*'})`}, ${r.rule.spec.trafficPolicy ? 'has' : 'no'} trafficPolicy, subsets ${(r.rule.spec.subsets ?? []).map((x) => x.name).join(',') || 'none'}${r.rule.metadata.creationTimestamp ? `, created ${r.rule.metadata.creationTimestamp}` : ''}`),
          ],
          fixes: [mergeFix(model, winner.rule, s.applied, all.filter((r) => r !== winner).map((r) => r.rule), ignored.map((r) => r.rule))],
          namespaces: unique([...s.namespaces, ...all.map((r) => r.rule.metadata.namespace as string)]),
          objects: all.map((r) => r.rule),
        });
      }
    }
    return findings;
  },
};

interface Situation {
  applied: ConsolidatedRule;
  unmerged: ConsolidatedRule[];
  shadowed: ConsolidatedRule[];
  step: string;
  namespaces: string[];
}

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

/**
 * One rule carrying what is in force now — the consolidated policy and subsets the clients use —
 * and the others deleted: nothing changes on the wire. Settings of rules that are ignored today
 * are not copied (copying them would change what the clients send); the comment names them.
 */
function mergeFix(model: MeshModel, winner: DestinationRule, inForce: ConsolidatedRule, others: DestinationRule[], ignored: DestinationRule[]): Fix {
  return editFix(
    model,
    winner,
    (copy) => {
      if (inForce.trafficPolicy) copy.spec.trafficPolicy = structuredClone(inForce.trafficPolicy);
      else delete copy.spec.trafficPolicy;
      const subsets = inForce.subsets.map((x) => structuredClone(x.subset));
      if (subsets.length) copy.spec.subsets = subsets;
      else delete copy.spec.subsets;
    },
    `Merge into ${drName(winner)}`,
    [
      `keeps what clients use today: ${inForce.trafficPolicy ? `the trafficPolicy of ${drName(inForce.policyRule ?? winner)}` : 'no trafficPolicy'}${inForce.subsets.length ? ` and the subsets ${inForce.subsets.map((x) => x.subset.name).join(', ')}` : ''}`,
      ...(ignored.length ? [`${listing(ignored.map(drName))} ${ignored.length === 1 ? 'is' : 'are'} ignored today: ${ignored.length === 1 ? 'its' : 'their'} settings are not copied; if one was meant to apply, move it into this rule and check the findings again`] : []),
      'the others are then deleted',
    ],
    { steps: others.map((o) => deleteStep(refOf(o))) },
  );
}
