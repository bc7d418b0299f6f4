import { tm105 } from '../../src/rules/catalog/tm105-unknown-istio-annotation.js';
import { deployment, namespace, operatorCloudflared, operatorTunnelConfig, pod, service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

function gw(annotations: Record<string, string>, labels?: Record<string, string>): Obj[] {
  return [namespace('app', { 'istio-injection': 'enabled' }), deployment('app', 'gw', { annotations, ...(labels ? { labels } : {}), ports: [{ port: 9091 }] })];
}

function withDeploymentMetadata(o: Obj, annotations: Record<string, string>): Obj {
  return { ...o, metadata: { ...o.metadata, annotations } };
}

testRule(tm105, {
  valid: [
    { name: 'real Istio pod annotations on the pod template', objects: gw({ 'traffic.sidecar.istio.io/excludeInboundPorts': '9091', 'proxy.istio.io/config': '{}', 'sidecar.istio.io/proxyCPU': '100m' }) },
    { name: 'the injection label as a label', objects: gw({}, { app: 'gw', 'sidecar.istio.io/inject': 'true' }) },
    { name: 'keys outside the istio.io domains are not judged', objects: gw({ 'prometheus.io/scrape': 'true', 'example.com/istio': 'x' }) },
    { name: 'namespace labels Istio reads', objects: [namespace('a', { 'istio.io/rev': 'canary', 'istio.io/dataplane-mode': 'ambient' })] },
    { name: 'keys the injector writes on running pods', objects: [namespace('app'), pod('app', 'p', { annotations: { 'sidecar.istio.io/status': '{}', 'istio.io/rev': 'default' } })] },
  ],
  invalid: [
    {
      name: "seed 000's traffic.istio.io/excludeInboundPorts",
      objects: gw({ 'traffic.istio.io/excludeInboundPorts': '9091' }),
      findings: [
        {
          resource: 'Deployment app/gw',
          message: ['traffic.istio.io/excludeInboundPorts', 'did you mean traffic.sidecar.istio.io/excludeInboundPorts?', 'ports 9091 stay captured'],
          fixes: [
            {
              title: 'Write traffic.sidecar.istio.io/excludeInboundPorts as an annotation on spec.template.metadata of Deployment app/gw',
              yaml: ['traffic.sidecar.istio.io/excludeInboundPorts: "9091"', 'then: kubectl patch deployment -n app gw --type json -p \'[{"op":"remove","path":"/spec/template/metadata/annotations/traffic.istio.io~1excludeInboundPorts"}]\''],
            },
          ],
        },
      ],
    },
    {
      // Issue 13: the real key takes 9091 out of the sidecar; the meshed cloudflared's auto mTLS would then
      // reach the application (seed 000's TM101 outage). The fix says so and brings the DestinationRule.
      name: "seed 000's situation: the rename comes with the DestinationRule that keeps the meshed tunnel working",
      objects: [
        namespace('cloudflare-operator-system', { 'istio-injection': 'enabled' }),
        operatorTunnelConfig([{ hostname: 'admin.example.com', service: 'http://gw.app.svc:9091' }]),
        operatorCloudflared(),
        ...gw({ 'traffic.istio.io/excludeInboundPorts': '9091' }),
        service('app', 'gw', [{ name: 'http-admin', port: 9091 }]),
      ],
      findings: [
        {
          resource: 'Deployment app/gw',
          fixes: [
            {
              title: 'and remove traffic.istio.io/excludeInboundPorts',
              yaml: ['this CHANGES traffic', '(TM101)', 'apply both together, or neither', 'kind: DestinationRule', 'number: 9091', 'mode: DISABLE'],
            },
          ],
        },
      ],
    },
    {
      name: 'the real key with a value Istio rejects is written as the injector accepts it',
      objects: gw({ 'traffic.istio.io/excludeInboundPorts': '9091-9092' }),
      findings: [{ resource: 'Deployment app/gw', fixes: [{ yaml: ['traffic.sidecar.istio.io/excludeInboundPorts: 9091,9092\n', 'range 9091-9092 written out port by port'] }] }],
    },
    {
      name: "a pod annotation on the Deployment's own metadata never reaches the pods",
      objects: [namespace('app'), withDeploymentMetadata(deployment('app', 'gw'), { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' })],
      findings: [{ resource: 'Deployment app/gw', message: 'it applies to pods, so it belongs on spec.template.metadata', fixes: [{ yaml: [/template:\n\s+metadata:\n\s+annotations:\n\s+traffic.sidecar.istio.io\/excludeInboundPorts: "9091"/] }] }],
      fixResolves: false,
    },
    {
      name: 'a capture annotation written as a label',
      objects: gw({}, { app: 'gw', 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }),
      findings: [{ resource: 'Deployment app/gw', message: 'is an Istio annotation, written here as a label' }],
      fixResolves: false,
    },
    {
      name: 'a Service annotation on a pod, and a misspelled Service annotation',
      objects: [namespace('app'), pod('app', 'standalone', { annotations: { 'networking.istio.io/exportTo': '.' } }), service('app', 's', [{ port: 80 }], { annotations: { 'networking.istio.io/exportThree': 'bar' } })],
      findings: [
        { resource: 'Service app/s', message: 'did you mean networking.istio.io/exportTo?' },
        { resource: 'Pod app/standalone', message: 'applies to Service' },
      ],
      fixResolves: false,
    },
  ],
});
