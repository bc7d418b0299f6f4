// TM308: a Service port a tunnel reaches declares no protocol, on a meshed workload: Istio sniffs.

import { serviceKind } from '../../model/cloudflared.js';
import type { TunnelEdge } from '../../model/edges.js';
import { istioProtocol } from '../../model/protocol.js';
import { edgeNamespaces, edgesByServicePort, hitEdges, listing, portEvidence, ruleName, unique } from '../edge-hits.js';
import { appProtocolFix } from '../tunnel-fixes.js';
import type { FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

/** The appProtocol that declares what the rule's scheme carries (and that the operator's level 4 maps back to it). */
const APP_PROTOCOL_FOR: Record<string, string> = { http: 'http', https: 'https', ws: 'kubernetes.io/ws', wss: 'kubernetes.io/wss', tcp: 'tcp' };

export const tm308: Rule = {
  meta: {
    code: 'TM308',
    name: 'port-protocol-undeclared',
    severity: 'info',
    summary: 'A Service port reached by a tunnel has no Istio protocol (port name or appProtocol) on a meshed workload: Istio sniffs.',
    description:
      "Without a protocol (appProtocol, or a port name such as http-web, §8), Istio detects it from the first bytes (sniffing): it waits for the client to speak, " +
      'cannot apply HTTP routing, retries or telemetry reliably, and treats server-first protocols as TCP after a timeout. Declaring it makes the sidecars agree with the tunnel.',
    howToFix:
      "Declare the port's appProtocol (http, https, kubernetes.io/ws …) as the tunnel rule speaks it; appProtocol does not break references to the port name, and the " +
      "Cloudflare operator's level 4 reads it too. Renaming the port (http-<name>) also works when nothing refers to the old name.",
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const undeclared = model.tunnelEdges.filter((e) => istioProtocol(e.servicePort).protocol === 'UNKNOWN' && model.backendsOf(e.service).some((p) => p.sidecar.state === 'present'));
    const findings: FindingDraft[] = [];
    for (const edges of edgesByServicePort(undeclared)) {
      const first = edges[0] as TunnelEdge;
      const { service: svc, servicePort: sp } = first;
      const schemes = unique(edges.map((e) => { const k = serviceKind(e.rule.service, e.rule.originRequest); return k.kind === 'http' || k.kind === 'stream' ? k.scheme : ''; }).filter(Boolean));
      const appProtocol = schemes.length === 1 ? APP_PROTOCOL_FOR[schemes[0] as string] : undefined;
      const meshed = unique(model.backendsOf(svc).filter((p) => p.sidecar.state === 'present').map((p) => (p.owner ? `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}` : `Pod ${p.namespace}/${p.name}`)));
      findings.push({
        resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
        port: sp.port,
        message: `Service ${svc.namespace}/${svc.name} port ${sp.port}${sp.name ? ` (${sp.name})` : ''} declares no protocol Istio knows, so the sidecars of ${listing(meshed)} sniff what tunnel ${listing(edges.map(ruleName))} send${edges.length === 1 ? 's' : ''} (${listing(schemes.map((s) => `${s}://`))}).`,
        symptom: 'works, but Istio handles the port by protocol sniffing: no HTTP routing/retries/metrics until detection succeeds, and server-first protocols fall back to TCP after a delay',
        evidence: [portEvidence(svc, sp), `meshed backends: ${listing(meshed)}`, ...edges.map((e) => `${ruleName(e)} → ${e.rule.service}`)],
        fixes: appProtocol ? [appProtocolFix(model, svc, sp, appProtocol, [`the tunnel sends ${schemes[0]}:// to this port; Istio then handles it as ${istioProtocol({ ...sp, appProtocol }).protocol}`])] : [],
        namespaces: edgeNamespaces(edges),
        objects: [svc.object],
        edges: hitEdges(edges.map((edge) => ({ edge }))),
      });
    }
    return findings;
  },
};
