import { tm307 } from '../../src/rules/catalog/tm307-protocol-annotation-ineffective.js';
import { ingress } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';
import { viaOperator } from '../support/tunnel-scenarios.js';

const host = 'web.example.com';
const ports = [{ name: 'http', port: 80, targetPort: 8080 }];
const paths = [{ host, service: 'web', port: 80 }];

testRule(tm307, {
  valid: [
    { name: 'a per-port annotation keyed by the Service port', objects: viaOperator(paths, { ports, annotations: { 'cloudflare.com/protocol-80': 'http' } }) },
    { name: 'no annotation', objects: viaOperator(paths, { ports }) },
    { name: 'an Ingress-wide annotation alone', objects: viaOperator(paths, { ports, annotations: { 'cloudflare.com/protocol': 'https' } }) },
    { name: 'Ingress-wide and per-port agree', objects: viaOperator(paths, { ports, annotations: { 'cloudflare.com/protocol': 'https', 'cloudflare.com/protocol-80': 'https' } }) },
    {
      name: 'an Ingress of another controller is not read by the operator',
      objects: [...viaOperator([], { ports }), ingress('app', 'other', paths, { className: 'nginx', annotations: { 'cloudflare.com/protocol-8080': 'grpc' } })],
    },
    { name: 'a known stream scheme (ssh) is not an unknown value', objects: viaOperator([{ host, service: 'web', port: 22 }], { ports: [{ name: 'x', port: 22 }], annotations: { 'cloudflare.com/protocol': 'ssh' } }) },
  ],
  invalid: [
    {
      name: 'keyed by the target port (8080) instead of the Service port (80)',
      objects: viaOperator(paths, { ports, annotations: { 'cloudflare.com/protocol-8080': 'https' } }),
      findings: [
        {
          resource: 'Ingress app/web',
          port: 8080,
          message: ['cloudflare.com/protocol-8080=https names port 8080', 'did you mean cloudflare.com/protocol-80?'],
          // Issue 13: renamed, https would take effect on a port declared http (TM301): removing it is recommended.
          fixes: [{ title: /^Remove cloudflare.com\/protocol-8080/ }, { title: /Rename cloudflare.com\/protocol-8080 to cloudflare.com\/protocol-80/, yaml: ['cloudflare.com/protocol-8080: null', 'cloudflare.com/protocol-80: https', 'only if the application really speaks https there'] }],
        },
      ],
    },
    {
      name: 'keyed by the target port, with the value the port speaks: the rename is recommended',
      objects: viaOperator(paths, { ports, annotations: { 'cloudflare.com/protocol-8080': 'http' } }),
      findings: [{ resource: 'Ingress app/web', port: 8080, fixes: [{ title: /Rename cloudflare.com\/protocol-8080 to cloudflare.com\/protocol-80/ }, { title: /Remove/ }] }],
    },
    {
      name: 'keyed by the port name',
      objects: viaOperator(paths, { ports, annotations: { 'cloudflare.com/protocol-http': 'http' } }),
      findings: [{ resource: 'Ingress app/web', message: '"http", which is not a port number', fixes: [{ yaml: ['cloudflare.com/protocol-80: http'] }] }],
    },
    {
      name: 'an Ingress-wide annotation overrides the per-port one',
      objects: viaOperator(
        [
          { host, service: 'web', port: 80 },
          { host: 'b.example.com', service: 'web', port: 443 },
        ],
        { ports: [...ports, { name: 'https', port: 443 }], annotations: { 'cloudflare.com/protocol': 'https', 'cloudflare.com/protocol-80': 'http' } },
      ),
      findings: [{ resource: 'Ingress app/web', message: 'never used', fixes: [{ yaml: ['cloudflare.com/protocol: null', 'cloudflare.com/protocol-443: https'] }] }],
    },
    {
      name: 'an Ingress-wide value cloudflared does not know (h2c) is used verbatim',
      objects: viaOperator(paths, { ports, annotations: { 'cloudflare.com/protocol': 'h2c' } }),
      findings: [{ resource: 'Ingress app/web', port: 80, message: ['is not a scheme cloudflared knows', 'h2c://web.app.svc:80', 'raw TCP stream'], fixes: [{ yaml: ['cloudflare.com/protocol: http'] }] }],
    },
    {
      name: 'a Service annotation grpc decides (level 3)',
      objects: viaOperator(paths, { ports, serviceAnnotations: { 'cloudflare.com/protocol': 'grpc' } }),
      findings: [{ resource: 'Ingress app/web', port: 80, fixes: [{ title: 'Set cloudflare.com/protocol: http on Service app/web' }] }],
    },
  ],
});
