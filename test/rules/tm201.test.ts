import { tm201 } from '../../src/rules/catalog/tm201-tunnel-client-without-sidecar.js';
import { deployment, namespace, operatorCloudflared, operatorTunnelConfig, service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const OP = 'cloudflare-operator-system';

function scenario(opNs: Record<string, string>, appNs: Record<string, string>): Obj[] {
  return [
    namespace(OP, opNs),
    namespace('app', appNs),
    operatorTunnelConfig([{ hostname: 'www.example.com', service: 'http://web.app.svc:80' }, { hostname: 'ext.example.com', service: 'https://example.org' }]),
    operatorCloudflared(),
    deployment('app', 'web', { ports: [{ port: 8080 }] }),
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
  ];
}

testRule(tm201, {
  valid: [
    { name: 'cloudflared is meshed', objects: scenario({ 'istio-injection': 'enabled' }, { 'istio-injection': 'enabled' }) },
    { name: 'neither side is meshed', objects: scenario({}, {}) },
    { name: 'cloudflared runs in an ambient namespace (ztunnel carries its traffic)', objects: scenario({ 'istio.io/dataplane-mode': 'ambient' }, { 'istio-injection': 'enabled' }) },
    { name: "cloudflared's sidecar cannot be predicted (its namespace is unknown)", objects: scenario({}, { 'istio-injection': 'enabled' }).filter((o) => !(o.kind === 'Namespace' && o.metadata.name === OP)) },
  ],
  invalid: [
    {
      name: 'cloudflared without a sidecar in front of a meshed backend',
      objects: scenario({}, { 'istio-injection': 'enabled' }),
      findings: [
        {
          resource: 'Deployment cloudflare-operator-system/main-tunnel',
          message: ['has no sidecar, so it sends plaintext to its meshed backends app/web:80'],
          fixes: [{ title: 'Inject an Istio sidecar into Deployment cloudflare-operator-system/main-tunnel', yaml: ['sidecar.istio.io/inject: "true"', 'deployPatch'] }],
        },
      ],
    },
  ],
});
