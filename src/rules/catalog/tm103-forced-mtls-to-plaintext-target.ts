// TM103: a DestinationRule forces mTLS to an endpoint that cannot terminate it.

import { drName } from '../../model/destinationrule.js';
import { ruleKey } from '../../model/edges.js';
import { describePod } from '../../model/pods.js';
import { isPlainProtocol, istioProtocol } from '../../model/protocol.js';
import type { DestinationRule, TrafficPolicy } from '../../core/k8s.js';
import type { ServiceView } from '../../model/services.js';
import type { ClientContext, EndpointVerdict } from '../../model/traffic.js';
import { ANY_MESHED_CLIENT, distinctBy, listing, matchKey, staticHits, unique, type StaticHit } from '../edge-hits.js';
import { destinationRuleTlsFix, injectSidecarFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { SYMPTOM_MTLS_TO_APP } from './tm101-mtls-to-uncaptured-port.js';
import { APP_NAMESPACE, CLOUDFLARED, edgeNamespace, EXCLUDE_INBOUND, gateway, GATEWAY_SERVICE, manifests, tunnelConfig } from '../examples.js';
import { EDGES, kinds } from '../inputs.js';

const ISTIO_MUTUAL_BROKEN = new Set(['mtls-to-no-sidecar', 'mtls-to-uncaptured', 'mtls-to-disabled-port']);

function forcedByRule(v: EndpointVerdict): boolean {
  return v.sends.cause === 'destination-rule' && (v.sends.sends === 'ISTIO_MUTUAL' || v.sends.sends === 'MUTUAL');
}

/** MUTUAL uses the application's own certificates: broken only where the app speaks plain. */
function isBroken(hit: StaticHit): boolean {
  const v = hit.endpoint;
  if (v.sends.sends === 'ISTIO_MUTUAL') return ISTIO_MUTUAL_BROKEN.has(v.outcome);
  const reachesApp = v.captured === false || (v.pod.sidecar.state === 'absent' && !v.pod.sidecar.ambient);
  return reachesApp && isPlainProtocol(istioProtocol(hit.servicePort).protocol);
}

function reason(hit: StaticHit): string {
  const v = hit.endpoint;
  if (v.outcome === 'mtls-to-disabled-port') return `its PeerAuthentication disables mTLS on target port ${v.targetPort}`;
  if (v.captured === false) return `its sidecar does not capture target port ${v.targetPort}`;
  return 'it has no sidecar';
}

const MUTUAL_MODES = new Set(['ISTIO_MUTUAL', 'MUTUAL']);

function policySetsMutual(policy: TrafficPolicy | undefined): boolean {
  if (!policy) return false;
  if (MUTUAL_MODES.has((policy.tls?.mode ?? '').toUpperCase())) return true;
  return (policy.portLevelSettings ?? []).some((p) => MUTUAL_MODES.has((p.tls?.mode ?? '').toUpperCase()));
}

function setsMutualTls(rule: DestinationRule): boolean {
  return policySetsMutual(rule.spec.trafficPolicy) || (rule.spec.subsets ?? []).some((s) => policySetsMutual(s.trafficPolicy));
}

export const tm103: Rule = {
  meta: {
    code: 'TM103',
    name: 'forced-mtls-to-plaintext-target',
    severity: 'error',
    summary:
      'A DestinationRule sets tls ISTIO_MUTUAL/MUTUAL for a Service port whose target pods have no sidecar, whose target port is not captured, or whose PeerAuthentication disables mTLS on it.',
    description:
      'A DestinationRule tls setting wins over auto mTLS whatever the target is. Forcing ISTIO_MUTUAL towards a pod without a sidecar, ' +
      "an excluded port or a port whose PeerAuthentication is DISABLE hands the application a TLS handshake it cannot read. MUTUAL is reported when the port is declared plain (http, grpc, tcp…).",
    howToFix:
      'Set tls.mode DISABLE for that Service port (portLevelSettings, keyed by the Service port) in the rule in force; a wildcard rule gets a host-specific rule that keeps its other settings. ' +
      'Or give the target a sidecar that captures the port.',
    inputs: kinds(EDGES),
    example: {
      description: 'A DestinationRule forces ISTIO_MUTUAL for the whole gateway Service, but port 9091 is excluded from the gateway\'s sidecar.',
      manifests: manifests(
        edgeNamespace(true),
        APP_NAMESPACE,
        tunnelConfig(9091),
        CLOUDFLARED,
        gateway(EXCLUDE_INBOUND),
        GATEWAY_SERVICE,
        `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway, namespace: app}
spec:
  host: gateway.app.svc.cluster.local
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
`,
      ),
    },
  },
  check({ model }) {
    const connectorNamespaces = unique(model.tunnels.flatMap((t) => t.connectors.map((c) => c.namespace)));
    // Only a namespace holding (or named by the exportTo of) a rule for the host can see a
    // different rule than any other client; everyone else is `any meshed client`.
    const clientsFor = (svc: ServiceView): ClientContext[] => {
      const rules = model.destinationRules.rulesMatching(svc.fqdn);
      // Only a rule that sets mutual TLS somewhere (top level, a port, a subset) can force it.
      if (!rules.some((r) => setsMutualTls(r.rule))) return [];
      const namespaces = unique([
        ...rules.flatMap((r) => [r.rule.metadata.namespace as string, ...[...r.exportTo].filter((e) => e !== '*' && e !== '.' && e !== '~')]),
        ...connectorNamespaces,
      ]);
      return [ANY_MESHED_CLIENT, ...namespaces.map((ns) => ({ namespace: ns, label: `meshed clients in namespace ${ns}` }))];
    };
    const findings: FindingDraft[] = [];
    for (const [, all] of staticHits(model, clientsFor, forcedByRule)) {
      const hits = all.filter(isBroken);
      const first = hits[0];
      if (!first) continue;
      const { service: svc, servicePort: sp } = first;
      const rules = unique(hits.map((h) => `${drName(h.endpoint.sends.tls!.rule)} (${h.endpoint.sends.tls!.mode})`));
      const pods = unique(hits.map((h) => h.endpoint.pod));
      const fixes: Fix[] = [];
      for (const h of distinctBy(hits, (h) => matchKey(h.endpoint.sends.match))) {
        fixes.push(destinationRuleTlsFix(model, svc, sp, 'DISABLE', h.endpoint.sends.match, `clients send plaintext to port ${sp.port}, which ${reason(h)}`, h.client.namespace));
      }
      const noSidecar = distinctBy(hits.filter((h) => h.endpoint.pod.sidecar.state === 'absent' && !h.endpoint.pod.sidecar.ambient), (h) => h.endpoint.pod.owner?.name ?? h.endpoint.pod.name);
      for (const h of noSidecar) {
        fixes.push(injectSidecarFix(model, h.endpoint.pod, `with a sidecar, ${describePod(h.endpoint.pod)} terminates Istio mTLS itself`));
      }
      const clientsAffected = unique(hits.map((h) => h.client.label));
      // The tunnel rules whose own cloudflared is one of the clients this breaks.
      const edges = model.tunnelEdges
        .filter((e) => e.service === svc && e.servicePort.port === sp.port)
        .filter((e) => e.clients.some((c) => c.endpoints.some((v) => forcedByRule(v) && isBroken({ service: svc, servicePort: sp, client: c.group.context, endpoint: v }))))
        .map((e) => ruleKey(e.tunnel, e.rule));
      findings.push({
        resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
        port: sp.port,
        message: `${listing(rules)} force${rules.length === 1 ? 's' : ''} mutual TLS to Service ${svc.namespace}/${svc.name} port ${sp.port}, but ${describePod(first.endpoint.pod)}${pods.length > 1 ? ` (and ${pods.length - 1} more)` : ''} cannot terminate it: ${reason(first)}.`,
        symptom: SYMPTOM_MTLS_TO_APP,
        evidence: [
          `applies to: ${listing(clientsAffected)}`,
          ...first.endpoint.sends.steps,
          `target: ${first.endpoint.pod.sidecar.reason}; ${first.endpoint.targetPortNote ?? `targetPort ${first.endpoint.targetPort}`}; ${first.endpoint.pod.inbound.source}`,
          `Istio protocol of port ${sp.port}: ${istioProtocol(sp).protocol} (${istioProtocol(sp).source})`,
          `result: ${first.endpoint.why}`,
        ],
        fixes,
        namespaces: unique([svc.namespace, ...hits.map((h) => h.endpoint.sends.tls!.rule.metadata.namespace as string)]),
        objects: [svc.object, ...unique(hits.map((h) => h.endpoint.sends.tls!.rule))],
        edges,
      });
    }
    return findings;
  },
};
