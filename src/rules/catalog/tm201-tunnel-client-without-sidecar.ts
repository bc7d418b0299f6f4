// TM201: a tunnel's cloudflared has no sidecar while its backends are meshed.

import { formatRef } from '../../core/k8s.js';
import { isInboundCaptured } from '../../model/capture.js';
import { groupClients, type TunnelEdge } from '../../model/edges.js';
import type { MeshModel } from '../../model/model.js';
import { workloadOf, type PodView } from '../../model/pods.js';
import { resolveTargetPort } from '../../model/services.js';
import { bundled, destinationRuleTlsFix, injectSidecarFix } from '../fixes.js';
import { listing, unique } from '../edge-hits.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { APP_NAMESPACE, CLOUDFLARED, edgeNamespace, gateway, GATEWAY_SERVICE, manifests, tunnelConfig } from '../examples.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

/**
 * With a sidecar, cloudflared's auto mTLS reaches backend ports their sidecars do not capture
 * (TM101): the DestinationRules that make it send plaintext there come with the injection.
 */
function withUncapturedBackends(model: MeshModel, pod: PodView, edges: TunnelEdge[], inject: Fix): Fix {
  const companions: Fix[] = [];
  const seen = new Set<string>();
  for (const e of edges) {
    const key = `${e.service.namespace}/${e.service.name}:${e.servicePort.port}`;
    if (seen.has(key)) continue;
    const uncaptured = model.backendsOf(e.service).some((p) => {
      if (p.sidecar.state !== 'present') return false;
      const tp = resolveTargetPort(e.servicePort, p).port;
      return tp !== undefined && !isInboundCaptured(p.inbound, tp);
    });
    if (!uncaptured) continue;
    seen.add(key);
    const match = model.destinationRules.lookup({ namespace: pod.namespace, labels: pod.labels }, e.service.fqdn, e.service.namespace);
    companions.push(destinationRuleTlsFix(model, e.service, e.servicePort, 'DISABLE', match, `cloudflared with a sidecar would send Istio mTLS to ${key}, whose target port its sidecar does not capture (TM101)`, pod.namespace));
  }
  if (companions.length === 0) return inject;
  return {
    ...inject,
    title: `${inject.title}, with the DestinationRule${companions.length === 1 ? '' : 's'} for the backend ports that bypass their sidecars`,
    yaml: `# apply every document below together: the DestinationRule${companions.length === 1 ? '' : 's'} keep${companions.length === 1 ? 's' : ''} ${[...seen].join(', ')} working once cloudflared sends mTLS\n${inject.yaml}${companions.map(bundled).join('')}`,
  };
}

export const tm201: Rule = {
  meta: {
    code: 'TM201',
    name: 'tunnel-client-without-sidecar',
    severity: 'info',
    summary: "A tunnel's cloudflared pods have no sidecar in a cluster where its backends are meshed: it sends plaintext to them.",
    description:
      'Without a sidecar cloudflared is outside the mesh: its requests to meshed backends are plaintext, carry no workload identity for AuthorizationPolicies, ' +
      'and fail against STRICT PeerAuthentication (TM102). It works against PERMISSIVE backends.',
    howToFix:
      'Inject a sidecar into the cloudflared workload with holdApplicationUntilProxyStarts, then check that no backend port is excluded from capture (TM101), ' +
      'or keep it out of the mesh deliberately and keep its backends PERMISSIVE.',
    inputs: kinds(PODS, 'Service', TUNNELS),
    example: {
      description: 'cloudflared runs in a namespace without injection and routes to a meshed gateway.',
      manifests: manifests(edgeNamespace(false), APP_NAMESPACE, tunnelConfig(8080), CLOUDFLARED, gateway(), GATEWAY_SERVICE),
    },
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const group of groupClients(model.tunnels.flatMap((t) => t.connectors))) {
      const pod = group.context.pod;
      if (pod.sidecar.state !== 'absent' || pod.sidecar.ambient) continue;
      const edges = model.tunnelEdges.filter((e) => e.clients.some((c) => c.group.workload.name === group.workload.name && c.group.workload.namespace === group.workload.namespace));
      const meshed = unique(
        edges.filter((e) => model.backendsOf(e.service).some((p) => p.sidecar.state === 'present')).map((e) => `${e.service.namespace}/${e.service.name}:${e.servicePort.port}`),
      );
      if (meshed.length === 0) continue;
      const workload = formatRef(workloadOf(pod));
      findings.push({
        resource: group.workload,
        message: `cloudflared ${workload} has no sidecar, so it sends plaintext to its meshed backends ${listing(meshed.slice(0, 8))}${meshed.length > 8 ? ` and ${meshed.length - 8} more` : ''}.`,
        symptom: 'works while backends are PERMISSIVE; connection resets (TM102) once they are STRICT; requests carry no mesh identity',
        evidence: [
          `${workload}: ${pod.sidecar.reason}`,
          ...unique(edges.map((e) => e.tunnel.connectorEvidence)),
          `meshed backends reached by its tunnel rules: ${listing(meshed)}`,
        ],
        fixes: [withUncapturedBackends(model, pod, edges, injectSidecarFix(model, pod, 'cloudflared joins the mesh: auto mTLS to its backends'))],
        namespaces: unique(edges.map((e) => e.service.namespace)),
        objects: [pod.object],
      });
    }
    return findings;
  },
};
