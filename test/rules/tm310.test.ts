import { tm310 } from '../../src/rules/catalog/tm310-udp-through-tunnel.js';
import { testRule } from '../support/rule-tester.js';
import { viaConfig, viaOperator } from '../support/tunnel-scenarios.js';

const catchAll = { service: 'http_status:404' };

testRule(tm310, {
  valid: [
    { name: 'a TCP port', objects: viaConfig([{ hostname: 'db.example.com', service: 'tcp://web.app:5432' }, catchAll], { ports: [{ name: 'tcp', port: 5432 }] }) },
    { name: 'an HTTP Ingress', objects: viaOperator([{ host: 'web.example.com', service: 'web', port: 80 }], { ports: [{ name: 'http', port: 80 }] }) },
  ],
  invalid: [
    {
      name: 'udp:// in a hand-written config: the fix drops the rule and turns on warp-routing',
      objects: viaConfig([{ hostname: 'dns.example.com', service: 'udp://web.app:53' }, catchAll], { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'the scheme udp:// is proxied by cloudflared as a TCP stream', fixes: [{ yaml: ['warp-routing:', 'enabled: true'] }] }],
    },
    {
      name: 'an Ingress to a UDP Service port: the fix enables WARP routing on the ClusterTunnel',
      objects: viaOperator([{ host: 'dns.example.com', service: 'web', port: 53 }], { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      findings: [
        {
          resource: 'Ingress app/web',
          port: 53,
          message: 'port 53 is UDP',
          fixes: [{ title: 'Remove dns.example.com / in Ingress app/web' }, { title: 'Enable WARP routing on ClusterTunnel main-tunnel', yaml: ['enableWarpRouting: true'] }],
        },
      ],
    },
  ],
});
