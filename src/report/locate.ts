// Where a finding lives: the file and line of its resource for manifests, a stable
// placeholder path for live objects (SARIF viewers need a path and a line for every result).

import { relative, sep } from 'node:path';
import type { Snapshot, SourcePosition } from '../core/snapshot.js';
import type { ObjectRef } from '../core/k8s.js';
import { ObjectIndex } from '../rules/suppress.js';

export interface Locator {
  /** Files mode: the object's file and line. */
  position(ref: ObjectRef): SourcePosition | undefined;
  /** A relative URI and line for SARIF-like formats (always present). */
  artifact(ref: ObjectRef): { uri: string; line: number; placeholder: boolean };
  /** Kubeconfig context for live runs (and replayed live snapshots). */
  context?: string;
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

export function locatorFor(snapshot: Snapshot, cwd: string = process.cwd()): Locator {
  const index = new ObjectIndex(snapshot.objects);
  const context = snapshot.live?.context;
  const position = (ref: ObjectRef): SourcePosition | undefined => {
    const o = index.get(ref);
    return o ? snapshot.positions.get(o) : undefined;
  };
  const placeholder = (origin: string, ref: ObjectRef): string =>
    ['k8s', origin, ref.namespace ?? '_cluster', ref.kind, ref.name].map(encodeURIComponent).join('/');
  return {
    position,
    artifact(ref) {
      const pos = position(ref);
      if (pos && pos.file !== '<stdin>') return { uri: fileUri(pos.file, cwd), line: pos.line, placeholder: false };
      // helm template on stdin: the chart template the object was rendered from.
      if (pos?.template) return { uri: fileUri(pos.template, cwd), line: 1, placeholder: false };
      return { uri: placeholder(pos ? 'stdin' : (context ?? 'cluster'), ref), line: 1, placeholder: true };
    },
    ...(context !== undefined ? { context } : {}),
  };
}
