// TM104: a Service exposes a port its meshed pods do not capture, and nothing makes meshed
// clients send plaintext to it (seed 000's best practice 1). Fires without any tunnel.

import { formatRef } from '../../core/k8s.js';
import { workloadOf } from '../../model/pods.js';
import { ANY_MESHED_CLIENT, distinctBy, listing, staticHits, uncapturedSidecarPort, unique } from '../edge-hits.js';
import { captureFix, destinationRuleTlsFix, peerAuthPortFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { AUTO_MTLS_CAUSES, tm101Keys } from './tm101-mtls-to-uncaptured-port.js';
import { APP_NAMESPACE, EXCLUDE_INBOUND, gateway, GATEWAY_SERVICE, manifests } from '../examples.js';
import { EDGES, kinds } from '../inputs.js';

export const tm104: Rule = {
  meta: {
    code: 'TM104',
    name: 'uncaptured-port-exposed',
    severity: 'warning',
    summary:
      "A meshed pod's uncaptured port is exposed by a Service, and no DestinationRule DISABLE (for the Service port) nor workload PeerAuthentication DISABLE (for the target port) makes meshed clients send plaintext to it.",
    description:
      'Any meshed client of the Service (an ingress gateway, a cloudflared with a sidecar, another workload) uses auto mTLS and sends Istio mTLS to this port; ' +
      'the port bypasses the sidecar, so the application receives the handshake. It fails the first time a meshed client calls it.',
    howToFix:
      "Pair the exclusion with a DestinationRule portLevelSettings entry tls.mode DISABLE for the Service port, exported to all clients (recommended), " +
      'or a workload PeerAuthentication portLevelMtls DISABLE for the target port, or stop excluding the port.',
    inputs: kinds(EDGES),
    example: {
      description: 'The gateway keeps port 9091 out of its sidecar and its Service exposes that port; no tunnel is needed for this to matter.',
      manifests: manifests(APP_NAMESPACE, gateway(EXCLUDE_INBOUND), GATEWAY_SERVICE),
    },
  },
  check({ model }) {
    const reported = tm101Keys(model);
    const findings: FindingDraft[] = [];
    const byPort = staticHits(model, [ANY_MESHED_CLIENT], (v) => v.outcome === 'mtls-to-uncaptured' && AUTO_MTLS_CAUSES.has(v.sends.cause), uncapturedSidecarPort);
    for (const [key, hits] of byPort) {
      if (reported.has(key)) continue;
      const { service: svc, servicePort: sp } = hits[0]!;
      const pods = unique(hits.map((h) => h.endpoint.pod));
      const targetPorts = unique(hits.map((h) => String(h.endpoint.targetPort)));
      const perWorkloadPort = distinctBy(hits, (h) => `${formatRef(workloadOf(h.endpoint.pod))}:${h.endpoint.targetPort}`);
      const fixes: Fix[] = [
        destinationRuleTlsFix(model, svc, sp, 'DISABLE', hits[0]!.endpoint.sends.match, `meshed clients send plaintext to ${svc.fqdn}:${sp.port}, matching the excluded target port`),
      ];
      for (const { endpoint } of perWorkloadPort.filter((h) => h.endpoint.sends.cause === 'auto-mtls')) {
        const port = endpoint.targetPort as number;
        const inForce = model.peerAuth.effectiveMode(endpoint.pod.namespace, endpoint.pod.labels, port).workloadPolicy;
        fixes.push(peerAuthPortFix(model, endpoint.pod, port, 'DISABLE', inForce, svc, 'auto mTLS sends plaintext to a port whose workload PeerAuthentication is DISABLE'));
      }
      for (const { endpoint } of perWorkloadPort) {
        const fix = captureFix(model, endpoint.pod, endpoint.targetPort as number);
        if (fix) fixes.push(fix);
      }
      const first = hits[0]!.endpoint;
      findings.push({
        resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
        port: sp.port,
        message: `Service ${svc.namespace}/${svc.name} port ${sp.port} reaches target port ${listing(targetPorts)} of ${listing(unique(pods.map((p) => formatRef(workloadOf(p)))))}, which the sidecar does not capture; meshed clients would send it Istio mTLS.`,
        symptom: 'meshed callers get WRONG_VERSION_NUMBER / TLS handshake failure / upstream_reset_before_response_started (503)',
        evidence: [
          `target: ${first.pod.sidecar.reason}; port ${first.targetPort} NOT captured (${first.pod.inbound.source})`,
          ...first.pod.inbound.notes,
          ...first.sends.steps,
          `result: ${first.why}`,
        ],
        fixes,
        objects: [svc.object, ...pods.map((p) => p.object)],
      });
    }
    return findings;
  },
};
