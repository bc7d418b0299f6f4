import { tm301 } from '../../src/rules/catalog/tm301-tunnel-scheme-mismatch.js';
import { ingress, operatorTunnelConfig } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';
import { viaConfig, viaOperator } from '../support/tunnel-scenarios.js';

const host = 'web.example.com';

testRule(tm301, {
  valid: [
    { name: 'http:// to a port named http (operator level 5)', objects: viaOperator([{ host, service: 'web', port: 80 }], { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }) },
    {
      name: 'https:// to a port named https (annotation and declaration agree)',
      objects: viaOperator([{ host, service: 'web', port: 443 }], { ports: [{ name: 'https', port: 443 }], annotations: { 'cloudflare.com/protocol-443': 'https' } }),
    },
    { name: 'https:// to a port that declares nothing (Istio would sniff): not a mismatch', objects: viaOperator([{ host, service: 'web', port: 8443 }], { ports: [{ port: 8443 }], annotations: { 'cloudflare.com/protocol': 'https' } }) },
    { name: 'ws:// to an HTTP port (WebSocket is HTTP)', objects: viaConfig([{ hostname: host, service: 'ws://web.app:80' }, { service: 'http_status:404' }], { ports: [{ name: 'http', port: 80 }] }) },
    { name: 'wss:// to a port with appProtocol kubernetes.io/wss', objects: viaConfig([{ hostname: host, service: 'wss://web.app:443' }, { service: 'http_status:404' }], { ports: [{ name: 'web', port: 443, appProtocol: 'kubernetes.io/wss' }] }) },
    {
      name: 'an Ingress of another controller: the operator writes no rule for it',
      objects: [...viaOperator([], { ports: [{ name: 'http', port: 80 }] }), ingress('app', 'nginx', [{ host, service: 'web', port: 80 }], { className: 'nginx', annotations: { 'cloudflare.com/protocol': 'https' } })],
    },
  ],
  invalid: [
    {
      name: 'an Istio-style https-admin port: the operator does not recognise the name and writes http:// (level 6); appProtocol fixes both readers',
      objects: viaOperator([{ host, service: 'web', port: 8443 }], { ports: [{ name: 'https-admin', port: 8443 }] }),
      findings: [
        {
          resource: 'Service app/web',
          port: 8443,
          message: ['predicted for TunnelIngressClassConfig cloudflare-operator-system/cloudflare-tunnel-config', 'uses http://', 'declared HTTPS', 'plain HTTP reaches a TLS server'],
          evidence: ['level 6 decides http', 'Istio protocol HTTPS (port name "https-admin")'],
          fixes: [
            { title: 'Declare appProtocol https on port 8443 of Service app/web', yaml: [/appProtocol: https/, /name: https-admin/] },
            { title: /Set protocol https for port 8443 on Ingress app\/web/, yaml: ['cloudflare.com/protocol-8443: https'] },
            { title: 'Declare appProtocol http on port 8443' },
          ],
        },
      ],
    },
    {
      name: 'cloudflare.com/protocol-<port>: https to a port named http (level 2)',
      objects: viaOperator([{ host, service: 'web', port: 80 }], { ports: [{ name: 'http', port: 80, targetPort: 8080 }], annotations: { 'cloudflare.com/protocol-80': 'https' } }),
      findings: [
        {
          resource: 'Service app/web',
          port: 80,
          message: ['uses https://', "cloudflared's TLS handshake reaches a plaintext server"],
          fixes: [{ title: /Set protocol http for port 80 on Ingress app\/web/, yaml: ['cloudflare.com/protocol-80: http', 'kubectl patch ingress web -n app --type merge'] }],
        },
      ],
    },
    {
      name: 'an Ingress-wide cloudflare.com/protocol: https hits a plain port; the fix keeps the other backend on https',
      objects: [
        ...viaOperator(
          [
            { host, service: 'web', port: 80 },
            { host: 'secure.example.com', service: 'web', port: 443 },
          ],
          { ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }], annotations: { 'cloudflare.com/protocol': 'https' } },
        ),
      ],
      findings: [
        {
          resource: 'Service app/web',
          port: 80,
          evidence: ['level 1 decides https'],
          fixes: [{ yaml: ['cloudflare.com/protocol: null', 'cloudflare.com/protocol-443: https', 'cloudflare.com/protocol-80: http'] }],
        },
      ],
    },
    {
      name: 'a hand-written rule https:// to a port named http-web: the fix rewrites the rule',
      objects: viaConfig([{ hostname: host, service: 'https://web.app.svc.cluster.local:8080' }, { service: 'http_status:404' }], { ports: [{ name: 'http-web', port: 8080 }] }),
      findings: [
        {
          resource: 'Service app/web',
          port: 8080,
          fixes: [{ title: 'Rewrite rule #0 (web.example.com) as http://web.app.svc.cluster.local:8080 in ConfigMap edge/cloudflared', yaml: ['kind: ConfigMap', 'service: http://web.app.svc.cluster.local:8080', 'kubectl rollout restart deployment/cloudflared -n edge'] }],
        },
      ],
    },
    {
      name: 'a real operator config still holds the https:// rule: the fix is made on the Ingress (the operator rewrites the config)',
      objects: [
        ...viaOperator([{ host, service: 'web', port: 80 }], { ports: [{ name: 'http', port: 80 }], annotations: { 'cloudflare.com/protocol-80': 'https' } }),
        operatorTunnelConfig([{ hostname: host, service: 'https://web.app.svc:80', priority: 100 }]),
      ],
      findings: [{ resource: 'Service app/web', port: 80, message: 'rule #0 of ConfigMap cloudflare-operator-system/tunnel-config-', fixes: [{ title: /on Ingress app\/web/ }] }],
      fixResolves: false,
    },
    {
      name: 'http:// to a port whose appProtocol is https: plain HTTP to a TLS server',
      objects: viaConfig([{ hostname: host, service: 'http://web.app:443' }, { service: 'http_status:404' }], { ports: [{ name: 'web', port: 443, appProtocol: 'https' }] }),
      findings: [{ resource: 'Service app/web', port: 443, message: 'declared HTTPS (appProtocol "https")', fixes: [{ yaml: ['service: https://web.app:443'] }] }],
    },
  ],
});
