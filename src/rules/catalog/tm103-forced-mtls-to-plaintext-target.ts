// TM103: a DestinationRule forces mTLS to an endpoint that cannot terminate it.

import { drName } from '../../model/destinationrule.js';
import { ruleKey } from '../../model/edges.js';
import { describePod } from '../../model/pods.js';
import { isPlainProtocol, istioProtocol } from '../../model/protocol.js';
import type { DestinationRule, TrafficPolicy } from '../../core/k8s.js';
import type { ServiceView } from '../../model/services.js';
import { routeKey } from '../../model/routes.js';
import { TLS_MODE_LABEL } from '../../model/sidecar.js';
import type { ClientContext, EndpointVerdict } from '../../model/traffic.js';
import { ANY_MESHED_CLIENT, distinctBy, listing, matchKey, staticHits, unique, type StaticHit } from '../edge-hits.js';
import { destinationRuleTlsFix, injectSidecarFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { SYMPTOM_MTLS_TO_APP } from './tm101-mtls-to-uncaptured-port.js';
import { APP_NAMESPACE, CLOUDFLARED, edgeNamespace, EXCLUDE_INBOUND, gateway, GATEWAY_SERVICE, manifests, tunnelConfig } from '../examples.js';
import { EDGES, kinds } from '../inputs.js';

const ISTIO_MUTUAL_BROKEN = new Set(['mtls-to-no-sidecar', 'mtls-to-uncaptured', 'mtls-to-disabled-port']);

/** What made the client send mutual TLS here, when it is TM103's case (TM101 has auto mTLS to an uncaptured port). */
interface Forcer {
  text: string;
  rule?: DestinationRule;
}

function forcerOf(v: EndpointVerdict): Forcer | undefined {
  const s = v.sends;
  if (s.cause === 'destination-rule' && s.tls && (s.sends === 'ISTIO_MUTUAL' || s.sends === 'MUTUAL')) return { text: `${drName(s.tls.rule)} (${s.tls.mode})`, rule: s.tls.rule };
  if (s.sends !== 'ISTIO_MUTUAL' || v.outcome === 'mtls-to-uncaptured') return undefined;
  if (s.cause === 'dr-keeps-label' && s.endpointMode) {
    return { text: `${drName(s.endpointMode.rule)} (${s.endpointMode.portLevel ? 'port-level' : 'top-level'} ISTIO_MUTUAL, which keeps the tlsMode label whatever the PeerAuthentication says)`, rule: s.endpointMode.rule };
  }
  if (s.cause === 'auto-mtls' && v.outcome === 'mtls-to-no-sidecar') return { text: `auto mTLS (${describePod(v.pod)} is labelled ${TLS_MODE_LABEL}=istio)` };
  if (s.cause === 'headless') return { text: 'auto mTLS on a headless Service (one decision for all its endpoints)' };
  return undefined;
}

function forced(v: EndpointVerdict): boolean {
  return forcerOf(v) !== undefined;
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
  return v.pod.sidecar.tlsModeLabel ? `it has no sidecar (only the label ${TLS_MODE_LABEL}=istio)` : 'it has no sidecar';
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
      'Mutual TLS that nobody terminates: a DestinationRule sets ISTIO_MUTUAL/MUTUAL (top level, port, subset) for a Service port whose target pods have no sidecar, whose target port is not captured, or whose PeerAuthentication disables mTLS on it; or auto mTLS sends Istio mTLS to a pod labelled tlsMode istio that has no sidecar.',
    description:
      'A DestinationRule tls setting wins over auto mTLS whatever the target is. Forcing ISTIO_MUTUAL towards a pod without a sidecar, ' +
      "an excluded port or a port whose PeerAuthentication is DISABLE hands the application a TLS handshake it cannot read. MUTUAL is reported when the port is declared plain (http, grpc, tcp…). " +
      'A top-level ISTIO_MUTUAL also keeps the endpoints\' tlsMode label where a port entry without tls leaves the cluster to auto mTLS, so a workload PeerAuthentication DISABLE does not make clients send plaintext. ' +
      'A subset\'s tls counts for gateway routes to that subset. Auto mTLS reads the security.istio.io/tlsMode label, not the sidecar: a pod labelled istio without a sidecar receives Istio mTLS. ' +
      'Behind a headless Service one decision covers every endpoint, so a workload PeerAuthentication DISABLE is not consulted either.',
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
      // Only a rule that sets mutual TLS somewhere (top level, a port, a subset) can force it, or
      // auto mTLS: to a pod labelled tlsMode istio without a sidecar, or behind a headless Service.
      const labelOnly = model.backendsOf(svc).some((p) => p.sidecar.state === 'absent' && !p.sidecar.ambient && p.sidecar.tlsModeLabel);
      if (!labelOnly && !svc.headless && !rules.some((r) => setsMutualTls(r.rule))) return [];
      const namespaces = unique([
        ...rules.flatMap((r) => [r.rule.metadata.namespace as string, ...[...r.exportTo].filter((e) => e !== '*' && e !== '.' && e !== '~')]),
        ...connectorNamespaces,
      ]);
      return [ANY_MESHED_CLIENT, ...namespaces.map((ns) => ({ namespace: ns, label: `meshed clients in namespace ${ns}` }))];
    };
    const findings: FindingDraft[] = [];
    const byPort = staticHits(model, clientsFor, forced);
    // A gateway route to a subset uses the subset's cluster, which a client of the Service as a whole never does.
    const routeKeys = new Map<string, Set<string>>();
    for (const edge of model.routeEdges) {
      if (!edge.subset) continue;
      for (const c of edge.clients) {
        for (const endpoint of c.endpoints) {
          const hit: StaticHit = { service: edge.service, servicePort: edge.servicePort, client: { ...c.group.context, subset: edge.subset }, endpoint };
          if (!forced(endpoint) || !isBroken(hit)) continue;
          const key = `${edge.service.namespace}/${edge.service.name}:${edge.servicePort.port}`;
          byPort.set(key, [...(byPort.get(key) ?? []), hit]);
          routeKeys.set(key, (routeKeys.get(key) ?? new Set()).add(routeKey(edge)));
        }
      }
    }
    for (const [key, all] of [...byPort].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const hits = all.filter(isBroken);
      const first = hits[0];
      if (!first) continue;
      const { service: svc, servicePort: sp } = first;
      const forcers = hits.map((h) => forcerOf(h.endpoint) as Forcer);
      const rules = unique(forcers.map((f) => f.text));
      const forcingRules = unique(forcers.flatMap((f) => (f.rule ? [f.rule] : [])));
      const pods = unique(hits.map((h) => h.endpoint.pod));
      const fixes: Fix[] = [];
      for (const h of distinctBy(hits, (h) => `${matchKey(h.endpoint.sends.match)}|${h.client.subset ?? ''}`)) {
        fixes.push(destinationRuleTlsFix(model, svc, sp, 'DISABLE', h.endpoint.sends.match, `clients send plaintext to port ${sp.port}, which ${reason(h)}`, h.client.namespace, h.client.subset));
      }
      const noSidecar = distinctBy(hits.filter((h) => h.endpoint.pod.sidecar.state === 'absent' && !h.endpoint.pod.sidecar.ambient), (h) => h.endpoint.pod.owner?.name ?? h.endpoint.pod.name);
      for (const h of noSidecar) {
        fixes.push(injectSidecarFix(model, h.endpoint.pod, `with a sidecar, ${describePod(h.endpoint.pod)} terminates Istio mTLS itself`));
      }
      const clientsAffected = unique(hits.map((h) => h.client.label));
      // The tunnel rules whose own cloudflared is one of the clients this breaks.
      const edges = model.tunnelEdges
        .filter((e) => e.service === svc && e.servicePort.port === sp.port)
        .filter((e) => e.clients.some((c) => c.endpoints.some((v) => forced(v) && isBroken({ service: svc, servicePort: sp, client: c.group.context, endpoint: v }))))
        .map((e) => ruleKey(e.tunnel, e.rule));
      edges.push(...(routeKeys.get(key) ?? []));
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
        namespaces: unique([svc.namespace, ...forcingRules.map((r) => r.metadata.namespace as string)]),
        objects: [svc.object, ...forcingRules],
        edges,
      });
    }
    return findings;
  },
};
