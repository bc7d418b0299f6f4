// TM208: one target port of a meshed pod is exposed by several Services that declare different
// Istio protocols (domain §8): the sidecar's inbound listener for the port can be only one.

import type { ServicePort } from '../../core/k8s.js';
import type { MeshModel } from '../../model/model.js';
import type { PodView } from '../../model/pods.js';
import { istioProtocol, protocolFamily, type ProtocolFamily } from '../../model/protocol.js';
import { isUdp, resolveTargetPort, type ServiceView } from '../../model/services.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { listing, unique } from '../edge-hits.js';
import { servicePortsFix } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

interface Exposure {
  svc: ServiceView;
  sp: ServicePort;
  family: ProtocolFamily;
  describe: string;
}

const APP_PROTOCOL: Record<ProtocolFamily, string> = { HTTP: 'http', TCP: 'tcp', TLS: 'tls' };

function byTargetPort(model: MeshModel, pod: PodView): Map<number, Exposure[]> {
  const out = new Map<number, Exposure[]>();
  for (const svc of model.servicesOf(pod)) {
    for (const sp of svc.ports) {
      if (isUdp(sp)) continue;
      const tp = resolveTargetPort(sp, pod);
      const decision = istioProtocol(sp);
      const family = protocolFamily(decision.protocol);
      if (tp.port === undefined || !family) continue;
      const list = out.get(tp.port) ?? [];
      list.push({ svc, sp, family, describe: `Service ${svc.namespace}/${svc.name} port ${sp.port}${sp.name ? ` (${sp.name})` : ''}: ${decision.protocol} from ${decision.source}` });
      out.set(tp.port, list);
    }
  }
  return out;
}

/** The family most Services declare (ties: the oldest Service's, then by name). */
function majority(exposures: Exposure[]): ProtocolFamily {
  const count = new Map<ProtocolFamily, number>();
  for (const e of exposures) count.set(e.family, (count.get(e.family) ?? 0) + 1);
  const ranked = [...exposures].sort((a, b) => {
    const c = (count.get(b.family) ?? 0) - (count.get(a.family) ?? 0);
    if (c) return c;
    const ta = a.svc.object.metadata.creationTimestamp ?? '';
    const tb = b.svc.object.metadata.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    return a.svc.name < b.svc.name ? -1 : a.svc.name > b.svc.name ? 1 : 0;
  });
  return (ranked[0] as Exposure).family;
}

export const tm208: Rule = {
  meta: {
    code: 'TM208',
    name: 'conflicting-port-protocols',
    severity: 'error',
    summary: 'One target port of a meshed pod is exposed by several Services that declare different Istio protocols (HTTP, TCP or TLS).',
    description:
      'The sidecar has one inbound filter chain per target port. When one Service names the port http-… and another tcp-… (or https), Istio applies one ' +
      'of them: traffic sent through the other Service is parsed with the wrong protocol (HTTP requests treated as opaque TCP lose routing and telemetry, TCP ' +
      'or TLS streams through an HTTP chain fail). istioctl reports the same situation as IST0116/IST0119. Versions within the HTTP family (http, http2, grpc) share one chain and are not reported.',
    howToFix: 'Declare the same protocol (port name prefix or appProtocol) for this target port in every Service that exposes it.',
    inputs: ['Service', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Namespace'],
  },
  check({ model }) {
    const meshed = model.pods.filter((p) => p.sidecar.state === 'present' && p.sidecar.kind !== 'gateway');
    const findings: FindingDraft[] = [];
    for (const group of groupByWorkload(meshed)) {
      const pod = group.pods[0] as PodView;
      for (const [port, exposures] of [...byTargetPort(model, pod)].sort(([a], [b]) => a - b)) {
        const families = unique(exposures.map((e) => e.family));
        if (families.length < 2) continue;
        const keep = majority(exposures);
        const fixes: Fix[] = [];
        for (const svc of unique(exposures.filter((e) => e.family !== keep).map((e) => e.svc))) {
          fixes.push(
            servicePortsFix(
              model,
              svc,
              (sp) => (exposures.some((e) => e.svc === svc && e.sp.port === sp.port && e.family !== keep) ? { ...sp, appProtocol: APP_PROTOCOL[keep] } : sp),
              `Declare Service ${svc.namespace}/${svc.name} port${exposures.filter((e) => e.svc === svc).length === 1 ? '' : 's'} to target port ${port} as ${APP_PROTOCOL[keep]}`,
              [
                `appProtocol overrides the port name for Istio; ${keep} is what ${exposures.filter((e) => e.family === keep).length} of the ${exposures.length} Service ports reaching target port ${port} declare`,
                'if the other protocol is the right one, change those Services instead',
                'the Cloudflare operator reads appProtocol too when it picks a tunnel scheme (http → http://, tcp → tcp://, tls passes through as written)',
              ],
            ),
          );
        }
        findings.push({
          resource: group.workload,
          port,
          message: `Target port ${port} of ${describeGroup(group)} is exposed with different Istio protocols: ${listing(exposures.map((e) => `${e.family} by Service ${e.svc.name} port ${e.sp.port}`))}; the sidecar applies only one of them to the port.`,
          symptom: 'requests through one of the Services fail or lose HTTP routing, retries and telemetry, depending on which declaration the sidecar applied',
          evidence: [`sidecar: ${pod.sidecar.reason}`, ...exposures.map((e) => e.describe)],
          fixes,
          namespaces: [pod.namespace],
          objects: [pod.object, ...unique(exposures.map((e) => e.svc.object))],
        });
      }
    }
    return findings;
  },
};
