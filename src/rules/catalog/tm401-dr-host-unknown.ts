// TM401: a DestinationRule whose host is no Service and no ServiceEntry: it applies to nothing
// (typically a short or partial host resolved against the wrong namespace, or a typo).

import { objectsOfKind } from '../../core/snapshot.js';
import { drName, hostMatches, portLevelEntries } from '../../model/destinationrule.js';
import type { DestinationRule, ServiceEntry } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import { editDistance } from '../../model/text.js';
import { unique } from '../edge-hits.js';
import { createFix, dnsName, editFix, istioApiVersion } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

/** ServiceEntries visible from `namespace` (exportTo empty or `*`, `.` in their own namespace, or naming it). */
function visibleEntries(entries: ServiceEntry[], namespace: string): ServiceEntry[] {
  return entries.filter((se) => {
    const e = se.spec?.exportTo ?? [];
    return e.length === 0 || e.includes('*') || e.includes(namespace) || (e.includes('.') && se.metadata.namespace === namespace);
  });
}

/** The Service FQDN the author probably meant. */
function didYouMean(model: MeshModel, rule: DestinationRule, host: string): string | undefined {
  const ns = rule.metadata.namespace as string;
  const written = rule.spec.host.replace(/\.$/, '');
  const labels = written.split('.');
  // `name.namespace` or `name.namespace.svc` (what DNS would accept; Istio takes it as written).
  const [name, namespace] = labels as [string, string | undefined];
  if (labels.length >= 2 && labels.length <= 3 && (labels.length === 2 || labels[2] === 'svc')) {
    const svc = namespace ? model.service(namespace, name) : undefined;
    if (svc) return svc.fqdn;
  }
  const sameName = model.services.filter((s) => s.name === name);
  const local = sameName.find((s) => s.namespace === ns);
  if (local) return local.fqdn;
  if (sameName.length === 1) return sameName[0]?.fqdn;
  let best: string | undefined;
  let bestDistance = 4;
  for (const s of model.services) {
    const d = editDistance(host, s.fqdn);
    if (d < bestDistance) {
      best = s.fqdn;
      bestDistance = d;
    }
  }
  return best;
}

export const tm401: Rule = {
  meta: {
    code: 'TM401',
    name: 'dr-host-unknown',
    severity: 'warning',
    summary: 'A DestinationRule host matches no Service and no ServiceEntry: the rule applies to nothing.',
    description:
      'Istio applies a DestinationRule to the service its host names. A short host (`reviews`) is completed with the rule\'s own namespace; a dotted host ' +
      '(`reviews.prod`) is taken as written and is not completed, so it names nothing. Its tls, subsets and port settings then silently do not exist ' +
      '(istioctl analyze reports it as UnknownDestinationRuleHost).',
    howToFix: 'Write the host as the Service\'s full name (name.namespace.svc.cluster.local), or add a ServiceEntry for an external host.',
    inputs: ['DestinationRule', 'Service', 'ServiceEntry'],
  },
  check({ model }) {
    const entries = objectsOfKind(model.snapshot, 'ServiceEntry');
    const findings: FindingDraft[] = [];
    for (const { rule, host, serviceRef: target, service } of model.ruleTargets()) {
      const ns = rule.metadata.namespace as string;
      if (target && (service || !model.covers('Service', target.namespace))) continue;
      if (visibleEntries(entries, ns).some((se) => (se.spec?.hosts ?? []).some((h) => hostMatches(h, host)))) continue;
      if (!target && !model.covers('ServiceEntry', undefined)) continue;
      const meant = didYouMean(model, rule, host);
      const fixes: Fix[] = [];
      if (meant) {
        fixes.push(editFix(model, rule, (copy) => void (copy.spec.host = meant), `Set host ${meant} in ${drName(rule)}`, [`${rule.spec.host} names no service; ${meant} is the Service meant`]));
      } else if (!target) {
        fixes.push(serviceEntryFix(model, rule, host));
      }
      const resolved = host !== rule.spec.host ? ` (resolved as ${host})` : '';
      findings.push({
        resource: { kind: 'DestinationRule', namespace: ns, name: rule.metadata.name },
        message: `${drName(rule)}: host ${rule.spec.host}${resolved} matches no ${target ? 'Service' : 'Service or ServiceEntry'}: the rule applies to nothing.${meant ? ` Did you mean ${meant}?` : ''}`,
        symptom: 'its tls, load balancing, subsets and port settings never take effect; routes to its subsets fail with 503 NR',
        evidence: [
          `${drName(rule)} spec.host: ${rule.spec.host}${resolved}`,
          target ? `no Service ${target.namespace}/${target.name}` : `no Service and no ServiceEntry visible from ${ns} has host ${host}`,
          ...(rule.spec.host.includes('.') && !rule.spec.host.endsWith(`.${model.clusterDomain}`) && !target ? ['a dotted host is taken as written: Istio does not complete it to name.namespace.svc.cluster.local'] : []),
        ],
        fixes,
        objects: [rule],
        field: { path: ['spec', 'host'] },
      });
    }
    return findings;
  },
};

/** An external host: declare it, with the ports the rule mentions (else 443). */
function serviceEntryFix(model: MeshModel, rule: DestinationRule, host: string): Fix {
  const ports = unique(portLevelEntries(rule).map((e) => e.port));
  const originates = ['SIMPLE', 'MUTUAL'].includes((rule.spec.trafficPolicy?.tls?.mode ?? '').toUpperCase());
  const entry = {
    apiVersion: istioApiVersion(model, 'DestinationRule'),
    kind: 'ServiceEntry',
    metadata: { name: dnsName(host), namespace: rule.metadata.namespace as string },
    spec: {
      hosts: [host],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: (ports.length ? ports : [443]).map((number) => {
        const protocol = originates ? 'HTTP' : number === 443 ? 'TLS' : 'TCP';
        return { number, name: `${protocol.toLowerCase()}-${number}`, protocol };
      }),
    },
  };
  return createFix(`ServiceEntry ${rule.metadata.namespace}/${entry.metadata.name} for ${host}`, [
    `declares the external host ${host} so ${drName(rule)} applies to it`,
    'check the ports and protocols: they are guessed from the rule',
  ], entry);
}
