// TM307: a cloudflare.com/protocol annotation that does not do what it says.

import { HTTP_SCHEMES, STREAM_DEFAULT_PORTS } from '../../model/cloudflared.js';
import { ruleKey } from '../../model/edges.js';
import type { Ingress } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import { CF_ANNOTATION } from '../../model/operator.js';
import type { IngressBackendView } from '../../model/operator-view.js';
import { declaredSpeech } from '../../model/protocol.js';
import { listing, unique } from '../edge-hits.js';
import { where } from '../fixes.js';
import { ingressAnnotationFix, mergePatchFix, noH2cFix } from '../tunnel-fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

/** Schemes cloudflared and the operator know (udp is TM310's). */
const KNOWN: ReadonlySet<string> = new Set([...HTTP_SCHEMES, ...Object.keys(STREAM_DEFAULT_PORTS), 'udp']);

function edgesOf(backends: IngressBackendView[]): string[] {
  return unique(backends.filter((b) => b.rule && b.tunnel).map((b) => ruleKey(b.tunnel!, b.rule!)));
}

/** What a backend's port says it speaks, as the scheme to write. */
function schemeFor(b: IngressBackendView): string {
  const sp = b.port.servicePort;
  const speech = sp ? declaredSpeech(sp).speech : 'unknown';
  return speech === 'https' || speech === 'tls' ? 'https' : 'http';
}

function finding(ingress: Ingress, backends: IngressBackendView[], port: number | undefined, message: string, evidence: string[], fixes: Fix[]): FindingDraft {
  const ns = ingress.metadata.namespace as string;
  return {
    resource: { kind: 'Ingress', namespace: ns, name: ingress.metadata.name },
    ...(port !== undefined ? { port } : {}),
    message,
    symptom: 'none by itself: the protocol comes from another level of the chain than the annotation suggests, which surfaces as a scheme mismatch (TM301/TM302) when the two differ',
    evidence,
    fixes,
    namespaces: [ns],
    objects: [ingress],
    edges: edgesOf(backends),
  };
}

function checkIngress(model: MeshModel, ingress: Ingress, backends: IngressBackendView[]): FindingDraft[] {
  const out: FindingDraft[] = [];
  const ann = ingress.metadata.annotations ?? {};
  const label = backends[0]?.label ?? `Ingress ${ingress.metadata.namespace}/${ingress.metadata.name}`;
  const withService = backends.filter((b) => b.serviceName);
  const ports = new Set(withService.map((b) => b.port.port));
  const wide = ann[CF_ANNOTATION.protocol];
  const first = withService[0] ?? backends[0];
  const perPort = Object.keys(ann).filter((k) => k.startsWith(CF_ANNOTATION.protocolPrefix));
  for (const key of perPort) {
    const value = ann[key] as string;
    const suffix = key.slice(CF_ANNOTATION.protocolPrefix.length);
    const port = /^\d+$/.test(suffix) ? Number(suffix) : undefined;
    if (port !== undefined && ports.has(port)) continue;
    // Often the target (container) port, or the port's name, was used instead of the Service port.
    const meant = withService.find((b) => {
      const sp = b.port.servicePort;
      return sp !== undefined && (String(sp.targetPort ?? '') === suffix || sp.name === suffix || b.port.missingName === suffix);
    });
    const fixes: Fix[] = [];
    const remove = first ? ingressAnnotationFix(model, first, { [key]: null }, `Remove ${key}`, ['it matches no backend of the Ingress, so the operator never reads it: removing it changes nothing']) : undefined;
    // Renamed, the value takes effect: only recommended when it is what the port speaks (else it breaks the rule, TM301).
    const agrees = meant !== undefined && value.toLowerCase() === schemeFor(meant);
    if (remove && !agrees) fixes.push(remove);
    if (meant && first) {
      const to = `${CF_ANNOTATION.protocolPrefix}${meant.port.port}`;
      if (ann[to] === undefined) {
        fixes.push(
          ingressAnnotationFix(model, meant, { [key]: null, [to]: value }, `Rename ${key} to ${to}`, [
            `the operator keys the annotation by the Service port (${meant.port.port}), not the target port or a port name`,
            ...(agrees ? [] : [`renamed, ${value} takes effect for port ${meant.port.port}, which is declared ${schemeFor(meant)}: only if the application really speaks ${value} there`]),
          ]),
        );
      }
    }
    if (remove && agrees) fixes.push(remove);
    out.push(
      finding(
        ingress,
        meant ? [meant] : [],
        port,
        `${label} annotation ${key}=${value} names ${port === undefined ? `"${suffix}", which is not a port number` : `port ${port}`}, but no backend of the Ingress uses that Service port (${listing([...ports].map(String)) || 'none'})${meant ? `: did you mean ${CF_ANNOTATION.protocolPrefix}${meant.port.port}?` : ''}.`,
        [
          `the operator reads ${CF_ANNOTATION.protocolPrefix}<Service port> (level 2) for each backend: ${listing(withService.map((b) => `${b.serviceName}:${b.port.port} (${b.port.evidence})`)) || 'no backends'}`,
          ...(meant?.port.servicePort ? [`Service ${meant.namespace}/${meant.serviceName} port ${meant.port.port} has targetPort ${meant.port.servicePort.targetPort ?? meant.port.port}${meant.port.servicePort.name ? ` and name ${meant.port.servicePort.name}` : ''}`] : []),
        ],
        fixes,
      ),
    );
  }
  if (wide) {
    const overridden = perPort.filter((k) => ports.has(Number(k.slice(CF_ANNOTATION.protocolPrefix.length))) && ann[k] !== wide);
    if (overridden.length && first) {
      const patch: Record<string, string | null> = { [CF_ANNOTATION.protocol]: null };
      for (const p of ports) if (ann[`${CF_ANNOTATION.protocolPrefix}${p}`] === undefined) patch[`${CF_ANNOTATION.protocolPrefix}${p}`] = wide;
      out.push(
        finding(
          ingress,
          withService.filter((b) => overridden.includes(`${CF_ANNOTATION.protocolPrefix}${b.port.port}`)),
          undefined,
          `${label} sets ${CF_ANNOTATION.protocol}=${wide} for every backend, which the operator reads before ${listing(overridden.map((k) => `${k}=${ann[k]}`))}: ${overridden.length === 1 ? 'that annotation is' : 'those annotations are'} never used.`,
          [`level 1 (${CF_ANNOTATION.protocol}) beats level 2 (${CF_ANNOTATION.protocolPrefix}<port>) for every backend of the Ingress`],
          [
            ingressAnnotationFix(model, first, patch, `Replace ${CF_ANNOTATION.protocol} by per-port annotations`, [
              `the per-port annotations take effect; ports that had none keep ${wide} through their own annotation`,
            ]),
          ],
        ),
      );
    }
  }
  // Values the operator uses verbatim as the scheme (levels 1–3) that cloudflared does not know.
  const deciding = withService.filter((b) => b.chain && b.chain.level <= 3 && !KNOWN.has(b.chain.protocol.toLowerCase()));
  for (const b of deciding) {
    const chain = b.chain!;
    const scheme = schemeFor(b);
    const fixes: Fix[] = [];
    const speech = b.port.servicePort ? declaredSpeech(b.port.servicePort).speech : 'unknown';
    // A gRPC or HTTP/2 port: http:// would be HTTP/1.1 (TM304), https:// a handshake the port cannot read.
    if ((speech === 'grpc' || speech === 'http2') && b.service && b.port.servicePort) fixes.push(noH2cFix(model, b.service, b.port.servicePort, [b.host], speech === 'grpc' ? 'gRPC' : 'HTTP/2'));
    if (chain.level === 3 && b.service) {
      const svc = b.service;
      fixes.push(
        mergePatchFix(
          'Service',
          svc.namespace,
          svc.name,
          { apiVersion: svc.object.apiVersion, kind: 'Service', metadata: { name: svc.name, namespace: svc.namespace, annotations: { [CF_ANNOTATION.protocol]: scheme } } },
          `Set ${CF_ANNOTATION.protocol}: ${scheme} on Service ${svc.namespace}/${svc.name}${where(model, svc.object)}`,
          [`the operator uses ${chain.protocol} verbatim as the scheme, which cloudflared does not proxy as HTTP`],
        ),
      );
    } else {
      const key = chain.level === 1 ? CF_ANNOTATION.protocol : `${CF_ANNOTATION.protocolPrefix}${b.port.port}`;
      fixes.push(ingressAnnotationFix(model, b, { [key]: scheme }, `Set ${key}: ${scheme}`, [`the operator uses ${chain.protocol} verbatim as the scheme, which cloudflared does not proxy as HTTP`]));
    }
    out.push(
      finding(
        ingress,
        [b],
        b.port.port,
        `${chain.source} is not a scheme cloudflared knows: the operator writes ${b.url} as it is, which cloudflared ${/^[a-z][a-z0-9+.-]*$/i.test(chain.protocol) ? 'treats as a raw TCP stream' : 'cannot parse'}.`,
        [`level ${chain.level} decides ${chain.protocol} for ${b.serviceName}:${b.port.port}; levels 1-3 are not validated by the operator`, `cloudflared knows ${[...KNOWN].join(', ')}`],
        fixes,
      ),
    );
  }
  return out;
}

export const tm307: Rule = {
  meta: {
    code: 'TM307',
    name: 'protocol-annotation-ineffective',
    severity: 'warning',
    summary:
      'A cloudflare.com/protocol-<port> names a port no backend of the Ingress uses, or is overridden by an Ingress-wide cloudflare.com/protocol, or a protocol value the operator passes through as an unknown scheme.',
    description:
      'The operator reads cloudflare.com/protocol-<Service port> (level 2) only for the Service port each backend resolves to; a target port or a port name there matches nothing. ' +
      'An Ingress-wide cloudflare.com/protocol (level 1) beats every per-port annotation. Values of levels 1-3 are used as written, so grpc, h2c or a typo becomes the URL scheme.',
    howToFix:
      'Key the annotation by the Service port, drop the Ingress-wide annotation in favour of per-port ones, and use a scheme cloudflared knows (http, https, ws, wss, tcp, ssh, rdp, smb).',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const byIngress = new Map<Ingress, IngressBackendView[]>();
    for (const b of model.operator.backends) {
      if (b.cls.ours !== true) continue;
      byIngress.set(b.ingress, [...(byIngress.get(b.ingress) ?? []), b]);
    }
    return [...byIngress.entries()].flatMap(([ingress, backends]) => checkIngress(model, ingress, backends));
  },
};
