import { tm202 } from '../../src/rules/catalog/tm202-sidecar-startup-race.js';
import { cloudflaredConfigMap, cloudflaredDeployment, meshConfig, namespace, operatorCloudflared, operatorTunnelConfig, pod, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const OP = 'cloudflare-operator-system';
const CF_LABELS = { 'cloudflare-operator.io/app': 'cloudflared', 'cloudflare-operator.io/id': '6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f' };

function operator(o: { ns?: Record<string, string>; annotations?: Record<string, string>; extra?: Obj[] } = {}): Obj[] {
  return [
    namespace(OP, o.ns ?? { 'istio-injection': 'enabled' }),
    operatorTunnelConfig([{ hostname: 'app.example.com', service: 'http://web.app.svc:80' }]),
    operatorCloudflared(o.annotations ? { annotations: o.annotations } : {}),
    ...(o.extra ?? []),
  ];
}

/** A running cloudflared pod with a classic sidecar; `held` adds the injector's postStart hook. */
function runningConnector(name: string, held: boolean, annotations?: Record<string, string>): Obj {
  const p = pod(OP, name, { owner: 'main-tunnel', labels: { ...CF_LABELS, app: 'main-tunnel' }, image: 'cloudflare/cloudflared:2025.11.1', ...(annotations ? { annotations } : {}) });
  if (held) {
    const spec = p.spec as { containers: Array<Record<string, unknown>> };
    const proxy = spec.containers.find((c) => c.name === 'istio-proxy') as Record<string, unknown>;
    proxy.lifecycle = { postStart: { exec: { command: ['pilot-agent', 'wait'] } } };
    spec.containers = [proxy, ...spec.containers.filter((c) => c !== proxy)];
  }
  return p;
}

testRule(tm202, {
  valid: [
    { name: 'holdApplicationUntilProxyStarts in the pod annotation (JSON)', objects: operator({ annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' } }) },
    { name: 'holdApplicationUntilProxyStarts in the pod annotation (YAML)', objects: operator({ annotations: { 'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true\nconcurrency: 2' } }) },
    { name: 'holdApplicationUntilProxyStarts mesh-wide', objects: operator({ extra: [meshConfig({ defaultConfig: { holdApplicationUntilProxyStarts: true } })] }) },
    { name: 'a native sidecar requested by annotation starts before cloudflared', objects: operator({ annotations: { 'sidecar.istio.io/nativeSidecar': 'true' } }) },
    { name: 'cloudflared without a sidecar (TM201 territory)', objects: operator({ ns: {} }) },
    { name: 'cloudflared in an ambient namespace: no sidecar', objects: operator({ ns: { 'istio.io/dataplane-mode': 'ambient' } }) },
    { name: 'running pods with a native sidecar', objects: [namespace(OP), operatorTunnelConfig([{ hostname: 'a.example.com', service: 'http://web.app.svc:80' }]), pod(OP, 'main-tunnel-x', { owner: 'main-tunnel', sidecar: 'native', labels: CF_LABELS, image: 'cloudflare/cloudflared:2025.11.1' })] },
    { name: 'running pods held by the injector (postStart pilot-agent wait)', objects: [namespace(OP), operatorTunnelConfig([{ hostname: 'a.example.com', service: 'http://web.app.svc:80' }]), runningConnector('main-tunnel-x', true)] },
    { name: 'namespace labels unknown: the sidecar is unknown, nothing to say', objects: [operatorTunnelConfig([{ hostname: 'a.example.com', service: 'http://web.app.svc:80' }]), operatorCloudflared()] },
  ],
  invalid: [
    {
      name: 'operator cloudflared, injected classic sidecar, no hold: the fix keeps other ProxyConfig keys and mentions deployPatch',
      objects: operator({ annotations: { 'proxy.istio.io/config': '{"concurrency": 2}' } }),
      findings: [
        {
          resource: `Deployment ${OP}/main-tunnel`,
          message: ['classic Istio sidecar', 'Predicted'],
          evidence: ['meshConfig.defaultConfig.holdApplicationUntilProxyStarts false'],
          fixes: [
            { title: `Hold cloudflared until the proxy starts on Deployment ${OP}/main-tunnel`, yaml: ['proxy.istio.io/config: "{concurrency: 2, holdApplicationUntilProxyStarts: true}"', 'spec.deployPatch'] },
            { title: 'native sidecar', yaml: ['sidecar.istio.io/nativeSidecar: "true"'] },
          ],
        },
      ],
    },
    {
      name: 'the annotation turns it off explicitly although the mesh default is on',
      objects: operator({ annotations: { 'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: false' }, extra: [meshConfig({ defaultConfig: { holdApplicationUntilProxyStarts: true } })] }),
      findings: [{ resource: `Deployment ${OP}/main-tunnel`, evidence: ['annotation proxy.istio.io/config: holdApplicationUntilProxyStarts false'] }],
    },
    {
      name: 'a hand-written cloudflared with a pod-level inject label',
      objects: [
        namespace('edge'),
        cloudflaredConfigMap('edge', 'cloudflared', [{ hostname: 'a.example.com', service: 'http://web.app:80' }, { service: 'http_status:404' }]),
        cloudflaredDeployment('edge', 'cloudflared', 'cloudflared', { labels: { app: 'cloudflared', 'sidecar.istio.io/inject': 'true' } }),
      ],
      findings: [{ resource: 'Deployment edge/cloudflared', message: 'cloudflared Deployment edge/cloudflared (pod template)' }],
    },
    {
      name: 'running pods of one Deployment: one finding listing both pods',
      objects: [namespace(OP), operatorTunnelConfig([{ hostname: 'a.example.com', service: 'http://web.app.svc:80' }]), runningConnector('main-tunnel-a', false), runningConnector('main-tunnel-b', false)],
      findings: [{ resource: `Deployment ${OP}/main-tunnel`, message: 'pods main-tunnel-a, main-tunnel-b', evidence: ['no postStart "pilot-agent wait" hook'] }],
      fixResolves: false,
    },
    {
      name: 'running pods created before the annotation: the fix is a restart',
      objects: [namespace(OP), operatorTunnelConfig([{ hostname: 'a.example.com', service: 'http://web.app.svc:80' }]), runningConnector('main-tunnel-a', false, { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' })],
      findings: [{ resource: `Deployment ${OP}/main-tunnel`, evidence: ['created before the setting'], fixes: [{ title: `Restart Deployment ${OP}/main-tunnel`, yaml: ['kubectl.kubernetes.io/restartedAt', 'kubectl rollout restart deployment/main-tunnel'] }] }],
      fixResolves: false,
    },
    {
      name: 'a token-mode cloudflared whose config is remote (no ConfigMap) still races',
      objects: [
        namespace('edge', { 'istio-injection': 'enabled' }),
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'tunnel', namespace: 'edge' },
          spec: {
            selector: { matchLabels: { app: 'tunnel' } },
            template: { metadata: { labels: { app: 'tunnel' } }, spec: { containers: [{ name: 'cloudflared', image: 'cloudflare/cloudflared:latest', args: ['tunnel', '--no-autoupdate', 'run', '--token', 'x'] }] } },
          },
        },
      ],
      findings: [{ resource: 'Deployment edge/tunnel' }],
    },
  ],
});
