// `-o table` (default): an overview table, then each finding as a readable block with its
// evidence and its recommended fix in full (the alternatives by title; `--fixes all` prints
// them, JSON always carries them), grouped by severity. Everything is wrapped to the
// terminal's width when one is known, the table's borders included; YAML data lines are
// never broken (a copied fix must stay valid), their comments are. Colour comes from the
// caller's chalk instance.

import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { formatRef } from '../core/k8s.js';
import { incompleteScope } from '../core/snapshot.js';
import { summarize } from '../rules/run.js';
import { suppressedByCode } from '../rules/suppress.js';
import type { Finding, Fix, Severity } from '../rules/types.js';
import { groupAcrossPods, type FindingGroup } from './group.js';
import type { ReportInput } from './json.js';
import { maxOf, pushAll } from '../core/arrays.js';
import { displayWidth, wrap } from './terminal-text.js';

/** Which fixes a finding block prints in full. */
export type FixesShown = 'recommended' | 'all' | 'none';
export const FIXES_SHOWN: readonly FixesShown[] = ['recommended', 'all', 'none'];

export interface TableOptions {
  chalk: ChalkInstance;
  /** Header line: what was judged. */
  title: string;
  /** Only the overview and summary, no evidence or fixes. */
  brief?: boolean;
  /** Columns to fit (a terminal's width, or COLUMNS); undefined: lines are not wrapped. */
  width?: number;
  /** Default `recommended`: the first fix in full, the others by title. */
  fixes?: FixesShown;
}

/** Narrower than this, a table cannot be read at all: wrap as if it were this wide. */
export const MIN_WIDTH = 40;

const LABEL: Record<Severity, string> = { error: 'ERROR', warning: 'WARNING', info: 'INFO' };

function paint(c: ChalkInstance, s: Severity, text: string): string {
  return s === 'error' ? c.red.bold(text) : s === 'warning' ? c.yellow.bold(text) : c.cyan(text);
}

export function resourceText(f: Finding): string {
  return `${formatRef(f.resource)}${f.port !== undefined ? ` :${f.port}` : ''}`;
}

function groupResourceText(g: FindingGroup): string {
  if (!g.workload) return resourceText(g.first);
  return `${formatRef(g.workload)} (${g.findings.length} pods)${g.first.port !== undefined ? ` :${g.first.port}` : ''}`;
}

/**
 * Column widths (padding included) that fit `available` columns: the widest column gives up a
 * column at a time, down to its minimum.
 */
export function fitColumns(natural: number[], minimum: number[], available: number): number[] {
  const widths = [...natural];
  let total = widths.reduce((a, b) => a + b, 0);
  while (total > available) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if ((widths[i] as number) > (minimum[i] as number) && (widest < 0 || (widths[i] as number) > (widths[widest] as number))) widest = i;
    }
    if (widest < 0) break;
    widths[widest] = (widths[widest] as number) - 1;
    total--;
  }
  return widths;
}

function overviewTable(groups: FindingGroup[], c: ChalkInstance, width: number | undefined): string {
  const head = ['severity', 'code', 'resource', 'name'];
  const rows = groups.map((g) => [g.first.severity, g.first.code, groupResourceText(g), g.first.name]);
  const natural = head.map((h, i) => Math.max(displayWidth(h), maxOf(rows.map((r) => displayWidth(r[i] as string)))) + 2);
  // Borders: one more than the columns.
  const widths = width === undefined ? natural : fitColumns(natural, [9, 7, 12, 10], Math.max(width, MIN_WIDTH) - (head.length + 1));
  const cell = (text: string, i: number, style: (s: string) => string = (s) => s): string =>
    wrap(text, (widths[i] as number) - 2)
      .map(style)
      .join('\n');
  const table = new Table({
    head: head.map((h, i) => cell(h, i, (s) => c.bold(s))),
    style: { head: [], border: [] },
    colWidths: widths,
    wordWrap: false,
  });
  for (const [i, r] of rows.entries()) {
    const severity = (groups[i] as FindingGroup).first.severity;
    table.push(r.map((text, col) => cell(text, col, col === 0 ? (s) => paint(c, severity, s) : undefined)));
  }
  return table.toString();
}

export function doctorTable(input: ReportInput, opts: TableOptions): string {
  const c = opts.chalk;
  const width = opts.width === undefined ? undefined : Math.max(opts.width, MIN_WIDTH);
  const para = (text: string, first = '', rest = first): string[] => wrap(text, width, first, rest);
  const out: string[] = [...para(opts.title).map((l) => c.bold(l)), ''];
  const { findings } = input;
  const unjudged = input.scope?.unjudged ?? 0;
  if (findings.length === 0 && input.incomplete.length > 0) {
    // Not an all-clear: what could not be collected was not judged.
    pushAll(out, para('No findings in what could be collected; some objects could not be (below), and the edges that need them were not judged.').map((l) => c.yellow(l))).push('');
  } else if (findings.length === 0 && unjudged > 0) {
    pushAll(out, para(`No findings in what could be judged; ${unjudged} edge${unjudged === 1 ? ' was' : 's were'} not judged (see the notes): not an all-clear.`).map((l) => c.yellow(l))).push('');
  } else if (findings.length === 0 && input.scope?.edges === 0) {
    pushAll(out, para(`No findings, but no tunnel → Service edge${input.scope.namespace ? ` into namespace ${input.scope.namespace}` : ''} was found to judge.`).map((l) => c.yellow(l))).push('');
  } else if (findings.length === 0) {
    pushAll(out, para('No findings: every judged tunnel → Service → pod edge agrees with the mesh.').map((l) => c.green(l))).push('');
  } else {
    const groups = groupAcrossPods(findings, input.locator?.ownerOf?.bind(input.locator));
    out.push(overviewTable(groups, c, width), '');
    if (!opts.brief) {
      for (const g of groups) pushAll(out, groupBlock(g, c, { width, fixes: opts.fixes ?? 'recommended' })).push('');
    }
  }
  if (input.incomplete.length) {
    pushAll(out, para('Not collected (verdicts that need these are unknown, never ok):').map((l) => c.yellow.bold(l)));
    for (const e of input.incomplete) pushAll(out, para(`${incompleteScope(e)}: ${e.reason}${e.message ? ` — ${e.message}` : ''}`, '  • ', '    '));
    out.push('');
  }
  const suppressed = input.suppressed ?? [];
  if (suppressed.length && !opts.brief) {
    out.push(c.bold(`Suppressed (listed, not counted toward --fail-on):`));
    for (const s of suppressed) {
      pushAll(out, para(`${s.finding.severity} ${s.finding.code} ${resourceText(s.finding)} — ${s.by.origin}${s.by.reason ? ` (${s.by.reason})` : ''}`, '  • ', '    '));
    }
    out.push('');
  }
  if (input.notes.length && !opts.brief) {
    out.push(c.bold('Notes:'));
    for (const n of input.notes) pushAll(out, para(n, '  • ', '    '));
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
  pushAll(out, wrap(`Summary: ${parts.join(', ')}${hidden}${edges}${lists}`, width, '', '  '));
  return `${out.join('\n')}\n`;
}

export interface BlockOptions {
  width?: number;
  fixes?: FixesShown;
}

function groupBlock(g: FindingGroup, c: ChalkInstance, opts: BlockOptions): string[] {
  const lines = findingBlock(g.first, c, opts, g.workload ? groupResourceText(g) : undefined);
  if (g.workload) {
    const pods = g.findings.map((f) => f.resource.name).join(', ');
    // Below the first line, built as a new array (splice would take the wrapped lines as arguments).
    const [headLine, ...rest] = lines;
    return [...(headLine === undefined ? [] : [headLine]), ...wrap(`${c.dim('the same on pods:')} ${pods}`, opts.width, '  ', '    '), ...rest];
  }
  return lines;
}

/** A YAML line to print: comment lines are re-wrapped as comments; data lines are never broken. */
function yamlLines(yaml: string, c: ChalkInstance, indent: string, width: number | undefined): string[] {
  const out: string[] = [];
  for (const line of yaml.replace(/\n$/, '').split('\n')) {
    const comment = /^(\s*)#\s?(.*)$/.exec(line);
    if (comment && width !== undefined && displayWidth(indent + line) > width) {
      const lead = `${indent}${comment[1] as string}# `;
      for (const l of wrap(comment[2] as string, width, lead, lead)) out.push(c.dim(l));
    } else {
      out.push(`${indent}${comment ? c.dim(line) : line}`);
    }
  }
  return out;
}

function fixTag(i: number, c: ChalkInstance): string {
  return i === 0 ? c.green('fix 1 (recommended)') : c.dim(`fix ${i + 1}`);
}

function fixLines(fix: Fix, i: number, c: ChalkInstance, width: number | undefined, full: boolean): string[] {
  const lines = wrap(`${fixTag(i, c)}: ${fix.title}`, width, full ? '  ' : '    ', full ? '    ' : '      ');
  // Indented as a whole, the YAML stays valid when copied from the terminal.
  if (full) pushAll(lines, yamlLines(fix.yaml, c, '    ', width));
  return lines;
}

/**
 * One finding as text: header, message, symptom, evidence, the recommended fix in full and
 * the alternatives named (all in full with `fixes: 'all'`). `resource` replaces the header's
 * resource (a workload standing for its pods).
 */
export function findingBlock(f: Finding, c: ChalkInstance, opts: BlockOptions = {}, resource: string = resourceText(f)): string[] {
  const { width } = opts;
  const fixes = opts.fixes ?? 'all';
  const lines = wrap(`${paint(c, f.severity, LABEL[f.severity])} ${c.bold(f.code)} ${f.name}  ${c.bold(resource)}`, width, '', '  ');
  pushAll(lines, wrap(f.message, width, '  '));
  if (f.symptom) pushAll(lines, wrap(`${c.dim('symptom:')} ${f.symptom}`, width, '  ', '    '));
  if (f.evidence.length) {
    lines.push(`  ${c.dim('evidence:')}`);
    for (const e of f.evidence) pushAll(lines, wrap(e, width, '    • ', '      '));
  }
  if (fixes === 'none') {
    if (f.fixes.length) pushAll(lines, wrap(c.dim(`${f.fixes.length} fix${f.fixes.length === 1 ? '' : 'es'} (--fixes recommended or all prints them; -o json carries them)`), width, '  ', '    '));
    return lines;
  }
  f.fixes.forEach((fix, i) => {
    if (i === 0 || fixes === 'all') pushAll(lines, fixLines(fix, i, c, width, true));
  });
  if (fixes === 'recommended' && f.fixes.length > 1) {
    pushAll(lines, wrap(c.dim(`alternatives (--fixes all prints them in full; -o json carries them):`), width, '  ', '    '));
    f.fixes.slice(1).forEach((fix, j) => pushAll(lines, fixLines(fix, j + 1, c, width, false)));
  }
  return lines;
}
