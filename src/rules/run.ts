// Runs rules over a model: fills in the catalogue fields, scopes to -n, sorts.

import type { MeshModel } from '../model/model.js';
import { attachEnvoyEvidence } from './envoy-agreement.js';
import { RULES } from './index.js';
import { SEVERITIES, type Finding, type Rule, type Severity } from './types.js';

export interface RunOptions {
  /** `-n`: keep findings about this namespace (their resource, or the other objects they concern). */
  namespace?: string;
  rules?: readonly Rule[];
}

export function runRules(model: MeshModel, opts: RunOptions = {}): Finding[] {
  const findings: Finding[] = [];
  for (const rule of opts.rules ?? RULES) {
    for (const draft of rule.check({ model })) {
      // Several clients can lead to the same fix: keep each distinct fix once, in order.
      const fixes = draft.fixes.filter((f, i) => draft.fixes.findIndex((g) => g.yaml === f.yaml) === i);
      findings.push({ ...draft, fixes, code: rule.meta.code, name: rule.meta.name, severity: draft.severity ?? rule.meta.severity });
    }
  }
  // Envoy's word on the edges the findings are about (only when config dumps are in the input).
  attachEnvoyEvidence(model, findings);
  const ns = opts.namespace;
  const scoped = ns ? findings.filter((f) => f.resource.namespace === ns || f.namespaces?.includes(ns)) : findings;
  return scoped.sort(compareFindings);
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Contract order: severity, code, namespace, name, port. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    cmp(a.code, b.code) ||
    cmp(a.resource.namespace ?? '', b.resource.namespace ?? '') ||
    cmp(a.resource.name, b.resource.name) ||
    (a.port ?? -1) - (b.port ?? -1)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type FailOn = Severity | 'none';

/** Exit 1 when a finding is at or above the threshold. */
export function failsAt(findings: Finding[], failOn: FailOn): boolean {
  if (failOn === 'none') return false;
  const threshold = severityRank(failOn);
  return findings.some((f) => severityRank(f.severity) <= threshold);
}

export function summarize(findings: Finding[]): Record<Severity, number> {
  const out: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) out[f.severity]++;
  return out;
}
