// Offline collection: files, directories (recursive) and `-` (stdin) → one Snapshot.
// The cluster is never contacted and the Kubernetes client is never imported here.

import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import type { KObject } from '../model/k8s.js';
import { kindInfo } from './kinds.js';
import { parseText, type ParsedDocument } from './parse.js';
import { addObjects, emptySnapshot, type Snapshot, type SourcePosition } from './snapshot.js';
import { readSnapshotHeader } from './snapshot-file.js';
import { normalizeObject } from './validate.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface FileInputOptions {
  /** `-n`: namespace of objects that have none, and the scope of findings. */
  namespace?: string;
  /** Reads standard input (tests pass their own). */
  readStdin?: () => Promise<string>;
}

interface RawObject {
  value: unknown;
  position: SourcePosition;
}

export interface NamedText {
  /** Shown in messages and SARIF (`<stdin>` for standard input). */
  name: string;
  text: string;
}

export async function collectFromFiles(paths: string[], opts: FileInputOptions = {}): Promise<Snapshot> {
  const files = await expandPaths(paths);
  const texts: NamedText[] = [];
  for (const file of files) {
    texts.push(file === '-' ? { name: '<stdin>', text: await (opts.readStdin ?? readStdin)() } : { name: file, text: await readText(file) });
  }
  return collectFromTexts(texts, opts.namespace, paths.map((p) => (p === '-' ? '<stdin>' : p)).join(', '));
}

/** Parses manifests already in memory (files, stdin, tests) into a Snapshot. */
export function collectFromTexts(texts: NamedText[], namespace?: string, inputName = texts.map((t) => t.name).join(', ')): Snapshot {
  const raws: RawObject[] = [];
  for (const { name, text } of texts) {
    for (const doc of parseText(text, name)) raws.push(...documentObjects(doc, name));
  }
  const snapshot = emptySnapshot('files');
  const defaultNamespace = chooseDefaultNamespace(raws, namespace, snapshot.warnings);
  const objects: KObject[] = [];
  let ignored = 0;
  for (const raw of raws) {
    const where = `${raw.position.file}:${raw.position.line}`;
    const header = readSnapshotHeader(raw.value);
    if (header) {
      // A `tunnelmesh snapshot` file: judge it as the run that wrote it did.
      if (header.live) snapshot.live = header.live;
      snapshot.incomplete.push(...header.incomplete);
      continue;
    }
    const kind = (raw.value as { kind?: unknown } | null)?.kind;
    if (typeof kind === 'string' && kind !== '' && !kindInfo(kind)) {
      ignored++; // kinds no rule reads (ServiceAccount, Secret, CRDs…) are not judged
      continue;
    }
    const obj = normalizeObject(
      raw.value,
      where,
      { defaultNamespace, isNamespaced: (k) => kindInfo(k)?.namespaced ?? true },
      (m) => snapshot.warnings.push(m),
    );
    if (!obj) continue;
    snapshot.positions.set(obj, raw.position);
    objects.push(obj);
  }
  addObjects(snapshot, objects, (o) => describeObject(o, snapshot.positions.get(o)));
  if (raws.length === 0) throw new InputError(inputName, undefined, 'no Kubernetes objects found');
  if (snapshot.objects.length === 0 && ignored === 0) {
    throw new InputError(inputName, undefined, `no readable Kubernetes objects found (${snapshot.warnings[0] ?? 'every object was skipped'})`);
  }
  return snapshot;
}

function describeObject(o: KObject, position: SourcePosition | undefined): string {
  const ref = o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
  return position ? `${ref} (${position.file}:${position.line})` : ref;
}

/** `kind: List` and `*List` documents (kubectl dumps) hold their objects in `items`. */
function documentObjects(doc: ParsedDocument, file: string): RawObject[] {
  const value = doc.value as { kind?: unknown; items?: unknown };
  const isList =
    typeof value === 'object' &&
    value !== null &&
    typeof value.kind === 'string' &&
    value.kind.endsWith('List') &&
    Array.isArray(value.items);
  const template = doc.template ? { template: doc.template } : {};
  if (!isList) return [{ value: doc.value, position: { file, line: doc.line, ...template } }];
  const items = value.items as unknown[];
  const inheritedKind = (value.kind as string) === 'List' ? undefined : (value.kind as string).slice(0, -4);
  return items.map((item, i) => {
    // `kubectl get pods -o json` items carry their kind; raw API lists (PodList) do not.
    if (inheritedKind && typeof item === 'object' && item !== null && !('kind' in item)) {
      (item as Record<string, unknown>).kind = inheritedKind;
    }
    return { value: item, position: { file, line: doc.itemLines?.[i] ?? doc.line, ...template } };
  });
}

/**
 * Namespace for objects that have none: `-n`, as kubectl apply would use; else, when the
 * input creates exactly one Namespace (a chart that brings its own), that one; else default.
 */
function chooseDefaultNamespace(raws: RawObject[], flag: string | undefined, warnings: string[]): string {
  if (flag) return flag;
  const namespaces = new Set<string>();
  let orphans = 0;
  for (const { value } of raws) {
    const o = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
    if (!o || typeof o.kind !== 'string') continue;
    if (o.kind === 'Namespace' && typeof o.metadata?.name === 'string') namespaces.add(o.metadata.name);
    else if (kindInfo(o.kind)?.namespaced && !o.metadata?.namespace) orphans++;
  }
  if (orphans > 0 && namespaces.size === 1) {
    const only = [...namespaces][0] as string;
    warnings.push(
      `${orphans} object(s) have no metadata.namespace: placed in namespace ${only}, the only Namespace in the input (pass -n to choose)`,
    );
    return only;
  }
  return 'default';
}

async function expandPaths(paths: string[]): Promise<string[]> {
  if (paths.length === 0) throw new UsageError('-f needs a file, a directory or - for standard input');
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  const out: string[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push(path);
      continue;
    }
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new InputError(path, undefined, 'no such file or directory');
    }
    if (info.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}

/** Manifest files below a directory, in a stable order. */
async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(path);
  }
  return out;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, undefined, code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? 'error'})`);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('-f - reads manifests from standard input, but it is a terminal');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
