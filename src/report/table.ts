// `-o table` (default): an overview table, then each finding as a readable block with its
// evidence and fixes, grouped by severity. Colour comes from the caller's chalk instance.

import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { formatRef } from '../core/k8s.js';
import { summarize } from '../rules/run.js';
import { suppressedByCode } from '../rules/suppress.js';
import type { Finding, Severity } from '../rules/types.js';
import { incompleteScope } from '../core/snapshot.js';
import type { ReportInput } from './json.js';

export interface TableOptions {
  chalk: ChalkInstance;
  /** Header line: what was judged. */
  title: string;
  /** Only the overview and summary, no evidence or fixes. */
  brief?: boolean;
}

const LABEL: Record<Severity, string> = { error: 'ERROR', warning: 'WARNING', info: 'INFO' };

function paint(c: ChalkInstance, s: Severity, text: string): string {
  return s === 'error' ? c.red.bold(text) : s === 'warning' ? c.yellow.bold(text) : c.cyan(text);
}

function resourceText(f: Finding): string {
  return `${formatRef(f.resource)}${f.port !== undefined ? ` :${f.port}` : ''}`;
}

export function doctorTable(input: ReportInput, opts: TableOptions): string {
  const c = opts.chalk;
  const out: string[] = [c.bold(opts.title), ''];
  const { findings } = input;
  const unjudged = input.scope?.unjudged ?? 0;
  if (findings.length === 0 && input.incomplete.length > 0) {
    // Not an all-clear: what could not be collected was not judged.
    out.push(c.yellow('No findings in what could be collected; some objects could not be (below), and the edges that need them were not judged.'), '');
  } else if (findings.length === 0 && unjudged > 0) {
    out.push(c.yellow(`No findings in what could be judged; ${unjudged} edge${unjudged === 1 ? ' was' : 's were'} not judged (see the notes): not an all-clear.`), '');
  } else if (findings.length === 0 && input.scope?.edges === 0) {
    out.push(c.yellow(`No findings, but no tunnel → Service edge${input.scope.namespace ? ` into namespace ${input.scope.namespace}` : ''} was found to judge.`), '');
  } else if (findings.length === 0) {
    out.push(c.green('No findings: every judged tunnel → Service → pod edge agrees with the mesh.'), '');
  } else {
    const overview = new Table({
      head: ['severity', 'code', 'resource', 'name'].map((h) => c.bold(h)),
      style: { head: [], border: [] },
      wordWrap: false,
    });
    for (const f of findings) overview.push([paint(c, f.severity, f.severity), f.code, resourceText(f), f.name]);
    out.push(overview.toString(), '');
    if (!opts.brief) {
      for (const f of findings) out.push(...findingBlock(f, c), '');
    }
  }
  if (input.incomplete.length) {
    out.push(c.yellow.bold('Not collected (verdicts that need these are unknown, never ok):'));
    for (const e of input.incomplete) {
      out.push(`  • ${incompleteScope(e)}: ${e.reason}${e.message ? ` — ${e.message}` : ''}`);
    }
    out.push('');
  }
  const suppressed = input.suppressed ?? [];
  if (suppressed.length && !opts.brief) {
    out.push(c.bold(`Suppressed (listed, not counted toward --fail-on):`));
    for (const s of suppressed) {
      out.push(`  • ${s.finding.severity} ${s.finding.code} ${resourceText(s.finding)} — ${s.by.origin}${s.by.reason ? ` (${s.by.reason})` : ''}`);
    }
    out.push('');
  }
  if (input.notes.length && !opts.brief) {
    out.push(c.bold('Notes:'));
    for (const n of input.notes) out.push(`  • ${n}`);
    out.push('');
  }
  const s = summarize(findings);
  const parts = (['error', 'warning', 'info'] as const).map((k) => {
    const text = `${s[k]} ${k === 'info' ? 'info' : `${k}${s[k] === 1 ? '' : 's'}`}`;
    return s[k] > 0 ? paint(c, k, text) : text;
  });
  const hidden = suppressed.length ? `; ${suppressed.length} suppressed (${suppressedByCode(suppressed)})` : '';
  const scope = input.scope;
  const edges = scope ? `; ${scope.judged} of ${scope.edges} edge${scope.edges === 1 ? '' : 's'} judged${scope.unjudged ? `, ${paint(c, 'warning', `${scope.unjudged} not judged`)} (see notes)` : ''}` : '';
  const lists = input.incomplete.length ? `; ${paint(c, 'warning', `${input.incomplete.length} list${input.incomplete.length === 1 ? '' : 's'} incomplete`)}` : '';
  out.push(`Summary: ${parts.join(', ')}${hidden}${edges}${lists}`);
  return `${out.join('\n')}\n`;
}

export function findingBlock(f: Finding, c: ChalkInstance): string[] {
  const lines = [`${paint(c, f.severity, LABEL[f.severity])} ${c.bold(f.code)} ${f.name}  ${c.bold(resourceText(f))}`];
  lines.push(`  ${f.message}`);
  if (f.symptom) lines.push(`  ${c.dim('symptom:')} ${f.symptom}`);
  if (f.evidence.length) {
    lines.push(`  ${c.dim('evidence:')}`);
    for (const e of f.evidence) lines.push(`    • ${e}`);
  }
  f.fixes.forEach((fix, i) => {
    const tag = i === 0 ? c.green(`fix ${i + 1} (recommended)`) : c.dim(`fix ${i + 1}`);
    lines.push(`  ${tag}: ${fix.title}`);
    for (const y of fix.yaml.replace(/\n$/, '').split('\n')) {
      lines.push(`    ${c.dim('│')} ${y.startsWith('#') ? c.dim(y) : y}`);
    }
  });
  return lines;
}
