// `-o json`, exactly as the CLI contract shows it (new keys may be added, none renamed).
// `-o yaml` renders the same document.

import type { IncompleteEntry } from '../core/snapshot.js';
import type { JudgeScope } from '../rules/judge.js';
import { summarize } from '../rules/run.js';
import type { SuppressedFinding } from '../rules/suppress.js';
import type { Finding } from '../rules/types.js';
import type { Locator } from './locate.js';

export interface ReportInput {
  findings: Finding[];
  incomplete: IncompleteEntry[];
  notes: string[];
  /** Findings a suppression set aside: counted and listed, never judged for the exit code. */
  suppressed?: SuppressedFinding[];
  /** Source positions (files) and placeholders (live). */
  locator?: Locator;
  /** How many edges were in scope, judged and not judged. */
  scope?: JudgeScope;
}

export function findingJson(f: Finding, locator?: Locator): Record<string, unknown> {
  const resource: Record<string, string> = { kind: f.resource.kind };
  if (f.resource.namespace !== undefined) resource.namespace = f.resource.namespace;
  resource.name = f.resource.name;
  const pos = locator?.position(f.resource);
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
    location: pos ? { file: pos.file, line: pos.line, ...(pos.template ? { template: pos.template } : {}) } : null,
  };
}

export function incompleteJson(e: IncompleteEntry): Record<string, string> {
  const out: Record<string, string> = { kind: e.kind };
  if (e.namespace !== undefined) out.namespace = e.namespace;
  if (e.name !== undefined) out.name = e.name;
  if (e.labelSelector !== undefined) out.labelSelector = e.labelSelector;
  if (e.filter !== undefined) out.filter = e.filter;
  out.reason = e.reason;
  if (e.message) out.message = e.message;
  return out;
}

/** The document `-o json` and `-o yaml` print. */
export function doctorDocument(input: ReportInput): Record<string, unknown> {
  const suppressed = input.suppressed ?? [];
  return {
    findings: input.findings.map((f) => findingJson(f, input.locator)),
    summary: {
      ...summarize(input.findings),
      suppressed: suppressed.length,
      ...(input.scope ? { edges: { total: input.scope.edges, judged: input.scope.judged, notJudged: input.scope.unjudged }, incomplete: input.incomplete.length } : {}),
      ...(input.scope?.namespace !== undefined ? { namespace: input.scope.namespace } : {}),
    },
    incomplete: input.incomplete.map(incompleteJson),
    notes: input.notes,
    suppressed: suppressed.map((s) => ({
      ...findingJson(s.finding, input.locator),
      suppressedBy: { source: s.by.source, origin: s.by.origin, reason: s.by.reason ?? null },
    })),
  };
}

export function doctorJson(input: ReportInput): string {
  return `${JSON.stringify(doctorDocument(input), null, 2)}\n`;
}
