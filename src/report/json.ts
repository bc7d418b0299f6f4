// `-o json`, exactly as the CLI contract shows it (new keys may be added, none renamed).

import type { IncompleteEntry } from '../collect/snapshot.js';
import { summarize } from '../rules/run.js';
import type { Finding } from '../rules/types.js';

export interface ReportInput {
  findings: Finding[];
  incomplete: IncompleteEntry[];
  notes: string[];
}

export function findingJson(f: Finding): Record<string, unknown> {
  const resource: Record<string, string> = { kind: f.resource.kind };
  if (f.resource.namespace !== undefined) resource.namespace = f.resource.namespace;
  resource.name = f.resource.name;
  return {
    code: f.code,
    name: f.name,
    severity: f.severity,
    resource,
    port: f.port ?? null,
    message: f.message,
    symptom: f.symptom ?? null,
    evidence: f.evidence,
    fixes: f.fixes.map((x) => ({ title: x.title, yaml: x.yaml })),
  };
}

export function incompleteJson(e: IncompleteEntry): Record<string, string> {
  const out: Record<string, string> = { kind: e.kind };
  if (e.namespace !== undefined) out.namespace = e.namespace;
  if (e.name !== undefined) out.name = e.name;
  if (e.labelSelector !== undefined) out.labelSelector = e.labelSelector;
  out.reason = e.reason;
  if (e.message) out.message = e.message;
  return out;
}

export function doctorJson(input: ReportInput): string {
  const doc = {
    findings: input.findings.map(findingJson),
    summary: summarize(input.findings),
    incomplete: input.incomplete.map(incompleteJson),
    notes: input.notes,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
