// TM501: the client's proxy (cloudflared's sidecar, an ingress gateway) holds a config that sends
// something else to the Service port than the configuration says it should.

import { distinctBy, hitEdges, hitNamespaces, listing, pathLine, serviceRef, unique } from '../edge-hits.js';
import { describeDump } from '../../model/envoy/dump.js';
import { envoyComparisons, type EnvoyComparison } from '../envoy-agreement.js';
import { restartFix } from '../fixes.js';
import { kinds, EDGES } from '../inputs.js';
import type { FindingDraft, Fix, Rule } from '../types.js';
import { envoyExample } from '../examples.js';

export const SYMPTOM_PROXY_DISAGREES =
  'the edge behaves as the running proxy says, not as the manifests say: a fix that is applied but not in effect, or a failure the configuration does not explain';

export const tm501: Rule = {
  meta: {
    code: 'TM501',
    name: 'envoy-client-disagrees',
    severity: 'warning',
    summary: "The client's Envoy (cloudflared's sidecar, an ingress gateway) sends a Service port other TLS than the configuration says (error when that breaks the edge).",
    description:
      "Judged only with config dumps (--proxy-config, --proxy-config-file). For each judged edge, the client proxy's outbound cluster `outbound|PORT|SUBSET|HOST` decides what leaves the pod: " +
      'its own transport socket, or per endpoint the first transport_socket_matches entry the endpoint metadata takes (`tlsMode-istio` for endpoints with tlsMode=istio, `tlsMode-disabled` for the rest). ' +
      'When that differs from what the DestinationRules, PeerAuthentications and labels make tunnelmesh predict, the proxy is running another configuration: ' +
      'one it has not received yet (the dump predates a DestinationRule, or Envoy rejected an update), one built from objects not in the input, an EnvoyFilter, or a gap in tunnelmesh\'s model. ' +
      "It is an error when what Envoy sends makes the edge fail while the configuration says it works (the TM101 fix applied, the proxy still sending mTLS).",
    howToFix:
      'Take a new dump once `istioctl proxy-status` shows the proxy SYNCED; if it still disagrees, look for EnvoyFilters that patch the cluster (`kubectl get envoyfilters -A`) and for DestinationRules or Sidecar resources missing from the input. ' +
      'When the dump predates the configuration or Envoy rejected an update, restarting the client workload gives its proxy the current configuration.',
    inputs: kinds(EDGES),
    extraInputs: ['Envoy config dumps (--proxy-config, --proxy-config-file)'],
    example: envoyExample('client'),
  },
  check({ model }) {
    const disagreeing = envoyComparisons(model).filter((c) => c.side === 'client' && c.result === 'disagrees');
    const groups = new Map<string, EnvoyComparison[]>();
    for (const c of disagreeing) {
      const key = `${c.edge.service.namespace}/${c.edge.service.name}:${c.edge.servicePort.port}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    return [...groups.keys()].sort().map((key) => finding(model, groups.get(key) as EnvoyComparison[]));
  },
};

function finding(model: Parameters<Rule['check']>[0]['model'], list: EnvoyComparison[]): FindingDraft {
  const first = list[0] as EnvoyComparison;
  const { service: svc, servicePort: sp } = first.edge;
  const clients = unique(list.map((c) => c.client.group.context.label));
  const proxies = unique(list.map((c) => describeDump(c.dump)));
  const missed = list.some((c) => c.missedFailure);
  const falseAlarm = list.every((c) => c.falseAlarm);
  const outcome = missed
    ? ': with what Envoy sends the edge fails, although the configuration says it works'
    : falseAlarm
      ? ': with what Envoy sends the edge works, so what tunnelmesh finds in the configuration is not what runs'
      : '';
  const meanings = unique(list.flatMap((c) => c.meanings));
  const fixes: Fix[] = [];
  if (meanings.some((m) => m.startsWith('the dump predates') || m.startsWith('Envoy rejected'))) {
    for (const c of distinctBy(list, (x) => `${x.client.group.workload.namespace}/${x.client.group.workload.name}`)) {
      fixes.push(restartFix(model, c.client.group.pods, "re-created, the client's proxy starts from istiod's current configuration (check istioctl proxy-status first: a proxy that is merely behind catches up by itself)"));
    }
  }
  return {
    resource: serviceRef(first.edge),
    port: sp.port,
    ...(missed ? { severity: 'error' as const } : {}),
    message: `${listing(clients)} (Envoy of ${listing(proxies.slice(0, 3))}) ${first.envoy} for Service ${svc.namespace}/${svc.name} port ${sp.port}, where the configuration says it sends ${first.predicted}${outcome}.`,
    symptom: SYMPTOM_PROXY_DISAGREES,
    evidence: [
      pathLine(first.edge),
      ...unique(list.map((c) => c.line)).slice(0, 6),
      ...meanings.map((m) => `can mean: ${m}`),
      `configuration: ${first.endpoint.sends.steps.join('; ')}`,
    ],
    fixes,
    namespaces: unique([...hitNamespaces(list), ...list.map((c) => c.pod.namespace)]),
    edges: hitEdges(list),
    objects: [svc.object, ...unique(list.map((c) => c.pod.object))],
  };
}
