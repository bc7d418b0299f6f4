// TM305: a tunnel rule points at a Service, port or endpoints that do not exist.

import type { ObjectRef } from '../../core/k8s.js';
import { resolveRuleTarget, ruleKey, type RuleTarget } from '../../model/edges.js';
import type { MeshModel } from '../../model/model.js';
import { describePod } from '../../model/pods.js';
import { formatServicePort, resolveTargetPort, type ServiceView } from '../../model/services.js';
import type { TunnelConfig, TunnelRule } from '../../model/tunnels.js';
import { rerouting, where } from '../fixes.js';
import { listing, ruleEvidence, ruleName, ruleObject } from '../edge-hits.js';
import { backendPath, configMapEditFix, ingressRulesFix, mergePatchFix, removeRuleFix, ruleChangeFix } from '../tunnel-fixes.js';
import { writtenRemoveFix, writtenRetargetFix } from '../writer-fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

const SYMPTOM = 'the hostname answers 502 Bad Gateway (cloudflared: "no such host" / connection refused) or 503 (no healthy upstream, UH/UC in a sidecar)';

/** Edit distance with transpositions (optimal string alignment), for did-you-mean on Service names. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

function similarService(model: MeshModel, name: string, namespace: string): ServiceView | undefined {
  const inNs = model.services.filter((s) => s.namespace === namespace);
  const close = inNs.map((s) => ({ s, d: distance(s.name, name) })).filter((x) => x.d <= 2 && x.d < name.length / 2);
  close.sort((a, b) => a.d - b.d);
  if (close[0]) return close[0].s;
  const elsewhere = model.services.filter((s) => s.name === name);
  return elsewhere.length === 1 ? elsewhere[0] : undefined;
}

/** A fix pointing the rule at another Service/port. */
function retarget(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule, svc: ServiceView, port: number, portName: string | undefined, why: string[]): Fix {
  if (rule.written) {
    const fix = writtenRetargetFix(model, rule.written, svc, port, why);
    if (fix) return fix;
  }
  const b = rule.backend;
  if (b) {
    return ingressRulesFix(
      model,
      b,
      (rules) => {
        const path = backendPath(rules, b);
        if (path) path.backend = { service: { name: svc.name, port: portName ? { name: portName } : { number: port } } };
      },
      `Point ${b.host}${b.path ? ` ${b.path}` : ''} at Service ${svc.name} port ${portName ?? port}`,
      why,
    );
  }
  const url = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(rule.service);
  const service = `${url?.[1] ?? 'http'}://${svc.name}.${svc.namespace}.svc:${port}`;
  if (tunnel.layout === 'cloudflared-yaml') {
    const fix = configMapEditFix(
      model,
      tunnel,
      (ingress) => {
        const r = ingress[rule.index];
        if (r) r.service = service;
      },
      `Rewrite rule #${rule.index} (${rule.hostname ?? '*'}) as ${service}`,
      why,
    );
    if (fix) return fix;
  }
  return ruleChangeFix(model, tunnel, { ...rule, service }, {}, why);
}

/** The Ingress, TunnelBinding or HTTPRoute that writes a rule: the object a missing Service is reported on. */
function writerRef(rule: TunnelRule): ObjectRef | undefined {
  if (rule.backend) return { kind: 'Ingress', namespace: rule.backend.namespace, name: rule.backend.ingress.metadata.name };
  const w = rule.written;
  return w ? { kind: w.writerKind, namespace: w.namespace, name: w.writer.metadata.name } : undefined;
}

/**
 * A TunnelBinding subject names a Service of its namespace that does not exist: the operator
 * writes `http_status:404` for the hostname (getConfigForSubject), so it answers 404.
 */
function missingSubjectService(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule): Problem | undefined {
  const w = rule.written;
  if (!w || w.writerKind !== 'TunnelBinding' || w.svc || !w.serviceRef || rule.service !== 'http_status:404') return undefined;
  const { namespace, name } = w.serviceRef;
  if (!model.servicesCollected(namespace) || model.incompleteFor('Service', [namespace])) return undefined;
  const why = [`no Service ${namespace}/${name} exists: the operator writes http_status:404 for ${w.hostname}`];
  const fixes: Fix[] = [];
  const similar = similarService(model, name, namespace);
  if (similar) {
    const port = similar.ports[0]?.port ?? 80;
    const fix = writtenRetargetFix(model, w, similar, port, [...why, `did you mean Service ${similar.namespace}/${similar.name}?`]);
    if (fix) fixes.push(fix);
  }
  const remove = writtenRemoveFix(model, w, [...why, 'if the backend is gone, drop the subject so the hostname is not served']);
  if (remove) fixes.push(remove);
  return {
    tunnel,
    rule,
    resource: { kind: 'TunnelBinding', namespace: w.namespace, name: w.writer.metadata.name },
    message: `${w.label} names Service ${namespace}/${name}, which does not exist: the operator writes http_status:404 for ${w.hostname}, so every request to it answers 404${similar ? ` (did you mean ${similar.namespace}/${similar.name}?)` : ''}.`,
    evidence: [...ruleEvidence(tunnel, rule), `Services in namespace ${namespace}: ${listing(model.services.filter((s) => s.namespace === namespace).map((s) => s.name)) || 'none'}`],
    fixes,
    namespaces: [namespace],
  };
}

interface Problem {
  tunnel: TunnelConfig;
  rule: TunnelRule;
  resource: ObjectRef;
  port?: number;
  message: string;
  evidence: string[];
  fixes: Fix[];
  namespaces: string[];
}

function missingService(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule, target: Extract<RuleTarget, { kind: 'no-service' }>): Problem | undefined {
  const { address, url } = target;
  if (!model.servicesCollected(address.namespace) || model.incompleteFor('Service', [address.namespace])) return undefined;
  const fixes: Fix[] = [];
  const similar = similarService(model, address.name, address.namespace);
  const why = [`no Service ${address.namespace}/${address.name} exists`];
  if (similar) {
    const port = url.port !== undefined && similar.ports.some((p) => p.port === url.port) ? url.port : (similar.ports[0]?.port ?? url.port ?? 80);
    fixes.push(retarget(model, tunnel, rule, similar, port, undefined, [...why, `did you mean Service ${similar.namespace}/${similar.name}?`]));
  }
  const remove = removeRuleFix(model, tunnel, rule, [...why, 'if the backend is gone, drop the rule so the hostname stops answering 502']);
  if (remove) fixes.push(remove);
  return {
    tunnel,
    rule,
    resource: writerRef(rule) ?? { kind: 'Service', namespace: address.namespace, name: address.name },
    ...(url.port !== undefined ? { port: url.port } : {}),
    message: `Tunnel ${ruleName({ tunnel, rule })} sends to Service ${address.namespace}/${address.name}, which does not exist${similar ? ` (did you mean ${similar.namespace}/${similar.name}?)` : ''}.`,
    evidence: [...ruleEvidence(tunnel, rule), `${url.host} read as ${address.form}: Service ${address.namespace}/${address.name}`, `Services in namespace ${address.namespace}: ${listing(model.services.filter((s) => s.namespace === address.namespace).map((s) => s.name)) || 'none'}`],
    fixes,
    namespaces: [address.namespace],
  };
}

function missingPort(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule, target: Extract<RuleTarget, { kind: 'no-port' }>): Problem {
  const { service: svc, url } = target;
  const fixes: Fix[] = [];
  const b = rule.backend;
  const byTarget = url.port !== undefined ? svc.ports.find((p) => (p.targetPort ?? p.port) === url.port) : undefined;
  // Ingress backends often name the container port (the Service's targetPort) instead of the Service port.
  const byName = b?.port.missingName ? svc.ports.find((p) => p.targetPort === b.port.missingName) : undefined;
  const candidate = byName ?? byTarget ?? (svc.ports.length === 1 ? svc.ports[0] : undefined);
  const lines: string[] = [];
  if (b?.port.missingName) lines.push(`${b.label} names backend port "${b.port.missingName}", which Service ${svc.namespace}/${svc.name} does not have: the operator silently writes port 80`);
  else if (url.port === undefined) lines.push(`${url.scheme}:// has no default port and the URL names none`);
  if (candidate) {
    const hint = candidate === byTarget || candidate === byName ? `${candidate.targetPort} is the target port of Service port ${candidate.port}: tunnel rules use the Service port` : `the Service's only port is ${candidate.port}`;
    fixes.push(retarget(model, tunnel, rule, svc, candidate.port, b?.port.missingName && candidate.name ? candidate.name : undefined, [...lines, hint]));
    lines.push(hint);
  }
  return {
    tunnel,
    rule,
    resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
    ...(url.port !== undefined ? { port: url.port } : {}),
    message: `Tunnel ${ruleName({ tunnel, rule })} sends to port ${url.port ?? '(none)'} of Service ${svc.namespace}/${svc.name}, which has no such port (ports: ${svc.ports.map(formatServicePort).join(', ') || 'none'})${candidate ? `; did you mean ${candidate.port}?` : ''}.`,
    evidence: [...ruleEvidence(tunnel, rule), ...lines, `Service ${svc.namespace}/${svc.name} ports: ${svc.ports.map((p) => `${formatServicePort(p)} → targetPort ${p.targetPort ?? p.port}`).join(', ') || 'none'}`],
    fixes,
    namespaces: [svc.namespace],
  };
}

/** An Ingress backend names a port the Service lacks, and the port 80 the operator falls back to exists: a silent misroute. */
function namedPortFallback(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule, target: Extract<RuleTarget, { kind: 'service' }>): Problem | undefined {
  const b = rule.backend;
  if (!b?.port.missingName) return undefined;
  const { service: svc, servicePort: sp } = target;
  const candidate = svc.ports.find((p) => p.targetPort === b.port.missingName) ?? (svc.ports.length === 1 ? svc.ports[0] : undefined);
  const why = `${b.label} names backend port "${b.port.missingName}", which Service ${svc.namespace}/${svc.name} does not have: the operator silently writes port 80`;
  return {
    tunnel,
    rule,
    resource: { kind: 'Ingress', namespace: b.namespace, name: b.ingress.metadata.name },
    port: sp.port,
    message: `${b.label} backend port "${b.port.missingName}" is not a port of Service ${svc.namespace}/${svc.name}: the operator falls back to port 80, so ${b.host}${b.path ? ` ${b.path}` : ''} reaches port ${formatServicePort(sp)} instead.`,
    evidence: [...ruleEvidence(tunnel, rule), why, `Service ${svc.namespace}/${svc.name} ports: ${svc.ports.map((p) => `${formatServicePort(p)} → targetPort ${p.targetPort ?? p.port}`).join(', ')}`],
    fixes: candidate && candidate !== sp ? [retarget(model, tunnel, rule, svc, candidate.port, candidate.name, [why, `${b.port.missingName} is the target port of Service port ${candidate.port}: name the Service port`])] : [],
    namespaces: [svc.namespace],
  };
}

/** Service selector labels of a workload in the Service's namespace that looks like its backend. */
function selectorFix(model: MeshModel, svc: ServiceView): Fix | undefined {
  const selector = svc.selector ?? {};
  const candidates = model.pods.filter(
    (p) => p.namespace === svc.namespace && !p.isCloudflared && ((p.owner?.name ?? p.name) === svc.name || Object.entries(selector).some(([k, v]) => p.labels[k] !== undefined && p.labels[k] !== v)),
  );
  const pod = candidates.find((p) => (p.owner?.name ?? p.name) === svc.name) ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!pod) return undefined;
  const labels = Object.fromEntries(Object.keys(selector).filter((k) => pod.labels[k] !== undefined).map((k) => [k, pod.labels[k] as string]));
  const next = Object.keys(labels).length ? labels : Object.fromEntries(Object.entries(pod.labels).filter(([k]) => k === 'app' || k === 'app.kubernetes.io/name'));
  if (Object.keys(next).length === 0) return undefined;
  // JSON merge patch: null removes the selector keys the workload does not carry.
  const patch: Record<string, string | null> = { ...Object.fromEntries(Object.keys(selector).map((k) => [k, null])), ...next };
  const doc = { apiVersion: svc.object.apiVersion, kind: 'Service', metadata: { name: svc.name, namespace: svc.namespace }, spec: { selector: patch } };
  const owner = pod.owner ? `${pod.owner.kind} ${pod.owner.namespace}/${pod.owner.name}` : describePod(pod);
  return mergePatchFix('Service', svc.namespace, svc.name, doc, `Select ${owner} from Service ${svc.namespace}/${svc.name}${where(model, svc.object)}`, [
    `the selector matches no pod; ${owner} carries ${Object.entries(next).map(([k, v]) => `${k}=${v}`).join(', ')}`,
  ]);
}

function noEndpoints(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule, target: Extract<RuleTarget, { kind: 'service' }>): Problem | undefined {
  const { service: svc, servicePort: sp } = target;
  // Without a selector the Endpoints are managed by hand (not collected): unknown, not missing.
  if (!svc.selector || svc.object.spec?.type === 'ExternalName' || model.incompleteFor('Pod', [svc.namespace])) return undefined;
  if (!model.servicesCollected(svc.namespace)) return undefined;
  const backends = model.backendsOf(svc);
  const ready = backends.filter((p) => p.ready);
  const withPort = ready.filter((p) => resolveTargetPort(sp, p).port !== undefined);
  if (withPort.length > 0) return undefined;
  const live = model.fromCluster;
  const selector = Object.entries(svc.selector).map(([k, v]) => `${k}=${v}`).join(',');
  let why: string;
  if (backends.length === 0) why = `no ${live ? 'pod' : 'pod or workload'} in ${svc.namespace} matches its selector ${selector}`;
  else if (ready.length === 0) why = `none of its pods is ready (${listing(backends.slice(0, 5).map(describePod))})`;
  else why = `no ready pod has a container port named "${String(sp.targetPort)}" (its targetPort): Kubernetes gives the port no endpoint`;
  if (!live && backends.length === 0 && !model.pods.some((p) => p.namespace === svc.namespace)) return undefined; // no workloads of that namespace in the input
  return {
    tunnel,
    rule,
    resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
    port: sp.port,
    message: `Tunnel ${ruleName({ tunnel, rule })} sends to Service ${svc.namespace}/${svc.name} port ${sp.port}, which has no ready endpoints: ${why}.`,
    evidence: [...ruleEvidence(tunnel, rule), `Service ${svc.namespace}/${svc.name} selector ${selector}`, `selected: ${listing(backends.slice(0, 8).map((p) => `${describePod(p)}${p.ready ? '' : ' (not ready)'}`)) || 'nothing'}`],
    fixes: backends.length === 0 ? [selectorFix(model, svc)].filter((f): f is Fix => f !== undefined) : [],
    namespaces: [svc.namespace],
  };
}

export const tm305: Rule = {
  meta: {
    code: 'TM305',
    name: 'tunnel-backend-missing',
    severity: 'error',
    summary: 'A tunnel rule targets a namespace/Service/port that does not exist, or a Service with no ready endpoints.',
    description:
      'cloudflared resolves the rule\'s host through cluster DNS and dials the port: a missing Service fails DNS, a port the Service lacks is refused, a Service without ready ' +
      'endpoints has nothing behind it. The Cloudflare operator writes the rule whatever the Service says: a named backend port the Service lacks silently becomes port 80; ' +
      'a TunnelBinding subject whose Service does not exist gets http_status:404; an HTTPRoute backend is written as it names it.',
    howToFix:
      'Point the rule (or the Ingress backend, TunnelBinding subject or HTTPRoute backendRef) at the Service and Service port that exist — tunnel rules use the Service port, not the target port — or remove it; ' +
      'for a Service without endpoints, make its selector match the pods and check that they are ready.',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const problems: Problem[] = [];
    for (const tunnel of model.tunnels) {
      for (const rule of tunnel.rules) {
        // The operator repeats a TunnelBinding's rules under every binding of its tunnel: judge the first copy.
        if (rule.written?.rule && rule.written.rule !== rule) continue;
        const target = resolveRuleTarget(model, tunnel, rule);
        const p =
          target.kind === 'special'
            ? missingSubjectService(model, tunnel, rule)
            : target.kind === 'no-service'
            ? missingService(model, tunnel, rule, target)
            : target.kind === 'no-port'
              ? missingPort(model, tunnel, rule, target)
              : target.kind === 'service'
                ? (namedPortFallback(model, tunnel, rule, target) ?? noEndpoints(model, tunnel, rule, target))
                : undefined;
        if (p) problems.push(p);
      }
    }
    return problems.map(
      (p): FindingDraft => ({
        resource: p.resource,
        ...(p.port !== undefined ? { port: p.port } : {}),
        message: p.message,
        symptom: SYMPTOM,
        evidence: p.evidence,
        fixes: p.fixes.map(rerouting),
        namespaces: [...new Set([...p.namespaces, p.tunnel.namespace, ...(p.rule.backend ? [p.rule.backend.namespace] : []), ...(p.rule.written ? [p.rule.written.namespace] : [])])],
        objects: [ruleObject(p.tunnel, p.rule)],
        edges: [ruleKey(p.tunnel, p.rule)],
      }),
    );
  },
};
