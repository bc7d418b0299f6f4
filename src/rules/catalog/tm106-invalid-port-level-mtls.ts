// TM106: a PeerAuthentication Istio rejects or ignores: portLevelMtls without a selector, a
// selector in the root namespace, an empty portLevelMtls map, or a key that is not a port.

import { objectsOfKind } from '../../core/snapshot.js';
import { refOf, type PeerAuthentication } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import { formatSelector, hasSelector, isValidPortKey, paName, podsSelectedBy, scopeOf } from '../../model/peerauth.js';
import { appContainers } from '../../model/ports.js';
import type { PodView } from '../../model/pods.js';
import { groupByWorkload, describeGroup } from '../../model/workloads.js';
import { listing, unique } from '../edge-hits.js';
import { createFix, deleteStep, editFix, peerAuthPortsFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

type PortLevel = Record<string, { mode?: string }>;

/** A port name used as a key, resolved through the selected pods' container port names. */
function portByName(name: string, pods: PodView[]): number | undefined {
  for (const p of pods) {
    for (const c of appContainers(p.spec)) {
      const hit = c.ports?.find((cp) => cp.name === name);
      if (hit) return hit.containerPort;
    }
  }
  return undefined;
}

function withoutPortLevel(pa: PeerAuthentication): void {
  delete pa.spec.portLevelMtls;
}

export const tm106: Rule = {
  meta: {
    code: 'TM106',
    name: 'invalid-port-level-mtls',
    severity: 'error',
    summary:
      'A PeerAuthentication Istio rejects or ignores: portLevelMtls without a selector, a selector in the root namespace, an empty portLevelMtls, or a key that is not a port number.',
    description:
      'portLevelMtls is read only from workload-level policies (a selector with matchLabels, outside the root namespace); Istio\'s validation rejects it on a ' +
      'namespace-wide or mesh-wide policy, and where such an object got in anyway its port settings do nothing. A policy with a selector in the root namespace ' +
      'is ignored as a whole. The CRD requires portLevelMtls keys 1-65535 and at least one entry. The policy looks applied and does nothing.',
    howToFix:
      'Put port settings into a workload PeerAuthentication (selector.matchLabels of the pods, in their namespace, keyed by the target/container port); ' +
      'move workload policies out of the root namespace; remove empty maps and non-numeric keys.',
    inputs: ['PeerAuthentication', 'Pod', 'Deployment', 'ConfigMap'],
  },
  check({ model }) {
    const root = model.mesh.rootNamespace;
    const findings: FindingDraft[] = [];
    for (const pa of objectsOfKind(model.snapshot, 'PeerAuthentication')) {
      const ns = pa.metadata.namespace as string;
      const scope = scopeOf(pa, root);
      const portLevel: PortLevel | undefined = pa.spec?.portLevelMtls;
      const problems: string[] = [];
      const evidence: string[] = [];
      const fixes: Fix[] = [];
      const name = paName(pa);
      if (scope === 'ignored') {
        problems.push(`it has a selector (${formatSelector(pa)}) but lives in the root namespace ${root}, where Istio ignores policies with a selector: the whole policy does nothing`);
        evidence.push(`mesh root namespace: ${root} (${model.mesh.defaulted ? "Istio's default" : model.mesh.source})`);
        fixes.push(...moveOutOfRoot(model, pa));
      }
      if (portLevel !== undefined && !hasSelector(pa)) {
        const scopeText = scope === 'mesh' ? 'mesh-wide' : 'namespace-wide';
        problems.push(`it sets portLevelMtls without a selector: Istio's validation rejects that, and a ${scopeText} policy's port settings are never applied`);
        evidence.push(`no spec.selector.matchLabels: the policy is ${scopeText} (${ns === root ? `root namespace ${root}` : `namespace ${ns}`})`);
        fixes.push(
          editFix(model, pa, withoutPortLevel, `Remove portLevelMtls from ${name}`, [
            `keeps its ${scopeText} mode and drops the port settings Istio rejects`,
            'to keep the port settings, apply the workload PeerAuthentication that follows as well',
          ]),
        );
        fixes.push(...workloadPolicies(model, pa, portLevel ?? {}));
      }
      if (portLevel !== undefined && Object.keys(portLevel).length === 0 && hasSelector(pa)) {
        problems.push('its portLevelMtls is empty: the CRD requires at least one port');
        fixes.push(editFix(model, pa, withoutPortLevel, `Remove the empty portLevelMtls from ${name}`, ['an empty map is rejected; without it the policy is valid']));
      }
      const badKeys = Object.keys(portLevel ?? {}).filter((k) => !isValidPortKey(k));
      if (badKeys.length && hasSelector(pa) && scope !== 'ignored') {
        const selected = podsSelectedBy(pa, model.podsIn(ns));
        const renames = new Map(badKeys.map((k) => [k, portByName(k, selected)]));
        problems.push(`its portLevelMtls key${badKeys.length === 1 ? '' : 's'} ${listing(badKeys.map((k) => `"${k}"`))} ${badKeys.length === 1 ? 'is' : 'are'} not a port number 1-65535`);
        for (const [k, port] of renames) if (port !== undefined) evidence.push(`"${k}" is the name of container port ${port} of the selected pods: portLevelMtls takes the number`);
        fixes.push(
          editFix(
            model,
            pa,
            (copy) => {
              const next: PortLevel = {};
              for (const [k, v] of Object.entries(copy.spec.portLevelMtls ?? {})) {
                const port = renames.get(k);
                if (isValidPortKey(k)) next[k] ??= v;
                else if (port !== undefined) next[String(port)] = v;
              }
              if (Object.keys(next).length) copy.spec.portLevelMtls = next;
              else delete copy.spec.portLevelMtls;
            },
            `Key portLevelMtls of ${name} by port number`,
            ['portLevelMtls keys are target (container) port numbers; named keys are replaced by the number where the pods name that port, else removed'],
          ),
        );
      }
      if (problems.length === 0) continue;
      findings.push({
        resource: { kind: 'PeerAuthentication', namespace: ns, name: pa.metadata.name },
        message: `${name}: ${problems.join('; ')}.`,
        symptom: 'the mTLS mode you configured for those ports (or pods) is not the one in force; kubectl apply may fail with a validation error',
        evidence: [`${name}${model.positionOf(pa) ? ` (${model.positionOf(pa)?.file}:${model.positionOf(pa)?.line})` : ''}: selector ${formatSelector(pa) || 'none'}, mtls ${pa.spec?.mtls?.mode ?? 'UNSET'}, portLevelMtls ${JSON.stringify(portLevel ?? null)}`, ...evidence],
        fixes,
        objects: [pa],
      });
    }
    return findings;
  },
};

/** The policy recreated in each namespace whose pods it selects (Istio reads selectors only there). */
function moveOutOfRoot(model: MeshModel, pa: PeerAuthentication): Fix[] {
  const selected = model.pods.filter((p) => p.namespace !== pa.metadata.namespace && podsSelectedBy(pa, [p]).length > 0);
  const namespaces = unique(selected.map((p) => p.namespace)).slice(0, 3);
  return namespaces.map((ns) => {
    const groups = groupByWorkload(selected.filter((p) => p.namespace === ns));
    return createFix(
      `Move ${paName(pa)} to namespace ${ns}`,
      [`in ${ns} the selector applies to ${listing(groups.map((g) => describeGroup(g)))}`, 'the copy in the root namespace is ignored: delete it'],
      { apiVersion: pa.apiVersion, kind: 'PeerAuthentication', metadata: { name: pa.metadata.name, namespace: ns }, spec: structuredClone(pa.spec) },
      { steps: [deleteStep(refOf(pa))] },
    );
  });
}

/** For a namespace-wide policy's port settings: the workload policies of the pods that listen on those ports. */
function workloadPolicies(model: MeshModel, pa: PeerAuthentication, portLevel: PortLevel): Fix[] {
  const ns = pa.metadata.namespace as string;
  const ports = Object.keys(portLevel).filter(isValidPortKey);
  const fixes: Fix[] = [];
  for (const group of groupByWorkload(model.podsIn(ns))) {
    const pod = group.pods[0] as PodView;
    const listens = new Set(appContainers(pod.spec).flatMap((c) => (c.ports ?? []).map((p) => String(p.containerPort))));
    const mine = ports.filter((p) => listens.has(p));
    if (mine.length === 0) continue;
    const inForce = model.peerAuth.workloadPolicies(ns, pod.labels)[0];
    const why = `carries port${mine.length === 1 ? '' : 's'} ${listing(mine)} of ${paName(pa)} into a workload policy of ${group.workload.kind} ${ns}/${group.workload.name}, where Istio reads portLevelMtls`;
    fixes.push(peerAuthPortsFix(model, pod, Object.fromEntries(mine.map((p) => [p, portLevel[p] ?? {}])), inForce, undefined, why));
  }
  return fixes.slice(0, 5);
}
