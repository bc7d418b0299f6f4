// explain-protocol: one backend at a time — the operator's chain, the tunnel rule, drift, the
// Istio leg — with the verdict the judgement gave it (the same one doctor's findings and notes
// rest on). `-o json` follows the CLI contract; `-o text` puts the same facts on a screen. Nothing
// here decides a verdict, an outcome or a policy mode: it reads them.

import type { ChalkInstance } from 'chalk';
import { formatRef, refOf } from '../core/k8s.js';
import { effectiveOriginRequest } from '../model/cloudflared.js';
import { backendService, type BackendView, type Selected } from '../model/backends.js';
import type { ClientVerdicts } from '../model/edges.js';
import { describePod } from '../model/pods.js';
import { istioProtocol } from '../model/protocol.js';
import type { RouteEdge } from '../model/routes.js';
import type { SidecarInfo } from '../model/sidecar.js';
import { describeSends, type EndpointVerdict } from '../model/traffic.js';
import type { IngressBackendView } from '../model/tunnels.js';
import type { EnvoyComparison } from '../rules/envoy-agreement.js';
import type { JudgedBackend, Verdict } from '../rules/judge.js';
import { compareFindings } from '../rules/run.js';
import type { SuppressedFinding } from '../rules/suppress.js';
import type { Finding } from '../rules/types.js';
import { findingJson } from './json.js';
import { findingBlock } from './table.js';
import { maxOf, pushAll } from '../core/arrays.js';

export type { Verdict };

export interface ExplainedBackend {
  view: BackendView;
  /** The Ingress backend it is shown for (its chain, class, drift). */
  ingress?: IngressBackendView;
  servesHostOf?: string;
  host: string | null;
  path: string | null;
  service: { namespace: string; name: string; port: number | null } | null;
  findings: Finding[];
  suppressed: SuppressedFinding[];
  verdict: Verdict;
  symptom: string | null;
  /** What evidence is missing (verdict unknown). */
  missing: string[];
  /** The endpoint shown for the Istio leg (the worst one). */
  endpoint?: EndpointVerdict;
  clientLabel?: string;
  /** Envoy config dumps compared with this backend's edge and the gateway routes after it (only when dumps were given). */
  envoy?: EnvoyComparison[];
}

export interface ExplainReport {
  target: string;
  backends: ExplainedBackend[];
  /** Related findings, each once, in contract order. */
  findings: Finding[];
  /** Related findings a suppression set aside. */
  suppressed: SuppressedFinding[];
  notes: string[];
}

const OUTCOME_RANK: Record<string, number> = { 'mtls-to-uncaptured': 0, 'mtls-to-disabled-port': 0, 'mtls-to-no-sidecar': 0, 'plaintext-to-strict': 0, blackhole: 0, 'no-endpoint': 1, unknown: 2, ok: 3 };

/** The worst endpoint of an edge (what a user would see first), and the client that reaches it. */
function worstEndpoint(r: { clients: ClientVerdicts[] }): { endpoint: EndpointVerdict; label: string } | undefined {
  const pairs = r.clients.flatMap((c) => c.endpoints.map((endpoint) => ({ endpoint, label: c.group.context.label })));
  // Ties: by client and pod, so that the one shown never depends on the order objects came in.
  const key = (p: (typeof pairs)[number]): string => `${p.label}\u0000${p.endpoint.pod.namespace}/${p.endpoint.pod.name}`;
  pairs.sort((x, y) => (OUTCOME_RANK[x.endpoint.outcome] ?? 9) - (OUTCOME_RANK[y.endpoint.outcome] ?? 9) || (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  return pairs[0];
}

/** The selected backends as the report shows them; every verdict is the judgement's. */
export function explainBackends(selected: ReadonlyArray<Selected<JudgedBackend>>, target: string): ExplainReport {
  const backends: ExplainedBackend[] = selected.map(({ backend, ingress, servesHostOf }) => {
    const { view } = backend;
    const svc = backendService(view);
    const b = ingress ?? view.ingress;
    const w = view.written;
    const errors = backend.findings.filter((f) => f.severity === 'error');
    const shown = view.edge ? worstEndpoint(view.edge) : undefined;
    const out: ExplainedBackend = {
      view,
      host: b ? b.host || null : w ? w.hostname || null : (view.rule?.hostname ?? null),
      path: b ? (b.path ?? null) : w ? (w.path ?? null) : (view.rule?.path ?? null),
      service: svc.namespace && svc.name ? { namespace: svc.namespace, name: svc.name, port: svc.port ?? null } : null,
      findings: backend.findings,
      suppressed: backend.suppressed,
      verdict: backend.verdict,
      symptom: errors[0]?.symptom ?? backend.suppressed.find((s) => s.finding.severity === 'error')?.finding.symptom ?? null,
      missing: backend.missing,
    };
    if (b) out.ingress = b;
    if (servesHostOf) out.servesHostOf = servesHostOf;
    if (backend.envoy) out.envoy = backend.envoy;
    if (shown) {
      out.endpoint = shown.endpoint;
      out.clientLabel = shown.label;
    }
    return out;
  });
  const findings = [...new Set(backends.flatMap((b) => b.findings))].sort(compareFindings);
  const suppressed = [...new Set(backends.flatMap((b) => b.suppressed))].sort((x, y) => compareFindings(x.finding, y.finding));
  return { target, backends, findings, suppressed, notes: [] };
}

// ---- JSON -------------------------------------------------------------------------------

function routeJson(r: RouteEdge): Record<string, unknown> {
  const worst = worstEndpoint(r);
  return {
    virtualService: r.route.kind === 'VirtualService' ? `${r.route.metadata.namespace ?? 'default'}/${r.route.metadata.name}` : null,
    httpRoute: r.route.kind === 'HTTPRoute' ? `${r.route.metadata.namespace}/${r.route.metadata.name}` : null,
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

function istioJson(x: ExplainedBackend): Record<string, unknown> | null {
  const e = x.view.edge;
  const ep = x.endpoint;
  if (!e) return null;
  const client = e.clients.find((c) => c.group.context.label === x.clientLabel)?.group.context.pod;
  const pod = ep?.pod;
  return {
    clientSidecar: sidecarFlag(client?.sidecar),
    targetSidecar: sidecarFlag(pod?.sidecar),
    // Read from the verdict, never recomputed: the resolver decided them with the evidence.
    captured: ep?.captured ?? null,
    clientSends: ep?.clientSends ?? null,
    serverMode: ep?.server?.mode ?? null,
    decidedBy: ep?.sends.decidedBy ?? null,
    decision: ep?.sends.summary ?? null,
    portProtocol: istioProtocol(e.servicePort).protocol,
    client: x.clientLabel ?? null,
    target: pod ? describePod(pod) : null,
    targetPort: ep?.targetPort ?? null,
    outcome: ep?.outcome ?? null,
    why: ep?.why ?? null,
  };
}

function backendJson(x: ExplainedBackend): Record<string, unknown> {
  const { view } = x;
  const b = x.ingress;
  const w = view.written;
  const chain = b?.chain;
  const rule = view.rule;
  const tunnel = view.tunnel;
  return {
    host: x.host,
    path: x.path,
    service: x.service,
    protocol: chain?.protocol ?? (w?.protocol.scheme || null),
    level: chain?.level ?? null,
    source: chain?.source ?? (w?.protocol.source || null),
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
    drift: (b?.drift.length ?? w?.drift.length ?? 0) > 0,
    driftDetails: b?.drift ?? w?.drift ?? [],
    istio: istioJson(x),
    verdict: x.verdict,
    symptom: x.symptom,
    codes: [...new Set(x.findings.map((f) => f.code))],
    suppressedCodes: [...new Set(x.suppressed.map((sf) => sf.finding.code))],
    servesHostOf: x.servesHostOf ?? null,
    ingress: b ? `${b.namespace}/${b.ingress.metadata.name}` : null,
    writer: w ? { kind: w.writerKind, namespace: w.namespace, name: w.writer.metadata.name, rule: w.label, notWritten: w.dropped, unserved: w.unserved ?? null } : null,
    gatewayRoutes: (view.onward ?? []).map(routeJson),
    missing: x.missing,
    ...(x.envoy
      ? {
          envoy: x.envoy.map((c) => ({
            side: c.side,
            pod: `${c.dump.node?.pod?.namespace ?? c.pod.namespace}/${c.dump.node?.pod?.name ?? c.pod.name}`,
            source: c.dump.input.source,
            target: describePod(c.endpoint.pod),
            targetPort: c.endpoint.targetPort ?? null,
            result: c.result,
            envoy: c.envoy,
            predicted: c.predicted,
            evidence: c.line,
            meanings: c.meanings,
          })),
        }
      : {}),
  };
}

/** The document `-o json` and `-o yaml` print. */
export function explainDocument(report: ExplainReport): Record<string, unknown> {
  return {
    target: report.target,
    backends: report.backends.map((x) => backendJson(x)),
    findings: report.findings.map((f) => findingJson(f)),
    suppressed: report.suppressed.map((sf) => ({ ...findingJson(sf.finding), suppressedBy: { source: sf.by.source, origin: sf.by.origin, reason: sf.by.reason ?? null } })),
    notes: report.notes,
  };
}

export function explainJson(report: ExplainReport): string {
  return `${JSON.stringify(explainDocument(report), null, 2)}\n`;
}

// ---- text -------------------------------------------------------------------------------

function verdictText(c: ChalkInstance, v: Verdict): string {
  return v === 'broken' ? c.red.bold('BROKEN') : v === 'unknown' ? c.yellow.bold('UNKNOWN') : c.green.bold('OK');
}

function backendText(x: ExplainedBackend, c: ChalkInstance): string[] {
  const { view } = x;
  const b = x.ingress;
  const svc = x.service ? `Service ${x.service.namespace}/${x.service.name}${x.service.port !== null ? `:${x.service.port}` : ''}` : (view.rule?.service ?? '?');
  const alone = !view.rule && !b && !view.written ? view.onward?.[0] : undefined;
  const head = alone
    ? `${formatRef(refOf(alone.route))} through Gateway ${alone.gateway.namespace}/${alone.gateway.name} (no tunnel rule in the input reaches it)`
    : `${x.host ?? '*'}${x.path ? ` ${x.path}` : ''}  →  ${svc}`;
  const lines = [c.bold(head) + `   ${verdictText(c, x.verdict)}`];
  if (x.servesHostOf) lines.push(`  ${c.yellow('served:')} ${x.servesHostOf}`);
  if (b) {
    lines.push(`  ${c.dim('ingress:')} ${b.label} — ${b.cls.evidence}`);
    if (b.classConfig) lines.push(`  ${c.dim('class config:')} ${b.classConfig.evidence}${b.classConfig.problem ? ` — ${b.classConfig.problem}` : ''}`);
    if (b.chain) {
      lines.push(`  ${c.dim('operator protocol chain')} (port ${b.port.port}: ${b.port.evidence}):`);
      const width = maxOf(b.chain.levels.map((l) => l.source.length));
      for (const l of b.chain.levels) {
        const decides = l.level === b.chain.level;
        const value = (l.value ?? '—').padEnd(6);
        const text = `${decides ? '▶' : ' '} ${l.level}  ${l.source.padEnd(width)}  ${decides ? c.bold(value) : l.value === null ? c.dim(value) : value}${decides ? c.green(' ← decides') : ''}${l.note ? c.dim(`  (${l.note})`) : ''}`;
        lines.push(`    ${decides ? c.inverse(text) : l.level > b.chain.level ? c.dim(text) : text}`);
      }
    }
  }
  const w = view.written;
  if (w) {
    lines.push(`  ${c.dim(`${w.writerKind === 'TunnelBinding' ? 'tunnel binding' : 'http route'}:`)} ${w.label}${w.writerKind === 'HTTPRoute' && w.at.kind === 'backendRef' ? ` through Gateway ${w.at.gateway.namespace}/${w.at.gateway.name}` : ''}`);
    if (w.protocol.source) lines.push(`    ${c.dim('protocol:')} ${w.protocol.scheme || '(none)'} — ${w.protocol.source}`);
    if (w.hostnameAssumed) lines.push(`    ${c.yellow('hostname:')} ${w.hostnameAssumed}`);
    for (const d of w.dropped) lines.push(`    ${c.dim('not written:')} ${d}`);
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
  if (w?.driftChecked) {
    lines.push(w.drift.length ? `  ${c.yellow('drift:')} ${w.drift.join('; ')}` : `  ${c.dim('drift:')} none — the config holds what the operator writes (${w.service})`);
  }
  if (b?.driftChecked && !x.servesHostOf) {
    lines.push(b.drift.length ? `  ${c.yellow('drift:')} ${b.drift.join('; ')}` : `  ${c.dim('drift:')} none — the config holds what the chain resolves (${b.url})`);
  } else if (b && rule && !view.tunnel?.predicted && !x.servesHostOf) {
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
    lines.push(`  ${c.dim('then, through the gateway:')} ${formatRef(refOf(r.route))} ${r.path} → Service ${r.service.namespace}/${r.service.name}:${r.servicePort.port}${r.subset ? ` subset ${r.subset}` : ''}`);
    if (worst) {
      const ep = worst.endpoint;
      lines.push(`    sends: ${describeSends(ep.sends.sends)} ${c.dim(`(${ep.sends.sends}; ${ep.sends.steps.length > 1 ? ep.sends.steps.at(-1) : ep.sends.cause})`)}`);
      lines.push(`    target ${describePod(ep.pod)} port ${ep.targetPort ?? '?'}: ${ep.captured === false ? `${c.red('NOT captured')} (${ep.pod.inbound.source})` : ep.pod.sidecar.reason}`);
      lines.push(`    ${c.dim('outcome:')} ${ep.why}`);
    } else {
      lines.push(`    ${c.yellow('no pod or workload in the input is selected by the Service')}`);
    }
  }
  if (x.envoy) {
    const seen = [...new Set(x.envoy.map((e) => e.line))];
    if (seen.length === 0) lines.push(`  ${c.dim('envoy:')} no dump of this path's client or target proxies`);
    for (const line of seen.slice(0, 8)) lines.push(`  ${c.dim('envoy:')} ${/^Envoy disagrees/.test(line) ? c.yellow(line) : line}`);
    if (seen.length > 8) lines.push(`  ${c.dim('envoy:')} ${seen.length - 8} more comparisons`);
  }
  lines.push(`  ${c.bold('verdict:')} ${verdictText(c, x.verdict)}${x.symptom ? ` — ${x.symptom}` : ''}`);
  for (const m of x.missing) lines.push(`    ${c.yellow('missing:')} ${m}`);
  if (x.findings.length) lines.push(`  ${c.dim('findings:')} ${x.findings.map((f) => `${f.code} (${f.severity})`).join(', ')}`);
  if (x.suppressed.length) lines.push(`  ${c.dim('suppressed:')} ${x.suppressed.map((sf) => `${sf.finding.code} (${sf.finding.severity}, ${sf.by.origin})`).join(', ')}`);
  return lines;
}

/** `width`: the terminal's, for the related findings' blocks (the backend lines are short). */
export function explainText(report: ExplainReport, c: ChalkInstance, title: string, width?: number): string {
  const out = [c.bold(title), ''];
  if (report.backends.length === 0) out.push(c.yellow(`No backend: nothing in the input routes ${report.target} through a tunnel.`), '');
  for (const x of report.backends) pushAll(out, backendText(x, c)).push('');
  if (report.findings.length) {
    out.push(c.bold('Related findings:'), '');
    for (const f of report.findings) pushAll(out, findingBlock(f, c, width === undefined ? {} : { width })).push('');
  }
  if (report.suppressed.length) {
    out.push(c.bold('Suppressed (listed, not counted toward --fail-on):'));
    for (const sf of report.suppressed) out.push(`  • ${sf.finding.severity} ${sf.finding.code} ${formatRef(sf.finding.resource)}${sf.finding.port !== undefined ? ` :${sf.finding.port}` : ''} — ${sf.by.origin}${sf.by.reason ? ` (${sf.by.reason})` : ''}`);
    out.push('');
  }
  for (const n of report.notes) out.push(`${c.dim('note:')} ${n}`);
  const counts = { ok: 0, broken: 0, unknown: 0 };
  for (const x of report.backends) counts[x.verdict]++;
  out.push(`Summary: ${report.backends.length} backend${report.backends.length === 1 ? '' : 's'} — ${counts.broken} broken, ${counts.unknown} unknown, ${counts.ok} ok`);
  return `${out.join('\n')}\n`;
}
