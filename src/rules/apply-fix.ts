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
import { bindingSourceRules, type WrittenRule } from '../model/operator-sources.js';
import type { TunnelConfig } from '../model/tunnels.js';
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
  /** Patches of objects that exist in the cluster but not in the input (pods were collected, their workload not): not judged. */
  outside: ObjectRef[];
}

/**
 * Applies one fix as kubectl would (its YAML per its apply mode, then its steps), and when it
 * changed what the Cloudflare operator reads, rewrites the operator's tunnel config as the
 * operator's next reconcile would.
 */
export function applyFix(objects: readonly KObject[], fix: Fix, opts: { clusterDomain?: string; repredict?: boolean } = {}): Applied {
  const mode = applyModeOf(fix);
  const out = [...objects];
  const changed: ObjectRef[] = [];
  const problems: string[] = [];
  const outside: ObjectRef[] = [];
  const indexOf = (ref: ObjectRef) => out.findIndex((o) => refKey(refOfDoc(o as unknown as Json)) === refKey(ref));
  if (mode === 'manual') return { objects: out, changed, problems: [`"${fix.title}" is not an object to apply`], outside };
  for (const doc of fixDocuments(fix)) {
    const ref = refOfDoc(doc);
    const at = indexOf(ref);
    const current = at >= 0 ? out[at] : undefined;
    if (!current && mode === 'merge-patch') {
      problems.push(`${formatRef(ref)}: kubectl patch fails, the object does not exist`);
      continue;
    }
    if (!current && mode === 'server-side' && isWorkloadFragment(doc)) {
      outside.push(ref);
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
  return { objects: opts.repredict === false ? out : repredictOperatorConfigs(out, changed, opts), changed, problems, outside };
}

/** A pod-template patch (no containers): applied to a workload that must already exist. */
function isWorkloadFragment(doc: Json): boolean {
  const spec = isPlain(doc.spec) ? doc.spec : {};
  const template = isPlain(spec.template) ? spec.template : isPlain(spec.jobTemplate) ? spec.jobTemplate : undefined;
  if (!template) return false;
  return !JSON.stringify(template).includes('"containers"');
}

/** Objects whose change the operator's ingress controller reconciles into its tunnel config. */
const OPERATOR_INPUTS = new Set(['Ingress', 'Service', 'IngressClass', 'TunnelIngressClassConfig']);
/** Objects whose change its TunnelBinding and gateway controllers reconcile into it. */
const WRITER_INPUTS = new Set(['TunnelBinding', 'HTTPRoute', 'Service', 'Gateway', 'GatewayClass', 'TunnelGatewayClassConfig', 'Tunnel', 'ClusterTunnel']);

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
  const viaWriters = changed.some((r) => WRITER_INPUTS.has(r.kind)) && objects.some(isOperatorConfig) ? repredictWriterSources(objects, changed, opts) : objects;
  if (touched.length === 0 || !viaWriters.some(isOperatorConfig)) return viaWriters;
  objects = viaWriters;
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

/**
 * A TunnelBinding reconcile rewrites its own source (`TunnelBinding/<ns>/<name>`: the rules of every
 * binding of its tunnel name, as they are now; its peers' sources keep their copies until they
 * reconcile); a Gateway reconcile rewrites its class config's source (`HTTPRoute/<ns>/<name>`).
 */
function repredictWriterSources(objects: KObject[], changed: ObjectRef[], opts: { clusterDomain?: string }): KObject[] {
  const touched = new Set(changed.map(refKey));
  const model = modelOf(objects, opts.clusterDomain);
  const out = [...objects];
  const hit = (ref: ObjectRef): boolean => touched.has(refKey(ref));
  const written = (w: WrittenRule): Json => ({
    ...(w.hostname ? { hostname: w.hostname } : {}),
    ...(w.path ? { path: w.path } : {}),
    service: w.service,
    ...(w.originRequest ? { originRequest: w.originRequest } : {}),
    priority: w.priority,
  });
  const rewrite = (config: TunnelConfig | undefined, source: ObjectRef, rules: Json[]): void => {
    const cm = config?.configMap;
    if (!cm || config?.layout !== 'operator-json') return;
    const at = out.findIndex((o) => refKey(refOfDoc(o as unknown as Json)) === refKey(refOfDoc(cm as unknown as Json)));
    if (at < 0) return;
    const current = out[at] as KObject & { data: Record<string, string> };
    let json: { sources?: Record<string, { kind?: string; namespace?: string; name?: string; rules?: unknown[] }> };
    try {
      json = JSON.parse(current.data['config.json'] as string);
    } catch {
      return;
    }
    const sources = (json.sources ??= {});
    const entry = Object.values(sources).find((x) => x.kind === source.kind && x.namespace === source.namespace && x.name === source.name);
    if (entry) entry.rules = rules;
    else sources[`${source.kind}/${source.namespace}/${source.name}`] = { ...source, rules };
    const next = editable(current) as typeof current;
    next.data = { ...current.data, 'config.json': JSON.stringify(json, null, 2) };
    out[at] = next;
  };
  for (const b of model.operator.bindings) {
    if (b.unserved || b.flavour !== 'operator') continue;
    const mine = b.rules.filter((r) => !r.unserved);
    const affected = hit({ kind: 'TunnelBinding', namespace: b.namespace, name: b.binding.metadata.name }) || mine.some((r) => r.svc && hit({ kind: 'Service', namespace: r.svc.namespace, name: r.svc.name }));
    if (!affected) continue;
    const config = mine.find((r) => r.config && !r.config.predicted)?.config;
    rewrite(config, { kind: 'TunnelBinding', namespace: b.namespace, name: b.binding.metadata.name }, bindingSourceRules(b, model.operator.bindings).map(written));
  }
  for (const g of model.operator.gateways) {
    const c = g.chain.config;
    if (!c || g.chain.problem) continue;
    const affected =
      hit({ kind: 'Gateway', namespace: g.chain.namespace, name: g.chain.gateway.metadata.name }) ||
      hit({ kind: 'TunnelGatewayClassConfig', namespace: c.metadata.namespace as string, name: c.metadata.name }) ||
      g.rules.some((r) => hit({ kind: 'HTTPRoute', namespace: r.namespace, name: r.writer.metadata.name }) || (r.svc !== undefined && hit({ kind: 'Service', namespace: r.svc.namespace, name: r.svc.name })));
    if (!affected) continue;
    const config = g.rules.find((r) => r.config && !r.config.predicted)?.config;
    rewrite(config, { kind: 'HTTPRoute', namespace: c.metadata.namespace as string, name: c.metadata.name }, g.rules.map(written));
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ——— Composition: several fixes, one result per object ———

/** How list items are told apart when two edits of one list are merged (Istio port settings, containers, env, ports). */
const ITEM_KEYS: Array<(x: Json) => unknown> = [
  (x) => (isPlain(x.port) ? x.port.number : undefined),
  (x) => x.name,
  (x) => x.containerPort,
  (x) => (typeof x.port === 'number' ? x.port : undefined),
  // cloudflared ingress rules: hostname and path (the catch-all has neither).
  (x) => (typeof x.service === 'string' ? `${String(x.hostname ?? '')} ${String(x.path ?? '')}` : undefined),
];

function itemKey(lists: unknown[][]): ((x: Json) => unknown) | undefined {
  return ITEM_KEYS.find((key) =>
    lists.every((list) => {
      const keys = list.map((x) => (isPlain(x) ? key(x) : undefined));
      return keys.every((k) => typeof k === 'string' || typeof k === 'number') && new Set(keys).size === keys.length;
    }),
  );
}

/** A multi-line YAML mapping held in a string (not JSON: config.json is rewritten by its own fixes). */
function embeddedConfig(v: unknown): Json | undefined {
  if (typeof v !== 'string' || !v.includes('\n') || v.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = jsyaml.load(v);
    return isPlain(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export interface MergeConflict {
  field: string;
  ours: unknown;
  theirs: unknown;
}

/** Three-way merge of two edits of `base`; a field both change differently is a conflict (ours is kept). */
export function merge3(base: unknown, ours: unknown, theirs: unknown, field: string, conflicts: MergeConflict[]): unknown {
  if (deepEqual(ours, theirs)) return ours;
  if (deepEqual(ours, base)) return theirs;
  if (deepEqual(theirs, base)) return ours;
  const embedded = [base, ours, theirs].map(embeddedConfig);
  if (embedded[1] && embedded[2] && embedded[0]) {
    // Two edits of one config held in a string (a cloudflared config.yaml): merged as the document it is.
    const merged = merge3(embedded[0], embedded[1], embedded[2], field, conflicts);
    return jsyaml.dump(merged, { lineWidth: -1, noRefs: true });
  }
  if (isPlain(ours) && isPlain(theirs)) {
    const b = isPlain(base) ? base : {};
    const out: Json = {};
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
      const byKey = (list: unknown[]) => new Map(list.map((x) => [key(x as Json), x]));
      const [mb, mo, mt] = [byKey(b), byKey(ours), byKey(theirs)];
      const out: unknown[] = [];
      for (const k of [...new Set([...mo.keys(), ...mt.keys(), ...mb.keys()])]) {
        const v = merge3(mb.get(k), mo.get(k), mt.get(k), `${field}[${String(k)}]`, conflicts);
        if (v !== undefined) out.push(v);
      }
      return out;
    }
  }
  conflicts.push({ field, ours, theirs });
  return ours;
}

export interface ComposeInput<F> {
  finding: F;
  fix: Fix;
}

export interface ComposeConflict<F> {
  finding: F;
  fix: Fix;
  target: ObjectRef;
  field: string;
  value: unknown;
  keptValue: unknown;
  /** The earlier findings whose fixes set the kept value. */
  keptBy: F[];
}

export interface ComposedObject<F> {
  target: ObjectRef;
  /** The object before any fix (undefined: created by the fixes). */
  before?: KObject;
  /** The object after every fix that changed it (undefined: deleted). */
  after?: KObject;
  by: Array<ComposeInput<F>>;
}

export interface Composed<F> {
  objects: KObject[];
  changed: Array<ComposedObject<F>>;
  conflicts: Array<ComposeConflict<F>>;
  /** Findings an earlier fix already resolved (their own fix clashed with it and was not needed). */
  subsumed: Array<{ finding: F; by: F[] }>;
  /** Findings still there whose fix, recomputed after the fixes before it, proposes nothing to apply. */
  unfixed: F[];
  problems: string[];
}

/** New policies that Istio would merge or ignore when two exist: one DestinationRule per host, one workload PeerAuthentication per selector, in a namespace. */
function policyIdentity(o: KObject): string | undefined {
  const spec = (o as { spec?: Json }).spec ?? {};
  if (o.kind === 'DestinationRule' && typeof spec.host === 'string' && !spec.workloadSelector) return `DR ${o.metadata.namespace} ${spec.host} ${JSON.stringify(spec.exportTo ?? null)}`;
  if (o.kind === 'PeerAuthentication' && isPlain(spec.selector)) return `PA ${o.metadata.namespace} ${JSON.stringify(spec.selector)}`;
  return undefined;
}

/**
 * Every fix applied to the same starting objects, their edits merged object by object. A fix
 * whose edit clashes with an earlier one is judged again on the state so far: when its finding is
 * gone it was not needed; else its recommended fix in that state is merged if it changes nothing an
 * earlier fix changed; else the conflict is reported and the earlier edit kept.
 */
export function composeFixes<F extends { code: string; resource: ObjectRef; port?: number }>(
  original: readonly KObject[],
  inputs: ReadonlyArray<ComposeInput<F>>,
  opts: { clusterDomain?: string; rejudge?: (objects: KObject[]) => Array<F & { fixes: Fix[]; severity?: string }>; before?: ReadonlyArray<F & { severity?: string }> } = {},
): Composed<F> {
  const fast = composeMerged(original, inputs, opts);
  if (!opts.rejudge || !opts.before) return fast;
  // Fixes can interact without touching one field (a rename that stops capturing a port, a new Service
  // that would expose it): when the merged result brings a new error or warning, the fixes are applied
  // one after the other instead, each recomputed on the result of the ones before, as a user re-running
  // tunnelmesh after each would get them.
  const introduced = newSerious(opts.before, opts.rejudge(fast.objects));
  if (introduced.length === 0) return fast;
  const sequential = composeSequential(original, inputs, opts.rejudge, opts);
  return newSerious(opts.before, opts.rejudge(sequential.objects)).length < introduced.length ? sequential : fast;
}

function findingId(f: { code: string; resource: ObjectRef; port?: number }): string {
  return `${f.code} ${refKey(f.resource)}:${f.port ?? ''}`;
}

function newSerious<F extends { code: string; resource: ObjectRef; port?: number; severity?: string }>(before: readonly F[], after: readonly F[]): F[] {
  const had = new Map<string, number>();
  for (const f of before) had.set(findingId(f), (had.get(findingId(f)) ?? 0) + 1);
  return after.filter((f) => {
    if (f.severity !== 'error' && f.severity !== 'warning') return false;
    const n = had.get(findingId(f)) ?? 0;
    if (n > 0) {
      had.set(findingId(f), n - 1);
      return false;
    }
    return true;
  });
}

/** Each finding's fix taken on the result of the fixes before it (its finding judged again there). */
function composeSequential<F extends { code: string; resource: ObjectRef; port?: number }>(
  original: readonly KObject[],
  inputs: ReadonlyArray<ComposeInput<F>>,
  rejudge: (objects: KObject[]) => Array<F & { fixes: Fix[] }>,
  opts: { clusterDomain?: string },
): Composed<F> {
  let state = [...original];
  const out: Composed<F> = { objects: [], changed: [], conflicts: [], subsumed: [], unfixed: [], problems: [] };
  const byKey = new Map<string, KObject>(original.map((o) => [refKey(refOfDoc(o as unknown as Json)), o]));
  const changed = new Map<string, ComposedObject<F>>();
  const done: F[] = [];
  for (const input of inputs) {
    const now = rejudge(state).find((f) => findingId(f) === findingId(input.finding));
    if (!now) {
      if (done.length) out.subsumed.push({ finding: input.finding, by: [...done] });
      continue;
    }
    const fix = now.fixes[0];
    if (!fix || fix.apply === 'manual') {
      out.unfixed.push(input.finding);
      continue;
    }
    const applied = applyFix(state, fix, opts);
    out.problems.push(...applied.problems);
    state = applied.objects;
    done.push(input.finding);
    for (const ref of applied.changed) {
      const key = refKey(ref);
      const after = state.find((o) => refKey(refOfDoc(o as unknown as Json)) === key);
      const entry = changed.get(key) ?? { target: ref, ...(byKey.has(key) ? { before: byKey.get(key) } : {}), by: [] };
      if (after) entry.after = after;
      else delete entry.after;
      entry.by.push({ finding: input.finding, fix });
      changed.set(key, entry);
    }
  }
  out.objects = state;
  out.changed = [...changed.values()];
  return out;
}

function composeMerged<F extends { code: string; resource: ObjectRef; port?: number }>(
  original: readonly KObject[],
  inputs: ReadonlyArray<ComposeInput<F>>,
  opts: { clusterDomain?: string; rejudge?: (objects: KObject[]) => Array<F & { fixes: Fix[] }> },
): Composed<F> {
  const byKey = new Map<string, KObject>(original.map((o) => [refKey(refOfDoc(o as unknown as Json)), o]));
  const state = new Map<string, KObject | undefined>(byKey);
  const changed = new Map<string, ComposedObject<F>>();
  const created = new Map<string, string>(); // policy identity → key of the object created for it
  const out: Composed<F> = { objects: [], changed: [], conflicts: [], subsumed: [], unfixed: [], problems: [] };
  const current = () => [...state.values()].filter((o): o is KObject => o !== undefined);

  const tryMerge = (input: ComposeInput<F>, from: readonly KObject[], base: (key: string) => KObject | undefined): { ok: true; edits: Map<string, KObject | undefined> } | { ok: false; conflict: Omit<ComposeConflict<F>, 'keptBy'>; key: string } => {
    const applied = applyFix(from, input.fix, { ...opts, repredict: false });
    out.problems.push(...applied.problems);
    const after = new Map(applied.objects.map((o) => [refKey(refOfDoc(o as unknown as Json)), o]));
    const edits = new Map<string, KObject | undefined>();
    for (const ref of applied.changed) {
      let key = refKey(ref);
      let theirs = after.get(key);
      const identity = theirs && !byKey.has(key) ? policyIdentity(theirs) : undefined;
      const twin = identity ? created.get(identity) : undefined;
      if (twin && twin !== key && theirs) {
        // A second new policy for the same host or pods becomes part of the first.
        const name = state.get(twin)?.metadata.name ?? theirs.metadata.name;
        theirs = { ...theirs, metadata: { ...theirs.metadata, name } } as KObject;
        key = twin;
      }
      const conflicts: MergeConflict[] = [];
      const ours = state.get(key);
      const merged = merge3(base(key), ours, theirs, '', conflicts) as KObject | undefined;
      const clash = conflicts[0];
      if (clash) return { ok: false, key, conflict: { finding: input.finding, fix: input.fix, target: ref, field: clash.field || '(the whole object)', value: clash.theirs, keptValue: clash.ours } };
      edits.set(key, merged);
      if (identity && !twin) created.set(identity, key);
    }
    return { ok: true, edits };
  };

  const commit = (input: ComposeInput<F>, edits: Map<string, KObject | undefined>) => {
    for (const [key, obj] of edits) {
      state.set(key, obj);
      const entry = changed.get(key) ?? { target: refOfDoc((obj ?? byKey.get(key)) as unknown as Json), ...(byKey.has(key) ? { before: byKey.get(key) } : {}), by: [] };
      if (obj) entry.after = obj;
      else delete entry.after;
      if (!entry.by.includes(input)) entry.by.push(input);
      changed.set(key, entry);
    }
  };

  for (const input of inputs) {
    const first = tryMerge(input, original, (key) => byKey.get(key));
    if (first.ok) {
      commit(input, first.edits);
      continue;
    }
    const keptBy = changed.get(first.key)?.by.map((b) => b.finding) ?? [];
    const again = opts.rejudge?.(current());
    const same = (f: F) => f.code === input.finding.code && refKey(f.resource) === refKey(input.finding.resource) && f.port === input.finding.port;
    const still = again?.find(same);
    if (again && !still) {
      out.subsumed.push({ finding: input.finding, by: keptBy });
      continue;
    }
    const next = still?.fixes[0];
    if (next && next.apply !== 'manual') {
      // Recomputed on the state so far, merged three-way against the original: a field it changes that an
      // earlier fix also changed, to another value, is a real conflict.
      const second = tryMerge({ finding: input.finding, fix: next }, current(), (key) => byKey.get(key));
      if (second.ok) {
        commit(input, second.edits);
        continue;
      }
    }
    out.conflicts.push({ ...first.conflict, keptBy });
  }
  const objects = current();
  const refs = [...changed.values()].map((c) => c.target);
  out.objects = repredictOperatorConfigs(objects, refs, opts);
  out.changed = [...changed.values()];
  return out;
}
