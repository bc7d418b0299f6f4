// `doctor --fix-diff FILE`: the recommended fixes, composed per object (the same composition as
// --fix-out), as a unified diff of the user's own files — the -f paths, and the chart templates of
// a `helm template` stream when `--chart-dir` maps its `# Source:` comments — that `git apply`
// takes. Each changed document is edited through the yaml package's Document API (setIn / deleteIn
// on the nodes, so comments, key order and quoting stay), and only the lines that change are
// carried into the file: the edit is made on the document as yaml prints it, and its hunks are
// applied to the text as written. New objects go to a new file beside the others.
//
// The yaml and diff libraries are passed in (the CLI loads them only for --fix-diff).

import jsyaml from 'js-yaml';
import { dirname, join, relative, sep } from 'node:path';
import type * as Diff from 'diff';
import type * as Yaml from 'yaml';
import { formatRef, type KObject, type ObjectRef } from '../core/k8s.js';
import type { SourcePosition } from '../core/snapshot.js';
import { composeFixes, deepEqual, fixDocuments, isPlain, type ComposeInput } from '../rules/apply-fix.js';
import type { Finding } from '../rules/types.js';
import { toYaml } from '../rules/yaml.js';
import { pushAll } from '../core/arrays.js';
import { templatePath } from './source-map.js';

export interface FixDiffLibraries {
  yaml: typeof Yaml;
  diff: typeof Diff;
}

export interface FixDiffInput {
  findings: Finding[];
  objects: readonly KObject[];
  positions: ReadonlyMap<KObject, SourcePosition>;
  /** The text of every input file (and `<stdin>`), as read. */
  texts: ReadonlyMap<string, string>;
  /** `--chart-dir DIR`: `# Source: <chart>/templates/x.yaml` is `DIR/templates/x.yaml`. */
  chartDir?: string;
  /** Paths in the patch are relative to this directory (where `git apply` runs). */
  root: string;
  rejudge?: (objects: KObject[]) => Finding[];
  /** Reads a file the input did not hold (chart templates). */
  readFile: (path: string) => string | undefined;
}

export interface FixDiffResult {
  patch: string;
  /** Files the patch changes or creates (relative to root). */
  files: string[];
  /** Objects whose change could not be placed in a file, and why. */
  unplaced: string[];
  conflicts: string[];
  /** Steps the patch cannot hold (deletes are in it; key removals are; restarts are not). */
  steps: string[];
}

type Path = Array<string | number>;
type Op = { op: 'set'; path: Path; value: unknown } | { op: 'delete'; path: Path } | { op: 'append'; path: Path; value: unknown };

/** How list items are told apart (the same keys the composition merges by). */
function listKey(a: unknown[], b: unknown[]): ((x: Record<string, unknown>) => unknown) | undefined {
  const keys: Array<(x: Record<string, unknown>) => unknown> = [
    (x) => (isPlain(x.port) ? x.port.number : undefined),
    (x) => x.name,
    (x) => x.containerPort,
    (x) => (typeof x.port === 'number' ? x.port : undefined),
  ];
  return keys.find((key) => [a, b].every((list) => {
    const ks = list.map((x) => (isPlain(x) ? key(x) : undefined));
    return ks.every((k) => typeof k === 'string' || typeof k === 'number') && new Set(ks).size === ks.length;
  }));
}

/** The edits that turn `before` into `after`, as paths into the document (deepest, smallest edits). */
export function diffOps(before: unknown, after: unknown, path: Path = []): Op[] {
  if (deepEqual(before, after)) return [];
  if (isPlain(before) && isPlain(after)) {
    const ops: Op[] = [];
    for (const [k, v] of Object.entries(after)) if (!deepEqual(before[k], v)) pushAll(ops, k in before ? diffOps(before[k], v, [...path, k]) : [{ op: 'set' as const, path: [...path, k], value: v }]);
    for (const k of Object.keys(before)) if (!(k in after)) ops.push({ op: 'delete', path: [...path, k] });
    return ops;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const key = listKey(before, after);
    if (key) {
      const ops: Op[] = [];
      const at = new Map(before.map((x, i) => [key(x as Record<string, unknown>), i]));
      const kept = new Set<number>();
      for (const item of after) {
        const i = at.get(key(item as Record<string, unknown>));
        if (i === undefined) ops.push({ op: 'append', path, value: item });
        else {
          kept.add(i);
          pushAll(ops, diffOps(before[i], item, [...path, i]));
        }
      }
      // Order matters for the document only where items are added or dropped: removals last, from the end.
      const removed = before.map((_, i) => i).filter((i) => !kept.has(i)).reverse();
      const inOrder = after.every((item, j) => j >= before.length || key(item as Record<string, unknown>) === key(before[j] as Record<string, unknown>) || removed.length > 0);
      if (!inOrder) return [{ op: 'set', path, value: after }];
      return [...ops, ...removed.map((i) => ({ op: 'delete' as const, path: [...path, i] }))];
    }
    if (before.length === after.length) return before.flatMap((x, i) => diffOps(x, after[i], [...path, i]));
  }
  return [{ op: 'set', path, value: after }];
}

/** An embedded YAML document in a string (a cloudflared config.yaml in a ConfigMap) that is edited in place. */
function embeddedYaml(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string' || !text.includes('\n')) return undefined;
  try {
    const v = jsyaml.load(text);
    return isPlain(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const PRINT = { lineWidth: 0, minContentWidth: 0 } as const;

/** Applies edits to a yaml Document's nodes, keeping each scalar's own style where a value changes. */
function applyOps(lib: typeof Yaml, doc: Yaml.Document, ops: Op[], prefix: Path): void {
  for (const o of ops) {
    const path = [...prefix, ...o.path];
    if (o.op === 'delete') {
      doc.deleteIn(path);
      continue;
    }
    if (o.op === 'append') {
      const seq = doc.getIn(path, true);
      if (lib.isSeq(seq)) seq.items.push(doc.createNode(o.value));
      else doc.setIn(path, doc.createNode([o.value]));
      continue;
    }
    const node = doc.getIn(path, true);
    const embeddedBefore = lib.isScalar(node) ? embeddedYaml(node.value) : undefined;
    const embeddedAfter = embeddedYaml(o.value);
    if (lib.isScalar(node) && embeddedBefore && embeddedAfter) {
      // Edit the embedded config as a document too: its comments and layout stay.
      const inner = lib.parseDocument(node.value as string);
      applyOps(lib, inner, diffOps(embeddedBefore, embeddedAfter), []);
      const text = inner.toString(PRINT);
      node.value = deepEqual(jsyaml.load(text), embeddedAfter) ? text : o.value;
      continue;
    }
    if (lib.isScalar(node) && (o.value === null || typeof o.value !== 'object')) node.value = o.value;
    else doc.setIn(path, doc.createNode(o.value));
  }
}

interface LocatedDocument {
  /** Offsets of the document in the text it came from. */
  start: number;
  end: number;
  doc: Yaml.Document;
  /** Path to the object inside the document (`items`, i for a List). */
  prefix: Path;
}

function sameRef(v: unknown, ref: ObjectRef): boolean {
  if (!isPlain(v) || v.kind !== ref.kind || !isPlain(v.metadata)) return false;
  const meta = v.metadata as { name?: unknown; namespace?: unknown };
  return meta.name === ref.name && (meta.namespace === undefined || meta.namespace === ref.namespace);
}

/** The document (and the item of a List) that holds `ref`, nearest to `line`. */
function locate(lib: typeof Yaml, text: string, ref: ObjectRef, line: number | undefined): LocatedDocument | undefined {
  const docs = lib.parseAllDocuments(text);
  if (!Array.isArray(docs)) return undefined;
  const lineStart = (n: number) => {
    let at = 0;
    for (let i = 1; i < n && at >= 0; i++) at = text.indexOf('\n', at) + 1;
    return at;
  };
  const offset = line ? lineStart(line) : -1;
  const found: LocatedDocument[] = [];
  for (const doc of docs) {
    if (doc.errors.length) continue;
    const value = doc.toJS() as unknown;
    const [start, , end] = doc.range;
    if (sameRef(value, ref)) found.push({ start, end, doc, prefix: [] });
    else if (isPlain(value) && Array.isArray(value.items)) {
      const i = value.items.findIndex((x) => sameRef(x, ref));
      if (i >= 0) found.push({ start, end, doc, prefix: ['items', i] });
    }
  }
  return found.find((d) => offset >= d.start && offset < d.end) ?? found[0];
}

/**
 * The edited document's changed lines, carried into the text as written: the edit is made on the
 * document as yaml prints it (both sides printed alike), and its hunks are applied to `target`.
 */
function carry(libs: FixDiffLibraries, target: string, printedBefore: string, printedAfter: string): string | false {
  const patch = libs.diff.structuredPatch('a', 'b', printedBefore, printedAfter, '', '', { context: 2 });
  return libs.diff.applyPatch(target, patch, { fuzzFactor: 2 });
}

interface FileEdit {
  path: string;
  before: string;
  after: string;
}

export function planFixDiff(libs: FixDiffLibraries, input: FixDiffInput): FixDiffResult {
  const result: FixDiffResult = { patch: '', files: [], unplaced: [], conflicts: [], steps: [] };
  const inputs: Array<ComposeInput<Finding>> = [];
  for (const f of input.findings) {
    const fix = f.fixes[0];
    if (fix && fix.apply !== 'manual' && fixDocuments(fix).length) inputs.push({ finding: f, fix });
  }
  const composed = composeFixes(input.objects, inputs, input.rejudge ? { rejudge: input.rejudge, before: input.rejudge(input.objects as KObject[]) } : {});
  result.conflicts = composed.conflicts.map((c) => `${c.finding.code} ${formatRef(c.finding.resource)}: ${formatRef(c.target)} ${c.field} is set differently by ${c.keptBy.map((f) => `${f.code} ${formatRef(f.resource)}`).join(', ')}; not in the patch`);
  for (const c of inputs) for (const s of c.fix.steps ?? []) if (s.kind === 'restart') result.steps.push(s.command);

  const edits = new Map<string, FileEdit>();
  const fileText = (path: string): string | undefined => edits.get(path)?.after ?? input.texts.get(path) ?? input.readFile(path);
  const setFile = (path: string, after: string) => {
    const entry = edits.get(path) ?? { path, before: input.texts.get(path) ?? input.readFile(path) ?? '', after };
    entry.after = after;
    edits.set(path, entry);
  };
  const created: KObject[] = [];
  // New objects go beside the others: the chart's templates, or the first input file's directory.
  const firstFile = [...input.positions.values()].find((p) => p.file !== '<stdin>')?.file;
  const newFileDir = input.chartDir ? join(input.chartDir, 'templates') : firstFile ? dirname(firstFile) : input.root;

  for (const entry of composed.changed) {
    const before = entry.before;
    if (!before) {
      if (entry.after) created.push(entry.after);
      continue;
    }
    const pos = input.positions.get(before);
    const what = formatRef(entry.target);
    if (!pos) {
      result.unplaced.push(`${what}: not read from a file`);
      continue;
    }
    // The mapping every report uses (source-map.ts): `# Source: <chart>/templates/x.yaml` → `DIR/templates/x.yaml`.
    const template = pos.template && input.chartDir ? templatePath(pos.template, { chartDir: input.chartDir }) : undefined;
    if (!template && pos.file === '<stdin>') {
      result.unplaced.push(`${what}: from ${pos.template ? `chart template ${pos.template}` : 'standard input'}${pos.template ? ' (give --chart-dir to map it to the chart)' : ''}`);
      continue;
    }
    const file = template ?? pos.file;
    const sourceText = input.texts.get(pos.file);
    const text = fileText(file);
    if (sourceText === undefined || text === undefined) {
      result.unplaced.push(`${what}: ${file} cannot be read`);
      continue;
    }
    // The object as the document holds it (the snapshot's copy may carry a defaulted namespace).
    const located = locate(libs.yaml, sourceText, entry.target, pos.line);
    if (!located) {
      result.unplaced.push(`${what}: not found in ${pos.file}`);
      continue;
    }
    const rawJs = (located.prefix.length ? (located.doc.toJS() as { items: unknown[] }).items[located.prefix[1] as number] : located.doc.toJS()) as unknown;
    if (!entry.after) {
      // Deleted: its document leaves the file (a List item leaves the List).
      if (located.prefix.length) {
        const printed = located.doc.toString(PRINT);
        located.doc.deleteIn(located.prefix);
        const next = carry(libs, text, printed, located.doc.toString(PRINT));
        if (next === false) result.unplaced.push(`${what}: could not be removed from ${file}`);
        else setFile(file, next);
      } else if (!template) {
        setFile(file, text.slice(0, located.start) + text.slice(located.end));
      } else result.unplaced.push(`${what}: delete ${file} from the chart`);
      continue;
    }
    const ops = diffOps(before, entry.after);
    const printedBefore = located.doc.toString(PRINT);
    applyOps(libs.yaml, located.doc, ops, located.prefix);
    const printedAfter = located.doc.toString(PRINT);
    const expected = located.prefix.length ? undefined : applyJs(rawJs, ops);
    const docText = sourceText.slice(located.start, located.end);
    let next: string | false = false;
    if (template) next = carry(libs, text, printedBefore, printedAfter);
    else {
      const carried = carry(libs, docText, printedBefore, printedAfter);
      const good = carried !== false && (expected === undefined || deepEqual(jsyaml.load(carried), expected));
      const body = good ? carried : printedAfter;
      const at = text.indexOf(docText);
      next = at >= 0 ? text.slice(0, at) + body + text.slice(at + docText.length) : false;
    }
    if (next === false) result.unplaced.push(`${what}: the change could not be placed in ${file} (edit it by hand: ${ops.map((o) => o.path.join('.')).join(', ')})`);
    else setFile(file, next);
  }

  if (created.length) {
    let name = join(newFileDir, 'tunnelmesh-fixes.yaml');
    for (let n = 2; fileText(name) !== undefined && !edits.has(name); n++) name = join(newFileDir, `tunnelmesh-fixes-${n}.yaml`);
    const body = created
      .map((o) => {
        const by = composed.changed.find((c) => c.after === o)?.by.map((b) => `${b.finding.code} ${formatRef(b.finding.resource)}${b.finding.port !== undefined ? `:${b.finding.port}` : ''}`) ?? [];
        return `# created by tunnelmesh for ${by.join(', ')}\n${toYaml(o)}`;
      })
      .join('---\n');
    edits.set(name, { path: name, before: '', after: body });
  }

  const patches: string[] = [];
  for (const e of [...edits.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (e.before === e.after) continue;
    const rel = relative(input.root, e.path).split(sep).join('/');
    result.files.push(rel);
    const isNew = e.before === '' && input.texts.get(e.path) === undefined && input.readFile(e.path) === undefined;
    const text = libs.diff.createTwoFilesPatch(isNew ? '/dev/null' : `a/${rel}`, `b/${rel}`, e.before, e.after, undefined, undefined, { context: 3 });
    // git apply reads `--- a/x` / `+++ b/x`: drop jsdiff's separator line and empty header tabs.
    patches.push(`diff --git a/${rel} b/${rel}\n${isNew ? 'new file mode 100644\n' : ''}${text.replace(/^=+\n/m, '').replace(/\t$/gm, '')}`);
  }
  result.patch = patches.join('');
  return result;
}

/** The same edits on plain data, to check the document says what the fix means. */
function applyJs(value: unknown, ops: Op[]): unknown {
  const root = { v: structuredClone(value) } as Record<string, unknown>;
  for (const o of ops) {
    const path = ['v', ...o.path];
    let at: unknown = root;
    for (const seg of path.slice(0, -1)) at = (at as Record<string | number, unknown>)[seg];
    const last = path.at(-1) as string | number;
    const container = at as Record<string | number, unknown> & unknown[];
    if (o.op === 'delete') {
      if (Array.isArray(container)) container.splice(Number(last), 1);
      else delete container[last];
    } else if (o.op === 'append') {
      const list = container[last];
      if (Array.isArray(list)) list.push(structuredClone(o.value));
      else container[last] = [structuredClone(o.value)];
    } else container[last] = structuredClone(o.value);
  }
  return root.v;
}
