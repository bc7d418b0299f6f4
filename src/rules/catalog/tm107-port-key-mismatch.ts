// TM107: a port-level setting keyed by the wrong one of the three port numbers (domain §7):
// a PeerAuthentication portLevelMtls key that no selected pod listens on (the Service port was
// used), or a DestinationRule portLevelSettings port the host's Service does not have (the
// target port was used). Either way the setting matches nothing.

import { objectsOfKind } from '../../core/snapshot.js';
import { drName, portLevelEntries } from '../../model/destinationrule.js';
import type { DestinationRule, PeerAuthentication, TrafficPolicy } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import { isValidPortKey, paName, podsSelectedBy, scopeOf } from '../../model/peerauth.js';
import { appContainers, knownPodPorts, type KnownPort } from '../../model/ports.js';
import { resolveTargetPort, type ServiceView } from '../../model/services.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { listing, unique } from '../edge-hits.js';
import { editFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

const SYMPTOM = 'the setting silently matches nothing: the port keeps the mode it had without it';

export const tm107: Rule = {
  meta: {
    code: 'TM107',
    name: 'port-key-mismatch',
    severity: 'error',
    summary:
      'A PeerAuthentication portLevelMtls key is not a port of the pods it selects (typically the Service port was used), or a DestinationRule portLevelSettings port is not a port of its Service (typically the target port was used).',
    description:
      'PeerAuthentication portLevelMtls is keyed by the target (container) port; DestinationRule portLevelSettings by the Service port. ' +
      'With a Service mapping port 80 to targetPort 8080, `portLevelMtls: {80: …}` and `portLevelSettings: [{port: {number: 8080}}]` both match nothing, and the port keeps its old mTLS behaviour. ' +
      'A portLevelMtls key that no selected pod declares, with no Service port to explain it, is reported as a warning: the application may listen there without declaring it.',
    howToFix: 'Key PeerAuthentication portLevelMtls by the container port and DestinationRule portLevelSettings by the Service port; the finding names the number that would have matched.',
    inputs: ['PeerAuthentication', 'DestinationRule', 'Service', 'Pod', 'Deployment'],
  },
  check({ model }) {
    return [...peerAuthFindings(model), ...destinationRuleFindings(model)];
  },
};

function peerAuthFindings(model: MeshModel): FindingDraft[] {
  const findings: FindingDraft[] = [];
  for (const pa of objectsOfKind(model.snapshot, 'PeerAuthentication')) {
    const ns = pa.metadata.namespace as string;
    // Policies without a selector or in the root namespace are TM106's.
    if (scopeOf(pa, model.mesh.rootNamespace) !== 'workload') continue;
    const keys = Object.keys(pa.spec?.portLevelMtls ?? {}).filter(isValidPortKey);
    if (keys.length === 0 || !model.covers('Pod', ns)) continue;
    const selected = podsSelectedBy(pa, model.podsIn(ns));
    if (selected.length === 0) continue; // TM405
    const known: KnownPort[] = selected.flatMap((p) => knownPodPorts(p, model.servicesOf(p)));
    if (known.length === 0) continue; // no port declared anywhere: nothing to compare with
    const listening = new Set(known.map((k) => k.port));
    const services = unique(selected.flatMap((p) => model.servicesOf(p)));
    const groups = groupByWorkload(selected);
    // Without a Service port to blame, only a complete declaration (every container lists its
    // ports) makes "no pod listens there" a fact rather than an undeclared port.
    const declaredCompletely = selected.every((p) => appContainers(p.spec).every((c) => (c.ports?.length ?? 0) > 0));
    for (const key of keys) {
      const port = Number(key);
      if (listening.has(port)) continue;
      const meant = serviceTargets(services, port, selected);
      if (meant.length === 0 && !declaredCompletely) continue;
      const would = unique(meant.map((m) => m.target));
      const where = meant.map((m) => `Service ${m.svc.namespace}/${m.svc.name} maps port ${port} to targetPort ${m.target}`);
      const fixes: Fix[] = [];
      if (would.length === 1) fixes.push(rekeyPeerAuth(model, pa, key, String(would[0])));
      findings.push({
        resource: { kind: 'PeerAuthentication', namespace: ns, name: pa.metadata.name },
        port,
        // Without a Service port to explain the key, an undeclared open port cannot be ruled out.
        ...(meant.length ? {} : { severity: 'warning' as const }),
        message:
          `${paName(pa)} sets portLevelMtls for port ${port}, which is not a port of the pods it selects (${listing(groups.map((g) => describeGroup(g)))}): it matches nothing.` +
          (would.length ? ` portLevelMtls takes the target port: ${listing(would.map(String))} would have matched (${listing(where)}).` : ` No selected pod declares it (their known ports: ${listing(unique(known.map((k) => String(k.port))))}); if the application listens there undeclared, declare the containerPort.`),
        symptom: SYMPTOM,
        evidence: [
          `${paName(pa)} portLevelMtls ${port}: ${pa.spec.portLevelMtls?.[key]?.mode ?? 'UNSET'}`,
          ...unique(known.map((k) => `port ${k.port}: ${k.via}`)).slice(0, 12),
          'PeerAuthentication portLevelMtls is keyed by the target (container) port, not the Service port',
        ],
        fixes,
        namespaces: [ns],
        objects: [pa, ...services.map((s) => s.object)],
        field: { path: ['spec', 'portLevelMtls', key] },
      });
    }
  }
  return findings;
}

/** Services whose port `port` reaches a different target port on the pods. */
function serviceTargets(services: ServiceView[], port: number, pods: ReturnType<MeshModel['podsIn']>): Array<{ svc: ServiceView; target: number }> {
  const out: Array<{ svc: ServiceView; target: number }> = [];
  for (const svc of services) {
    const sp = svc.ports.find((p) => p.port === port);
    if (!sp) continue;
    for (const pod of pods) {
      const tp = resolveTargetPort(sp, pod);
      if (tp.port !== undefined && tp.port !== port && !out.some((o) => o.svc === svc && o.target === tp.port)) out.push({ svc, target: tp.port });
    }
  }
  return out;
}

function rekeyPeerAuth(model: MeshModel, pa: PeerAuthentication, from: string, to: string): Fix {
  return editFix(
    model,
    pa,
    (copy) => {
      const map = { ...(copy.spec.portLevelMtls ?? {}) };
      const setting = map[from];
      delete map[from];
      if (map[to] === undefined && setting) map[to] = setting;
      copy.spec.portLevelMtls = map;
    },
    `Key portLevelMtls by target port ${to} instead of ${from} in ${paName(pa)}`,
    [`portLevelMtls uses the target (container) port: ${from} is the Service port, the pods listen on ${to}`],
  );
}

function destinationRuleFindings(model: MeshModel): FindingDraft[] {
  const findings: FindingDraft[] = [];
  for (const { rule, host, service: svc } of model.ruleTargets()) {
    const ns = rule.metadata.namespace as string;
    if (!svc) continue; // TM401 (unknown host) or a ServiceEntry host
    const servicePorts = new Set(svc.ports.map((p) => p.port));
    const backends = model.backendsOf(svc);
    for (const port of unique(portLevelEntries(rule).map((e) => e.port))) {
      if (servicePorts.has(port)) continue;
      const entries = portLevelEntries(rule).filter((e) => e.port === port);
      const meant = svc.ports.filter((sp) => {
        if (typeof sp.targetPort === 'number' || (typeof sp.targetPort === 'string' && /^\d+$/.test(sp.targetPort))) return Number(sp.targetPort) === port;
        return backends.some((pod) => resolveTargetPort(sp, pod).port === port);
      });
      const fixes: Fix[] = [];
      const first = meant[0];
      if (meant.length === 1 && first) fixes.push(rekeyDestinationRule(model, rule, port, first.port));
      findings.push({
        resource: { kind: 'DestinationRule', namespace: ns, name: rule.metadata.name },
        port,
        message:
          `${drName(rule)} sets portLevelSettings for port ${port}, which Service ${svc.namespace}/${svc.name} does not have: it matches nothing.` +
          (meant.length
            ? ` portLevelSettings takes the Service port: ${listing(meant.map((m) => String(m.port)))} would have matched (it maps to targetPort ${port}).`
            : ` The Service's ports: ${listing(svc.ports.map((p) => String(p.port)))}.`),
        symptom: SYMPTOM,
        evidence: [
          ...entries.map((e) => `${drName(rule)} ${e.where}.portLevelSettings[port ${port}] (host ${host})`),
          `Service ${svc.namespace}/${svc.name} ports: ${svc.ports.map((p) => `${p.port} → targetPort ${p.targetPort ?? p.port}`).join(', ')}`,
          'DestinationRule portLevelSettings is keyed by the Service port, not the target port',
        ],
        fixes,
        namespaces: unique([ns, svc.namespace]),
        objects: [rule, svc.object],
        field: { path: topLevelPortEntryPath(rule, port) },
      });
    }
  }
  return findings;
}

/** The first `portLevelSettings` entry for the port (top level, else a subset's). */
function topLevelPortEntryPath(rule: DestinationRule, port: number): Array<string | number> {
  const top = (rule.spec.trafficPolicy?.portLevelSettings ?? []).findIndex((x) => x.port?.number === port);
  if (top >= 0) return ['spec', 'trafficPolicy', 'portLevelSettings', top, 'port', 'number'];
  for (const [i, subset] of (rule.spec.subsets ?? []).entries()) {
    const at = (subset.trafficPolicy?.portLevelSettings ?? []).findIndex((x) => x.port?.number === port);
    if (at >= 0) return ['spec', 'subsets', i, 'trafficPolicy', 'portLevelSettings', at, 'port', 'number'];
  }
  return ['spec', 'trafficPolicy', 'portLevelSettings'];
}

function rekeyDestinationRule(model: MeshModel, rule: DestinationRule, from: number, to: number): Fix {
  const rekey = (policy: TrafficPolicy | undefined): void => {
    const settings = policy?.portLevelSettings;
    if (!policy || !settings) return;
    const taken = settings.some((s) => s.port?.number === to);
    policy.portLevelSettings = taken ? settings.filter((s) => s.port?.number !== from) : settings.map((s) => (s.port?.number === from ? { ...s, port: { ...s.port, number: to } } : s));
  };
  return editFix(
    model,
    rule,
    (copy) => {
      rekey(copy.spec.trafficPolicy);
      for (const subset of copy.spec.subsets ?? []) rekey(subset.trafficPolicy);
    },
    `Key portLevelSettings by Service port ${to} instead of ${from} in ${drName(rule)}`,
    [`portLevelSettings uses the Service port: ${from} is the target port behind Service port ${to}`],
  );
}
