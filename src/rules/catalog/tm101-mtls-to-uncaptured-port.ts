// TM101: Istio mTLS reaches a port the target's sidecar does not capture (seed 000's failure).

import { formatRef } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import type { EndpointVerdict } from '../../model/traffic.js';
import { workloadOf } from '../../model/pods.js';
import { captureFix, destinationRuleTlsFix, peerAuthPortFix } from '../fixes.js';
import { clientNames, distinctBy, groupEvidence, groupHits, hitEdges, hitNamespaces, isRouteEdge, listing, matchKey, serviceRef, unique, workloadNames } from '../edge-hits.js';
import type { Fix, Rule } from '../types.js';
import { APP_NAMESPACE, CLOUDFLARED, edgeNamespace, EXCLUDE_INBOUND, gateway, GATEWAY_SERVICE, manifests, tunnelConfig } from '../examples.js';
import { EDGES, kinds } from '../inputs.js';

export const SYMPTOM_MTLS_TO_APP =
  'WRONG_VERSION_NUMBER / TLS handshake failure / upstream_reset_before_response_started in cloudflared and the proxy logs; the tunnel hostname answers 502';

/** The same failure one hop later: the gateway's upstream connection fails, and it answers for it. */
const SYMPTOM_MTLS_BEHIND_GATEWAY =
  'the ingress gateway answers 503 "upstream connect error or disconnect/reset before headers" (upstream_reset_before_response_started in its access log), and the tunnel hostname passes it on';

/** mTLS the cluster chose on its own: auto mTLS, a DR mode that keeps the tlsMode label (stage B), a headless Service. */
export const AUTO_MTLS_CAUSES: ReadonlySet<string> = new Set(['auto-mtls', 'dr-keeps-label', 'headless']);

const isTm101 = (v: EndpointVerdict): boolean => v.outcome === 'mtls-to-uncaptured' && AUTO_MTLS_CAUSES.has(v.sends.cause);

/** Service ports TM101 reports (TM104 stays silent on them). */
export function tm101Keys(model: MeshModel): Set<string> {
  return new Set(groupHits(model, isTm101).map((g) => g.key));
}

export const tm101: Rule = {
  meta: {
    code: 'TM101',
    name: 'mtls-to-uncaptured-port',
    severity: 'error',
    summary: "A meshed client sends Istio mTLS (auto mTLS) to a target port that the target's sidecar does not capture.",
    description:
      "Auto mTLS makes a client sidecar send Istio mTLS to every endpoint labelled security.istio.io/tlsMode=istio, whatever the port. " +
      'A port listed in traffic.sidecar.istio.io/excludeInboundPorts (or outside a non-* includeInboundPorts) bypasses the target sidecar, ' +
      'so the application itself receives the mTLS handshake and fails it. ' +
      "Judged for a tunnel's cloudflared and for an ingress gateway that a Gateway-bound VirtualService routes to the Service port.",
    howToFix:
      'Make clients send plaintext to that Service port with a DestinationRule portLevelSettings entry (tls.mode DISABLE, keyed by the Service port; recommended), ' +
      'or a workload PeerAuthentication portLevelMtls DISABLE for the target port (auto mTLS then sends plaintext), or stop excluding the port from capture.',
    inputs: kinds(EDGES),
    example: {
      description: 'A meshed cloudflared routes admin.example.com to port 9091 of a gateway whose pods keep 9091 out of the sidecar (Prometheus scrapes it directly).',
      manifests: manifests(edgeNamespace(true), APP_NAMESPACE, tunnelConfig(9091), CLOUDFLARED, gateway(EXCLUDE_INBOUND), GATEWAY_SERVICE),
    },
  },
  check({ model }) {
    const groups = groupHits(model, isTm101);
    return groups.map(({ hits }) => {
      const first = hits[0]!;
      const { service: svc, servicePort: sp } = first.edge;
      const targetPorts = unique(hits.map((h) => h.endpoint.targetPort as number));
      const pods = unique(hits.map((h) => h.endpoint.pod));
      const why = `clients send plaintext to ${svc.fqdn}:${sp.port}, which the application on target port ${listing(targetPorts.map(String))} expects`;
      const fixes: Fix[] = [];
      for (const h of distinctBy(hits, (h) => matchKey(h.endpoint.sends.match))) {
        fixes.push(destinationRuleTlsFix(model, svc, sp, 'DISABLE', h.endpoint.sends.match, why, h.client.group.context.namespace));
      }
      const perWorkloadPort = distinctBy(hits, (h) => `${formatRef(workloadOf(h.endpoint.pod))}:${h.endpoint.targetPort}`);
      // A workload PeerAuthentication only helps where auto mTLS reads it per endpoint (not behind a
      // headless Service, nor where a DestinationRule mode keeps the tlsMode label).
      for (const { endpoint } of perWorkloadPort.filter((h) => h.endpoint.sends.cause === 'auto-mtls')) {
        const port = endpoint.targetPort as number;
        const inForce = model.peerAuth.effectiveMode(endpoint.pod.namespace, endpoint.pod.labels, port).workloadPolicy;
        const because = 'auto mTLS sends plaintext to a port whose workload PeerAuthentication is DISABLE (unless a DestinationRule forces tls)';
        fixes.push(peerAuthPortFix(model, endpoint.pod, port, 'DISABLE', inForce, svc, because));
      }
      for (const { endpoint } of perWorkloadPort) {
        const fix = captureFix(model, endpoint.pod, endpoint.targetPort as number);
        if (fix) fixes.push(fix);
      }
      return {
        resource: serviceRef(first.edge),
        port: sp.port,
        message: `${listing(clientNames(hits))} send${clientNames(hits).length === 1 ? 's' : ''} Istio mTLS to Service ${svc.namespace}/${svc.name} port ${sp.port}, but the sidecar of ${listing(workloadNames(pods))} does not capture target port ${listing(targetPorts.map(String))}: the application receives a TLS handshake it cannot read.`,
        symptom: hits.every((h) => isRouteEdge(h.edge)) ? SYMPTOM_MTLS_BEHIND_GATEWAY : SYMPTOM_MTLS_TO_APP,
        evidence: groupEvidence(hits),
        fixes,
        namespaces: hitNamespaces(hits),
        edges: hitEdges(hits),
        objects: [svc.object, ...pods.map((p) => p.object)],
      };
    });
  },
};
