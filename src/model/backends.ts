// Backends as explain-protocol shows them: every tunnel rule (real or predicted) and every Ingress
// backend that no rule serves, with the facts the model already holds about each. No judgement
// here: verdicts come from the findings the rules produce.

import { effectiveOriginRequest, findMatchingRule, isCatchAll, matchHost, serviceKind } from './cloudflared.js';
import { resolveRuleTarget, ruleKey, type RuleTarget, type TunnelEdge } from './edges.js';
import type { KObject } from '../core/k8s.js';
import type { MeshModel } from './model.js';
import type { IngressBackendView } from './operator-view.js';
import type { WrittenRule } from './operator-sources.js';
import { onwardRoutes, type RouteEdge } from './routes.js';
import type { ServiceView } from './services.js';
import type { TunnelConfig, TunnelRule } from './tunnels.js';

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
  /** The judged edge, when the rule reaches a Service port. */
  edge?: TunnelEdge;
  /** When the edge ends at ingress gateway proxies: the VirtualService routes the request goes on through. */
  onward?: RouteEdge[];
}

function ofRule(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule): BackendView {
  const view: BackendView = { tunnel, rule, key: ruleKey(tunnel, rule), target: resolveRuleTarget(model, tunnel, rule) };
  if (rule.backend) view.ingress = rule.backend;
  if (rule.written) view.written = rule.written;
  const edge = model.tunnelEdges.find((e) => e.tunnel === tunnel && e.rule === rule);
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
    for (const rule of tunnel.rules) if (!rule.synthetic && !(rule.written?.rule && rule.written.rule !== rule)) out.push(ofRule(model, tunnel, rule));
  }
  for (const b of model.operator.backends) if (!b.rule) out.push({ ingress: b });
  for (const w of model.operator.written) if (!w.rule) out.push({ written: w });
  return out;
}

/**
 * What explain-protocol shows for an HTTPRoute: the tunnel rules it writes (the operator's
 * gateway controller), the tunnel backends whose request continues through it (an Istio
 * Gateway's Service), and, for an Istio route no tunnel rule reaches, its gateway hop alone.
 */
export function routeBackends(model: MeshModel, route: KObject): BackendView[] {
  const all = allBackends(model);
  const out = all.filter((v) => v.written?.writer === route || v.onward?.some((e) => e.route === route));
  const reached = new Set(out.flatMap((v) => v.onward ?? []));
  const alone = model.routeEdges.filter((e) => e.route === route && !reached.has(e));
  if (alone.length) out.push({ onward: alone });
  return out;
}

/** The Service a backend leads to (the rule's target, else the Ingress backend's). */
export function backendService(v: BackendView): { service?: ServiceView; namespace?: string; name?: string; port?: number } {
  const t = v.target;
  if (t && (t.kind === 'service' || t.kind === 'no-port')) return { service: t.service, namespace: t.service.namespace, name: t.service.name, ...(t.url.port !== undefined ? { port: t.url.port } : {}) };
  if (t && t.kind === 'no-service') return { namespace: t.address.namespace, name: t.address.name, ...(t.url.port !== undefined ? { port: t.url.port } : {}) };
  const b = v.ingress;
  if (b?.serviceName) return { ...(b.service ? { service: b.service } : {}), namespace: b.namespace, name: b.serviceName, port: b.port.port };
  const w = v.written?.serviceRef;
  if (w) return { ...(v.written?.svc ? { service: v.written.svc } : {}), namespace: w.namespace, name: w.name, ...(w.port !== undefined ? { port: w.port } : {}) };
  return {};
}

/**
 * A hostname or URL, matched like `cloudflared tunnel ingress rule`: in each config, the first rule
 * whose hostname and path regexp match. A match on a catch-all that only answers a status is no
 * backend. Ingress backends no rule serves are added when their host matches.
 */
export function backendsForUrl(model: MeshModel, host: string, path: string): BackendView[] {
  const out: BackendView[] = [];
  for (const tunnel of model.tunnels) {
    const rule = findMatchingRule(tunnel.rules, host, path);
    if (!rule || (isCatchAll(rule) && serviceKind(rule.service).kind === 'special')) continue;
    out.push(ofRule(model, tunnel, rule));
  }
  for (const b of model.operator.backends) {
    if (b.rule || !b.host || !matchHost(b.host, host)) continue;
    if (b.rulePath && !safeTest(b.rulePath, path)) continue;
    out.push({ ingress: b });
  }
  for (const w of model.operator.written) {
    if (w.rule || !w.hostname || !matchHost(w.hostname, host)) continue;
    if (w.path && !safeTest(w.path, path)) continue;
    out.push({ written: w });
  }
  return out;
}

function safeTest(pattern: string, path: string): boolean {
  try {
    return new RegExp(pattern).test(path);
  } catch {
    return false;
  }
}
