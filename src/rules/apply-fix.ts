// Applies fixes to a set of objects the way kubectl would take them (see ApplyMode), so that
// what a fix promises can be checked by judging the result again (the property test, the rule
// tester) and so that --fix-out and --fix-diff write the same composed result.
//
// Fixes of one object compose by a three-way merge against the object as it is: each fix's
// result is an edit of the original, and two edits that set one field differently are a
// conflict, reported, never silently resolved.

import jsyaml from 'js-yaml';
import { formatRef, type KObject, type ObjectRef } from '../core/k8s.js';
import { addObjects, emptySnapshot } from '../core/snapshot.js';
import { MeshModel } from '../model/model.js';
import { isOperatorConfig as holdsOperatorConfig } from '../core/wellknown.js';
import type { ConfigMap } from '../core/k8s.js';
import { editable } from './fixes.js';
import { operatorRule } from './tunnel-fixes.js';
import type { ApplyMode, Fix } from './types.js';

type Json = Record<string, unknown>;

export function isPlain(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

export function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

function refOfDoc(doc: Json): ObjectRef {
  const meta = (isPlain(doc.metadata) ? doc.metadata : {}) as { name?: unknown; namespace?: unknown };
  return { kind: String(doc.kind), name: String(meta.name ?? ''), ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}) };
}

/** The documents of a fix's YAML that are objects (kind and metadata.name). */
export function fixDocuments(fix: Fix): Json[] {
  let docs: unknown[];
  try {
    docs = jsyaml.loadAll(fix.yaml);
  } catch {
    return [];
  }
  return docs.filter((d): d is Json => isPlain(d) && typeof d.kind === 'string' && isPlain(d.metadata) && typeof (d.metadata as Json).name === 'string');
}

export function applyModeOf(fix: Fix): ApplyMode {
  return fix.apply ?? 'apply';
}

// Server-side apply merges lists of built-in kinds by their list-map keys (x-kubernetes-list-map-keys
// in the OpenAPI schema); custom resources (Istio's, the operator's) declare none: their lists are atomic.
const LIST_MAP_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
};
const BUILT_IN_GROUPS = /^(v1|apps\/v1|batch\/v1|networking\.k8s\.io\/v1|policy\/v1)$/;

function listKey(kind: string, apiVersion: string, path: string[]): string | undefined {
  if (!BUILT_IN_GROUPS.test(apiVersion)) return undefined;
  const field = path.at(-1) ?? '';
  if (field === 'ports') {
    // Service ports merge by port (and protocol); container ports by containerPort.
    return kind === 'Service' && path.length === 2 ? 'port' : 'containerPort';
  }
  return LIST_MAP_KEYS[field];
}

/** Server-side apply of a partial object: maps merge, keyed lists merge by key, the rest is replaced. */
function serverSideMerge(base: unknown, patch: unknown, kind: string, apiVersion: string, path: string[]): unknown {
  if (isPlain(base) && isPlain(patch)) {
    const out: Json = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = serverSideMerge(base[k], v, kind, apiVersion, [...path, k]);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch)) {
    const key = listKey(kind, apiVersion, path);
    if (key) {
      const out = [...base];
      for (const item of patch) {
        const at = out.findIndex((x) => isPlain(x) && isPlain(item) && x[key] === item[key]);
        if (at >= 0) out[at] = serverSideMerge(out[at], item, kind, apiVersion, [...path, key]);
        else out.push(structuredClone(item));
      }
      return out;
    }
  }
  return structuredClone(patch);
}

/** RFC 7386 JSON merge patch: maps merge, null deletes, anything else replaces. */
export function mergePatch(base: unknown, patch: unknown): unknown {
  if (!isPlain(patch)) return structuredClone(patch);
  const out: Json = isPlain(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** What kubectl leaves after taking one document of a fix (undefined `current`: the object is new). */
function takeDocument(current: KObject | undefined, doc: Json, mode: ApplyMode): KObject {
  const kind = String(doc.kind);
  const apiVersion = String(doc.apiVersion ?? current?.apiVersion ?? '');
  switch (mode) {
    case 'server-side':
      return (current ? serverSideMerge(current, doc, kind, apiVersion, []) : structuredClone(doc)) as KObject;
    case 'merge-patch':
      // kubectl patch needs the object to exist; a patch of nothing creates nothing.
      return (current ? mergePatch(current, doc) : structuredClone(doc)) as KObject;
    default: {
      // A complete object: what it says, with the server's own fields of the object in force kept.
      const next = structuredClone(doc) as KObject & { status?: unknown };
      const status = (current as { status?: unknown } | undefined)?.status;
      if (status !== undefined && next.status === undefined) next.status = structuredClone(status);
      return next;
    }
  }
}

function removeField(o: KObject, path: string[]): KObject {
  const copy = structuredClone(o) as unknown as Json;
  let at: unknown = copy;
  for (const seg of path.slice(0, -1)) at = isPlain(at) ? at[seg] : Array.isArray(at) ? at[Number(seg)] : undefined;
  const last = path.at(-1) as string;
  if (isPlain(at)) delete at[last];
  else if (Array.isArray(at)) at.splice(Number(last), 1);
  return copy as unknown as KObject;
}

export interface Applied {
  objects: KObject[];
  /** Objects the fix created, changed or deleted. */
  changed: ObjectRef[];
  /** What could not be applied as written (a patch of an object that does not exist, a manual fix). */
  problems: string[];
}

/**
 * Applies one fix as kubectl would (its YAML per its apply mode, then its steps), and when it
 * changed what the Cloudflare operator reads, rewrites the operator's tunnel config as the
 * operator's next reconcile would.
 */
export function applyFix(objects: readonly KObject[], fix: Fix, opts: { clusterDomain?: string } = {}): Applied {
  const mode = applyModeOf(fix);
  const out = [...objects];
  const changed: ObjectRef[] = [];
  const problems: string[] = [];
  const indexOf = (ref: ObjectRef) => out.findIndex((o) => refKey(refOfDoc(o as unknown as Json)) === refKey(ref));
  if (mode === 'manual') return { objects: out, changed, problems: [`"${fix.title}" is not an object to apply`] };
  for (const doc of fixDocuments(fix)) {
    const ref = refOfDoc(doc);
    const at = indexOf(ref);
    const current = at >= 0 ? out[at] : undefined;
    if (!current && mode === 'merge-patch') {
      problems.push(`${formatRef(ref)}: kubectl patch fails, the object does not exist`);
      continue;
    }
    const next = takeDocument(current, doc, mode);
    if (at >= 0) out[at] = next;
    else out.push(next);
    changed.push(ref);
  }
  for (const step of fix.steps ?? []) {
    const at = indexOf(step.target);
    if (step.kind === 'restart') continue; // offline, a restart changes no object
    if (at < 0) {
      problems.push(`${formatRef(step.target)}: \`${step.command}\` fails, the object does not exist`);
      continue;
    }
    if (step.kind === 'delete') out.splice(at, 1);
    else out[at] = removeField(out[at] as KObject, step.path);
    changed.push(step.target);
  }
  return { objects: repredictOperatorConfigs(out, changed, opts), changed, problems };
}

/** Objects whose change the operator's ingress controller reconciles into its tunnel config. */
const OPERATOR_INPUTS = new Set(['Ingress', 'Service', 'IngressClass', 'TunnelIngressClassConfig']);

function isOperatorConfig(o: KObject): boolean {
  return o.kind === 'ConfigMap' && holdsOperatorConfig(o as ConfigMap);
}

function modelOf(objects: KObject[], clusterDomain: string | undefined): MeshModel {
  const snapshot = emptySnapshot('files');
  addObjects(snapshot, objects, (o) => formatRef({ kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }));
  return new MeshModel(snapshot, clusterDomain ? { clusterDomain } : {});
}

/**
 * The operator rewrites the rules of a TunnelIngressClassConfig's source in its config.json when
 * one of its Ingresses (or their Services, the class or the class config) changes: the rules
 * become what its chain resolves now. Other sources (TunnelBindings, routes) are left as they are.
 */
function repredictOperatorConfigs(objects: KObject[], changed: ObjectRef[], opts: { clusterDomain?: string }): KObject[] {
  const touched = changed.filter((r) => OPERATOR_INPUTS.has(r.kind));
  if (touched.length === 0 || !objects.some(isOperatorConfig)) return objects;
  const key = (r: ObjectRef) => refKey(r);
  const touchedKeys = new Set(touched.map(key));
  const model = modelOf(objects, opts.clusterDomain);
  const out = [...objects];
  const bySource = new Map<string, { tunnelIndex: number; source: ObjectRef; backends: typeof model.operator.backends }>();
  for (const b of model.operator.backends) {
    const ticc = b.classConfig?.config;
    const tunnel = b.coveringConfig;
    if (!ticc || !tunnel?.configMap || tunnel.layout !== 'operator-json' || b.unserved) continue;
    const at = out.indexOf(tunnel.configMap);
    if (at < 0) continue;
    const source = { kind: 'Ingress', namespace: ticc.metadata.namespace as string, name: ticc.metadata.name };
    const id = `${at}|${key(source)}`;
    const entry = bySource.get(id) ?? { tunnelIndex: at, source, backends: [] };
    entry.backends.push(b);
    bySource.set(id, entry);
  }
  for (const { tunnelIndex, source, backends } of bySource.values()) {
    const affected = backends.some(
      (b) =>
        touchedKeys.has(key({ kind: 'Ingress', namespace: b.namespace, name: b.ingress.metadata.name })) ||
        (b.service && touchedKeys.has(key({ kind: 'Service', namespace: b.service.namespace, name: b.service.name }))) ||
        (b.cls.ingressClass && touchedKeys.has(key({ kind: 'IngressClass', name: b.cls.ingressClass.metadata.name }))) ||
        touchedKeys.has(key({ kind: 'TunnelIngressClassConfig', namespace: source.namespace, name: source.name })),
    );
    if (!affected) continue;
    const cm = out[tunnelIndex] as KObject & { data: Record<string, string> };
    let json: { sources?: Record<string, { kind?: string; namespace?: string; name?: string; rules?: unknown[] }> };
    try {
      json = JSON.parse(cm.data['config.json'] as string);
    } catch {
      continue;
    }
    const sources = (json.sources ??= {});
    const entry = Object.values(sources).find((s) => s.kind === source.kind && s.namespace === source.namespace && s.name === source.name);
    const ordered = [...backends].sort((a, b) => cmp(a.host, b.host) || cmp(a.rulePath ?? '', b.rulePath ?? ''));
    const rules = ordered.map(operatorRule);
    if (entry) entry.rules = rules;
    else sources[`${source.kind}/${source.namespace}/${source.name}`] = { ...source, rules };
    const next = editable(cm) as typeof cm;
    next.data = { ...cm.data, 'config.json': JSON.stringify(json, null, 2) };
    out[tunnelIndex] = next;
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
