// One Snapshot: every object tunnelmesh judges, however it was collected (files or a
// live cluster), plus what could not be collected. Everything downstream reads only this.

import type { KObject, KindMap, KnownKind } from '../model/k8s.js';

export interface SourcePosition {
  file: string;
  /** 1-based line where the object starts. */
  line: number;
}

export type IncompleteReason = 'forbidden' | 'not-installed' | 'error';

export interface IncompleteEntry {
  kind: string;
  namespace?: string;
  reason: IncompleteReason;
  message?: string;
}

/** One list that answered (or a CRD group that is not installed, so none exist). */
export interface ListedScope {
  kind: string;
  /** undefined = every namespace (or a cluster-scoped kind). */
  namespace?: string;
}

export interface LiveOrigin {
  context: string;
  server: string;
}

export interface Snapshot {
  mode: 'files' | 'live';
  objects: KObject[];
  /** Where each object came from (files mode). */
  positions: Map<KObject, SourcePosition>;
  /** Kinds or namespaces that could not be listed: the verdicts that need them are not `ok`. */
  incomplete: IncompleteEntry[];
  /** Things worth a word on stderr: skipped objects, assumptions made. */
  warnings: string[];
  live?: LiveOrigin;
  /**
   * Live mode: the (kind, namespace) lists that were complete. `-n` collects some kinds only in
   * some namespaces; an object absent from an unlisted namespace is unknown, not missing.
   * Files mode leaves it undefined: the input is all there is.
   */
  listed?: ListedScope[];
}

export function emptySnapshot(mode: Snapshot['mode']): Snapshot {
  return { mode, objects: [], positions: new Map(), incomplete: [], warnings: [] };
}

/** Objects of one kind, typed. */
export function objectsOfKind<K extends KnownKind>(snapshot: Snapshot, kind: K): KindMap[K][] {
  return snapshot.objects.filter((o) => o.kind === kind) as KindMap[K][];
}

export function objectKey(o: KObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/**
 * Adds objects, the last of duplicates winning (as `kubectl apply` of the same stream would
 * leave it), with a warning naming the duplicate.
 */
export function addObjects(snapshot: Snapshot, objects: KObject[], describe: (o: KObject) => string): void {
  const index = new Map<string, number>();
  snapshot.objects.forEach((o, i) => index.set(objectKey(o), i));
  for (const o of objects) {
    const key = objectKey(o);
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, snapshot.objects.length);
      snapshot.objects.push(o);
    } else {
      const previous = snapshot.objects[at] as KObject;
      snapshot.warnings.push(`${describe(o)}: duplicate of ${describe(previous)}; the later one is used`);
      snapshot.positions.delete(previous);
      snapshot.objects[at] = o;
    }
  }
}
