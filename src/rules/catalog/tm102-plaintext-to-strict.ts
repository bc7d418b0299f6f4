// TM102: plaintext (or non-Istio TLS) reaches a captured port that requires mTLS.

import { formatRef } from '../../core/k8s.js';
import { workloadOf } from '../../model/pods.js';
import { describeSends } from '../../model/traffic.js';
import { dropDrTlsFix, injectSidecarFix, peerAuthPortFix } from '../fixes.js';
import { clientNames, distinctBy, groupEvidence, groupHits, hitEdges, hitNamespaces, listing, serviceRef, unique, workloadNames } from '../edge-hits.js';
import { sidecarImportFix } from '../sidecar-fixes.js';
import type { Fix, Rule } from '../types.js';
import { APP_NAMESPACE, CLOUDFLARED, edgeNamespace, gateway, GATEWAY_SERVICE, manifests, tunnelConfig } from '../examples.js';
import { EDGES, kinds } from '../inputs.js';

export const SYMPTOM_RESET =
  'connection reset by peer / "upstream connect error or disconnect/reset before headers. reset reason: connection termination" (503 UC); the tunnel hostname answers 502';

export const tm102: Rule = {
  meta: {
    code: 'TM102',
    name: 'plaintext-to-strict',
    severity: 'error',
    summary: 'A client sends plaintext (no sidecar, or a DestinationRule DISABLE) to a captured target port whose effective PeerAuthentication is STRICT.',
    description:
      'A sidecar (or ztunnel) in STRICT mode accepts only Istio mTLS. A cloudflared without a sidecar sends exactly what its URL says, ' +
      'plaintext for http://, its own TLS for https://; so does a meshed client (a cloudflared with a sidecar, an ingress gateway routed by a VirtualService) whose DestinationRule sets tls DISABLE or SIMPLE. The target resets the connection.',
    howToFix:
      'Accept plaintext on that target port with a workload PeerAuthentication portLevelMtls PERMISSIVE (keyed by the target port), ' +
      'or give the client a sidecar (with holdApplicationUntilProxyStarts) so auto mTLS applies, or drop the DestinationRule tls that forces plaintext.',
    inputs: kinds(EDGES),
    example: {
      description: 'cloudflared runs without a sidecar (its namespace is not injected) and routes to a gateway whose namespace requires STRICT mTLS.',
      manifests: manifests(
        edgeNamespace(false),
        APP_NAMESPACE,
        tunnelConfig(8080),
        CLOUDFLARED,
        gateway(),
        GATEWAY_SERVICE,
        `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: app}
spec:
  mtls: {mode: STRICT}
`,
      ),
    },
  },
  check({ model }) {
    return groupHits(model, (v) => v.outcome === 'plaintext-to-strict').map(({ hits }) => {
      const first = hits[0]!;
      const { service: svc, servicePort: sp } = first.edge;
      const pods = unique(hits.map((h) => h.endpoint.pod));
      const targetPorts = unique(hits.map((h) => h.endpoint.targetPort as number));
      const sends = listing(unique(hits.map((h) => describeSends(h.endpoint.sends.sends))));
      const fixes: Fix[] = [];
      for (const { endpoint } of distinctBy(hits, (h) => `${formatRef(workloadOf(h.endpoint.pod))}:${h.endpoint.targetPort}`)) {
        const port = endpoint.targetPort as number;
        fixes.push(
          peerAuthPortFix(model, endpoint.pod, port, 'PERMISSIVE', endpoint.server?.workloadPolicy, svc,
            `the sidecar of ${formatRef(workloadOf(endpoint.pod))} accepts plaintext on target port ${port}; other ports stay as they are`),
        );
      }
      for (const h of distinctBy(hits, (h) => formatRef(h.client.group.workload))) {
        const cause = h.endpoint.sends.cause;
        const clientPod = h.client.group.context.pod;
        const scope = cause === 'passthrough' && clientPod ? model.sidecars.scopeFor(clientPod.namespace, clientPod.labels) : undefined;
        if (scope) {
          // The client's Sidecar resource hides the Service: importing it brings auto mTLS back (recommended).
          fixes.unshift(sidecarImportFix(model, scope.sidecar, svc, sp.port, [`${h.client.group.context.label}'s proxy passes the connection through in plaintext because ${scope.how} does not import the Service; imported, auto mTLS applies`]));
          continue;
        }
        if (cause === 'no-client-sidecar' && clientPod) {
          fixes.push(injectSidecarFix(model, clientPod, `with a sidecar, ${h.client.group.context.label} sends Istio mTLS (auto mTLS), which STRICT accepts`));
        } else if (cause === 'destination-rule' && h.endpoint.sends.tls) {
          const tls = h.endpoint.sends.tls;
          fixes.push(dropDrTlsFix(model, tls.rule, sp.port, tls.portLevel, `${tls.where} sets ${tls.mode}; without it auto mTLS sends Istio mTLS`));
        } else if (cause === 'dr-strips-label' && h.endpoint.sends.endpointMode) {
          const mode = h.endpoint.sends.endpointMode;
          fixes.push(dropDrTlsFix(model, mode.rule, sp.port, mode.portLevel, `${mode.where} sets ${mode.mode}, which strips the endpoints' tlsMode label: auto mTLS sends plaintext`));
        }
      }
      const strictBy = first.endpoint.server?.steps.at(-1) ?? 'STRICT';
      return {
        resource: serviceRef(first.edge),
        port: sp.port,
        message: `${listing(clientNames(hits))} send${clientNames(hits).length === 1 ? 's' : ''} ${sends} to Service ${svc.namespace}/${svc.name} port ${sp.port}, but ${listing(workloadNames(pods))} require${pods.length === 1 ? 's' : ''} Istio mTLS on target port ${listing(targetPorts.map(String))} (${strictBy}): the connection is reset.`,
        symptom: SYMPTOM_RESET,
        evidence: groupEvidence(hits),
        fixes,
        namespaces: hitNamespaces(hits),
        edges: hitEdges(hits),
        objects: [svc.object, ...pods.map((p) => p.object)],
      };
    });
  },
};
