// explain-protocol: one backend at a time — the operator's chain, the tunnel rule, drift, the
// Istio leg — and a verdict read from the same findings doctor prints. `-o json` follows the CLI
// contract; `-o text` puts the same facts on a screen.

import type { ChalkInstance } from 'chalk';
import { effectiveOriginRequest } from '../model/cloudflared.js';
import { isInboundCaptured } from '../model/capture.js';
import { backendService, type BackendView } from '../model/backends.js';
import type { ClientVerdicts } from '../model/edges.js';
import type { MeshModel } from '../model/model.js';
import { formatRef, refOf } from '../core/k8s.js';
import { describePod } from '../model/pods.js';
import { routeKey, type RouteEdge } from '../model/routes.js';
import { istioProtocol } from '../model/protocol.js';
import type { SidecarInfo } from '../model/sidecar.js';
import { describeSends, type EndpointVerdict } from '../model/traffic.js';
import { compareFindings } from '../rules/run.js';
import type { Finding } from '../rules/types.js';
import { findingJson } from './json.js';
import { findingBlock } from './table.js';

export type Verdict = 'ok' | 'broken' | 'unknown';

export interface ExplainedBackend {
  view: BackendView;
  host: string | null;
  path: string | null;
  service: { namespace: string; name: string; port: number | null } | null;
  findings: Finding[];
  verdict: Verdict;
  symptom: string | null;
  /** What evidence is missing (verdict unknown), or notes worth reading. */
  missing: string[];
  /** The endpoint shown for the Istio leg (the worst one). */
  endpoint?: EndpointVerdict;
  clientLabel?: string;
}

export interface ExplainReport {
  target: string;
  backends: ExplainedBackend[];
  /** Related findings, each once, in contract order. */
  findings: Finding[];
  notes: string[];
}

/** A finding is about this backend when it names its rule, or (rules that name no rules) its Service port or Ingress. */
function concerns(f: Finding, v: BackendView): boolean {
  if (v.key && f.edges?.includes(v.key)) return true;
  // The hop after an ingress gateway is part of this backend's path.
  if (v.onward?.some((r) => f.edges?.includes(routeKey(r)))) return true;
  const svc = backendService(v);
  if (f.edges === undefined && f.resource.kind === 'Service' && f.resource.namespace === svc.namespace && f.resource.name === svc.name && (f.port === undefined || f.port === svc.port)) return true;
  const b = v.ingress;
  if (b && f.resource.kind === 'Ingress' && f.resource.namespace === b.namespace && f.resource.name === b.ingress.metadata.name) {
    return (f.port === undefined || f.port === b.port.port) && (!f.edges?.length || !v.key);
  }
  return false;
}

const OUTCOME_RANK: Record<string, number> = { 'mtls-to-uncaptured': 0, 'mtls-to-disabled-port': 0, 'mtls-to-no-sidecar': 0, 'plaintext-to-strict': 0, 'no-endpoint': 1, unknown: 2, ok: 3 };

/** The worst endpoint of an edge (what a user would see first), and the client that reaches it. */
function worstEndpoint(r: { clients: ClientVerdicts[] }): { endpoint: EndpointVerdict; label: string } | undefined {
  const pairs = r.clients.flatMap((c) => c.endpoints.map((endpoint) => ({ endpoint, label: c.group.context.label })));
  pairs.sort((x, y) => (OUTCOME_RANK[x.endpoint.outcome] ?? 9) - (OUTCOME_RANK[y.endpoint.outcome] ?? 9));
  return pairs[0];
}

function missingEvidence(model: MeshModel, v: BackendView): string[] {
  const out: string[] = [];
  const b = v.ingress;
  if (!v.rule) {
    if (b?.unserved) out.push(`no tunnel rule: ${b.unserved}`);
    else if (b?.drift.length) out.push(`no tunnel rule: ${b.drift.join('; ')}`);
    else out.push('no tunnel rule serves it');
    return out;
  }
  const t = v.target;
  if (t?.kind === 'external') out.push(`the rule's service ${v.rule.service} is outside the cluster: not judged`);
  else if (t?.kind === 'special') out.push(`the rule's service ${v.rule.service} is answered by cloudflared itself`);
  else if (t?.kind === 'no-service') out.push(`Service ${t.address.namespace}/${t.address.name} is not in the input (no Service of namespace ${t.address.namespace} was collected)`);
  if (v.tunnel && v.tunnel.connectors.length === 0) out.push(`${v.tunnel.connectorEvidence}: what its cloudflared sends is unknown`);
  const e = v.edge;
  if (e) {
    const endpoints = e.clients.flatMap((c) => c.endpoints);
    if (e.clients.length > 0 && endpoints.length === 0) out.push(`no pod or workload in the input is selected by Service ${e.service.namespace}/${e.service.name}`);
    for (const ep of endpoints) if (ep.outcome === 'unknown') out.push(`${describePod(ep.pod)}: ${ep.why}`);
  }
  for (const r of v.onward ?? []) {
    for (const ep of r.clients.flatMap((c) => c.endpoints)) {
      if (ep.outcome === 'unknown') out.push(`after the gateway, ${describePod(ep.pod)}: ${ep.why}`);
    }
  }
  return [...new Set(out)];
}

export function explainBackends(model: MeshModel, findings: Finding[], views: BackendView[], target: string): ExplainReport {
  const backends: ExplainedBackend[] = views.map((view) => {
    const related = findings.filter((f) => concerns(f, view));
    const svc = backendService(view);
    const errors = related.filter((f) => f.severity === 'error');
    const missing = missingEvidence(model, view);
    const verdict: Verdict = errors.length ? 'broken' : missing.length ? 'unknown' : 'ok';
    const b = view.ingress;
    const shown = view.edge ? worstEndpoint(view.edge) : undefined;
    const out: ExplainedBackend = {
      view,
      host: b ? b.host || null : (view.rule?.hostname ?? null),
      path: b ? (b.path ?? null) : (view.rule?.path ?? null),
      service: svc.namespace && svc.name ? { namespace: svc.namespace, name: svc.name, port: svc.port ?? null } : null,
      findings: related,
      verdict,
      symptom: errors[0]?.symptom ?? null,
      missing: verdict === 'broken' ? [] : missing,
    };
    if (shown) {
      out.endpoint = shown.endpoint;
      out.clientLabel = shown.label;
    }
    return out;
  });
  const all = [...new Set(backends.flatMap((b) => b.findings))].sort(compareFindings);
  return { target, backends, findings: all, notes: [] };
}

// ---- JSON -------------------------------------------------------------------------------

function routeJson(r: RouteEdge): Record<string, unknown> {
  const worst = worstEndpoint(r);
  return {
    virtualService: `${r.virtualService.metadata.namespace ?? 'default'}/${r.virtualService.metadata.name}`,
    route: r.path,
    gateway: `${r.gateway.namespace}/${r.gateway.name}`,
    service: { namespace: r.service.namespace, name: r.service.name, port: r.servicePort.port },
    subset: r.subset ?? null,
    client: worst?.label ?? null,
    clientSends: worst?.endpoint.sends.sends ?? null,
    target: worst ? describePod(worst.endpoint.pod) : null,
    targetPort: worst?.endpoint.targetPort ?? null,
    outcome: worst?.endpoint.outcome ?? null,
    why: worst?.endpoint.why ?? null,
  };
}

function sidecarFlag(s: SidecarInfo | undefined): boolean | null {
  return s === undefined || s.state === 'unknown' ? null : s.state === 'present';
}

function istioJson(model: MeshModel, x: ExplainedBackend): Record<string, unknown> | null {
  const e = x.view.edge;
  const ep = x.endpoint;
  if (!e) return null;
  const client = e.clients.find((c) => c.group.context.label === x.clientLabel)?.group.context.pod;
  const pod = ep?.pod;
  const targetPort = ep?.targetPort;
  const present = pod?.sidecar.state === 'present';
  return {
    clientSidecar: sidecarFlag(client?.sidecar),
    targetSidecar: sidecarFlag(pod?.sidecar),
    captured: present && targetPort !== undefined ? isInboundCaptured(pod.inbound, targetPort) : null,
    clientSends: ep?.sends.sends ?? null,
    serverMode: pod && targetPort !== undefined && (present || pod.sidecar.ambient) ? model.peerAuth.effectiveMode(pod.namespace, pod.labels, targetPort).mode : null,
    portProtocol: istioProtocol(e.servicePort).protocol,
    client: x.clientLabel ?? null,
    target: pod ? describePod(pod) : null,
    targetPort: targetPort ?? null,
    outcome: ep?.outcome ?? null,
    why: ep?.why ?? null,
  };
}

function backendJson(model: MeshModel, x: ExplainedBackend): Record<string, unknown> {
  const { view } = x;
  const b = view.ingress;
  const chain = b?.chain;
  const rule = view.rule;
  const tunnel = view.tunnel;
  return {
    host: x.host,
    path: x.path,
    service: x.service,
    protocol: chain?.protocol ?? null,
    level: chain?.level ?? null,
    source: chain?.source ?? null,
    chain: chain ? chain.levels.map((l) => ({ level: l.level, source: l.source, value: l.value, note: l.note ?? null })) : null,
    tunnelRule:
      rule && tunnel
        ? {
            config: tunnel.label,
            index: rule.index,
            service: rule.service,
            originRequest: rule.originRequest ?? {},
            hostname: rule.hostname ?? null,
            path: rule.path ?? null,
            predicted: tunnel.predicted,
            effectiveOriginRequest: effectiveOriginRequest(rule, tunnel.originRequest).settings,
          }
        : null,
    drift: (b?.drift.length ?? 0) > 0,
    driftDetails: b?.drift ?? [],
    istio: istioJson(model, x),
    verdict: x.verdict,
    symptom: x.symptom,
    codes: [...new Set(x.findings.map((f) => f.code))],
    ingress: b ? `${b.namespace}/${b.ingress.metadata.name}` : null,
    gatewayRoutes: (view.onward ?? []).map(routeJson),
    missing: x.missing,
  };
}

/** The document `-o json` and `-o yaml` print. */
export function explainDocument(model: MeshModel, report: ExplainReport): Record<string, unknown> {
  return {
    target: report.target,
    backends: report.backends.map((x) => backendJson(model, x)),
    findings: report.findings.map((f) => findingJson(f)),
    notes: report.notes,
  };
}

export function explainJson(model: MeshModel, report: ExplainReport): string {
  return `${JSON.stringify(explainDocument(model, report), null, 2)}\n`;
}

// ---- text -------------------------------------------------------------------------------

function verdictText(c: ChalkInstance, v: Verdict): string {
  return v === 'broken' ? c.red.bold('BROKEN') : v === 'unknown' ? c.yellow.bold('UNKNOWN') : c.green.bold('OK');
}

function backendText(model: MeshModel, x: ExplainedBackend, c: ChalkInstance): string[] {
  const { view } = x;
  const b = view.ingress;
  const svc = x.service ? `Service ${x.service.namespace}/${x.service.name}${x.service.port !== null ? `:${x.service.port}` : ''}` : (view.rule?.service ?? '?');
  const lines = [c.bold(`${x.host ?? '*'}${x.path ? ` ${x.path}` : ''}  →  ${svc}`) + `   ${verdictText(c, x.verdict)}`];
  if (b) {
    lines.push(`  ${c.dim('ingress:')} ${b.label} — ${b.cls.evidence}`);
    if (b.classConfig) lines.push(`  ${c.dim('class config:')} ${b.classConfig.evidence}${b.classConfig.problem ? ` — ${b.classConfig.problem}` : ''}`);
    if (b.chain) {
      lines.push(`  ${c.dim('operator protocol chain')} (port ${b.port.port}: ${b.port.evidence}):`);
      const width = Math.max(...b.chain.levels.map((l) => l.source.length));
      for (const l of b.chain.levels) {
        const decides = l.level === b.chain.level;
        const value = (l.value ?? '—').padEnd(6);
        const text = `${decides ? '▶' : ' '} ${l.level}  ${l.source.padEnd(width)}  ${decides ? c.bold(value) : l.value === null ? c.dim(value) : value}${decides ? c.green(' ← decides') : ''}${l.note ? c.dim(`  (${l.note})`) : ''}`;
        lines.push(`    ${decides ? c.inverse(text) : l.level > b.chain.level ? c.dim(text) : text}`);
      }
    }
  }
  const rule = view.rule;
  if (rule && view.tunnel) {
    const t = view.tunnel;
    lines.push(`  ${c.dim('tunnel rule:')} #${rule.index} ${t.predicted ? `predicted for ${t.label} (no tunnel config for it in the input)` : `in ${t.label} (${t.key})`}`);
    lines.push(`    ${rule.hostname ?? '*'}${rule.path ? ` path ${rule.path}` : ''} → ${c.bold(rule.service)}`);
    const eff = effectiveOriginRequest(rule, t.originRequest);
    const set = Object.entries(eff.settings).filter(([k]) => eff.from[k] !== 'default' || k === 'http2Origin' || k === 'noTLSVerify');
    lines.push(`    originRequest: ${set.map(([k, v]) => `${k}=${JSON.stringify(v)}${eff.from[k] === 'default' ? c.dim(' (default)') : eff.from[k] === 'config' ? c.dim(' (config)') : ''}`).join(', ') || c.dim('defaults')}`);
    lines.push(`    ${c.dim('clients:')} ${t.connectorEvidence}`);
  } else {
    lines.push(`  ${c.dim('tunnel rule:')} ${c.yellow('none')}`);
  }
  if (b?.driftChecked) {
    lines.push(b.drift.length ? `  ${c.yellow('drift:')} ${b.drift.join('; ')}` : `  ${c.dim('drift:')} none — the config holds what the chain resolves (${b.url})`);
  } else if (b && rule && !view.tunnel?.predicted) {
    lines.push(`  ${c.dim('drift:')} not compared (${view.tunnel?.managedBy ?? 'the config is not the current operator layout'})`);
  }
  const e = view.edge;
  const ep = x.endpoint;
  if (e) {
    const sp = e.servicePort;
    const proto = istioProtocol(sp);
    lines.push(`  ${c.dim('istio leg:')} port ${sp.port}${sp.name ? ` (${sp.name})` : ''} is ${proto.protocol} to Istio (${proto.source})`);
    if (ep) {
      const pod = ep.pod;
      lines.push(`    client: ${ep.sends.steps[0] ?? x.clientLabel ?? ''}`);
      lines.push(`    sends: ${describeSends(ep.sends.sends)} ${c.dim(`(${ep.sends.sends}; ${ep.sends.steps.length > 1 ? ep.sends.steps.at(-1) : ep.sends.cause})`)}`);
      lines.push(`    target ${describePod(pod)} port ${ep.targetPort ?? '?'}: ${pod.sidecar.reason}${ep.captured === undefined ? '' : ep.captured ? '; captured' : `; ${c.red('NOT captured')} (${pod.inbound.source})`}${ep.server ? `; accepts ${ep.server.mode}` : ''}`);
      lines.push(`    ${c.dim('outcome:')} ${ep.why}`);
    } else if (e.clients.length === 0) {
      lines.push(`    ${c.yellow('no cloudflared pod in the input runs this config')}`);
    }
  }
  for (const r of view.onward ?? []) {
    const worst = worstEndpoint(r);
    lines.push(`  ${c.dim('then, through the gateway:')} ${formatRef(refOf(r.virtualService))} ${r.path} → Service ${r.service.namespace}/${r.service.name}:${r.servicePort.port}${r.subset ? ` subset ${r.subset}` : ''}`);
    if (worst) {
      const ep = worst.endpoint;
      lines.push(`    sends: ${describeSends(ep.sends.sends)} ${c.dim(`(${ep.sends.sends}; ${ep.sends.steps.length > 1 ? ep.sends.steps.at(-1) : ep.sends.cause})`)}`);
      lines.push(`    target ${describePod(ep.pod)} port ${ep.targetPort ?? '?'}: ${ep.captured === false ? `${c.red('NOT captured')} (${ep.pod.inbound.source})` : ep.pod.sidecar.reason}`);
      lines.push(`    ${c.dim('outcome:')} ${ep.why}`);
    } else {
      lines.push(`    ${c.yellow('no pod or workload in the input is selected by the Service')}`);
    }
  }
  lines.push(`  ${c.bold('verdict:')} ${verdictText(c, x.verdict)}${x.symptom ? ` — ${x.symptom}` : ''}`);
  for (const m of x.missing) lines.push(`    ${c.yellow('missing:')} ${m}`);
  if (x.findings.length) lines.push(`  ${c.dim('findings:')} ${x.findings.map((f) => `${f.code} (${f.severity})`).join(', ')}`);
  return lines;
}

/** `width`: the terminal's, for the related findings' blocks (the backend lines are short). */
export function explainText(model: MeshModel, report: ExplainReport, c: ChalkInstance, title: string, width?: number): string {
  const out = [c.bold(title), ''];
  if (report.backends.length === 0) out.push(c.yellow(`No backend: nothing in the input routes ${report.target} through a tunnel.`), '');
  for (const x of report.backends) out.push(...backendText(model, x, c), '');
  if (report.findings.length) {
    out.push(c.bold('Related findings:'), '');
    for (const f of report.findings) out.push(...findingBlock(f, c, width === undefined ? {} : { width }), '');
  }
  for (const n of report.notes) out.push(`${c.dim('note:')} ${n}`);
  const counts = { ok: 0, broken: 0, unknown: 0 };
  for (const x of report.backends) counts[x.verdict]++;
  out.push(`Summary: ${report.backends.length} backend${report.backends.length === 1 ? '' : 's'} — ${counts.broken} broken, ${counts.unknown} unknown, ${counts.ok} ok`);
  return `${out.join('\n')}\n`;
}
