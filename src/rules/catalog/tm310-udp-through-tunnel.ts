// TM310: a tunnel rule aimed at UDP: cloudflared ingress rules carry TCP, Istio never proxies UDP.

import { serviceKind } from '../../model/cloudflared.js';
import { resolveRuleTarget, ruleKey } from '../../model/edges.js';
import type { MeshModel } from '../../model/model.js';
import { isUdp } from '../../model/services.js';
import type { TunnelConfig, TunnelRule } from '../../model/tunnels.js';
import { ruleEvidence, ruleName } from '../edge-hits.js';
import { configMapEditFix, mergePatchFix, removeRuleFix } from '../tunnel-fixes.js';
import { rerouting } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

/** Operator tunnels: private-network routing (WARP) on the Tunnel/ClusterTunnel carries UDP to the cluster; a hostname rule does not. */
function warpFix(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule): Fix | undefined {
  const why = ['WARP routing lets WARP clients reach private IPs (the Service ClusterIP) over TCP and UDP; add the cluster CIDR as a private network route of the tunnel in Cloudflare Zero Trust'];
  const o = tunnel.object;
  const written = rule.written?.tunnel;
  const ref = written
    ? written
    : o.kind === 'TunnelIngressClassConfig'
      ? (o as { spec?: { tunnelRef?: { kind?: string; name?: string; namespace?: string } } }).spec?.tunnelRef
      : o.kind === 'Tunnel' || o.kind === 'ClusterTunnel'
        ? { kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }
        : undefined;
  const kind = ref?.kind ?? 'ClusterTunnel';
  const name = ref?.name ?? tunnel.connectors[0]?.labels['cloudflare-operator.io/tunnel'] ?? tunnel.tunnelName;
  if (!name) return undefined;
  if (!ref) why.push('the tunnel kind is not in the input: for a namespaced Tunnel, use kind Tunnel and its namespace');
  const metadata = kind === 'ClusterTunnel' ? { name } : { name, namespace: ref?.namespace ?? tunnel.namespace };
  const doc = { apiVersion: 'networking.cloudflare-operator.io/v1alpha2', kind, metadata, spec: { enableWarpRouting: true } };
  return mergePatchFix(kind, kind === 'ClusterTunnel' ? undefined : (metadata.namespace as string), name, doc, `Enable WARP routing on ${kind} ${name}`, why);
}

function udpReason(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule): string | undefined {
  const kind = serviceKind(rule.service, rule.originRequest);
  if (kind.kind === 'stream' && kind.scheme === 'udp') return 'the scheme udp:// is proxied by cloudflared as a TCP stream';
  const target = resolveRuleTarget(model, tunnel, rule);
  if (target.kind === 'service' && isUdp(target.servicePort)) return `Service ${target.service.namespace}/${target.service.name} port ${target.servicePort.port} is UDP`;
  return undefined;
}

export const tm310: Rule = {
  meta: {
    code: 'TM310',
    name: 'udp-through-tunnel',
    severity: 'info',
    summary: 'A tunnel rule targets a UDP port (Istio never proxies UDP; cloudflared ingress rules carry HTTP or TCP streams).',
    description:
      'cloudflared proxies an ingress rule as HTTP or as a TCP stream; a udp:// scheme becomes a TCP stream to a port that answers UDP. Istio sidecars do not capture or ' +
      'secure UDP either. UDP to a cluster reaches it through WARP private-network routing, not through a hostname rule.',
    howToFix: 'Remove the hostname rule and reach the UDP service through WARP routing (Tunnel spec.enableWarpRouting, or warp-routing.enabled in config.yaml) with a private network route.',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const tunnel of model.tunnels) {
      for (const rule of tunnel.rules) {
        const why = udpReason(model, tunnel, rule);
        if (!why) continue;
        // The operator repeats a TunnelBinding's rules under every binding of its tunnel: judge the first copy.
        if (rule.written?.rule && rule.written.rule !== rule) continue;
        const b = rule.backend;
        const w = rule.written;
        const fixes: Fix[] = [];
        const drop = ['a hostname rule cannot carry UDP', 'reach the UDP service through WARP routing and a private network route instead'];
        if (tunnel.layout === 'cloudflared-yaml' && !w) {
          const fix = configMapEditFix(
            model,
            tunnel,
            (ingress, doc) => {
              ingress.splice(rule.index, 1);
              doc['warp-routing'] = { ...((doc['warp-routing'] as Record<string, unknown> | undefined) ?? {}), enabled: true };
            },
            `Remove rule #${rule.index} (${rule.hostname ?? '*'}) and enable warp-routing`,
            drop,
          );
          if (fix) fixes.push(fix);
        } else {
          const remove = removeRuleFix(model, tunnel, rule, drop);
          if (remove) fixes.push(remove);
          const warp = warpFix(model, tunnel, rule);
          if (warp) fixes.push(warp);
        }
        findings.push({
          resource: b
            ? { kind: 'Ingress', namespace: b.namespace, name: b.ingress.metadata.name }
            : w
              ? { kind: w.writerKind, namespace: w.namespace, name: w.writer.metadata.name }
              : { kind: tunnel.object.kind, namespace: tunnel.namespace, name: tunnel.object.metadata.name },
          ...(b ? { port: b.port.port } : w?.serviceRef?.port !== undefined ? { port: w.serviceRef.port } : {}),
          message: `Tunnel ${ruleName({ tunnel, rule })} sends ${rule.service}: ${why}, which neither the hostname rule nor Istio carries as UDP.`,
          symptom: 'UDP clients get no answer through the hostname; a TCP stream reaches a port that only answers UDP',
          evidence: [...ruleEvidence(tunnel, rule), why, 'Istio sidecars never proxy UDP (§8)'],
          fixes: fixes.map(rerouting),
          namespaces: [tunnel.namespace, ...(b ? [b.namespace] : []), ...(w ? [w.namespace] : [])],
          objects: [b?.ingress ?? w?.writer ?? tunnel.object],
          edges: [ruleKey(tunnel, rule)],
        });
      }
    }
    return findings;
  },
};
