// Backends: every tunnel rule (real or predicted) and every Ingress backend that no rule serves,
// with the facts the model holds about each — the judged edge, the routes after an ingress
// gateway, and what evidence is missing. No verdict here: verdicts come from the findings
// (src/rules/judge.ts), and every view reads them from there.

import type { Ingress, KObject } from '../core/k8s.js';
import { effectiveOriginRequest, findMatchingRule, isCatchAll, matchHost, pathMatches, serviceKind } from './cloudflared.js';
import { decodeRequestPath } from './gourl.js';
import { resolveRuleTarget, ruleKey, type RuleTarget, type TunnelEdge } from './edges.js';
import type { MeshModel } from './model.js';
import { describePod } from './pods.js';
import { onwardRoutes, type RouteEdge } from './routes.js';
import type { EndpointVerdict } from './traffic.js';
import type { ServiceView } from './services.js';
import type { IngressBackendView, TunnelConfig, TunnelRule } from './tunnels.js';
import type { WrittenRule } from './operator-sources.js';

export interface BackendView {
  /** The tunnel rule that serves it (undefined: no rule does). */
  tunnel?: TunnelConfig;
  rule?: TunnelRule;
  /** `ruleKey` of the rule, for attaching findings. */
  key?: string;
  /** The Ingress backend the operator builds the rule from, when there is one. */
  ingress?: IngressBackendView;
  /** The TunnelBinding subject or HTTPRoute backend the operator builds the rule from, when there is one. */
  written?: WrittenRule;
  target?: RuleTarget;
  /** The judged edge, when the rule reaches a Service port and its endpoints are known. */
  edge?: TunnelEdge;
  /** When the edge ends at ingress gateway proxies: the VirtualService routes the request goes on through. */
  onward?: RouteEdge[];
  /** Why the rule's edge was not built (its Service or Pods were not all seen). */
  gap?: string;
  /** An Ingress backend no rule was written for, whose host a collected config serves anyway (`ConfigMap ns/name rule #N`): those rules are its edges. */
  servedBy?: string[];
}

/** Lookups a backend needs that are built once per model. */
interface BackendIndex {
  edges: Map<string, TunnelEdge>;
  gaps: Map<string, string>;
}

const indexes = new WeakMap<MeshModel, BackendIndex>();

function indexOf(model: MeshModel): BackendIndex {
  let index = indexes.get(model);
  if (!index) {
    index = { edges: new Map(model.tunnelEdges.map((e) => [ruleKey(e.tunnel, e.rule), e])), gaps: new Map() };
    for (const g of model.edgeGaps) if (!index.gaps.has(g.key)) index.gaps.set(g.key, g.text);
    indexes.set(model, index);
  }
  return index;
}

function ofRule(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule): BackendView {
  const key = ruleKey(tunnel, rule);
  const view: BackendView = { tunnel, rule, key, target: resolveRuleTarget(model, tunnel, rule) };
  if (rule.backend) view.ingress = rule.backend;
  if (rule.written) view.written = rule.written;
  const index = indexOf(model);
  const gap = index.gaps.get(key);
  if (gap) view.gap = gap;
  const edge = index.edges.get(key);
  if (edge) {
    view.edge = edge;
    const proxies = new Set(edge.clients.flatMap((c) => c.endpoints.map((ep) => ep.pod)).filter((p) => p.sidecar.kind === 'gateway'));
    // cloudflared sends the visitor's Host unless httpHostHeader rewrites it; a wildcard hostname may be any host.
    const rewritten = effectiveOriginRequest(rule, tunnel.originRequest).settings.httpHostHeader;
    const host = typeof rewritten === 'string' && rewritten ? rewritten : rule.hostname?.includes('*') ? undefined : rule.hostname;
    const onward = onwardRoutes(model.routeEdges, proxies, host);
    if (onward.length) view.onward = onward;
  }
  return view;
}

/** Every rule of every config (the operator's own catch-all excepted), then the Ingress backends no rule serves. */
export function allBackends(model: MeshModel): BackendView[] {
  const out: BackendView[] = [];
  for (const tunnel of model.tunnels) {
    // The operator repeats a TunnelBinding's rules under every binding of its tunnel: its first copy stands for them.
    for (const rule of tunnel.rules) if (!rule.synthetic && !(rule.written?.rule && rule.written.rule !== rule)) out.push(ofRule(model, tunnel, rule));
  }
  for (const b of model.operator.backends) {
    if (b.rule) continue;
    const view: BackendView = { ingress: b };
    const served = servingRules(model, b);
    if (served.length) view.servedBy = served.map(({ tunnel, rule }) => `${tunnel.label} rule #${rule.index}`);
    out.push(view);
  }
  for (const w of model.operator.written) if (!w.rule) out.push({ written: w });
  return out;
}

/**
 * What explain-protocol shows for a TunnelBinding or an HTTPRoute: the tunnel rules it writes
 * (or would, with why not), the tunnel backends whose request continues through it (an Istio
 * Gateway's Service), and, for an Istio route no tunnel rule reaches, its gateway hop alone.
 */
export function writerBackends<T extends { view: BackendView }>(backends: readonly T[], writer: KObject, routeEdges: readonly RouteEdge[]): { selected: T[]; alone: RouteEdge[] } {
  const selected = backends.filter((x) => x.view.written?.writer === writer || x.view.onward?.some((e) => e.route === writer));
  const reached = new Set(selected.flatMap((x) => x.view.onward ?? []));
  return { selected, alone: routeEdges.filter((e) => e.route === writer && !reached.has(e)) };
}

/** The rules of the collected (not predicted) configs that serve an Ingress backend's host and path, as cloudflared matches. */
function servingRules(model: MeshModel, b: IngressBackendView): Array<{ tunnel: TunnelConfig; rule: TunnelRule }> {
  const out: Array<{ tunnel: TunnelConfig; rule: TunnelRule }> = [];
  if (!b.host) return out;
  for (const tunnel of model.tunnels) {
    if (tunnel.predicted) continue;
    const rule = servingRule(tunnel, b.host, requestPathOf(b));
    if (rule) out.push({ tunnel, rule });
  }
  return out;
}

/** A request the Ingress path stands for: cloudflared matches rules against request paths. */
function requestPathOf(b: IngressBackendView): string {
  return b.path && b.path.startsWith('/') ? b.path : '/';
}

/** The first rule of a config that serves host and path, unless only a status-answering catch-all does. */
function servingRule(tunnel: TunnelConfig, host: string, path: string): TunnelRule | undefined {
  const rule = findMatchingRule(tunnel.rules, host, path);
  if (!rule || (isCatchAll(rule) && serviceKind(rule.service, rule.originRequest, tunnel.originRequest).kind === 'special')) return undefined;
  return rule;
}

/** One of the backends a target selects, with the Ingress it is shown for. */
export interface Selected<T> {
  backend: T;
  /** Shown for this Ingress backend (its chain, class and drift), when the target is an Ingress. */
  ingress?: IngressBackendView;
  /**
   * The rule serves the Ingress's host from a config the operator's linkage (IngressClass →
   * TunnelIngressClassConfig → tunnel) does not name for it: what cloudflared really does.
   */
  servesHostOf?: string;
}

function ruleIndex<T extends { view: BackendView }>(backends: readonly T[]): Map<TunnelRule, T> {
  const out = new Map<TunnelRule, T>();
  for (const b of backends) if (b.view.rule) out.set(b.view.rule, b);
  return out;
}

/**
 * An Ingress's backends as cloudflared serves them: for each (host, path), the rule of every
 * collected tunnel config that matches it the way cloudflared matches a request, and the rule the
 * operator's linkage writes for it (real, or predicted when no config of its tunnel was
 * collected). A backend served by nothing is listed on its own, with why.
 */
export function selectForIngress<T extends { view: BackendView }>(model: MeshModel, backends: readonly T[], ingress: Ingress): Array<Selected<T>> {
  const byRule = ruleIndex(backends);
  const out: Array<Selected<T>> = [];
  for (const b of model.operator.backends) {
    if (b.ingress !== ingress) continue;
    const picked: Array<Selected<T>> = [];
    const add = (rule: TunnelRule | undefined): void => {
      const backend = rule && byRule.get(rule);
      if (!backend || picked.some((x) => x.backend === backend)) return;
      const entry: Selected<T> = { backend, ingress: b };
      if (rule.backend !== b) entry.servesHostOf = `cloudflared serves ${b.host}${b.path ? ` ${b.path}` : ''} of ${b.label} with this rule${rule.backend ? ` (written for ${rule.backend.label})` : ''}`;
      picked.push(entry);
    };
    for (const { rule } of servingRules(model, b)) add(rule);
    add(b.rule);
    if (picked.length === 0) {
      const alone = backends.find((x) => x.view.ingress === b && !x.view.rule);
      if (alone) picked.push({ backend: alone, ingress: b });
    }
    out.push(...picked);
  }
  return out;
}

/**
 * A hostname or URL, matched like `cloudflared tunnel ingress rule`: in each config, the first rule
 * whose hostname and path regexp match. A match on a catch-all that only answers a status is no
 * backend. Ingress backends no rule serves are added when their host matches.
 */
export function selectForUrl<T extends { view: BackendView }>(model: MeshModel, backends: readonly T[], host: string, rawPath: string): Array<Selected<T>> {
  // cloudflared matches req.URL.Path, which Go has percent-decoded.
  const path = decodeRequestPath(rawPath);
  const byRule = ruleIndex(backends);
  const out: Array<Selected<T>> = [];
  for (const tunnel of model.tunnels) {
    const rule = servingRule(tunnel, host, path);
    const backend = rule && byRule.get(rule);
    if (backend) out.push({ backend });
  }
  for (const x of backends) {
    const b = x.view.ingress;
    const w = x.view.written;
    if (x.view.rule) continue;
    if (b?.host && matchHost(b.host, host) && pathMatches(b.rulePath, path)) out.push({ backend: x });
    else if (w?.hostname && matchHost(w.hostname, host) && pathMatches(w.path, path)) out.push({ backend: x });
  }
  return out;
}

/** The Service a backend leads to (the rule's target, else the Ingress backend's). */
export function backendService(v: BackendView): { service?: ServiceView; namespace?: string; name?: string; port?: number } {
  const t = v.target;
  if (t && (t.kind === 'service' || t.kind === 'no-port')) return { service: t.service, namespace: t.service.namespace, name: t.service.name, ...(t.url.port !== undefined ? { port: t.url.port } : {}) };
  if (t && (t.kind === 'no-service' || t.kind === 'unseen')) return { namespace: t.address.namespace, name: t.address.name, ...(t.url.port !== undefined ? { port: t.url.port } : {}) };
  const b = v.ingress;
  if (b?.serviceName) return { ...(b.service ? { service: b.service } : {}), namespace: b.namespace, name: b.serviceName, port: b.port.port };
  const w = v.written?.serviceRef;
  if (w) return { ...(v.written?.svc ? { service: v.written.svc } : {}), namespace: w.namespace, name: w.name, ...(w.port !== undefined ? { port: w.port } : {}) };
  return {};
}

/**
 * What evidence a backend's verdict lacks: empty when everything it needs was seen. The notes of
 * `doctor` and the `missing` of `explain-protocol` are both this list.
 */
export function backendGaps(v: BackendView): string[] {
  const out: string[] = [];
  const b = v.ingress;
  const w = v.written;
  if (!v.rule && !b && !w && v.onward) {
    // An Istio gateway's route that no tunnel rule in the input reaches: its hop alone.
    for (const r of v.onward) out.push(...routeGaps(r).map((g) => `after the gateway, ${g}`));
    if (v.onward.every((r) => r.clients.length === 0)) out.push('the gateway proxy is not known');
    return [...new Set(out)];
  }
  if (!v.rule) {
    const unserved = b?.unserved ?? w?.unserved;
    const drift = b?.drift ?? w?.drift ?? [];
    if (unserved) out.push(`no tunnel rule: ${unserved}`);
    else if (drift.length) out.push(`no tunnel rule: ${drift.join('; ')}`);
    else out.push('no tunnel rule serves it');
    return out;
  }
  if (w?.hostnameAssumed) out.push(w.hostnameAssumed);
  const t = v.target;
  if (t?.kind === 'external') out.push(`the rule's service ${v.rule.service} is outside the cluster: not judged`);
  else if (t?.kind === 'special') out.push(`the rule's service ${v.rule.service} is answered by cloudflared itself`);
  else if (t?.kind === 'unparsable') out.push(`the rule's service ${v.rule.service || '(empty)'} cannot be parsed: not judged`);
  else if (t?.kind === 'no-service') out.push(`Service ${t.address.namespace}/${t.address.name} is not in the input (no Service of namespace ${t.address.namespace} was collected)`);
  if (v.gap) out.push(v.gap);
  if (v.tunnel && v.tunnel.connectors.length === 0) out.push(`${v.tunnel.connectorEvidence}: what its cloudflared sends is unknown`);
  const e = v.edge;
  if (e) {
    const endpoints = e.clients.flatMap((c) => c.endpoints);
    if (e.clients.length > 0 && endpoints.length === 0) out.push(`no pod or workload in the input is selected by Service ${e.service.namespace}/${e.service.name}`);
    out.push(...unknownEndpoints(endpoints));
  }
  for (const r of v.onward ?? []) out.push(...routeGaps(r).map((g) => `after the gateway, ${g}`));
  return [...new Set(out)];
}

/** What a gateway route's verdict lacks. */
export function routeGaps(r: RouteEdge): string[] {
  return unknownEndpoints(r.clients.flatMap((c) => c.endpoints));
}

/** Endpoints judged unknown, one line per reason with the pods it holds for (a few named, in name order). */
function unknownEndpoints(endpoints: readonly EndpointVerdict[]): string[] {
  const byWhy = new Map<string, Set<string>>();
  for (const ep of endpoints) {
    if (ep.outcome !== 'unknown') continue;
    const pods = byWhy.get(ep.why) ?? new Set<string>();
    pods.add(describePod(ep.pod));
    byWhy.set(ep.why, pods);
  }
  return [...byWhy.entries()].map(([why, set]) => {
    const pods = [...set].sort();
    return `${why} (${pods.slice(0, 3).join(', ')}${pods.length > 3 ? ` and ${pods.length - 3} more` : ''})`;
  });
}
