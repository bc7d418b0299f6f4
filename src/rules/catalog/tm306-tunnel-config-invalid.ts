// TM306: cloudflared would refuse the tunnel config (domain §9).

import { isCatchAll, serviceKind, validateRules, type ConfigProblem } from '../../model/cloudflared.js';
import { ruleKey } from '../../model/edges.js';
import type { MeshModel } from '../../model/model.js';
import { operatorPath } from '../../model/operator.js';
import type { IngressBackendView } from '../../model/operator-view.js';
import { declaredSpeech } from '../../model/protocol.js';
import type { WrittenRule } from '../../model/operator-sources.js';
import type { TunnelConfig } from '../../model/tunnels.js';
import { ruleEvidence, unique } from '../edge-hits.js';
import { backendPath, configMapEditFix, ingressRuleFix, ingressRulesFix, noH2cFix } from '../tunnel-fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { writtenChangeFix, writtenPathFix } from '../writer-fixes.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

const SYMPTOM_LOCAL = 'cloudflared refuses the config and does not start ("Couldn\'t start tunnel"; the pod restarts): every hostname of this tunnel is down';
const SYMPTOM_REMOTE =
  'the configuration update is refused: the tunnel keeps serving its previous configuration, so every change since (for every hostname of the tunnel) is not live';

/**
 * Repairs cloudflared's complaints that have an unambiguous repair, in a cloudflared YAML ingress
 * list. Only a rule cloudflared refuses is touched: every other rule keeps its origin as written.
 */
function repairYaml(ingress: Array<Record<string, unknown>>): string[] {
  const done: string[] = [];
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  for (const r of ingress) {
    const service = str(r.service);
    const originRequest = typeof r.originRequest === 'object' && r.originRequest !== null ? (r.originRequest as Record<string, unknown>) : undefined;
    if (service !== '' && serviceKind(service, originRequest).kind === 'invalid') {
      // scheme://host[:port] then the path cloudflared refuses (the same split as its URL parser).
      const url = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/?#:]+)(?::\d*)?)(\/[^?#]*)$/.exec(service);
      if (url && url[2]) {
        r.service = url[1];
        done.push(`${service}: path dropped (cloudflared proxies the request's own path), the origin stays ${url[1]}`);
      } else if (/^[a-z0-9.-]+:\d+$/i.test(service)) {
        r.service = `http://${service}`;
        done.push(`${service}: scheme http:// added`);
      } else if (/^http_status:/.test(service)) {
        r.service = 'http_status:404';
        done.push(`${service} → http_status:404`);
      }
    }
    const host = str(r.hostname);
    if (/^[^:[\]]+:\d+$/.test(host)) {
      r.hostname = host.replace(/:\d+$/, '');
      done.push(`hostname ${host}: port dropped`);
    }
  }
  const catchAll = (r: Record<string, unknown>) => isCatchAll({ ...(typeof r.hostname === 'string' ? { hostname: r.hostname } : {}), ...(typeof r.path === 'string' ? { path: r.path } : {}) });
  const early = ingress.slice(0, -1).filter(catchAll);
  if (early.length > 0) {
    for (const r of early) ingress.splice(ingress.indexOf(r), 1);
    const last = ingress.at(-1);
    if (!last || !catchAll(last)) ingress.push(early[0] as Record<string, unknown>);
    done.push('catch-all rule moved to the end (the rules after it were never reached)');
  }
  const last = ingress.at(-1);
  if (!last || !catchAll(last)) {
    ingress.push({ service: 'http_status:404' });
    done.push('catch-all rule `service: http_status:404` appended');
  }
  return done;
}

/** An Ingress path cloudflared cannot compile: its literal prefix, as a Prefix path. */
function ingressPathFix(model: MeshModel, b: IngressBackendView, why: string[]): Fix | undefined {
  const literal = (b.path ?? '').split(/[\\^$.|?*+()[\]{}]/)[0] ?? '';
  if (!literal.startsWith('/')) return undefined;
  return ingressRulesFix(
    model,
    b,
    (rules) => {
      const path = backendPath(rules, b);
      if (!path) return;
      path.path = literal;
      path.pathType = 'Prefix';
    },
    `Use the Prefix path ${literal} for ${b.host}`,
    [...why, `the operator copies ${b.pathType ?? 'ImplementationSpecific'} paths into a Go regexp; a Prefix path ${literal} becomes ${operatorPath(literal, 'Prefix')}`],
  );
}

function backendFix(model: MeshModel, b: IngressBackendView, problem: ConfigProblem, rulePath: string | undefined): Fix | undefined {
  if (problem.message.includes('invalid regex') && rulePath) return ingressPathFix(model, b, [problem.message]);
  if (problem.message.includes('invalid address') && b.service && b.port.servicePort) {
    const speech = declaredSpeech(b.port.servicePort).speech;
    if ((speech === 'grpc' || speech === 'http2') && b.service) return noH2cFix(model, b.service, b.port.servicePort, [b.host], speech === 'grpc' ? 'gRPC' : 'HTTP/2');
    const scheme = speech === 'https' || speech === 'tls' ? 'https' : 'http';
    return ingressRuleFix(model, b, { scheme }, [problem.message, `level ${b.chain?.level} (${b.chain?.source}) yields a scheme cloudflared cannot parse; a per-port annotation (level 2) overrides it`]);
  }
  return undefined;
}

/** A TunnelBinding subject carries its own path and protocol: repair them there. */
function writtenFix(model: MeshModel, w: WrittenRule, problem: ConfigProblem): Fix | undefined {
  if (w.writerKind !== 'TunnelBinding') return undefined;
  if (problem.message.includes('invalid regex') && w.path) {
    return writtenPathFix(model, w, [problem.message, 'without a path the subject takes every path of its hostname']);
  }
  if (problem.message.includes('invalid address') && w.servicePort) {
    const speech = declaredSpeech(w.servicePort).speech;
    return writtenChangeFix(model, w, { scheme: speech === 'https' || speech === 'tls' ? 'https' : 'http' }, [problem.message, `${w.protocol.source}: set the subject's protocol`]);
  }
  return undefined;
}

export const tm306: Rule = {
  meta: {
    code: 'TM306',
    name: 'tunnel-config-invalid',
    severity: 'error',
    summary: 'cloudflared would reject the config: no catch-all last, catch-all not last, bad wildcard, port in hostname, path or no scheme in a service URL, bad path regexp, bad http_status.',
    description:
      'cloudflared validates the whole ingress list before using any of it (ingress.go ParseIngress): the last rule must match everything, only the last may, hostnames take ' +
      'one leading *. wildcard and no port, URL services must pass Go\'s url.Parse (no space or other refused character in the host) with a scheme and a host and no path, ' +
      'paths must compile as Go (RE2) regexps — `(?i)` and `[[:alpha:]]` are valid, lookarounds and backreferences are not — and socks-proxy ipRules need valid CIDR prefixes; ' +
      'a rule with originRequest.bastionMode needs no service. A local config that fails stops cloudflared; ' +
      'a remote (operator) config that fails is refused and the previous one stays. The operator writes what its inputs give it: an appProtocol it does not map ' +
      '(kubernetes.io/grpc) becomes a URL without a scheme, an ImplementationSpecific path becomes a regexp.',
    howToFix:
      "Repair the rule cloudflared names: for a hand-written config the fix rewrites it (catch-all last, scheme added, path dropped); for an operator Ingress, set " +
      'cloudflare.com/protocol-<port> or change the path so the operator writes a valid rule.',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const tunnel of model.tunnels) {
      if (tunnel.refused) continue; // tunnelmesh would not read it: the notes say so, no claim about cloudflared
      const problems: ConfigProblem[] = [...tunnel.problems.map((message) => ({ message })), ...(tunnel.problems.length && tunnel.layout === 'operator-json' ? [] : validateRules(tunnel.rules, tunnel.originRequest))];
      if (problems.length === 0) continue;
      findings.push(...(tunnel.layout === 'cloudflared-yaml' ? yamlFindings(model, tunnel, problems) : operatorFindings(model, tunnel, problems)));
    }
    return findings;
  },
};

/** What cloudflared would still refuse in a repaired ingress list. */
function stillRefused(ingress: Array<Record<string, unknown>>, globalOriginRequest: Record<string, unknown> | undefined): ConfigProblem[] {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const rules = ingress.map((r, index) => {
    const hostname = str(r.hostname);
    const path = str(r.path);
    const originRequest = typeof r.originRequest === 'object' && r.originRequest !== null ? (r.originRequest as Record<string, unknown>) : undefined;
    return { index, service: str(r.service) ?? '', ...(hostname ? { hostname } : {}), ...(path ? { path } : {}), ...(originRequest ? { originRequest } : {}) };
  });
  return validateRules(rules, globalOriginRequest);
}

/**
 * A rule whose value only its author can choose (a host with a space, a CIDR out of range): the
 * fix says where and what, and is not applied blindly.
 */
function byHandFix(tunnel: TunnelConfig, problems: ConfigProblem[], repaired: string[]): Fix {
  const where = (p: ConfigProblem) => (p.index !== undefined && tunnel.rules[p.index] ? `rule #${p.index} (${tunnel.rules[p.index]?.hostname ?? '*'} → ${tunnel.rules[p.index]?.service || '(no service)'})` : 'the config');
  const lines = [
    `cloudflared refuses ${tunnel.label} (${tunnel.key}), and what it needs cannot be guessed: only the author knows the value meant`,
    ...problems.map((p) => `- ${where(p)}: ${p.message}`),
    ...(repaired.length ? ['these have a repair that keeps every origin, to make together with the above:', ...repaired.map((r) => `- ${r}`)] : []),
    `edit key ${tunnel.key} of ${tunnel.label}, then restart its cloudflared pods (cloudflared reads its config at start)`,
  ];
  return {
    title: `Correct ${problems.map(where).join(', ')} in ${tunnel.label} by hand`,
    yaml: lines.map((l) => `# ${l}\n`).join(''),
    apply: 'manual',
    manualReason: 'needs-a-choice',
  };
}

function yamlFindings(model: MeshModel, tunnel: TunnelConfig, problems: ConfigProblem[]): FindingDraft[] {
  // The comments are filled in by the edit, which runs before the fix's YAML is written.
  const why = ['cloudflared refuses the config as it is'];
  let repaired: string[] = [];
  let left: ConfigProblem[] = [];
  const repairFix = configMapEditFix(
    model,
    tunnel,
    (ingress) => {
      repaired = repairYaml(ingress);
      left = stillRefused(ingress, tunnel.originRequest);
      why.push(...repaired.map((d) => `repaired: ${d}`));
    },
    'Repair the ingress rules',
    why,
  );
  // A repair that leaves a rule cloudflared still refuses would not fix the config: say what to do by hand instead.
  const fix = repairFix && left.length === 0 && repaired.length > 0 ? repairFix : left.length > 0 || repaired.length === 0 ? byHandFix(tunnel, left.length ? left : problems, repaired) : undefined;
  const cm = tunnel.configMap;
  return [
    {
      resource: { kind: 'ConfigMap', namespace: tunnel.namespace, name: cm?.metadata.name ?? tunnel.label },
      message: `cloudflared refuses ${tunnel.label} (${tunnel.key}): ${problems.map((p) => p.message).join('; ')}.`,
      symptom: tunnel.connectors.length ? SYMPTOM_LOCAL : `${SYMPTOM_LOCAL} (no cloudflared pod in the input mounts it)`,
      evidence: [
        ...problems.map((p) => (p.index !== undefined && tunnel.rules[p.index] ? `rule #${p.index} (${tunnel.rules[p.index]?.hostname ?? '*'} → ${tunnel.rules[p.index]?.service}): ${p.message}` : p.message)),
        `connectors: ${tunnel.connectorEvidence}`,
      ],
      fixes: fix ? [fix] : [],
      namespaces: [tunnel.namespace],
      objects: [tunnel.object],
      edges: tunnel.rules.map((r) => ruleKey(tunnel, r)),
    },
  ];
}

function operatorFindings(model: MeshModel, tunnel: TunnelConfig, problems: ConfigProblem[]): FindingDraft[] {
  const bySource = new Map<string, ConfigProblem[]>();
  for (const p of problems) {
    const r = p.index !== undefined ? tunnel.rules[p.index] : undefined;
    const key = r?.backend?.label ?? r?.written?.label ?? tunnel.label;
    bySource.set(key, [...(bySource.get(key) ?? []), p]);
  }
  const remote = tunnel.layout === 'operator-json' || tunnel.layout === 'operator-predicted';
  const findings: FindingDraft[] = [];
  for (const [, list] of bySource) {
    const rules = unique(list.map((p) => (p.index !== undefined ? tunnel.rules[p.index] : undefined)).filter((r) => r !== undefined));
    const b = rules[0]?.backend;
    const w = b ? undefined : rules[0]?.written;
    const fixes = b
      ? unique(list.map((p) => backendFix(model, b, p, tunnel.rules[p.index ?? -1]?.path)).filter((f): f is Fix => f !== undefined))
      : w
        ? unique(list.map((p) => writtenFix(model, w, p)).filter((f): f is Fix => f !== undefined))
        : [];
    const from = b?.label ?? w?.label;
    findings.push({
      resource: b
        ? { kind: 'Ingress', namespace: b.namespace, name: b.ingress.metadata.name }
        : w
          ? { kind: w.writerKind, namespace: w.namespace, name: w.writer.metadata.name }
          : { kind: tunnel.object.kind, namespace: tunnel.namespace, name: tunnel.object.metadata.name },
      ...(b ? { port: b.port.port } : w?.serviceRef?.port !== undefined ? { port: w.serviceRef.port } : {}),
      message: `cloudflared refuses ${tunnel.predicted ? `the config the operator writes for ${tunnel.label}` : tunnel.label}${from ? ` because of the rule it builds from ${from}` : ''}: ${list.map((p) => p.message).join('; ')}.`,
      symptom: remote ? SYMPTOM_REMOTE : SYMPTOM_LOCAL,
      evidence: [...rules.flatMap((r) => ruleEvidence(tunnel, r)), ...list.map((p) => `cloudflared: ${p.message}`), ...(tunnel.syncStatus ? [`syncStatus: ${tunnel.syncStatus}`] : [])],
      fixes,
      namespaces: unique([tunnel.namespace, ...(b ? [b.namespace] : []), ...(w ? [w.namespace] : [])]),
      objects: [b?.ingress ?? w?.writer ?? tunnel.object],
      edges: rules.map((r) => ruleKey(tunnel, r)),
    });
  }
  return findings;
}
