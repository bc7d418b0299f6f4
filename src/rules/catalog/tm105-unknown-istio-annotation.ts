// TM105: an istio.io-domain annotation or label that Istio does not read where it is written:
// an unknown key (seed 000's `traffic.istio.io/excludeInboundPorts`), a label written as an
// annotation or the reverse, or a pod-level key on the workload's own metadata.

import { ISTIO_ANNOTATIONS, ISTIO_LABELS, type IstioKey } from '../../model/istio-keys.js';
import { refOf, type KObject, type StringMap, type Workload } from '../../core/k8s.js';
import { ANNOTATION, invalidCaptureAnnotations } from '../../model/capture.js';
import type { MeshModel } from '../../model/model.js';
import type { PodView } from '../../model/pods.js';
import { resolveTargetPort } from '../../model/services.js';
import { repairedValue } from './tm108-invalid-capture-annotation.js';
import { isWorkloadKind } from '../../core/kinds.js';
import { editDistance } from '../../model/text.js';
import { bundled, destinationRuleTlsFix, removeFieldStep, stepComments } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { withComments } from '../yaml.js';
import { APP_NAMESPACE, gateway, GATEWAY_SERVICE, manifests } from '../examples.js';

type Where = 'annotation' | 'label';

const KNOWN: Record<Where, Map<string, IstioKey>> = {
  annotation: new Map(ISTIO_ANNOTATIONS.map((k) => [k.name, k])),
  label: new Map(ISTIO_LABELS.map((k) => [k.name, k])),
};

export function isIstioDomainKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const domain = key.slice(0, slash);
  return domain === 'istio.io' || domain.endsWith('.istio.io');
}

/** The real key meant: same name after the slash (any case), else the closest spelling. */
export function didYouMean(key: string, where: Where): IstioKey | undefined {
  const name = key.slice(key.indexOf('/') + 1).toLowerCase();
  const candidates = [...KNOWN[where].values()].filter((k) => !k.hidden);
  const sameName = candidates.filter((k) => k.name.slice(k.name.indexOf('/') + 1).toLowerCase() === name);
  if (sameName.length) return sameName.sort((a, b) => editDistance(key, a.name) - editDistance(key, b.name))[0];
  let best: IstioKey | undefined;
  let bestDistance = Infinity;
  for (const k of candidates) {
    const d = editDistance(key.toLowerCase(), k.name.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best && bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

/** What ignoring this key means for traffic, when it matters. */
function consequence(meant: IstioKey | undefined, value: string): string {
  switch (meant?.name) {
    case 'traffic.sidecar.istio.io/excludeInboundPorts':
      return `ports ${value} stay captured by the sidecar, so Istio terminates mTLS for them and meshed clients work end to end; if they were meant to bypass the sidecar, that is not happening`;
    case 'traffic.sidecar.istio.io/includeInboundPorts':
      return 'every inbound port stays captured';
    case 'traffic.sidecar.istio.io/excludeOutboundPorts':
    case 'traffic.sidecar.istio.io/excludeOutboundIPRanges':
    case 'traffic.sidecar.istio.io/includeOutboundIPRanges':
      return 'outbound traffic stays captured as by default';
    case 'sidecar.istio.io/inject':
      return 'injection is decided without it (namespace labels only)';
    case 'proxy.istio.io/config':
      return 'the proxy runs with the mesh defaults (e.g. no holdApplicationUntilProxyStarts)';
    default:
      return 'the setting has no effect';
  }
}

interface Carrier {
  /** The object findings name (a workload for pod templates). */
  object: KObject;
  /** `pod template of`, `metadata of` … for messages. */
  place: string;
  /** Istio resource type the keys here apply to. */
  resource: string;
  annotations: StringMap;
  labels: StringMap;
  template: boolean;
}

/**
 * Where users write Istio settings. Istio's own installer labels its ConfigMaps, webhooks and
 * Deployments with keys of its own (operator.istio.io/…), so other kinds are not judged.
 */
const JUDGED_KINDS = new Set(['Pod', 'Service', 'Namespace', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);

function carriers(o: KObject): Carrier[] {
  if (!JUDGED_KINDS.has(o.kind)) return [];
  const out: Carrier[] = [
    { object: o, place: 'metadata', resource: o.kind, annotations: o.metadata.annotations ?? {}, labels: o.metadata.labels ?? {}, template: false },
  ];
  if (isWorkloadKind(o.kind)) {
    const w = o as Workload;
    const t = o.kind === 'CronJob' ? w.spec?.jobTemplate?.spec?.template : w.spec?.template;
    if (t) out.push({ object: o, place: 'pod template', resource: 'Pod', annotations: t.metadata?.annotations ?? {}, labels: t.metadata?.labels ?? {}, template: true });
  }
  return out;
}

/** A Pod created by a workload repeats the template's keys: report the workload once. */
function ownedByWorkloadInInput(o: KObject, all: Set<string>): boolean {
  const owner = o.metadata.ownerReferences?.[0];
  if (!owner) return false;
  if (all.has(`${owner.kind}/${o.metadata.namespace}/${owner.name}`)) return true;
  // ReplicaSet name = <deployment>-<pod-template-hash>
  const hash = o.metadata.labels?.['pod-template-hash'];
  return owner.kind === 'ReplicaSet' && !!hash && all.has(`Deployment/${o.metadata.namespace}/${owner.name.slice(0, -hash.length - 1)}`);
}

function appliesTo(k: IstioKey, resource: string): boolean {
  return k.resources.length === 0 || k.resources.includes('Any') || k.resources.includes(resource);
}

export const tm105: Rule = {
  meta: {
    code: 'TM105',
    name: 'unknown-istio-annotation',
    severity: 'warning',
    summary:
      "An annotation or label key under an istio.io domain that Istio does not read there: unknown (e.g. traffic.istio.io/excludeInboundPorts), a label written as an annotation, or a pod key on a workload's own metadata.",
    description:
      'Istio ignores keys it does not define, silently. A misspelled capture annotation leaves the port captured; a pod annotation on the Deployment\'s ' +
      'metadata instead of its pod template never reaches the pod. The config looks right and does nothing.',
    howToFix: 'Use the real key, as an annotation or label as Istio reads it, on the pod template (spec.template.metadata) for pod settings.',
    inputs: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Service', 'Namespace'],
    example: {
      description: 'The gateway\'s pod template carries traffic.istio.io/excludeInboundPorts, a key Istio does not define (the real one is traffic.sidecar.istio.io/excludeInboundPorts).',
      manifests: manifests(APP_NAMESPACE, gateway('traffic.istio.io/excludeInboundPorts'), GATEWAY_SERVICE),
    },
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    const keys = new Set(model.snapshot.objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`));
    for (const o of model.snapshot.objects) {
      if (o.kind === 'Pod' && ownedByWorkloadInInput(o, keys)) continue;
      if (o.kind === 'ReplicaSet' && o.metadata.ownerReferences?.length) continue;
      for (const c of carriers(o)) {
        for (const where of ['annotation', 'label'] as const) {
          const map = where === 'annotation' ? c.annotations : c.labels;
          for (const [key, value] of Object.entries(map)) {
            if (!isIstioDomainKey(key)) continue;
            const finding = judgeKey(model, model.positionOf(o), c, where, key, value);
            if (finding) findings.push(finding);
          }
        }
      }
    }
    return findings;
  },
};

function judgeKey(model: MeshModel, position: { file: string; line: number } | undefined, c: Carrier, where: Where, key: string, value: string): FindingDraft | undefined {
  const other: Where = where === 'annotation' ? 'label' : 'annotation';
  const known = KNOWN[where].get(key);
  // Labels such as istio.io/rev mark many kinds; only a pod key on a workload's own metadata is a clear mistake.
  if (known && (appliesTo(known, c.resource) || (where === 'label' && !(isWorkloadKind(c.object.kind) && !c.template)))) return undefined;
  const ref = refOf(c.object);
  const placeText = `${c.place} of ${c.object.kind} ${c.object.metadata.namespace ? `${c.object.metadata.namespace}/` : ''}${c.object.metadata.name}`;
  let problem: string;
  let meant: IstioKey | undefined;
  let moveTo: { where: Where; template: boolean } | undefined;
  if (known) {
    // A pod-level key on the workload's own metadata: it belongs on the pod template.
    if (!c.template && isWorkloadKind(c.object.kind) && appliesTo(known, 'Pod')) {
      problem = `${where} ${key} is on the ${placeText}, where Istio does not read it: it applies to pods, so it belongs on spec.template.metadata`;
      meant = known;
      moveTo = { where, template: true };
    } else {
      problem = `${where} ${key} applies to ${known.resources.join(', ')}, not to a ${c.resource}: Istio ignores it on the ${placeText}`;
      meant = known;
    }
  } else if (KNOWN[other].has(key) && appliesTo(KNOWN[other].get(key) as IstioKey, c.resource)) {
    meant = KNOWN[other].get(key);
    problem = `${key} is an Istio ${other}, written here as a${where === 'annotation' ? 'n' : ''} ${where}: Istio ignores it on the ${placeText}`;
    moveTo = { where: other, template: c.template };
  } else {
    meant = didYouMean(key, where);
    problem = `${where} ${key} on the ${placeText} is not an Istio ${where}${meant ? `; did you mean ${meant.name}?` : ''} Istio ignores it`;
    if (meant) moveTo = { where, template: c.template };
  }
  const effect = consequence(meant, value);
  const evidence = [`${where} ${key}: "${value}" on the ${placeText}${position ? ` (${position.file}:${position.line})` : ''}`];
  if (meant) evidence.push(`Istio's ${meant.kind} ${meant.name} applies to ${meant.resources.join(', ') || 'any resource'}${meant.deprecated ? ' (deprecated)' : ''}`);
  evidence.push(`consequence: ${effect}`);
  const fixes: Fix[] = [];
  if (meant && moveTo) fixes.push(renameFix(model, c, where, key, value, meant.name, moveTo, position));
  const metadataPath = c.template ? [...(c.object.kind === 'CronJob' ? ['spec', 'jobTemplate'] : []), 'spec', 'template', 'metadata'] : ['metadata'];
  return {
    resource: ref,
    message: `${problem}; ${effect}.`,
    evidence,
    fixes,
    objects: [c.object],
    field: { path: [...metadataPath, where === 'annotation' ? 'annotations' : 'labels', key] },
  };
}

/** The pods a carrier's keys reach: its own (a Pod), or those of the workload (running or predicted from its template). */
function podsOf(model: MeshModel, o: KObject): PodView[] {
  return model.pods.filter((p) => p.object === o || (p.owner?.kind === o.kind && p.owner.name === o.metadata.name && p.namespace === o.metadata.namespace));
}

/**
 * Writing the real capture key changes traffic, unlike renaming a key that did nothing: the ports
 * it excludes stop being captured, and meshed clients' auto mTLS then reaches the application
 * (TM101). The DestinationRule that makes meshed clients send plaintext to them comes with it.
 */
function exclusionCompanions(model: MeshModel, o: KObject, value: string): { value: string; notes: string[]; companions: Fix[] } {
  const pods = podsOf(model, o);
  const pod = pods[0];
  let written = value;
  const notes: string[] = [];
  const problem = invalidCaptureAnnotations({ [ANNOTATION.excludeInboundPorts]: value })[0];
  if (problem && pod) {
    const repaired = repairedValue(problem, pod);
    written = repaired.value;
    notes.push(`the value "${value}" is not one Istio accepts for the real key (the injector would deny the pods): written as "${written}" (${repaired.notes.join('; ')})`);
  }
  const ports = new Set(written.split(',').map((x) => x.trim()).filter((x) => /^\d+$/.test(x)).map(Number));
  const companions: Fix[] = [];
  const services = [...new Set(pods.flatMap((p) => model.servicesOf(p)))];
  for (const svc of services) {
    const reached = svc.ports.filter((sp) => pods.some((p) => { const tp = resolveTargetPort(sp, p).port; return tp !== undefined && ports.has(tp); }));
    if (reached.length === 0) continue;
    const match = model.destinationRules.lookupForAnyClient(svc.fqdn, svc.namespace);
    companions.push(destinationRuleTlsFix(model, svc, reached, 'DISABLE', match, `meshed clients send plaintext to Service port ${reached.map((p) => p.port).join(', ')}, which the sidecar no longer captures once the real key is written`));
  }
  return { value: written, notes, companions };
}

function renameFix(
  model: MeshModel,
  c: Carrier,
  from: Where,
  key: string,
  value: string,
  target: string,
  to: { where: Where; template: boolean },
  position: { file: string; line: number } | undefined,
): Fix {
  const o = c.object;
  const field = to.where === 'annotation' ? 'annotations' : 'labels';
  const exclusion = target === ANNOTATION.excludeInboundPorts && to.where === 'annotation' ? exclusionCompanions(model, o, value) : undefined;
  const written = exclusion?.value ?? value;
  const meta = { [field]: { [target]: written } };
  const spec = to.template ? (o.kind === 'CronJob' ? { jobTemplate: { spec: { template: { metadata: meta } } } } : { template: { metadata: meta } }) : undefined;
  const doc: Record<string, unknown> = {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), ...(to.template ? {} : meta) },
  };
  if (spec) doc.spec = spec;
  const placeTo = to.template ? 'spec.template.metadata' : 'metadata';
  const fromField = from === 'annotation' ? 'annotations' : 'labels';
  const oldPath = c.template ? [...(o.kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template'] : ['spec', 'template']), 'metadata', fromField, key] : ['metadata', fromField, key];
  // Server-side apply never removes a field another manager (kubectl, helm) set: the old key is removed by its own step.
  const remove = removeFieldStep(refOf(o), oldPath);
  return {
    title: `Write ${target} as ${to.where === 'annotation' ? 'an annotation' : 'a label'} on ${placeTo} of ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}, and remove ${key}`,
    yaml: withComments(
      [
        `replaces ${from} ${key} (${c.place}) with ${to.where} ${target}${position ? `; edit ${position.file}:${position.line}` : ''}`,
        ...(exclusion
          ? [
              `this CHANGES traffic: today Istio ignores ${key}, so ports ${written} are captured and Istio terminates mTLS for them; with the real key they bypass the sidecar, and meshed clients (auto mTLS) would send the application a TLS handshake (TM101)`,
              ...exclusion.notes,
              ...(exclusion.companions.length
                ? ['the DestinationRule after the patch makes meshed clients send plaintext to those ports: apply both together, or neither']
                : ['no Service in the input exposes those ports: meshed clients reaching them directly would need a DestinationRule tls DISABLE too']),
              'if the ports were never meant to bypass the sidecar, remove the misspelled key instead of renaming it',
            ]
          : []),
        'apply with: kubectl apply --server-side --field-manager=tunnelmesh -f <this file>  (or change the manifest that owns it)',
        ...stepComments([remove]),
      ],
      doc,
    ) + (exclusion?.companions ?? []).map(bundled).join(''),
    apply: 'server-side',
    steps: [remove],
    target: refOf(o),
  };
}
