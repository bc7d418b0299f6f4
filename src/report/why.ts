// `tunnelmesh why`: text and `-o json` views of one line's explanation (rules/why/explain.ts).

import type { ChalkInstance } from 'chalk';
import { formatRef } from '../core/k8s.js';
import { incompleteScope, type IncompleteEntry } from '../core/snapshot.js';
import { describePod } from '../model/pods.js';
import { pathLine } from '../rules/edge-hits.js';
import { summarize } from '../rules/run.js';
import type { Finding, Severity } from '../rules/types.js';
import { edgeRowText, type WhyResult } from '../rules/why/explain.js';
import { findingJson, incompleteJson } from './json.js';

const LABEL: Record<Severity, string> = { error: 'ERROR', warning: 'WARNING', info: 'INFO' };

function paint(c: ChalkInstance, s: Severity, text: string): string {
  return s === 'error' ? c.red.bold(text) : s === 'warning' ? c.yellow.bold(text) : c.cyan(text);
}

/** Findings that explain the line and count for the exit code (suppressed ones are listed, not counted). */
export function counted(r: WhyResult): Finding[] {
  return r.explanations.filter((e) => !e.suppressed).map((e) => e.finding);
}

const MAX_LINE = 400;

export function whyText(r: WhyResult, c: ChalkInstance, title: string, extra: { notes: string[]; incomplete: IncompleteEntry[] }): string {
  const out: string[] = [c.bold(title), '', `  ${r.line.length > MAX_LINE ? `${r.line.slice(0, MAX_LINE)}…` : r.line}`, ''];
  out.push(c.bold('What it means'));
  if (r.symptoms.length === 0) out.push(`  ${c.yellow('no symptom tunnelmesh recognises')}`);
  for (const s of r.symptoms) {
    out.push(`  • ${c.bold(s.matched)}: ${s.cls.means}`);
    out.push(`    ${c.dim(`(${s.cls.source})`)}`);
  }
  out.push('');
  if (r.names.length) {
    out.push(c.bold('Names in the line'));
    for (const n of r.names) out.push(`  • ${n.text} → ${n.resolved ?? c.dim('nothing in the input')}`);
    out.push('');
  }
  if (r.explanations.length) {
    out.push(c.bold('Explained by (most likely first)'));
    r.explanations.forEach((e, i) => {
      const f = e.finding;
      out.push(`  ${i + 1}. ${paint(c, f.severity, LABEL[f.severity])} ${c.bold(f.code)} ${f.name}  ${c.bold(`${formatRef(f.resource)}${f.port !== undefined ? ` :${f.port}` : ''}`)}${e.suppressed ? c.dim(`  (suppressed by ${e.suppressed.origin})`) : ''}`);
      out.push(`     ${f.message}`);
      for (const reason of e.reasons) out.push(`     ${c.dim('because')} ${reason}`);
      if (!e.matchesSymptom) out.push(`     ${c.dim('(about what the line names, not a known cause of its symptom)')}`);
      const fix = f.fixes[0];
      if (fix) {
        out.push(`     ${c.green('fix (recommended)')}: ${fix.title}${f.fixes.length > 1 ? c.dim(` (${f.fixes.length - 1} alternative${f.fixes.length > 2 ? 's' : ''}: tunnelmesh doctor shows them)`) : ''}`);
        for (const y of fix.yaml.replace(/\n$/, '').split('\n')) out.push(`       ${c.dim('│')} ${y.startsWith('#') ? c.dim(y) : y}`);
      } else {
        out.push(`     ${c.dim('fix:')} no object to change — what to do: see tunnelmesh rules ${f.code}`);
      }
    });
    out.push('');
  }
  if (r.edges.length) {
    out.push(c.bold('Edges the line is about'));
    for (const row of r.edges) out.push(`  • ${edgeRowText(row)}`);
    out.push('');
  }
  if (r.unexplained) out.push(c.yellow(r.unexplained), '');
  for (const e of extra.incomplete) out.push(`${c.yellow('not collected:')} ${incompleteScope(e)}: ${e.reason}${e.message ? ` — ${e.message}` : ''}`);
  for (const n of extra.notes) out.push(`${c.dim('note:')} ${n}`);
  const s = summarize(counted(r));
  out.push(`Summary: ${counted(r).length} finding${counted(r).length === 1 ? '' : 's'} explain${counted(r).length === 1 ? 's' : ''} the line (${s.error} error, ${s.warning} warning, ${s.info} info)`);
  return `${out.join('\n')}\n`;
}

export function whyJson(r: WhyResult, extra: { notes: string[]; incomplete: IncompleteEntry[] }): string {
  const doc = {
    line: r.line,
    symptoms: r.symptoms.map((s) => ({ id: s.cls.id, matched: s.matched, means: s.cls.means, source: s.cls.source, codes: s.cls.codes })),
    names: r.names.map((n) => ({ text: n.text, kind: n.kind, resolved: n.resolved ?? null })),
    explanations: r.explanations.map((e, i) => ({
      rank: i + 1,
      finding: findingJson(e.finding),
      reasons: e.reasons,
      matchesSymptom: e.matchesSymptom,
      suppressed: e.suppressed ? { origin: e.suppressed.origin, reason: e.suppressed.reason ?? null } : null,
    })),
    edges: r.edges.map((row) => ({
      path: pathLine(row.edge),
      edge: row.key,
      client: row.client,
      target: describePod(row.endpoint.pod),
      targetPort: row.endpoint.targetPort ?? null,
      sends: row.endpoint.sends.sends,
      outcome: row.endpoint.outcome,
      why: row.endpoint.why,
    })),
    unexplained: r.unexplained ?? null,
    summary: summarize(counted(r)),
    incomplete: extra.incomplete.map(incompleteJson),
    notes: extra.notes,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
