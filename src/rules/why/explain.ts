// `tunnelmesh why '<log line>'`: the findings and edges that explain one log line. The line's
// symptom classes (why/symptoms.ts) say which rules judge situations that produce it; the names
// in it (why/names.ts), resolved against the model, say which Service ports, pods and edges it is
// about. Findings rank by symptom first, then by names. A line nothing in the input explains gets
// what would explain it, never an "all fine".

import type { ObjectRef } from '../../core/k8s.js';
import { selectForUrl } from '../../model/backends.js';
import { serviceOfHost } from '../../model/destinationrule.js';
import { ruleKey } from '../../model/edges.js';
import type { MeshModel } from '../../model/model.js';
import { describePod, workloadOf, type PodView } from '../../model/pods.js';
import { routeKey } from '../../model/routes.js';
import { describeSends, type EndpointVerdict } from '../../model/traffic.js';
import { isRouteEdge, pathLine, type PathEdge } from '../edge-hits.js';
import { ruleByCode } from '../index.js';
import { compareFindings } from '../run.js';
import type { Judgement } from '../judge.js';
import type { SuppressedBy } from '../suppress.js';
import type { Finding } from '../types.js';
import { extractNames, type LineName } from './names.js';
import { classifyLine, type SymptomMatch } from './symptoms.js';

export interface ResolvedName {
  text: string;
  kind: LineName['kind'];
  /** What it is in the input (`Service app/web:8080`, `tunnel rule #0 of …`), or undefined when nothing is. */
  resolved?: string;
}

/** What the names point at. */
interface Subjects {
  services: Set<string>;
  servicePorts: Set<string>;
  pods: Set<PodView>;
  edges: Set<string>;
  ports: Set<number>;
}

export interface Explanation {
  finding: Finding;
  suppressed?: SuppressedBy;
  score: number;
  /** Why it is listed: the symptom it explains, the names it shares with the line. */
  reasons: string[];
  matchesSymptom: boolean;
}

export interface EdgeRow {
  edge: PathEdge;
  key: string;
  client: string;
  endpoint: EndpointVerdict;
}

export interface WhyResult {
  line: string;
  symptoms: SymptomMatch[];
  names: ResolvedName[];
  explanations: Explanation[];
  edges: EdgeRow[];
  /** When nothing explains the line: what would, in words. */
  unexplained?: string;
}

function edgeKey(e: PathEdge): string {
  return isRouteEdge(e) ? routeKey(e) : ruleKey(e.tunnel, e.rule);
}

function spKey(ns: string, name: string, port: number): string {
  return `${ns}/${name}:${port}`;
}

const MAX_WORDS = 200;

function resolve(j: Judgement, names: LineName[]): { subjects: Subjects; resolved: ResolvedName[] } {
  const model = j.model;
  const subjects: Subjects = { services: new Set(), servicePorts: new Set(), pods: new Set(), edges: new Set(), ports: new Set() };
  const resolved: ResolvedName[] = [];
  const edges: PathEdge[] = [...model.tunnelEdges, ...model.routeEdges];
  const addService = (ns: string, name: string, port: number | undefined, subset?: string): string | undefined => {
    const svc = model.service(ns, name);
    if (!svc) return undefined;
    subjects.services.add(`${ns}/${name}`);
    if (port !== undefined) {
      subjects.servicePorts.add(spKey(ns, name, port));
      subjects.ports.add(port);
    }
    for (const e of edges) {
      if (e.service !== svc || (port !== undefined && e.servicePort.port !== port)) continue;
      if (subset !== undefined && (!isRouteEdge(e) || e.subset !== subset)) continue;
      subjects.edges.add(edgeKey(e));
    }
    return `Service ${ns}/${name}${port !== undefined ? `:${port}` : ''}${subset ? ` subset ${subset}` : ''}`;
  };
  const addHost = (host: string, port: number | undefined): string | undefined => {
    const internal = serviceOfHost(host, model.clusterDomain) ?? shortForm(model, host);
    if (internal) return addService(internal.namespace, internal.name, port);
    // A hostname a tunnel rule serves: the rule's edge and its Service.
    const views = selectForUrl(model, j.backends, host, '/').map((x) => x.backend.view).filter((v) => v.key);
    for (const v of views) {
      subjects.edges.add(v.key as string);
      const t = v.target;
      if (t?.kind === 'service') {
        subjects.services.add(`${t.service.namespace}/${t.service.name}`);
        subjects.servicePorts.add(spKey(t.service.namespace, t.service.name, t.servicePort.port));
        subjects.ports.add(t.servicePort.port);
      }
      for (const r of v.onward ?? []) subjects.edges.add(routeKey(r));
    }
    if (views.length) return views.map((v) => `${v.tunnel?.label ?? 'tunnel'} rule #${v.rule?.index ?? '?'} (${v.rule?.hostname ?? '*'} → ${v.rule?.service ?? '?'})`).join('; ');
    return undefined;
  };
  let words = 0;
  for (const n of names) {
    let what: string | undefined;
    switch (n.kind) {
      case 'cluster': {
        if (n.direction === 'inbound') {
          subjects.ports.add(n.port);
          what = `inbound cluster of target port ${n.port}`;
          break;
        }
        const svc = n.host ? serviceOfHost(n.host, model.clusterDomain) : undefined;
        what = svc ? addService(svc.namespace, svc.name, n.port, n.subset) : undefined;
        break;
      }
      case 'url':
      case 'host':
        what = addHost(n.host, n.port);
        break;
      case 'address': {
        // hostNetwork pods share their node's IP: every pod with the address is meant.
        const pods = model.pods.filter((p) => p.podIP === n.ip);
        const pod = pods[0];
        const svc = model.serviceByClusterIP(n.ip);
        // An ephemeral port (Linux 32768–60999) is a client's own end of a connection, not a port of the pod's.
        const own = n.port !== undefined && n.port < 32768 ? n.port : undefined;
        if (pod) {
          for (const p of pods) subjects.pods.add(p);
          if (own !== undefined) subjects.ports.add(own);
          what = `${describePod(pod)}${pods.length > 1 ? ` (and ${pods.length - 1} more with this IP)` : ''}${own !== undefined ? ` port ${own}` : ''}`;
        } else if (svc) {
          what = addService(svc.namespace, svc.name, n.port);
        }
        break;
      }
      case 'rule-index': {
        // cloudflared's ingressRule=N: with the line's origin URL, the rule of that index serving it.
        const matching = model.tunnelEdges.filter((e) => e.rule.index === n.index && names.some((x) => x.kind === 'url' && e.rule.service.toLowerCase().startsWith(x.text.toLowerCase())));
        for (const e of matching) subjects.edges.add(edgeKey(e));
        if (matching.length) what = matching.map((e) => `${e.tunnel.label} rule #${e.rule.index}`).join('; ');
        break;
      }
      case 'word': {
        if (words++ > MAX_WORDS) break;
        const services = model.services.filter((s) => s.name === n.text);
        const pods = model.pods.filter((p) => p.name === n.text || workloadOf(p).name === n.text);
        for (const s of services) addService(s.namespace, s.name, undefined);
        for (const p of pods) subjects.pods.add(p);
        if (services.length || pods.length) what = [...services.map((s) => `Service ${s.namespace}/${s.name}`), ...new Set(pods.map((p) => `${workloadOf(p).kind} ${workloadOf(p).namespace}/${workloadOf(p).name}`))].join(', ');
        break;
      }
    }
    if (n.kind === 'word' && !what) continue; // plain words name nothing most of the time: only those that do are shown
    resolved.push({ text: n.text, kind: n.kind, ...(what ? { resolved: what } : {}) });
  }
  return { subjects, resolved };
}

/** `web.app` or `web.app.svc` (the forms cloudflared's service URLs use) when such a Service exists. */
function shortForm(model: MeshModel, host: string): { namespace: string; name: string } | undefined {
  const labels = host.split('.');
  if (labels.length === 2 || (labels.length === 3 && labels[2] === 'svc')) {
    const [name, namespace] = labels as [string, string];
    if (model.service(namespace, name)) return { namespace, name };
  }
  return undefined;
}

function objectRefKey(r: ObjectRef): string {
  return `${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

function score(f: Finding, symptoms: SymptomMatch[], subjects: Subjects): { score: number; names: number; reasons: string[]; matchesSymptom: boolean } {
  const reasons: string[] = [];
  let best = 0;
  const specific = symptoms.some((s) => !s.cls.generic);
  for (const s of symptoms) {
    if (s.cls.generic && specific) continue;
    const at = s.cls.codes.indexOf(f.code);
    if (at < 0) continue;
    const points = s.cls.weight - at * 5;
    if (points > best) best = points;
    reasons.push(`${f.code} is a cause of ${s.matched} (${s.cls.id})`);
  }
  let names = 0;
  const sharedEdges = (f.edges ?? []).filter((e) => subjects.edges.has(e));
  if (sharedEdges.length) {
    names += 50;
    reasons.push(`it is about ${sharedEdges.length === 1 ? 'the edge' : 'edges'} the line names (${sharedEdges.slice(0, 2).join(', ')})`);
  }
  const r = f.resource;
  if (r.kind === 'Service' && r.namespace) {
    if (f.port !== undefined && subjects.servicePorts.has(spKey(r.namespace, r.name, f.port))) {
      names += 40;
      reasons.push(`it is about Service ${r.namespace}/${r.name}:${f.port}, which the line names`);
    } else if (subjects.services.has(`${r.namespace}/${r.name}`) && ![...subjects.servicePorts].some((k) => k.startsWith(`${r.namespace}/${r.name}:`))) {
      names += 25;
      reasons.push(`it is about Service ${r.namespace}/${r.name}, which the line names`);
    }
  }
  const podRefs = new Set([...subjects.pods].flatMap((p) => [objectRefKey({ kind: 'Pod', namespace: p.namespace, name: p.name }), objectRefKey(workloadOf(p))]));
  const objects = new Set(f.objects ?? []);
  if (podRefs.has(objectRefKey(r)) || [...subjects.pods].some((p) => objects.has(p.object))) {
    names += 25;
    reasons.push('it is about a pod the line names');
  }
  if (f.port !== undefined && subjects.ports.has(f.port) && names === 0) {
    names += 10;
    reasons.push(`it is about port ${f.port}, which the line names`);
  }
  return { score: best + names, names, reasons, matchesSymptom: best > 0 };
}

/** The judgement's findings (in scope, after policy) that explain one log line, and the edges it is about. */
export function explainLine(j: Judgement, line: string): WhyResult {
  const model = j.model;
  const symptoms = classifyLine(line);
  const { subjects, resolved } = resolve(j, extractNames(line));
  const candidates: Array<{ finding: Finding; suppressed?: SuppressedBy }> = [...j.findings.map((finding) => ({ finding })), ...j.suppressed.map((s) => ({ finding: s.finding, suppressed: s.by }))];
  const anyNames = subjects.edges.size + subjects.services.size + subjects.pods.size > 0;
  const explanations: Explanation[] = [];
  for (const c of candidates) {
    const s = score(c.finding, symptoms, subjects);
    // A finding explains the line when it is a cause of its symptom, or is about what the line names;
    // a cause of the symptom elsewhere in the input still counts, ranked after the ones about those names.
    if (!s.matchesSymptom && s.names < 25) continue;
    explanations.push({ finding: c.finding, ...(c.suppressed ? { suppressed: c.suppressed } : {}), score: s.score, reasons: s.reasons, matchesSymptom: s.matchesSymptom });
  }
  explanations.sort((a, b) => Number(Boolean(a.suppressed)) - Number(Boolean(b.suppressed)) || b.score - a.score || compareFindings(a.finding, b.finding));
  const edges = edgeRows(model, subjects, explanations, anyNames);
  const result: WhyResult = { line, symptoms, names: resolved, explanations, edges };
  if (explanations.filter((e) => !e.suppressed).length === 0) result.unexplained = unexplained(symptoms, anyNames);
  return result;
}

const OUTCOME_RANK: Record<string, number> = { 'mtls-to-uncaptured': 0, 'mtls-to-disabled-port': 0, 'mtls-to-no-sidecar': 0, 'plaintext-to-strict': 0, 'no-endpoint': 1, unknown: 2, ok: 3 };

/** The judged edges the line is about (or, without names, those of the top explanations): the worst endpoint of each client. */
function edgeRows(model: MeshModel, subjects: Subjects, explanations: Explanation[], anyNames: boolean): EdgeRow[] {
  const wanted = anyNames ? subjects.edges : new Set(explanations.slice(0, 3).flatMap((e) => e.finding.edges ?? []));
  const rows: EdgeRow[] = [];
  for (const edge of [...model.tunnelEdges, ...model.routeEdges]) {
    const key = edgeKey(edge);
    if (!wanted.has(key)) continue;
    for (const c of edge.clients) {
      const worst = [...c.endpoints].sort((a, b) => (OUTCOME_RANK[a.outcome] ?? 9) - (OUTCOME_RANK[b.outcome] ?? 9))[0];
      if (worst) rows.push({ edge, key, client: c.group.context.label, endpoint: worst });
    }
  }
  return rows;
}

function unexplained(symptoms: SymptomMatch[], anyNames: boolean): string {
  if (symptoms.length === 0) {
    return `tunnelmesh does not recognise a symptom in this line${anyNames ? '' : ' and it names nothing in the input'}. It reads TLS errors (WRONG_VERSION_NUMBER, "first record does not look like a TLS handshake", certificate errors), resets and connection failures ("upstream connect error or disconnect/reset before headers", upstream_reset_before_response_started, connection refused), Envoy's response flags (UC, UF, URX, NR, NC, UH), cloudflared's "Unable to reach the origin service" and HTTP/2 errors (GOAWAY).`;
  }
  const would = [...new Set(symptoms.flatMap((s) => s.cls.codes))].map((code) => {
    const rule = ruleByCode(code);
    return rule ? `${code} ${rule.meta.name} (${rule.meta.summary})` : code;
  });
  return `Nothing in the input explains it: no finding about ${anyNames ? 'what the line names or ' : ''}its symptom. ${would.length ? `It would be explained by ${would.slice(0, 6).join('; ')}` : 'No configuration rule explains this symptom by itself'}. If the input is complete and current, look at what tunnelmesh does not read: the application itself, NetworkPolicies, EnvoyFilters, and the proxies' own state (compare with their config: --proxy-config).`;
}

/** One line per edge row, for text views. */
export function edgeRowText(r: EdgeRow): string {
  const ep = r.endpoint;
  return `${pathLine(r.edge)} — ${r.client} sends ${describeSends(ep.sends.sends)} to ${describePod(ep.pod)}${ep.targetPort !== undefined ? ` port ${ep.targetPort}` : ''}: ${ep.outcome === 'ok' ? 'works' : ep.outcome} (${ep.why})`;
}
