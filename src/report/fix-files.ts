// `--fix-out DIR`: the findings' fixes as files ready for `kubectl apply -f DIR`, plus an
// index. Recommended fixes that change the same object are merged into one file (a second
// file for the same object would undo the first on apply); when two of them set the same
// field to different values, the later one is not written and the conflict is reported.
//
//   DIR/*.yaml              complete objects (new, or edited copies of the one in force): kubectl apply -f DIR
//   DIR/server-side/*.yaml  partial objects (pod-template patches): kubectl apply --server-side -f DIR/server-side
//   DIR/alternatives/*.yaml the other fixes of each finding, for review: one of them instead, never all
//   DIR/README.md           finding → files, conflicts, how to apply

import { formatRef, type KObject, type ObjectRef } from '../core/k8s.js';
import { composeFixes, fixDocuments, merge3, type ComposeInput } from '../rules/apply-fix.js';
import { editable } from '../rules/fixes.js';
import type { Finding } from '../rules/types.js';
import { toYaml } from '../rules/yaml.js';

export const INDEX_FILE = 'README.md';
export const INDEX_MARKER = '<!-- tunnelmesh fix-out -->';
export const SERVER_SIDE_DIR = 'server-side';
export const ALTERNATIVES_DIR = 'alternatives';
/** Files this command writes (and may remove on the next run into the same directory). */
export const OWN_FILE = /^TM\d+[A-Za-z0-9.-]*\.yaml$/;

export interface PlannedFile {
  /** Relative to DIR, `/`-separated. */
  path: string;
  content: string;
}

export interface FixConflict {
  finding: string;
  target: string;
  field: string;
  value: unknown;
  /** The file (and finding) whose value was kept. */
  keptIn: string;
  keptFinding: string;
  keptValue: unknown;
  yaml: string;
}

interface IndexRow {
  finding: string;
  severity: string;
  title?: string;
  file?: string;
  note?: string;
  alternatives: string[];
}

export interface FixPlan {
  files: PlannedFile[];
  conflicts: FixConflict[];
  rows: IndexRow[];
}

/** What a finding is called in file names and the index. */
export function findingLabel(f: Finding): string {
  return `${f.code} ${formatRef(f.resource)}${f.port !== undefined ? ` :${f.port}` : ''}`;
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

function baseName(f: Finding): string {
  const parts = [f.resource.kind, f.resource.namespace ?? '', f.resource.name, f.port === undefined ? '' : String(f.port)].filter(Boolean);
  return `${f.code}-${slug(parts.join('-'))}`;
}

function commentLines(yaml: string): string[] {
  const out: string[] = [];
  for (const line of yaml.split('\n')) {
    if (!line.startsWith('#')) break;
    out.push(line.replace(/^#\s?/, ''));
  }
  return out;
}

function applyLine(fragment: boolean): string {
  return fragment
    ? 'apply with: kubectl apply --server-side --field-manager=tunnelmesh -f <this file>  (or change the manifest that owns it)'
    : 'apply with: kubectl apply -f <this file>';
}

/** The fields of a fix's partial documents for one object, laid over each other (server-side apply merges them). */
function fragmentOf(inputs: Array<ComposeInput<Finding>>, target: ObjectRef): Record<string, unknown> {
  let out: unknown = undefined;
  for (const { fix } of inputs) {
    for (const doc of fixDocuments(fix)) {
      const meta = doc.metadata as { name?: string; namespace?: string };
      if (doc.kind !== target.kind || meta.name !== target.name || (meta.namespace ?? undefined) !== target.namespace) continue;
      out = out === undefined ? doc : merge3(undefined, out, doc, '', []);
    }
  }
  return (out ?? {}) as Record<string, unknown>;
}

export interface PlanOptions {
  /** Judges objects again (for fixes that clash with an earlier fix: is their finding still there, and what fixes it now). */
  rejudge?: (objects: KObject[]) => Finding[];
  /** Every finding of the run (the composition checks it brings no new error or warning). */
  before?: Finding[];
}

/**
 * The recommended fixes composed object by object (src/rules/apply-fix.ts composeFixes): one file
 * per object they change — a complete object when any of its fixes gives one (or patches it), a
 * server-side-apply fragment when all of them are pod-template patches — and every conflict reported.
 */
export function planFixFiles(findings: Finding[], objects: readonly KObject[], opts: PlanOptions = {}): FixPlan {
  const files: PlannedFile[] = [];
  const conflicts: FixConflict[] = [];
  const rows: IndexRow[] = [];
  const steps: string[] = [];
  const usedNames = new Map<string, number>();
  const labels = new Map<Finding, string>();
  const bases = new Map<Finding, string>();
  const rowOf = new Map<Finding, IndexRow>();
  const inputs: Array<ComposeInput<Finding>> = [];
  const labelCount = new Map<string, number>();
  for (const f of findings) {
    // Two findings of one code on one object (two misspelled keys) get told apart.
    const plain = findingLabel(f);
    const nth = (labelCount.get(plain) ?? 0) + 1;
    labelCount.set(plain, nth);
    const label = nth === 1 ? plain : `${plain} (#${nth})`;
    labels.set(f, label);
    let base = baseName(f);
    const seen = usedNames.get(base) ?? 0;
    usedNames.set(base, seen + 1);
    if (seen > 0) base = `${base}-n${seen + 1}`;
    bases.set(f, base);
    const row: IndexRow = { finding: label, severity: f.severity, alternatives: [] };
    rows.push(row);
    rowOf.set(f, row);
    f.fixes.slice(1).forEach((alt, i) => {
      const path = `${ALTERNATIVES_DIR}/${base}-${i + 2}.yaml`;
      files.push({ path, content: `# alternative fix ${i + 2} for ${label}: ${alt.title}\n# use it instead of the recommended fix, never together with it\n${alt.yaml}` });
      row.alternatives.push(path);
    });
    const fix = f.fixes[0];
    if (!fix) {
      row.note = 'no fix proposed (see the finding)';
      continue;
    }
    row.title = fix.title;
    if (fix.apply === 'manual' || fixDocuments(fix).length === 0) {
      // Text for a person (no object to apply): kept apart, never applied with the directory.
      const path = `${ALTERNATIVES_DIR}/${base}-1.yaml`;
      files.push({ path, content: `# fix for ${label}: ${fix.title}\n# not an object to apply: read it\n${fix.yaml}` });
      row.file = path;
      continue;
    }
    inputs.push({ finding: f, fix });
  }

  const composed = composeFixes(objects, inputs, { ...(opts.rejudge ? { rejudge: opts.rejudge } : {}), ...(opts.before ? { before: opts.before } : {}) });
  const fileOf = new Map<Finding, string>();
  for (const entry of composed.changed) {
    const first = entry.by[0];
    if (!first) continue;
    const label = (c: ComposeInput<Finding>) => labels.get(c.finding) as string;
    const all = entry.by;
    if (!entry.after) {
      for (const c of all) for (const st of c.fix.steps ?? []) if (st.kind === 'delete') steps.push(st.command);
      continue;
    }
    const fragment = entry.before !== undefined && all.every((c) => c.fix.apply === 'server-side');
    const name = `${bases.get(first.finding)}-1.yaml`;
    const path = fragment ? `${SERVER_SIDE_DIR}/${name}` : name;
    const doc = fragment ? fragmentOf(all, entry.target) : (editable(entry.after) as unknown as Record<string, unknown>);
    const comments = [...new Set(all.flatMap((c) => commentLines(c.fix.yaml).filter((l) => !l.startsWith('apply with:') && !l.startsWith('then:') && !l.startsWith('  '))))];
    const header = [`fix for ${all.map(label).join(' and ')}`, ...all.map((c) => `${label(c)}: ${c.fix.title}`), ...comments, applyLine(fragment)];
    files.push({ path, content: header.map((l) => `# ${l}\n`).join('') + toYaml(doc) });
    for (const c of all) {
      if (!fileOf.has(c.finding)) fileOf.set(c.finding, path);
      const row = rowOf.get(c.finding);
      if (!row) continue;
      row.file = row.file ?? path;
      if (all.length > 1) row.note = `merged with the fixes of ${all.filter((x) => x !== c).map(label).join(', ')} (same object)`;
    }
  }
  for (const c of inputs) for (const st of c.fix.steps ?? []) if (st.kind !== 'delete' || !composed.changed.some((e) => e.by.includes(c) && !e.after)) steps.push(st.command);
  for (const c of composed.conflicts) {
    const keptIn = fileOf.get(c.keptBy[0] as Finding) ?? '';
    conflicts.push({
      finding: labels.get(c.finding) as string,
      target: formatRef(c.target),
      field: c.field,
      value: c.value,
      keptIn,
      keptFinding: c.keptBy.map((f) => labels.get(f)).join(', '),
      keptValue: c.keptValue,
      yaml: c.fix.yaml,
    });
    const row = rowOf.get(c.finding);
    if (row) {
      row.file = undefined;
      row.note = `conflicts with ${keptIn}: not written (see Conflicts)`;
    }
  }
  for (const s of composed.subsumed) {
    const row = rowOf.get(s.finding);
    if (row) {
      row.file = undefined;
      row.note = `fixed by the file of ${s.by.map((f) => labels.get(f)).join(', ')}: its own fix is not needed`;
    }
  }
  files.push({ path: INDEX_FILE, content: indexMarkdown(rows, conflicts, files, [...new Set(steps)]) });
  return { files, conflicts, rows };
}

function indexMarkdown(rows: IndexRow[], conflicts: FixConflict[], files: PlannedFile[], steps: string[]): string {
  const hasRoot = files.some((f) => !f.path.includes('/'));
  const hasServerSide = files.some((f) => f.path.startsWith(`${SERVER_SIDE_DIR}/`));
  const out = [
    '# tunnelmesh fixes',
    '',
    INDEX_MARKER,
    '',
    'Written by `tunnelmesh doctor --fix-out`. Review each file before applying it; every file starts with comments saying what it changes and why.',
    '',
    '## Apply',
    '',
  ];
  if (!hasRoot && !hasServerSide) out.push('No finding proposed a fix.', '');
  if (hasRoot) out.push('- `kubectl apply -f <this directory>`: complete objects (new DestinationRules and PeerAuthentications, or edited copies of the ones in force). Only `.yaml` files directly in the directory are applied; this README is ignored.');
  if (hasServerSide) {
    out.push(
      `- \`kubectl apply --server-side --field-manager=tunnelmesh -f <this directory>/${SERVER_SIDE_DIR}\`: partial objects (pod-template patches; pods restart). Never apply them without \`--server-side\`: a client-side apply of a partial object removes the fields it leaves out.`,
    );
  }
  if (steps.length) {
    out.push('- Then run, in this order (objects the fixes replace, keys server-side apply cannot remove, restarts):', '', ...steps.map((c) => `      ${c}`), '');
  }
  out.push(
    '- Objects rendered from a chart or kept in git: change the source too, or the next deploy reverts the fix (`tunnelmesh doctor --fix-diff` writes the change as a patch of your files).',
    `- \`${ALTERNATIVES_DIR}/\` holds the other fixes of each finding, for review: use one instead of the recommended file, never both.`,
    '',
    '## Findings',
    '',
    '| finding | severity | recommended fix | file | alternatives | note |',
    '|---|---|---|---|---|---|',
  );
  for (const r of rows) {
    const cell = (t: string | undefined) => (t ? t.replace(/\|/g, '\\|') : '');
    out.push(
      `| ${cell(r.finding)} | ${r.severity} | ${cell(r.title)} | ${r.file ? `\`${r.file}\`` : ''} | ${r.alternatives.map((a) => `\`${a}\``).join(', ')} | ${cell(r.note)} |`,
    );
  }
  out.push('');
  if (conflicts.length) {
    out.push('## Conflicts', '', 'These recommended fixes change a field that another recommended fix sets differently. They were not written; apply the file named, run tunnelmesh again, and it proposes what is still needed.', '');
    for (const c of conflicts) {
      out.push(
        `### ${c.finding}`,
        '',
        `\`${c.target}\` field \`${c.field}\`: this fix sets ${JSON.stringify(c.value)}, \`${c.keptIn}\` (for ${c.keptFinding}) sets ${JSON.stringify(c.keptValue)}.`,
        '',
        '```yaml',
        c.yaml.trimEnd(),
        '```',
        '',
      );
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}
