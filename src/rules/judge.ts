// One pipeline from a Snapshot to verdicts: model → rules → policy → per-edge verdicts → notes.
// doctor, explain-protocol, snapshot replay, the rule docs, the rule tester and the corpus tests
// all call `judge`; views only read what it returns, so one edge gets one verdict wherever it
// is asked about.

import type { IncompleteEntry, Snapshot } from '../core/snapshot.js';
import { unknownNamespaceMessage } from '../core/names.js';
import { UsageError } from '../errors.js';
import { allBackends, backendGaps, backendService, routeGaps, type BackendView } from '../model/backends.js';
import { MeshModel, type ModelOptions } from '../model/model.js';
import { routeKey, type RouteEdge } from '../model/routes.js';
import { comparisonNotes, envoyComparisons, type EnvoyComparison } from './envoy-agreement.js';
import { RULES } from './index.js';
import { runRules, type FailOn, failsAt } from './run.js';
import { applyPolicy, EMPTY_POLICY, type Policy, type SuppressedFinding } from './suppress.js';
import type { Finding, Rule } from './types.js';

export type Verdict = 'ok' | 'broken' | 'unknown';

export interface JudgeOptions extends ModelOptions {
  /** `-n`: findings, notes and edge counts about this namespace; the evidence is all of the snapshot. */
  namespace?: string;
  policy?: Policy;
  /** The rules to run (default: the whole catalogue). */
  rules?: readonly Rule[];
}

/** The verdict of one edge, and what it rests on. */
interface EdgeVerdict {
  /** Active findings about the edge (after suppression and severity overrides). */
  findings: Finding[];
  /** Findings about the edge that a suppression set aside (still shown, never judged for the exit code). */
  suppressed: SuppressedFinding[];
  /** broken: an error-severity finding applies (as the rule rates it, whatever the policy says); unknown: evidence is missing. */
  verdict: Verdict;
  /** The evidence the verdict lacks (empty when everything was seen, or when it is broken anyway). */
  missing: string[];
  /** Namespace of the Service the edge reaches (what `-n` scopes to). */
  namespace?: string;
  /** Counts as an edge into the cluster (a rule to a Service here, or one that may be: an Ingress whose controller is unknown). */
  isEdge: boolean;
  /** With Envoy config dumps in the input: the comparisons of this edge (and the gateway routes after it) with them. */
  envoy?: EnvoyComparison[];
}

export interface JudgedBackend extends EdgeVerdict {
  view: BackendView;
}

export interface JudgedRoute extends EdgeVerdict {
  route: RouteEdge;
  key: string;
}

export interface JudgeScope {
  /** `-n`, or undefined for every namespace. */
  namespace?: string;
  /** Edges into the cluster in scope: tunnel rules to Services, and gateway routes. */
  edges: number;
  judged: number;
  /** Edges whose verdict needs evidence that was not seen. */
  unjudged: number;
}

export interface Judgement {
  snapshot: Snapshot;
  model: MeshModel;
  /** What the report shows and the exit code judges (in scope, after policy), in contract order. */
  findings: Finding[];
  /** In scope, set aside by a suppression. */
  suppressed: SuppressedFinding[];
  /** Every finding of the run before scoping and policy (views of one edge look here for what concerns it). */
  all: Finding[];
  /** Unknown codes, suppressions that matched nothing. */
  policyWarnings: string[];
  /** Every tunnel rule and unserved Ingress backend, judged. */
  backends: JudgedBackend[];
  /** Every gateway route edge, judged. */
  routes: JudgedRoute[];
  /** What the report says about what was assumed or could not be judged (in scope). */
  notes: string[];
  /** Lists that could not be collected (groups not installed are not incomplete: none of those exist). */
  incomplete: IncompleteEntry[];
  scope: JudgeScope;
}

type ServiceOf = ReturnType<typeof backendService>;

/** A finding is about a backend when it names its rule, or (rules that name no rules) its Service port or Ingress. */
function concernsBackend(f: Finding, v: BackendView, svc: ServiceOf): boolean {
  if (v.key && f.edges?.includes(v.key)) return true;
  // The hop after an ingress gateway is part of this backend's path.
  if (v.onward?.some((r) => f.edges?.includes(routeKey(r)))) return true;
  if (f.edges === undefined && f.resource.kind === 'Service' && f.resource.namespace === svc.namespace && f.resource.name === svc.name && (f.port === undefined || f.port === svc.port)) return true;
  const b = v.ingress;
  if (b && f.resource.kind === 'Ingress' && f.resource.namespace === b.namespace && f.resource.name === b.ingress.metadata.name) {
    return (f.port === undefined || f.port === b.port.port) && (!f.edges?.length || !v.key);
  }
  // A TunnelBinding subject or HTTPRoute backend: findings on the object that writes its rule.
  const w = v.written;
  if (w && f.resource.kind === w.writerKind && f.resource.namespace === w.namespace && f.resource.name === w.writer.metadata.name) {
    return (f.port === undefined || f.port === w.serviceRef?.port) && (!f.edges?.length || !v.key);
  }
  return false;
}

/**
 * Findings bucketed by what can make them concern an edge (the edges they name, the Service or
 * Ingress they are on), so each of thousands of edges looks at a few candidates, not all.
 */
class FindingIndex<T> {
  private readonly buckets = new Map<string, number[]>();

  constructor(
    readonly items: readonly T[],
    finding: (item: T) => Finding,
  ) {
    items.forEach((item, i) => {
      const f = finding(item);
      for (const key of f.edges ?? []) this.add(`edge\u0000${key}`, i);
      if (BUCKETED.has(f.resource.kind)) this.add(`${f.resource.kind}\u0000${f.resource.namespace ?? ''}/${f.resource.name}`, i);
    });
  }

  private add(key: string, i: number): void {
    const list = this.buckets.get(key);
    if (list) list.push(i);
    else this.buckets.set(key, [i]);
  }

  /** The items in any of these buckets, in their original order. */
  candidates(keys: string[]): T[] {
    const at = new Set<number>();
    for (const k of keys) for (const i of this.buckets.get(k) ?? []) at.add(i);
    return [...at].sort((a, b) => a - b).map((i) => this.items[i] as T);
  }
}

function edgeBucket(key: string): string {
  return `edge\u0000${key}`;
}

/** Kinds a finding's resource may be that make it concern an edge without naming it (the Service, or the object writing the rule). */
const BUCKETED = new Set(['Service', 'Ingress', 'TunnelBinding', 'HTTPRoute']);

function refBucket(kind: 'Service' | 'Ingress' | 'TunnelBinding' | 'HTTPRoute', namespace: string | undefined, name: string | undefined): string {
  return `${kind}\u0000${namespace ?? ''}/${name ?? ''}`;
}

function concernsRoute(f: Finding, r: RouteEdge, key: string): boolean {
  if (f.edges?.includes(key)) return true;
  return f.edges === undefined && f.resource.kind === 'Service' && f.resource.namespace === r.service.namespace && f.resource.name === r.service.name && (f.port === undefined || f.port === r.servicePort.port);
}

/** Is a backend an edge into the cluster: does (or may) cloudflared reach a Service here through it? */
function isClusterEdge(v: BackendView): boolean {
  const kind = v.target?.kind;
  if (kind) return kind === 'service' || kind === 'no-port' || kind === 'no-service' || kind === 'unseen';
  // An Ingress backend without a rule may still become one (its controller is unknown) — unless
  // cloudflared already serves its host with a collected rule, which is then the edge judged.
  return v.ingress?.cls.ours === 'unknown' && !v.servedBy?.length;
}

function verdictOf(related: Finding[], gaps: string[]): Pick<EdgeVerdict, 'verdict' | 'missing'> {
  if (related.some((f) => f.severity === 'error')) return { verdict: 'broken', missing: [] };
  return gaps.length ? { verdict: 'unknown', missing: gaps } : { verdict: 'ok', missing: [] };
}

/** Findings before policy, and the same findings after it, so one predicate selects both. */
interface Policed {
  raw: FindingIndex<Finding>;
  active: FindingIndex<Finding>;
  suppressed: FindingIndex<SuppressedFinding>;
}

function related(p: Policed, keys: string[], concerns: (f: Finding) => boolean): Pick<EdgeVerdict, 'findings' | 'suppressed'> & { raw: Finding[] } {
  return {
    raw: p.raw.candidates(keys).filter(concerns),
    findings: p.active.candidates(keys).filter(concerns),
    suppressed: p.suppressed.candidates(keys).filter((s) => concerns(s.finding)),
  };
}

function inScope(namespace: string | undefined, ...namespaces: Array<string | undefined>): boolean {
  return namespace === undefined || namespaces.includes(namespace);
}

/**
 * Offline, `-n NS` must name a namespace the input holds; live, the collector asks the API server.
 * A typo would otherwise judge nothing and pass.
 */
export function checkNamespaceInInput(snapshot: Snapshot, namespace: string): void {
  if (snapshot.mode !== 'files' || snapshot.live) return;
  const present = new Set<string>();
  for (const o of snapshot.objects) {
    if (o.metadata.namespace) present.add(o.metadata.namespace);
    if (o.kind === 'Namespace') present.add(o.metadata.name);
  }
  if (present.has(namespace)) return;
  throw new UsageError(unknownNamespaceMessage(namespace, [...present], 'no object of the input is in it'));
}

/** A note about an edge not judged: the Service port first (what users look for), the reasons, then the rule. */
function unjudgedNote(v: BackendView, reasons: string[]): string {
  const svc = backendService(v);
  const rule = v.rule && v.tunnel ? `${v.tunnel.label} rule #${v.rule.index}${v.rule.hostname ? ` (${v.rule.hostname})` : ''}` : '';
  if (svc.namespace && svc.name) return `edge to ${svc.namespace}/${svc.name}${svc.port !== undefined ? `:${svc.port}` : ''} not judged: ${reasons.join('; ')}${rule ? ` — ${rule}` : ''}`;
  return `${rule} → ${v.rule?.service} not judged: ${reasons.join('; ')}`;
}

/** What the report says about what could not be judged, and why: one list for doctor's notes and explain's missing. */
function notesOf(model: MeshModel, backends: JudgedBackend[], routes: JudgedRoute[], scope: string | undefined): string[] {
  const notes: string[] = [...model.notes];
  const tunnelLevel = new Set<string>();
  for (const t of model.tunnels) {
    if (t.connectors.length === 0) {
      const text = `${t.connectorEvidence}: what its cloudflared sends is unknown`;
      tunnelLevel.add(text);
      if (backends.some((b) => b.view.tunnel === t && b.isEdge && inScope(scope, b.namespace))) notes.push(`${t.label}: ${t.connectorEvidence}; what its clients send cannot be judged`);
    }
    for (const p of t.problems) notes.push(`${t.label}: ${p}`);
  }
  for (const b of backends) {
    if (b.verdict !== 'unknown' || !inScope(scope, b.namespace)) continue;
    if (!b.isEdge && !b.view.ingress && !b.view.written) continue;
    const ib = b.view.ingress;
    const w = b.view.written;
    if (w && !b.view.rule) {
      // A TunnelBinding subject or HTTPRoute backend the operator writes no rule for (refused, unserved, not known).
      notes.push(`${w.label} ${w.hostname || '(no hostname)'}: ${b.missing.join('; ')}`);
      continue;
    }
    if (b.view.servedBy?.length && ib) {
      notes.push(`${ib.label} ${ib.host}: ${b.missing.join('; ')} — cloudflared serves the host anyway with ${b.view.servedBy.join(', ')}, judged as that rule`);
      continue;
    }
    const reasons = b.missing.filter((m) => !tunnelLevel.has(m));
    if (reasons.length === 0) continue;
    notes.push(b.view.rule ? unjudgedNote(b.view, reasons) : `${ib?.label ?? 'Ingress'} ${ib?.host || '(no host)'}: ${reasons.join('; ')}`);
  }
  for (const r of routes) {
    if (r.verdict !== 'unknown' || !inScope(scope, r.namespace)) continue;
    notes.push(`gateway route ${r.key} to ${r.route.service.namespace}/${r.route.service.name}:${r.route.servicePort.port} not judged: ${r.missing.join('; ')}`);
  }
  // Route edges that could not even be built (their Pods were not seen).
  const built = new Set(routes.map((r) => r.key));
  for (const g of model.edgeGaps) if (g.edge === 'gateway-route' && !built.has(g.key) && inScope(scope, g.namespace)) notes.push(g.text);
  // ConfigMaps that could not be listed may hold tunnel configs: say so rather than "none found".
  const configMapGaps = model.snapshot.incomplete.filter((e) => e.kind === 'ConfigMap' && e.name === undefined);
  for (const e of configMapGaps) {
    notes.push(`tunnel configs in ConfigMaps ${e.namespace ? `in ${e.namespace}` : e.labelSelector ? `labelled ${e.labelSelector}` : 'cluster-wide'} could not be listed (${e.reason}): tunnels there are not judged`);
  }
  // -n: hand-written connectors elsewhere are found by a cluster-wide search of workloads; when
  // RBAC forbids it, say where was searched and that a connector elsewhere would be missed.
  const search = model.snapshot.incomplete.filter((e) => e.filter !== undefined && e.namespace === undefined);
  if (search.length) {
    const searched = [...new Set((model.snapshot.listed ?? []).filter((l) => l.kind === 'Pod' && l.namespace !== undefined && l.labelSelector === undefined).map((l) => l.namespace as string))].sort();
    notes.push(
      `${search.map((e) => `${e.kind}s ${e.filter}`).join(', ')} could not be searched cluster-wide (${search[0]?.reason}): tunnels were looked for in ${searched.join(', ') || 'no namespace'} and by the operator's labels only; a hand-written cloudflared in another namespace would be missed (name it with --tunnel-namespace)`,
    );
  }
  if (model.tunnels.length === 0) {
    notes.push(`no tunnel config ${configMapGaps.length ? 'seen' : 'found'} (operator tunnel-config-<id> ConfigMaps, or ConfigMaps holding a cloudflared config with ingress:); only tunnel-independent rules ran`);
  }
  notes.push(...comparisonNotes(model));
  return [...new Set(notes)];
}

/** The Envoy comparisons of these edges, when dumps are in the input (undefined otherwise: nothing to say). */
function envoyOf(model: MeshModel, edges: ReadonlyArray<unknown>): EnvoyComparison[] | undefined {
  if (!model.proxyDumps.requested) return undefined;
  const wanted = new Set(edges.filter(Boolean));
  return envoyComparisons(model).filter((c) => wanted.has(c.edge));
}

export function judge(snapshot: Snapshot, opts: JudgeOptions = {}): Judgement {
  const { namespace, policy = EMPTY_POLICY, rules = RULES, ...modelOptions } = opts;
  if (namespace !== undefined) checkNamespaceInInput(snapshot, namespace);
  const model = new MeshModel(snapshot, modelOptions);
  const all = runRules(model, { rules });
  const policed = applyPolicy(all, policy, { objects: snapshot.objects, ...(namespace !== undefined ? { namespace } : {}) });
  const itself = (f: Finding): Finding => f;
  const p: Policed = { raw: new FindingIndex(all, itself), active: new FindingIndex(policed.findings, itself), suppressed: new FindingIndex(policed.suppressed, (s) => s.finding) };

  const backends: JudgedBackend[] = allBackends(model).map((view) => {
    const svc = backendService(view);
    const keys = [
      ...(view.key ? [edgeBucket(view.key)] : []),
      ...(view.onward ?? []).map((r) => edgeBucket(routeKey(r))),
      refBucket('Service', svc.namespace, svc.name),
      ...(view.ingress ? [refBucket('Ingress', view.ingress.namespace, view.ingress.ingress.metadata.name)] : []),
      ...(view.written ? [refBucket(view.written.writerKind, view.written.namespace, view.written.writer.metadata.name)] : []),
    ];
    const r = related(p, keys, (f) => concernsBackend(f, view, svc));
    const ns = svc.namespace ?? view.ingress?.namespace ?? view.written?.namespace;
    const envoy = envoyOf(model, [view.edge, ...(view.onward ?? [])]);
    return { view, findings: r.findings, suppressed: r.suppressed, ...verdictOf(r.raw, backendGaps(view)), ...(ns !== undefined ? { namespace: ns } : {}), isEdge: isClusterEdge(view), ...(envoy ? { envoy } : {}) };
  });
  const routes: JudgedRoute[] = model.routeEdges.map((route) => {
    const key = routeKey(route);
    const r = related(p, [edgeBucket(key), refBucket('Service', route.service.namespace, route.service.name)], (f) => concernsRoute(f, route, key));
    const envoy = envoyOf(model, [route]);
    return { route, key, findings: r.findings, suppressed: r.suppressed, ...verdictOf(r.raw, routeGaps(route)), namespace: route.service.namespace, isEdge: true, ...(envoy ? { envoy } : {}) };
  });

  const scoped = (f: Finding): boolean => namespace === undefined || f.resource.namespace === namespace || (f.namespaces?.includes(namespace) ?? false);
  const counted = [...backends, ...routes].filter((e) => e.isEdge && inScope(namespace, e.namespace));
  // Routes that could not be built (Pods unseen) are edges not judged too.
  const builtRoutes = new Set(routes.map((r) => r.key));
  const unbuiltRoutes = model.edgeGaps.filter((g) => g.edge === 'gateway-route' && !builtRoutes.has(g.key) && inScope(namespace, g.namespace)).length;
  const unjudged = counted.filter((e) => e.verdict === 'unknown').length + unbuiltRoutes;
  return {
    snapshot,
    model,
    findings: policed.findings.filter(scoped),
    suppressed: policed.suppressed.filter((s) => scoped(s.finding)),
    all,
    policyWarnings: policed.warnings,
    backends,
    routes,
    notes: notesOf(model, backends, routes, namespace),
    incomplete: snapshot.incomplete.filter((e) => e.reason !== 'not-installed'),
    scope: { ...(namespace !== undefined ? { namespace } : {}), edges: counted.length + unbuiltRoutes, judged: counted.length + unbuiltRoutes - unjudged, unjudged },
  };
}

/** `--fail-on-incomplete`: the run could not list a kind, or could not judge an edge. */
export function incompleteFails(j: Pick<Judgement, 'incomplete' | 'scope'>): boolean {
  return j.incomplete.length > 0 || j.scope.unjudged > 0;
}

export interface ExitPolicy {
  failOn: FailOn;
  failOnIncomplete?: boolean;
}

/** The exit code of a judgement (0 or 1), the same for every command and output format. */
export function exitCodeOf(findings: Finding[], j: Pick<Judgement, 'incomplete' | 'scope'>, exit: ExitPolicy): 0 | 1 {
  return failsAt(findings, exit.failOn) || (exit.failOnIncomplete === true && incompleteFails(j)) ? 1 : 0;
}

/** Why a judgement exits as it does, in words (`--verbose`). */
export function exitReason(findings: Finding[], j: Pick<Judgement, 'incomplete' | 'scope'>, exit: ExitPolicy): string {
  if (failsAt(findings, exit.failOn)) return `a finding is at or above --fail-on ${exit.failOn}`;
  if (exit.failOnIncomplete && incompleteFails(j)) return `not everything could be collected or judged (${j.incomplete.length} lists incomplete, ${j.scope.unjudged} edges not judged) and --fail-on-incomplete is set`;
  return `no finding is at or above --fail-on ${exit.failOn}`;
}
