// TM302: a hostname rule whose scheme cloudflared turns into a raw TCP stream, for an HTTP backend.

import { isCatchAll, serviceKind } from '../../model/cloudflared.js';
import type { TunnelEdge } from '../../model/edges.js';
import { declaredSpeech, isHttpFamily } from '../../model/protocol.js';
import { distinctBy, edgeNamespaces, edgesByServicePort, hitEdges, listing, portEvidence, ruleEvidence, ruleName, ruleSourceKey, ruleObject, unique } from '../edge-hits.js';
import { noH2cFix, ruleChangeFix } from '../tunnel-fixes.js';
import type { FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

/** Schemes that name an HTTP protocol but that cloudflared does not proxy as HTTP. */
const HTTP_NAMED_SCHEMES: ReadonlySet<string> = new Set(['h2mux', 'h2c', 'http2', 'grpc', 'grpcs']);

export const SYMPTOM_RAW_TCP =
  'browsers and HTTP clients get an error for the hostname: cloudflared does not proxy HTTP for it but opens a raw TCP stream meant for `cloudflared access` clients';

function rawTcp(edge: TunnelEdge): { scheme: string; why: string } | undefined {
  const kind = serviceKind(edge.rule.service, edge.rule.originRequest);
  if (kind.kind !== 'stream' || isCatchAll(edge.rule)) return undefined;
  const speech = declaredSpeech(edge.servicePort);
  if (isHttpFamily(speech.speech)) return { scheme: kind.scheme, why: `the port speaks ${speech.speech.toUpperCase()} (${speech.source})` };
  if (HTTP_NAMED_SCHEMES.has(kind.scheme)) return { scheme: kind.scheme, why: `${kind.scheme}:// names an HTTP protocol` };
  return undefined;
}

export const tm302: Rule = {
  meta: {
    code: 'TM302',
    name: 'tunnel-raw-tcp-scheme',
    severity: 'error',
    summary: 'A hostname rule uses a scheme cloudflared proxies as a raw TCP stream (h2mux, http2, grpc, tcp, …) while the backend is HTTP-family.',
    description:
      'cloudflared proxies only http, https, ws and wss as HTTP. Any other scheme becomes a TCP-over-WebSocket stream for `cloudflared access` clients, so browsers and ' +
      "HTTP clients of the hostname get no HTTP response. The Cloudflare operator writes such schemes itself: appProtocol kubernetes.io/h2c and the port names h2c and " +
      'http2 become h2mux://, and other appProtocol values pass through unchanged.',
    howToFix:
      'Use http:// (or https:// for a TLS backend): set cloudflare.com/protocol-<port> on the Ingress, which beats the appProtocol and port name the operator read, ' +
      'or rewrite the rule in a hand-written config. gRPC and HTTP/2 backends then need https:// with originRequest.http2Origin (TM304).',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    const hits = model.tunnelEdges.filter((e) => rawTcp(e) !== undefined);
    for (const edges of edgesByServicePort(hits)) {
      const first = edges[0] as TunnelEdge;
      const { service: svc, servicePort: sp } = first;
      const speech = declaredSpeech(sp);
      const target = speech.speech === 'https' ? 'https' : 'http';
      const schemes = unique(edges.map((e) => `${(rawTcp(e) as { scheme: string }).scheme}://`));
      const needsH2 = speech.speech === 'grpc' || speech.speech === 'http2';
      const why = [`cloudflared proxies ${target}:// as HTTP; ${listing(schemes)} is a raw TCP stream`];
      if (needsH2) why.push(`the backend speaks ${speech.speech === 'grpc' ? 'gRPC' : 'HTTP/2'}: see TM304 for https:// with http2Origin`);
      const fixes = distinctBy(edges, ruleSourceKey).map((e) => ruleChangeFix(model, e.tunnel, e.rule, { scheme: target }, why));
      // http:// toward gRPC or HTTP/2 is HTTP/1.1 (TM304): no scheme alone works there.
      if (needsH2) fixes.unshift(noH2cFix(model, svc, sp, unique(edges.map((e) => e.rule.hostname ?? '').filter(Boolean)), speech.speech === 'grpc' ? 'gRPC' : 'HTTP/2'));
      findings.push({
        resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
        port: sp.port,
        message: `Tunnel ${listing(edges.map(ruleName))} ${edges.length === 1 ? 'uses' : 'use'} ${listing(schemes)} for Service ${svc.namespace}/${svc.name} port ${sp.port}: cloudflared opens a raw TCP stream instead of proxying HTTP, but ${(rawTcp(first) as { why: string }).why}.`,
        symptom: SYMPTOM_RAW_TCP,
        evidence: [...edges.flatMap((e) => ruleEvidence(e.tunnel, e.rule)), portEvidence(svc, sp), 'cloudflared proxies http, https, ws and wss as HTTP; every other scheme is a TCP stream (ingress origin_service.go)'],
        fixes,
        namespaces: edgeNamespaces(edges),
        objects: [svc.object, ...unique(edges.map((e) => ruleObject(e.tunnel, e.rule)))],
        edges: hitEdges(edges.map((edge) => ({ edge }))),
      });
    }
    return findings;
  },
};
