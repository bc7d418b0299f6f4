// One Snapshot: every object tunnelmesh judges, however it was collected (files or a
// live cluster), plus what could not be collected. Everything downstream reads only this.

import type { ProxyConfigGap, ProxyConfigInput } from './envoy-dump.js';
import type { KObject, KindMap, KnownKind } from './k8s.js';
import { kindIdOf } from './kinds.js';

export interface SourcePosition {
  file: string;
  /** 1-based line where the object starts. */
  line: number;
  /** For rendered charts on stdin: the template it came from (helm's `# Source:` comment). */
  template?: string;
  /** Index of the object in its `kind: List` document (JSON field positions count items). */
  item?: number;
}

export type IncompleteReason = 'forbidden' | 'not-installed' | 'error';

export interface IncompleteEntry {
  /** Kind id (core/kinds.ts). */
  kind: string;
  namespace?: string;
  /** Set when the failed list was a label-selected one (cloudflared pods, tunnel configs anywhere). */
  labelSelector?: string;
  /** Set when the failure was a GET of one object (the istio mesh config). */
  name?: string;
  /** Set when the list was searched for some objects only (`running cloudflared`): a failure hides those. */
  filter?: string;
  reason: IncompleteReason;
  message?: string;
}

/**
 * A list (or a GET of one named object) that the API server answered in full. Only what is
 * covered by one of these was seen; anything else may exist unseen.
 */
export interface ListedScope {
  /** Kind id (core/kinds.ts). */
  kind: string;
  /** undefined = every namespace (or a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string;
  /** A GET of one object (found or 404). */
  name?: string;
  /** Only the objects matching this were kept (`running cloudflared`): the others were not seen. */
  filter?: string;
}

/** "Pod in app", "ConfigMap istio-system/istio", "Pod labelled x=y, cluster-wide", "Namespace". */
export function incompleteScope(e: IncompleteEntry): string {
  if (e.name !== undefined) return `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`;
  if (e.labelSelector !== undefined) return `${e.kind} labelled ${e.labelSelector}${e.namespace ? ` in ${e.namespace}` : ', cluster-wide'}`;
  if (e.filter !== undefined) return `${e.kind} ${e.filter}${e.namespace ? ` in ${e.namespace}` : ', cluster-wide'}`;
  return `${e.kind}${e.namespace ? ` in ${e.namespace}` : ''}`;
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
  /**
   * Live: what was listed in full. Undefined for files, where the input is all there is (an
   * object not in it does not exist for the run).
   */
  listed?: ListedScope[];
  /** Things worth a word on stderr: skipped objects, assumptions made. */
  warnings: string[];
  live?: LiveOrigin;
  /**
   * The text of inputs that cannot be read again (stdin), by name, so reports can find the
   * line of a field; files are read again from disk. Small inputs only.
   */
  texts?: Map<string, string>;
  /** Envoy config dumps (`--proxy-config`, `--proxy-config-file`, a snapshot file's EnvoyConfigDump documents), pruned. */
  proxyConfigs?: ProxyConfigInput[];
  /** Dumps a live `--proxy-config` asked for and did not get (also in `incomplete`). */
  proxyConfigGaps?: ProxyConfigGap[];
}

export function emptySnapshot(mode: Snapshot['mode']): Snapshot {
  return { mode, objects: [], positions: new Map(), incomplete: [], warnings: [] };
}

/** Objects by kind id (core/kinds.ts), per objects array: rules ask for the same kinds over and over. */
const byKindCache = new WeakMap<KObject[], { length: number; byKind: Map<string, KObject[]> }>();

/** Objects of one kind id (`Gateway` is Istio's, GATEWAY_API_GATEWAY the Gateway API's), typed. */
export function objectsOfKind<K extends KnownKind>(snapshot: Snapshot, kind: K): KindMap[K][] {
  return objectsOfKindName(snapshot, kind) as KindMap[K][];
}

/** Objects of any kind id, from the same index. */
export function objectsOfKindName(snapshot: Snapshot, kind: string): KObject[] {
  let entry = byKindCache.get(snapshot.objects);
  if (!entry || entry.length !== snapshot.objects.length) {
    const byKind = new Map<string, KObject[]>();
    for (const o of snapshot.objects) {
      const id = kindIdOf(o);
      const list = byKind.get(id);
      if (list) list.push(o);
      else byKind.set(id, [o]);
    }
    entry = { length: snapshot.objects.length, byKind };
    byKindCache.set(snapshot.objects, entry);
  }
  return entry.byKind.get(kind) ?? [];
}

/** Finds one object by kind id, namespace and name. */
export function findObject(snapshot: Snapshot, kind: string, namespace: string | undefined, name: string): KObject | undefined {
  return objectsOfKindName(snapshot, kind).find((o) => o.metadata.name === name && o.metadata.namespace === namespace);
}

/** Identity of an object: kind id, namespace, name (Istio's and the Gateway API's Gateway of one name are two objects). */
export function objectKey(o: KObject): string {
  return `${kindIdOf(o)}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/**
 * Adds objects, the last of duplicates winning (as `kubectl apply` of the same stream would
 * leave it), with a warning naming the duplicate. The objects are then kept in one canonical
 * order (kind, namespace, name): nothing downstream — which pod stands for its workload, the
 * order of notes, evidence and fixes — can depend on the order they came in (files, `-f`
 * arguments, the API server's pages).
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
      byKindCache.delete(snapshot.objects); // replaced in place: the index no longer holds
      const previous = snapshot.objects[at] as KObject;
      snapshot.warnings.push(`${describe(o)}: duplicate of ${describe(previous)}; the later one is used`);
      snapshot.positions.delete(previous);
      snapshot.objects[at] = o;
    }
  }
  sortCanonically(snapshot.objects);
  byKindCache.delete(snapshot.objects);
}

/** Sorts objects in place by kind, namespace, name (code-unit order: no locale). */
export function sortCanonically(objects: KObject[]): void {
  const keyed = objects.map((o) => ({ key: objectKey(o), o }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 0; i < keyed.length; i++) objects[i] = (keyed[i] as { o: KObject }).o;
}
