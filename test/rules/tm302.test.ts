import { tm302 } from '../../src/rules/catalog/tm302-tunnel-raw-tcp-scheme.js';
import { testRule } from '../support/rule-tester.js';
import { viaConfig, viaOperator } from '../support/tunnel-scenarios.js';

const host = 'web.example.com';
const catchAll = { service: 'http_status:404' };

testRule(tm302, {
  valid: [
    { name: 'http:// to an HTTP port', objects: viaOperator([{ host, service: 'web', port: 80 }], { ports: [{ name: 'http', port: 80 }] }) },
    { name: 'tcp:// to a port declared tcp (a database for cloudflared access)', objects: viaConfig([{ hostname: 'db.example.com', service: 'tcp://web.app:5432' }, catchAll], { ports: [{ name: 'tcp-postgres', port: 5432 }] }) },
    { name: 'ssh:// to a port named ssh', objects: viaOperator([{ host, service: 'web', port: 22 }], { ports: [{ name: 'ssh', port: 22 }] }) },
    { name: 'udp:// is TM310, not this rule', objects: viaConfig([{ hostname: 'dns.example.com', service: 'udp://web.app:53' }, catchAll], { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }) },
    { name: 'a catch-all tcp:// rule is not a hostname rule', objects: viaConfig([{ service: 'tcp://web.app:80' }], { ports: [{ name: 'http', port: 80 }] }) },
  ],
  invalid: [
    {
      name: 'appProtocol kubernetes.io/h2c: the operator writes h2mux:// (level 4); a per-port annotation (level 2) keeps the declaration for Istio',
      objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'grpc', port: 8080, appProtocol: 'kubernetes.io/h2c' }] }),
      findings: [
        {
          resource: 'Service app/web',
          port: 8080,
          message: ['uses h2mux://', 'raw TCP stream', 'speaks HTTP2'],
          evidence: ['level 4 decides h2mux', 'Istio protocol HTTP2 (appProtocol "kubernetes.io/h2c")'],
          fixes: [{ title: /^No single change/, yaml: ['cloudflared has no h2c', 'through the Istio ingress gateway'] }, { title: /Set protocol http for port 8080 on Ingress app\/web/, yaml: ['cloudflare.com/protocol-8080: http', 'see TM304'] }],
        },
      ],
    },
    {
      name: 'a port named http2 becomes h2mux:// (level 5)',
      objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'http2', port: 8080 }] }),
      findings: [{ resource: 'Service app/web', port: 8080, evidence: ['level 5 decides h2mux'] }],
    },
    {
      name: 'a port named h2c: Istio sniffs it, but the name says HTTP/2',
      objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'h2c', port: 8080 }] }),
      findings: [{ resource: 'Service app/web', port: 8080, message: 'port name "h2c"' }],
    },
    {
      name: 'cloudflare.com/protocol: grpc is used verbatim: grpc:// is a TCP stream',
      objects: viaOperator([{ host, service: 'web', port: 9000 }], { ports: [{ name: 'grpc', port: 9000 }], annotations: { 'cloudflare.com/protocol': 'grpc' } }),
      findings: [{ resource: 'Service app/web', port: 9000, message: 'uses grpc://', fixes: [{ title: /^No single change/, yaml: ['cloudflared has no h2c', 'through the Istio ingress gateway'] }, { yaml: ['cloudflare.com/protocol: null', 'cloudflare.com/protocol-9000: http'] }] }],
    },
    {
      name: 'a TunnelIngressClassConfig defaultProtocol tcp reaches an HTTP port (level 6)',
      objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'http-frontend', port: 8080 }], ticc: { defaultProtocol: 'tcp' } }),
      findings: [{ resource: 'Service app/web', port: 8080, evidence: ['level 6 decides tcp'] }],
    },
    {
      name: 'a hand-written tcp:// rule for a browser hostname to an HTTP port',
      objects: viaConfig([{ hostname: host, service: 'tcp://web.app:80' }, catchAll], { ports: [{ name: 'http', port: 80 }] }),
      findings: [{ resource: 'Service app/web', port: 80, fixes: [{ title: 'Rewrite rule #0 (web.example.com) as http://web.app:80', yaml: ['service: http://web.app:80'] }] }],
    },
    {
      name: 'ssh:// to an HTTPS port: the fix writes https://',
      objects: viaConfig([{ hostname: host, service: 'ssh://web.app:443' }, catchAll], { ports: [{ name: 'https', port: 443 }] }),
      findings: [{ resource: 'Service app/web', port: 443, fixes: [{ yaml: ['service: https://web.app:443'] }] }],
    },
  ],
});
