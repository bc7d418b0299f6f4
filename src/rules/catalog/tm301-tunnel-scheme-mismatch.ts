// TM301: the tunnel rule's scheme says TLS where the port is declared plain, or the reverse.

import { isTlsScheme, serviceKind } from '../../model/cloudflared.js';
import type { TunnelEdge } from '../../model/edges.js';
import type { MeshModel } from '../../model/model.js';
import { declaredSpeech, type Speech } from '../../model/protocol.js';
import { distinctBy, edgeNamespaces, edgesByServicePort, hitEdges, listing, portEvidence, ruleEvidence, ruleName, ruleSourceKey, ruleObject, unique } from '../edge-hits.js';
import { appProtocolFix, noH2cFix, ruleChangeFix } from '../tunnel-fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

const PLAIN: ReadonlySet<Speech> = new Set(['http', 'http2', 'grpc', 'grpc-web']);
const TLS: ReadonlySet<Speech> = new Set(['https', 'tls']);

export const SYMPTOM_TLS_TO_PLAIN =
  'the hostname answers 502; cloudflared logs "tls: first record does not look like a TLS handshake" (its TLS handshake reaches a plaintext server)';
export const SYMPTOM_PLAIN_TO_TLS =
  'the hostname answers 400 "Client sent an HTTP request to an HTTPS server" or 502 with a connection reset (plain HTTP reaches a TLS server)';

/** The scheme the rule should use for what the port speaks, keeping ws/wss (WebSocket) as such. */
function wanted(scheme: string): string {
  return scheme === 'https' ? 'http' : scheme === 'wss' ? 'ws' : scheme === 'http' ? 'https' : 'wss';
}

/** appProtocol values both Istio and the operator's level 4 read as this scheme. */
const APP_PROTOCOL_FOR: Record<string, string> = { http: 'http', https: 'https', ws: 'kubernetes.io/ws', wss: 'kubernetes.io/wss' };

function mismatch(edge: TunnelEdge): boolean {
  const kind = serviceKind(edge.rule.service, edge.rule.originRequest);
  if (kind.kind !== 'http') return false;
  const speech = declaredSpeech(edge.servicePort).speech;
  return isTlsScheme(kind.scheme) ? PLAIN.has(speech) : TLS.has(speech);
}

function fixesFor(model: MeshModel, edges: TunnelEdge[]): Fix[] {
  const first = edges[0] as TunnelEdge;
  const { service: svc, servicePort: sp } = first;
  const speech = declaredSpeech(sp);
  const fixes: Fix[] = [];
  const alternatives: Fix[] = [];
  // https:// toward plaintext gRPC or HTTP/2: http:// would be HTTP/1.1 (TM304); no scheme alone works.
  if ((speech.speech === 'grpc' || speech.speech === 'http2') && edges.every((e) => isTlsScheme(e.url.scheme))) {
    fixes.push(noH2cFix(model, svc, sp, unique(edges.map((e) => e.rule.hostname ?? '').filter(Boolean)), speech.speech === 'grpc' ? 'gRPC' : 'HTTP/2'));
  }
  for (const edge of distinctBy(edges, ruleSourceKey)) {
    const scheme = edge.url.scheme;
    const target = wanted(scheme);
    const why = [`the port speaks ${speech.source}: cloudflared must use ${target}://`];
    const chain = edge.rule.backend?.chain;
    const appProtocol = APP_PROTOCOL_FOR[target] as string;
    // appProtocol is read by Istio and by the operator's level 4, which beats levels 5–7: one declaration for both.
    const consistent = (target === 'http' && speech.istio.protocol === 'HTTP') || (target === 'https' && speech.istio.protocol === 'HTTPS');
    if (chain && chain.level >= 4 && consistent && !sp.appProtocol) {
      fixes.push(appProtocolFix(model, svc, sp, appProtocol, [...why, `the operator's chain reads appProtocol at level 4, before the port name (level 5) and the defaults (levels 6-7) that decide ${scheme} today`]));
    }
    fixes.push(ruleChangeFix(model, edge.tunnel, edge.rule, { scheme: target }, why));
    if (!sp.appProtocol || sp.appProtocol !== APP_PROTOCOL_FOR[scheme]) {
      alternatives.push(
        appProtocolFix(model, svc, sp, APP_PROTOCOL_FOR[scheme] as string, [
          `only if the application on this port really speaks ${scheme}: declare it, so Istio handles the port as ${scheme === 'https' || scheme === 'wss' ? 'TLS (passed through)' : 'plain HTTP'} and the declaration matches the rule`,
        ]),
      );
    }
  }
  return [...fixes, ...distinctBy(alternatives, (f) => f.yaml)];
}

export const tm301: Rule = {
  meta: {
    code: 'TM301',
    name: 'tunnel-scheme-mismatch',
    severity: 'error',
    summary: "The tunnel rule's scheme disagrees with what the backend port speaks: https:// to a port declared plain HTTP/HTTP2/gRPC, or http:// to a port declared https/tls.",
    description:
      'cloudflared speaks what the rule\'s scheme says: TLS for https:// and wss://, plaintext for http:// and ws://. The Service port declares what the application speaks ' +
      '(Istio protocol from appProtocol or the port name, §8). A TLS handshake sent to a plaintext server, or plain HTTP sent to a TLS server, fails on every request, ' +
      'with or without sidecars in between (a sidecar treats https/tls ports as opaque TCP and HTTP ports as HTTP).',
    howToFix:
      "Make the rule's scheme match the port: for an operator Ingress, declare the Service port's appProtocol (read by Istio and by the operator's level 4) or set " +
      'cloudflare.com/protocol-<port> on the Ingress (level 2); for a hand-written config, rewrite the rule. If the port declaration is what is wrong, fix the declaration instead.',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const edges of edgesByServicePort(model.tunnelEdges.filter(mismatch))) {
      const first = edges[0] as TunnelEdge;
      const { service: svc, servicePort: sp } = first;
      const speech = declaredSpeech(sp);
      const schemes = unique(edges.map((e) => `${e.url.scheme}://`));
      const toPlain = isTlsScheme(first.url.scheme);
      findings.push({
        resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
        port: sp.port,
        message: `Tunnel ${listing(edges.map(ruleName))} ${edges.length === 1 ? 'uses' : 'use'} ${listing(schemes)} for Service ${svc.namespace}/${svc.name} port ${sp.port}, which is declared ${speech.speech === 'tls' ? 'TLS' : speech.speech.toUpperCase()} (${speech.istio.source}): ${toPlain ? "cloudflared's TLS handshake reaches a plaintext server" : 'plain HTTP reaches a TLS server'}.`,
        symptom: toPlain ? SYMPTOM_TLS_TO_PLAIN : SYMPTOM_PLAIN_TO_TLS,
        evidence: [...edges.flatMap((e) => ruleEvidence(e.tunnel, e.rule)), portEvidence(svc, sp)],
        fixes: fixesFor(model, edges),
        namespaces: edgeNamespaces(edges),
        objects: [svc.object, ...unique(edges.map((e) => ruleObject(e.tunnel, e.rule)))],
        edges: hitEdges(edges.map((edge) => ({ edge }))),
      });
    }
    return findings;
  },
};
