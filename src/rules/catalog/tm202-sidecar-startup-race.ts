// TM202: cloudflared starts before its classic sidecar is ready. iptables already redirects its
// traffic to Envoy, which is not listening yet: the first edge and origin connections fail.

import type { PodView } from '../../model/pods.js';
import { holdApplication, NATIVE_SIDECAR_ANNOTATION, PROXY_CONFIG_ANNOTATION, proxyConfigWithHold } from '../../model/proxyconfig.js';
import { describeGroup, groupByWorkload } from '../../model/workloads.js';
import { restartFix, templatePatch } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';

function operatorNote(pod: PodView): string[] {
  return Object.keys(pod.labels).some((k) => k.startsWith('cloudflare-operator.io/'))
    ? ['the Cloudflare operator owns this Deployment: put the same template metadata into the Tunnel/ClusterTunnel spec.deployPatch, or the operator reverts it']
    : [];
}

export const tm202: Rule = {
  meta: {
    code: 'TM202',
    name: 'sidecar-startup-race',
    severity: 'warning',
    summary: "A tunnel's cloudflared pods run a classic (non-native) sidecar without holdApplicationUntilProxyStarts.",
    description:
      'With a classic sidecar the containers start together; istio-init has already redirected all traffic to Envoy, which needs a few seconds to get its ' +
      'configuration. cloudflared dials the Cloudflare edge and its origins at once, so its first connections are refused or reset after every start or ' +
      'reschedule. holdApplicationUntilProxyStarts (pod annotation proxy.istio.io/config, or meshConfig.defaultConfig) makes the injector start the proxy first ' +
      'and hold the other containers until it is ready; a native sidecar (an init container with restartPolicy Always) is always started first.',
    howToFix:
      'Set proxy.istio.io/config: {"holdApplicationUntilProxyStarts": true} on the cloudflared pod template (recommended), or mesh-wide in ' +
      'meshConfig.defaultConfig, or run the sidecar as a native sidecar (sidecar.istio.io/nativeSidecar: "true", Kubernetes 1.29+).',
    inputs: ['Pod', 'Deployment', 'ConfigMap', 'Namespace'],
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    const racing = model.pods.filter((p) => {
      if (!p.isCloudflared || p.sidecar.state !== 'present') return false;
      const kind = p.sidecar.kind;
      if (kind === 'native' || kind === 'gateway') return false;
      if (kind === 'injected' && p.annotations[NATIVE_SIDECAR_ANNOTATION] === 'true') return false;
      return !holdApplication(p, model.mesh).held;
    });
    for (const group of groupByWorkload(racing)) {
      const pod = group.pods[0] as PodView;
      const hold = holdApplication(pod, model.mesh);
      const predicted = pod.sidecar.kind === 'injected';
      const alreadyConfigured = hold.stale === true;
      const fixes: Fix[] = [];
      if (alreadyConfigured) {
        fixes.push(restartFix(model, group.pods, 'the setting is in place; only pods created after it wait for the proxy'));
      } else {
        const fix = templatePatch(
          model,
          pod,
          { metadata: { annotations: { [PROXY_CONFIG_ANNOTATION]: proxyConfigWithHold(pod.annotations[PROXY_CONFIG_ANNOTATION]) } } },
          [
            'the injector starts istio-proxy first and holds cloudflared until the proxy is ready (other ProxyConfig keys of the annotation are kept)',
            'mesh-wide alternative: meshConfig.defaultConfig.holdApplicationUntilProxyStarts: true (then restart the pods)',
            ...operatorNote(pod),
          ],
        );
        fix.title = `Hold cloudflared until the proxy starts on ${fix.target.kind} ${pod.namespace}/${fix.target.name}`;
        fixes.push(fix);
      }
      const native = templatePatch(model, pod, { metadata: { annotations: { [NATIVE_SIDECAR_ANNOTATION]: 'true' } } }, [
        'runs istio-proxy as a native sidecar (an init container with restartPolicy Always), which Kubernetes starts before cloudflared',
        'needs Kubernetes 1.29+ (SidecarContainers) and an Istio that supports native sidecars',
        ...operatorNote(pod),
      ]);
      native.title = `Run istio-proxy as a native sidecar on ${native.target.kind} ${pod.namespace}/${native.target.name}`;
      fixes.push(native);
      findings.push({
        resource: group.workload,
        message:
          `cloudflared ${describeGroup(group)} runs a classic Istio sidecar that does not hold it until the proxy is ready: after every start its first connections to the edge and its origins fail.` +
          (predicted ? ' (Predicted: the injector adds a classic sidecar unless it injects native sidecars by default, as newer Istio does on Kubernetes 1.33+ nodes.)' : ''),
        symptom: 'for a few seconds after each cloudflared start: "connection refused" dialing the edge or origins, 502 from the tunnel hostname, then it recovers',
        evidence: [`sidecar: ${pod.sidecar.reason}`, `holdApplicationUntilProxyStarts: ${hold.source}`],
        fixes,
        objects: [pod.object],
      });
    }
    return findings;
  },
};
