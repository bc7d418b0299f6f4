// `--fix-out DIR`: the findings' fixes as files ready for `kubectl apply -f DIR`, plus an
// index. Recommended fixes that change the same object are merged into one file (a second
// file for the same object would undo the first on apply); when two of them set the same
// field to different values, the later one is not written and the conflict is reported.
//
//   DIR/*.yaml              complete objects (new, or edited copies of the one in force): kubectl apply -f DIR
//   DIR/server-side/*.yaml  partial objects (pod-template patches): kubectl apply --server-side -f DIR/server-side
//   DIR/alternatives/*.yaml the other fixes of each finding, for review: one of them instead, never all
//   DIR/README.md           finding → files, conflicts, how to apply

import jsyaml from 'js-yaml';
import { formatRef, type KObject, type ObjectRef } from '../core/k8s.js';
import { editable } from '../rules/fixes.js';
import type { ObjectIndex } from '../rules/suppress.js';
import type { Finding, Fix } from '../rules/types.js';
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

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The object as a fix starts from it: no status, no server-set metadata. */
function editableBase(o: KObject): Record<string, unknown> {
  return editable(o) as unknown as Record<string, unknown>;
}

/** A fix that leaves out fields the object has is a fragment (a server-side-apply patch). */
function isFragment(doc: unknown, base: unknown): boolean {
  if (!isPlain(base)) return false;
  if (!isPlain(doc)) return true;
  return Object.keys(base).some((k) => !(k in doc) || (isPlain(base[k]) && isFragment(doc[k], base[k])));
}

/** How list items are told apart (Istio port settings, containers, env, ports). */
const ITEM_KEYS: Array<(x: Record<string, unknown>) => unknown> = [
  (x) => (isPlain(x.port) ? x.port.number : undefined),
  (x) => x.name,
  (x) => x.containerPort,
  (x) => (typeof x.port === 'number' ? x.port : undefined),
];

function itemKey(lists: unknown[][]): ((x: Record<string, unknown>) => unknown) | undefined {
  return ITEM_KEYS.find((key) =>
    lists.every((list) => {
      const keys = list.map((x) => (isPlain(x) ? key(x) : undefined));
      return keys.every((k) => typeof k === 'string' || typeof k === 'number') && new Set(keys).size === keys.length;
    }),
  );
}

interface MergeConflict {
  field: string;
  ours: unknown;
  theirs: unknown;
}

/** Three-way merge of two edits of `base`; conflicts keep `ours`. */
function merge3(base: unknown, ours: unknown, theirs: unknown, field: string, conflicts: MergeConflict[]): unknown {
  if (deepEqual(ours, theirs)) return ours;
  if (deepEqual(ours, base)) return theirs;
  if (deepEqual(theirs, base)) return ours;
  if (isPlain(ours) && isPlain(theirs)) {
    const b = isPlain(base) ? base : {};
    const out: Record<string, unknown> = {};
    for (const k of [...new Set([...Object.keys(ours), ...Object.keys(theirs)])]) {
      const v = merge3(b[k], ours[k], theirs[k], field ? `${field}.${k}` : k, conflicts);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    const b = Array.isArray(base) ? base : [];
    const key = itemKey([b, ours, theirs]);
    if (key) {
      const byKey = (list: unknown[]) => new Map(list.map((x) => [key(x as Record<string, unknown>), x]));
      const [mb, mo, mt] = [byKey(b), byKey(ours), byKey(theirs)];
      const out: unknown[] = [];
      for (const k of [...new Set([...mb.keys(), ...mo.keys(), ...mt.keys()])]) {
        const v = merge3(mb.get(k), mo.get(k), mt.get(k), `${field}[${String(k)}]`, conflicts);
        if (v !== undefined) out.push(v);
      }
      return out;
    }
  }
  conflicts.push({ field, ours, theirs });
  return ours;
}

/** Fragment fields laid over the object (lists merged by item key), as server-side apply would. */
function overlay(base: unknown, fragment: unknown): unknown {
  if (isPlain(base) && isPlain(fragment)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(fragment)) out[k] = overlay(base[k], v);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(fragment)) {
    const key = itemKey([base, fragment]);
    if (key) {
      const out = [...base];
      for (const item of fragment) {
        const at = out.findIndex((x) => key(x as Record<string, unknown>) === key(item as Record<string, unknown>));
        if (at >= 0) out[at] = overlay(out[at], item);
        else out.push(item);
      }
      return out;
    }
  }
  return fragment;
}

interface Candidate {
  finding: Finding;
  label: string;
  fix: Fix;
  doc: Record<string, unknown>;
  comments: string[];
  fragment: boolean;
}

function commentLines(yaml: string): string[] {
  const out: string[] = [];
  for (const line of yaml.split('\n')) {
    if (!line.startsWith('#')) break;
    out.push(line.replace(/^#\s?/, ''));
  }
  return out;
}

/** One document with kind and name, or undefined (then the fix is written as it is). */
function singleObject(yaml: string): Record<string, unknown> | undefined {
  let docs: unknown[];
  try {
    docs = jsyaml.loadAll(yaml);
  } catch {
    return undefined;
  }
  const objects = docs.filter((d) => d !== null && d !== undefined);
  const [doc] = objects;
  if (objects.length !== 1 || !isPlain(doc) || typeof doc.kind !== 'string' || !isPlain(doc.metadata)) return undefined;
  return doc;
}

function refKey(ref: ObjectRef): string {
  return formatRef(ref);
}

/**
 * Objects that must be one: the target itself, or, for new DestinationRules of one host (or new
 * workload PeerAuthentications of one selector) in one namespace, that host (selector) — Istio
 * keeps one such policy and ignores the port settings of the others.
 */
function groupKey(target: ObjectRef, doc: Record<string, unknown>, exists: boolean): string {
  const spec = isPlain(doc.spec) ? doc.spec : {};
  if (!exists && doc.kind === 'DestinationRule' && typeof spec.host === 'string') return `DestinationRule ${target.namespace ?? ''} host ${spec.host}`;
  if (!exists && doc.kind === 'PeerAuthentication' && isPlain(spec.selector)) return `PeerAuthentication ${target.namespace ?? ''} selector ${JSON.stringify(spec.selector)}`;
  return refKey(target);
}

function targetOf(fix: Fix, doc: Record<string, unknown>): ObjectRef {
  if (fix.target) return fix.target;
  const meta = doc.metadata as { name?: string; namespace?: string };
  return { kind: doc.kind as string, name: String(meta.name ?? ''), ...(meta.namespace ? { namespace: meta.namespace } : {}) };
}

function applyLine(fragment: boolean): string {
  return fragment
    ? 'apply with: kubectl apply --server-side --field-manager=tunnelmesh -f <this file>  (or change the manifest that owns it)'
    : 'apply with: kubectl apply -f <this file>';
}

export function planFixFiles(findings: Finding[], objects: ObjectIndex): FixPlan {
  const files: PlannedFile[] = [];
  const conflicts: FixConflict[] = [];
  const rows: IndexRow[] = [];
  const usedNames = new Map<string, number>();
  const groups = new Map<string, { target: ObjectRef; candidates: Candidate[]; file: string }>();
  const rowOf = new Map<Candidate, IndexRow>();

  const labels = new Map<string, number>();
  for (const f of findings) {
    // Two findings of one code on one object (two misspelled keys) get told apart.
    const plain = findingLabel(f);
    const nth = (labels.get(plain) ?? 0) + 1;
    labels.set(plain, nth);
    const label = nth === 1 ? plain : `${plain} (#${nth})`;
    let base = baseName(f);
    const seen = usedNames.get(base) ?? 0;
    usedNames.set(base, seen + 1);
    if (seen > 0) base = `${base}-n${seen + 1}`;
    const row: IndexRow = { finding: label, severity: f.severity, alternatives: [] };
    rows.push(row);
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
    const doc = singleObject(fix.yaml);
    if (!doc) {
      const path = `${base}-1.yaml`;
      files.push({ path, content: `# fix for ${label}: ${fix.title}\n${fix.yaml}` });
      row.file = path;
      continue;
    }
    const target = targetOf(fix, doc);
    const original = objects.get(target);
    const candidate: Candidate = {
      finding: f,
      label,
      fix,
      doc,
      comments: commentLines(fix.yaml).filter((c) => !c.startsWith('apply with:')),
      fragment: isFragment(doc, original ? editableBase(original) : undefined),
    };
    rowOf.set(candidate, row);
    const key = groupKey(target, doc, original !== undefined);
    const group = groups.get(key);
    if (group) {
      // A second new policy for the same host or pods becomes part of the first.
      if (group.target.name !== target.name) candidate.doc = { ...doc, metadata: { ...(doc.metadata as object), name: group.target.name } };
      group.candidates.push(candidate);
    } else groups.set(key, { target, candidates: [candidate], file: `${base}-1.yaml` });
  }

  for (const { target, candidates, file } of groups.values()) {
    const original = objects.get(target);
    const base = original ? editableBase(original) : undefined;
    const anyComplete = candidates.some((c) => !c.fragment);
    // Fragments over a complete edit become complete objects; fragments alone stay patches.
    const mergeBase = anyComplete ? base : undefined;
    const docOf = (c: Candidate): unknown => (anyComplete && c.fragment && base ? overlay(base, c.doc) : c.doc);
    const fragment = !anyComplete;
    const path = fragment ? `${SERVER_SIDE_DIR}/${file}` : file;
    const first = candidates[0] as Candidate;
    let merged = docOf(first);
    const included: Candidate[] = [first];
    for (const c of candidates.slice(1)) {
      const found: MergeConflict[] = [];
      const next = merge3(mergeBase, merged, docOf(c), '', found);
      const clash = found[0];
      if (clash) {
        conflicts.push({
          finding: c.label,
          target: formatRef(target),
          field: clash.field,
          value: clash.theirs,
          keptIn: path,
          keptFinding: included.map((x) => x.label).join(', '),
          keptValue: clash.ours,
          yaml: c.fix.yaml,
        });
        const row = rowOf.get(c);
        if (row) row.note = `conflicts with ${path}: not written (see Conflicts)`;
        continue;
      }
      merged = next;
      included.push(c);
    }
    const header = [
      `fix for ${included.map((c) => c.label).join(' and ')}`,
      ...included.map((c) => `${c.label}: ${c.fix.title}`),
      ...new Set(included.flatMap((c) => c.comments)),
      applyLine(fragment),
    ];
    files.push({ path, content: header.map((l) => `# ${l}\n`).join('') + toYaml(merged) });
    for (const c of included) {
      const row = rowOf.get(c);
      if (row) {
        row.file = path;
        if (included.length > 1) row.note = `merged with the fixes of ${included.filter((x) => x !== c).map((x) => x.label).join(', ')} (same object)`;
      }
    }
  }
  files.push({ path: INDEX_FILE, content: indexMarkdown(rows, conflicts, files) });
  return { files, conflicts, rows };
}

function indexMarkdown(rows: IndexRow[], conflicts: FixConflict[], files: PlannedFile[]): string {
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
  out.push(
    '- Objects rendered from a chart or kept in git: change the source too, or the next deploy reverts the fix.',
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
