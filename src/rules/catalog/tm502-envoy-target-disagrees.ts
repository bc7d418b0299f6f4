// TM502: the target's proxy treats its inbound port otherwise than the configuration says
// (captured or not, mTLS required or accepted or refused).

import { formatRef } from '../../core/k8s.js';
import { workloadOf } from '../../model/pods.js';
import { distinctBy, hitEdges, hitNamespaces, listing, pathLine, unique } from '../edge-hits.js';
import { describeDump } from '../../model/envoy/dump.js';
import { envoyComparisons, type EnvoyComparison } from '../envoy-agreement.js';
import { restartFix } from '../fixes.js';
import { kinds, EDGES } from '../inputs.js';
import type { FindingDraft, Fix, Rule } from '../types.js';
import { envoyExample } from '../examples.js';
import { SYMPTOM_PROXY_DISAGREES } from './tm501-envoy-client-disagrees.js';

export const tm502: Rule = {
  meta: {
    code: 'TM502',
    name: 'envoy-target-disagrees',
    severity: 'warning',
    summary: "The target's Envoy handles its inbound port otherwise than the configuration says: another mTLS mode, no filter chain for the port, or capture annotations it did not start with (error when that breaks the edge).",
    description:
      "Judged only with config dumps of target pods (--proxy-config=clients,targets, --proxy-config-file). Istio renders a PeerAuthentication into the virtualInbound listener's filter chains for each target port: " +
      'PERMISSIVE is a TLS chain that terminates Istio mTLS (ALPN istio, istio-peer-exchange, istio-http/*) next to a raw_buffer chain; STRICT only the TLS chain; DISABLE only plaintext. ' +
      'Those chains exist for excluded ports too (istiod builds them from the Service ports; iptables decides what reaches them), so capture is compared with the capture annotations the proxy started with (node metadata ANNOTATIONS). ' +
      "A mismatch means the proxy runs another configuration: a PeerAuthentication it has not received, or one not in the input, an EnvoyFilter, a pod whose annotations were edited after it started, or a gap in tunnelmesh's model. " +
      'It is an error when with what Envoy does the client\'s traffic is refused or not terminated while the configuration says it works.',
    howToFix:
      'Take a new dump once `istioctl proxy-status` shows the proxy SYNCED; if it still disagrees, list the PeerAuthentications of the pod\'s namespace and the root namespace and the EnvoyFilters (`kubectl get peerauthentications,envoyfilters -A`). ' +
      'Capture annotations take effect only when the pod is re-created: restart the workload.',
    inputs: kinds(EDGES),
    extraInputs: ['Envoy config dumps (--proxy-config, --proxy-config-file)'],
    example: envoyExample('target'),
  },
  check({ model }) {
    const disagreeing = envoyComparisons(model).filter((c) => c.side === 'target' && c.result === 'disagrees');
    const groups = new Map<string, EnvoyComparison[]>();
    for (const c of disagreeing) {
      const key = `${formatRef(workloadOf(c.pod))}:${c.endpoint.targetPort}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    return [...groups.keys()].sort().map((key) => finding(model, groups.get(key) as EnvoyComparison[]));
  },
};

function finding(model: Parameters<Rule['check']>[0]['model'], list: EnvoyComparison[]): FindingDraft {
  const first = list[0] as EnvoyComparison;
  const port = first.endpoint.targetPort as number;
  const workload = workloadOf(first.pod);
  const missed = list.some((c) => c.missedFailure);
  const falseAlarm = list.every((c) => c.falseAlarm);
  const outcome = missed
    ? ": with what Envoy does, the client's traffic fails although the configuration says it works"
    : falseAlarm
      ? ': with what Envoy does the edge works, so what tunnelmesh finds in the configuration is not what runs'
      : '';
  const meanings = unique(list.flatMap((c) => c.meanings));
  const fixes: Fix[] = [];
  const restartHelps = meanings.some((m) => m.startsWith('the dump predates') || m.startsWith('Envoy rejected') || m.startsWith('the capture annotations were edited'));
  if (restartHelps) {
    for (const c of distinctBy(list, (x) => formatRef(workloadOf(x.pod)))) {
      fixes.push(restartFix(model, list.filter((x) => formatRef(workloadOf(x.pod)) === formatRef(workloadOf(c.pod))).map((x) => x.pod), 're-created, the pod starts with its current annotations and its proxy with istiod\'s current configuration'));
    }
  }
  return {
    resource: workload,
    port,
    ...(missed ? { severity: 'error' as const } : {}),
    message: `The Envoy of ${listing(unique(list.map((c) => describeDump(c.dump))).slice(0, 3))} handles target port ${port} otherwise than the configuration says (${first.predicted}): ${first.envoy}${outcome}.`,
    symptom: SYMPTOM_PROXY_DISAGREES,
    evidence: [
      pathLine(first.edge),
      ...unique(list.map((c) => c.line)).slice(0, 6),
      ...meanings.map((m) => `can mean: ${m}`),
      `client: ${first.client.group.context.label} sends ${first.endpoint.sends.sends} (${first.endpoint.sends.steps.at(-1) ?? ''})`,
    ],
    fixes,
    namespaces: unique(hitNamespaces(list)),
    edges: hitEdges(list),
    objects: unique(list.map((c) => c.pod.object)),
  };
}
