// TM304: an HTTP/2 or gRPC backend behind a rule that cannot speak HTTP/2 to it.

import { effectiveOriginRequest, serviceKind } from '../../model/cloudflared.js';
import type { TunnelEdge } from '../../model/edges.js';
import { declaredSpeech } from '../../model/protocol.js';
import { distinctBy, edgeNamespaces, edgesByServicePort, hitEdges, listing, portEvidence, ruleEvidence, ruleName, ruleSourceKey, ruleObject, unique } from '../edge-hits.js';
import { appProtocolFix, noH2cFix, ruleChangeFix } from '../tunnel-fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

interface Miss {
  edge: TunnelEdge;
  grpc: boolean;
  why: string;
}

function miss(edge: TunnelEdge): Miss | undefined {
  const kind = serviceKind(edge.rule.service, edge.rule.originRequest);
  if (kind.kind !== 'http') return undefined; // raw TCP schemes are TM302
  const speech = declaredSpeech(edge.servicePort).speech;
  if (speech !== 'grpc' && speech !== 'http2') return undefined;
  // An Istio gateway's HTTP listener takes HTTP/1.1 and HTTP/2 alike (istio-ingressgateway names
  // its port 80 `http2` for sidecar clients); what runs behind it is judged on the gateway's routes.
  const pods = edge.clients.flatMap((c) => c.endpoints.map((e) => e.pod));
  if (pods.length > 0 && pods.every((p) => p.sidecar.kind === 'gateway')) return undefined;
  const origin = effectiveOriginRequest(edge.rule, edge.tunnel.originRequest);
  const h2 = origin.settings.http2Origin === true;
  if (kind.scheme === 'https' && h2) return undefined;
  const why =
    kind.scheme !== 'https'
      ? `${kind.scheme}:// origin: cloudflared speaks HTTP/1.1 to it (it has no h2c, and http2Origin only applies over TLS)`
      : `https:// without http2Origin (${origin.from.http2Origin === 'default' ? "cloudflared's default false" : `false in the ${origin.from.http2Origin === 'rule' ? "rule's" : "config's"} originRequest`}): cloudflared negotiates HTTP/1.1`;
  return { edge, grpc: speech === 'grpc', why };
}

export const tm304: Rule = {
  meta: {
    code: 'TM304',
    name: 'http2-origin-missing',
    severity: 'warning',
    summary:
      "The backend speaks gRPC or HTTP/2 (Istio protocol of the port) but the rule is not https:// with originRequest.http2Origin: true. Error for gRPC, warning for HTTP/2 and h2c.",
    description:
      'cloudflared reaches an origin over HTTP/2 only through TLS with ALPN, and only when originRequest.http2Origin is true; to http:// origins it speaks HTTP/1.1 (no h2c). ' +
      'gRPC needs HTTP/2 end to end (trailers, streams), so every call fails; an HTTP/2-only (h2c) server may refuse HTTP/1.1.',
    howToFix:
      'Serve TLS on the backend port and use https:// with http2Origin: true — for an operator Ingress, cloudflare.com/protocol-<port>: https and cloudflare.com/http2-origin: "true" ' +
      '(caPool and originServerName do not survive the operator\'s ConfigMap path; the certificate must verify, or cloudflare.com/no-tls-verify). Then declare the port https.',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    const misses = model.tunnelEdges.map(miss).filter((m): m is Miss => m !== undefined);
    for (const edges of edgesByServicePort(misses.map((m) => m.edge))) {
      const group = misses.filter((m) => edges.includes(m.edge));
      const first = group[0] as Miss;
      const { service: svc, servicePort: sp } = first.edge;
      const speech = declaredSpeech(sp);
      const what = first.grpc ? 'gRPC' : 'HTTP/2';
      const why = [
        `${what} needs HTTP/2 end to end; cloudflared uses HTTP/2 to an origin only over https:// with http2Origin: true`,
        `the backend must serve TLS on port ${sp.port} for https:// (today it is declared ${speech.istio.protocol}, plaintext); cloudflared verifies its certificate unless noTLSVerify is set`,
      ];
      // Recommended: what works; the rule change and the declaration below only work together, once the app serves TLS.
      const fixes: Fix[] = [noH2cFix(model, svc, sp, unique(edges.map((e) => e.rule.hostname ?? '').filter(Boolean)), what)];
      fixes.push(...distinctBy(edges, ruleSourceKey).map((e) =>
        ruleChangeFix(model, e.tunnel, e.rule, { ...(e.url.scheme === 'https' ? {} : { scheme: 'https' }), originRequest: { http2Origin: true } }, [...why, 'only together with the appProtocol https declaration, once the application serves TLS']),
      ));
      fixes.push(
        appProtocolFix(model, svc, sp, 'https', [
          `once the application serves ${what} over TLS on this port: Istio passes TLS through (a ${speech.istio.protocol} declaration would make the sidecars parse it) and the operator's level 4 writes https`,
        ]),
      );
      findings.push({
        resource: { kind: 'Service', namespace: svc.namespace, name: svc.name },
        port: sp.port,
        severity: first.grpc ? 'error' : 'warning',
        message: `Service ${svc.namespace}/${svc.name} port ${sp.port} speaks ${what} (${speech.source}), but tunnel ${listing(group.map((m) => ruleName(m.edge)))} cannot reach it over HTTP/2: ${first.why}.`,
        symptom: first.grpc
          ? 'every gRPC call through the hostname fails (HTTP/1.1 to a gRPC server: "upstream connect error", 502, or grpc-status 14 UNAVAILABLE / protocol errors in the client)'
          : 'an HTTP/2-only (h2c) server refuses the HTTP/1.1 requests cloudflared sends (502, "malformed HTTP response"); servers that also speak HTTP/1.1 work without HTTP/2',
        evidence: [...unique(group.flatMap((m) => [...ruleEvidence(m.edge.tunnel, m.edge.rule), `result: ${m.why}`])), portEvidence(svc, sp)],
        fixes,
        namespaces: edgeNamespaces(edges),
        objects: [svc.object, ...unique(edges.map((e) => ruleObject(e.tunnel, e.rule)))],
        edges: hitEdges(edges.map((edge) => ({ edge }))),
      });
    }
    return findings;
  },
};
