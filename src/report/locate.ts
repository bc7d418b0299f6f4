// Where a finding lives: the file and line of its resource for manifests (the line of the
// field at fault when it can be found), the chart template of a `helm template` stream
// (mapped to a repository path with --chart-dir / --source-root), and a stable placeholder
// path for live objects (SARIF viewers need a path and a line for every result).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { Snapshot, SourcePosition } from '../core/snapshot.js';
import type { KObject, ObjectRef, Service } from '../core/k8s.js';
import { ObjectIndex } from '../rules/suppress.js';
import type { FieldRef, Finding } from '../rules/types.js';
import { formatFieldPath, jsonFieldLine, yamlFieldLine } from './field-line.js';
import { templatePath, type SourceMapOptions } from './source-map.js';

export interface Artifact {
  /** A relative URI reference (`charts/gateway/templates/deploy.yaml`). */
  uri: string;
  line: number;
  placeholder: boolean;
  /** The repository path a chart template was mapped to (--chart-dir / --source-root). */
  mapped?: string;
}

export interface FindingLocation extends Artifact {
  /** The object the location is in (the resource, or the object holding the field at fault). */
  ref: ObjectRef;
  /** The field at fault (`spec.ports[0]`) when its line was found. */
  field?: string;
}

export interface Locator {
  /** Files mode: the object's file and line. */
  position(ref: ObjectRef): SourcePosition | undefined;
  /** A relative URI and line for SARIF-like formats (always present). */
  artifact(ref: ObjectRef): Artifact;
  /** The finding's field at fault: its object's file (or repository template) and the field's line. */
  locate(f: Finding): FindingLocation;
  /** Kubeconfig context for live runs (and replayed live snapshots). */
  context?: string;
  /** The workload that owns a Pod, when it can be told (the table groups findings by it). */
  ownerOf?(ref: ObjectRef): ObjectRef | undefined;
  /** Repository paths that --chart-dir / --source-root led to and that are not there (a wrong directory). */
  missingTemplates?(): string[];
}

/** `Service/app/web`, `Namespace/app`: the logical name of an object. */
export function logicalName(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

/** A path relative to the working directory, with `/` separators, as a URI reference. */
export function fileUri(file: string, cwd: string = process.cwd()): string {
  const rel = file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file) ? relative(cwd, file) : file;
  return rel.split(sep).join('/').replace(/^\.\//, '').split('/').map(encodeURIComponent).join('/');
}

/**
 * The field a finding is about when its rule names none: a Service finding with a port is
 * about that entry of `spec.ports`.
 */
export function impliedField(f: Finding, object: KObject | undefined): FieldRef | undefined {
  if (f.field) return f.field;
  if (f.port !== undefined && object?.kind === 'Service') {
    const index = ((object as Service).spec?.ports ?? []).findIndex((p) => p.port === f.port);
    if (index >= 0) return { path: ['spec', 'ports', index] };
  }
  return undefined;
}

function isJsonAt(text: string, line: number): boolean {
  let at = 0;
  for (let l = 1; l < line && at >= 0; l++) at = text.indexOf('\n', at) + 1 || -1;
  if (at < 0) return false;
  const first = /\S/.exec(text.slice(at, at + 200));
  return first !== null && (first[0] === '{' || first[0] === '[');
}

export function locatorFor(snapshot: Snapshot, cwd: string = process.cwd(), sourceMap: SourceMapOptions = {}): Locator {
  const index = new ObjectIndex(snapshot.objects);
  const context = snapshot.live?.context;
  const texts = new Map<string, string | undefined>(snapshot.texts ?? []);
  /** A file's text, read once (undefined when it cannot be read: line numbers fall back). */
  const textOf = (file: string): string | undefined => {
    if (!texts.has(file)) {
      let text: string | undefined;
      try {
        // Only a regular file can be read again: a named pipe would block the process for ever.
        text = file === '<stdin>' || !statSync(file).isFile() ? undefined : readFileSync(file, 'utf8');
      } catch {
        text = undefined;
      }
      texts.set(file, text);
    }
    return texts.get(file);
  };
  const position = (ref: ObjectRef): SourcePosition | undefined => {
    const o = index.get(ref);
    return o ? snapshot.positions.get(o) : undefined;
  };
  const placeholder = (origin: string, ref: ObjectRef): string =>
    ['k8s', origin, ref.namespace ?? '_cluster', ref.kind, ref.name].map(encodeURIComponent).join('/');
  const mapped = (pos: SourcePosition | undefined): string | undefined => (pos?.template ? templatePath(pos.template, sourceMap) : undefined);
  const artifact = (ref: ObjectRef): Artifact => {
    const pos = position(ref);
    const repoPath = mapped(pos);
    // helm template output with --chart-dir/--source-root: the template in the repository.
    if (repoPath) return { uri: fileUri(repoPath, cwd), line: 1, placeholder: false, mapped: repoPath };
    if (pos && pos.file !== '<stdin>') return { uri: fileUri(pos.file, cwd), line: pos.line, placeholder: false };
    // helm template on stdin: the chart template the object was rendered from.
    if (pos?.template) return { uri: fileUri(pos.template, cwd), line: 1, placeholder: false };
    return { uri: placeholder(pos ? 'stdin' : (context ?? 'cluster'), ref), line: 1, placeholder: true };
  };
  return {
    position,
    artifact,
    locate(f) {
      const ref = f.field?.object ?? f.resource;
      const base = artifact(ref);
      const out: FindingLocation = { ...base, ref };
      if (base.placeholder) return out;
      const field = impliedField(f, index.get(ref));
      if (!field) return out;
      const pos = position(ref);
      if (!pos) return out;
      const repoPath = mapped(pos);
      let line: number | undefined;
      if (repoPath) {
        // The template's own text: the rendered stream's lines are not the template's.
        const text = textOf(repoPath);
        if (text !== undefined) line = yamlFieldLine(text, 1, field.path);
      } else {
        const text = textOf(pos.file);
        if (text !== undefined) {
          line = isJsonAt(text, pos.line)
            ? jsonFieldLine(text, pos.line, field.path, pos.item !== undefined ? ['items', pos.item] : [])
            : yamlFieldLine(text, pos.line, field.path);
        }
      }
      if (line === undefined) return out;
      return { ...out, line, field: formatFieldPath(field.path) };
    },
    ownerOf(ref) {
      const o = ref.kind === 'Pod' ? index.get(ref) : undefined;
      return o ? index.ownerOf(o) : undefined;
    },
    missingTemplates() {
      const out = new Set<string>();
      for (const o of snapshot.objects) {
        const repoPath = mapped(snapshot.positions.get(o));
        if (repoPath && !existsSync(repoPath)) out.add(repoPath);
      }
      return [...out].sort();
    },
    ...(context !== undefined ? { context } : {}),
  };
}
