// `-o json`, exactly as the CLI contract shows it (new keys may be added, none renamed).
// `-o yaml` renders the same document. A run that fails (exit 2, 3 or 70) writes
// `{"error": {…}}` instead (docs/cli.md): no `findings` key, since nothing was judged.

import type { IncompleteEntry } from '../core/snapshot.js';
import type { JudgeScope } from '../rules/judge.js';
import { summarize } from '../rules/run.js';
import type { SuppressedFinding } from '../rules/suppress.js';
import type { Finding } from '../rules/types.js';
import { logicalName, type Locator } from './locate.js';

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

/** Why a run ended without a verdict: the stderr line, as data. */
export interface RunFailure {
  exitCode: number;
  /** usage (exit 2), input (exit 2: a file that cannot be read), cluster (exit 3), internal (exit 70). */
  kind: 'usage' | 'input' | 'cluster' | 'internal';
  message: string;
  file?: string;
  line?: number;
}

export function failureDocument(failure: RunFailure): Record<string, unknown> {
  return { error: { ...failure } };
}

export function failureJson(failure: RunFailure): string {
  return `${JSON.stringify(failureDocument(failure), null, 2)}\n`;
}

/**
 * `location.field`: the field at fault, when its line was found — its path, the file and line
 * (a chart template's repository path with --chart-dir / --source-root), and the object that
 * holds it when that is not the resource.
 */
function fieldLocation(f: Finding, locator: Locator | undefined): Record<string, unknown> {
  const at = locator?.locate(f);
  if (!at || at.placeholder || !at.field) return {};
  const pos = locator?.position(at.ref);
  const field: Record<string, unknown> = { path: at.field, file: at.mapped ?? pos?.file ?? decodeURIComponent(at.uri), line: at.line };
  if (logicalName(at.ref) !== logicalName(f.resource)) {
    field.object = { kind: at.ref.kind, ...(at.ref.namespace !== undefined ? { namespace: at.ref.namespace } : {}), name: at.ref.name };
  }
  return { field };
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
    location: pos ? { file: pos.file, line: pos.line, ...(pos.template ? { template: pos.template } : {}), ...fieldLocation(f, locator) } : null,
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
      suppressedBy: {
        source: s.by.source,
        origin: s.by.origin,
        reason: s.by.reason ?? null,
        // The object that carried the annotation, when it is not the finding's resource.
        ...(s.by.object ? { object: { kind: s.by.object.kind, ...(s.by.object.namespace !== undefined ? { namespace: s.by.object.namespace } : {}), name: s.by.object.name } } : {}),
      },
    })),
  };
}

export function doctorJson(input: ReportInput): string {
  return `${JSON.stringify(doctorDocument(input), null, 2)}\n`;
}
