import { tm104 } from '../../src/rules/catalog/tm104-uncaptured-port-exposed.js';
import { deployment, destinationRule, namespace, operatorCloudflared, operatorTunnelConfig, peerAuthentication, service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const FQDN = 'app.shop.svc.cluster.local';

function scenario(extra: Obj[] = [], annotations: Record<string, string> = { 'traffic.sidecar.istio.io/excludeInboundPorts': '9090' }, nsLabels: Record<string, string> = { 'istio-injection': 'enabled' }): Obj[] {
  return [
    namespace('shop', nsLabels),
    deployment('shop', 'app', { annotations, ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }] }),
    service('shop', 'app', [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'http-metrics', port: 9090, targetPort: 'metrics' },
    ]),
    ...extra,
  ];
}

testRule(tm104, {
  valid: [
    { name: 'the excluded port is not exposed by any Service', objects: scenario([], { 'traffic.sidecar.istio.io/excludeInboundPorts': '9999' }) },
    { name: 'an exported DestinationRule disables tls for the Service port', objects: scenario([destinationRule('shop', 'app', { host: FQDN, portLevel: [{ port: 9090, tls: 'DISABLE' }] })]) },
    { name: 'a workload PeerAuthentication disables the target port', objects: scenario([peerAuthentication('shop', 'app', { selector: { app: 'app' }, portLevel: { 9090: 'DISABLE' } })]) },
    { name: 'the pods have no sidecar', objects: scenario([], undefined, {}) },
    { name: "the misspelled annotation leaves the port captured", objects: scenario([], { 'traffic.istio.io/excludeInboundPorts': '9090' }) },
    {
      name: 'TM101 already reports the port (a tunnel reaches it)',
      objects: scenario([namespace('cloudflare-operator-system', { 'istio-injection': 'enabled' }), operatorTunnelConfig([{ hostname: 'm.example.com', service: 'http://app.shop.svc:9090' }]), operatorCloudflared()]),
    },
  ],
  invalid: [
    {
      name: 'a Service exposes an excluded port with nothing telling meshed clients to send plaintext',
      objects: scenario(),
      findings: [
        {
          resource: 'Service shop/app',
          port: 9090,
          message: 'reaches target port 9090 of Deployment shop/app, which the sidecar does not capture',
          fixes: [{ title: 'DestinationRule shop/app-9090-no-mtls', yaml: [/number: 9090/] }, { title: 'PeerAuthentication shop/app-port-9090-disable' }, { title: 'Stop excluding port 9090' }],
        },
      ],
    },
    {
      name: "a DestinationRule DISABLE private to one client namespace does not protect the others",
      objects: scenario([namespace('edge'), destinationRule('edge', 'app', { host: FQDN, exportTo: ['.'], portLevel: [{ port: 9090, tls: 'DISABLE' }] })]),
      findings: [{ resource: 'Service shop/app', port: 9090 }],
    },
  ],
});
