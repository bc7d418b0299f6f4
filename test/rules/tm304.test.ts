import { tm304 } from '../../src/rules/catalog/tm304-http2-origin-missing.js';
import { cloudflaredConfigMap, cloudflaredDeployment, namespace, pod, service } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';
import { viaConfig, viaOperator } from '../support/tunnel-scenarios.js';

const host = 'api.example.com';
const catchAll = { service: 'http_status:404' };

testRule(tm304, {
  valid: [
    {
      name: 'gRPC over https:// with http2Origin',
      objects: viaConfig([{ hostname: host, service: 'https://web.app:443', originRequest: { http2Origin: true } }, catchAll], { ports: [{ name: 'grpc', port: 443 }] }),
    },
    {
      name: 'http2Origin from the config-wide originRequest',
      objects: viaConfig([{ hostname: host, service: 'https://web.app:443' }, catchAll], { ports: [{ name: 'http2', port: 443 }], extra: { originRequest: { http2Origin: true } } }),
    },
    { name: 'gRPC-Web works over HTTP/1.1', objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'grpc-web', port: 8080 }] }) },
    {
      name: "istio-ingressgateway's port 80 is named http2, but the gateway's HTTP listener takes HTTP/1.1",
      objects: [
        namespace('edge'),
        cloudflaredConfigMap('edge', 'cloudflared', [{ hostname: host, service: 'http://istio-ingressgateway.istio-system:80' }, catchAll]),
        cloudflaredDeployment('edge', 'cloudflared', 'cloudflared'),
        namespace('istio-system'),
        pod('istio-system', 'istio-ingressgateway-1', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { istio: 'ingressgateway' }, ports: [{ port: 8080 }] }),
        service('istio-system', 'istio-ingressgateway', [{ name: 'http2', port: 80, targetPort: 8080 }], { selector: { istio: 'ingressgateway' } }),
      ],
    },
    { name: 'a plain HTTP backend', objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'http', port: 8080 }] }) },
    { name: 'h2mux:// is a raw TCP stream: TM302 reports it', objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'h2c', port: 8080 }] }) },
  ],
  invalid: [
    {
      name: 'a port named grpc: the operator writes http:// (level 5): every call fails',
      objects: viaOperator([{ host, service: 'web', port: 9000 }], { ports: [{ name: 'grpc', port: 9000 }] }),
      findings: [
        {
          resource: 'Service app/web',
          port: 9000,
          severity: 'error',
          message: ['speaks gRPC', 'http:// origin: cloudflared speaks HTTP/1.1 to it (it has no h2c'],
          fixes: [
            { title: /^No single change: cloudflared cannot reach plaintext gRPC on Service app\/web port 9000/, yaml: ['cloudflared has no h2c', 'through the Istio ingress gateway', 'the alternatives below, together'] },
            { title: /Set protocol https for port 9000, http2Origin: true on Ingress app\/web/, yaml: ['cloudflare.com/protocol-9000: https', 'cloudflare.com/http2-origin: "true"', 'must serve TLS'] },
            { title: 'Declare appProtocol https on port 9000' },
          ],
        },
      ],
    },
    {
      name: 'appProtocol grpc: the operator maps it to http (level 4)',
      objects: viaOperator([{ host, service: 'web', port: 9000 }], { ports: [{ name: 'api', port: 9000, appProtocol: 'grpc' }] }),
      findings: [{ resource: 'Service app/web', port: 9000, severity: 'error' }],
    },
    {
      name: 'an Istio-style http2-api port: HTTP/2 only a warning',
      objects: viaOperator([{ host, service: 'web', port: 8080 }], { ports: [{ name: 'http2-api', port: 8080 }] }),
      findings: [{ resource: 'Service app/web', port: 8080, severity: 'warning', message: 'speaks HTTP/2' }],
    },
    {
      name: 'https:// without http2Origin to a gRPC port (hand-written): the fix adds originRequest',
      objects: viaConfig([{ hostname: host, service: 'https://web.app:443' }, catchAll], { ports: [{ name: 'grpc-api', port: 443 }] }),
      findings: [
        {
          resource: 'Service app/web',
          port: 443,
          severity: 'error',
          message: "https:// without http2Origin (cloudflared's default false)",
          fixes: [{ title: /^No single change/, yaml: ['cloudflared has no h2c', 'through the Istio ingress gateway'] }, { yaml: ['http2Origin: true', 'service: https://web.app:443'] }],
        },
      ],
    },
    {
      name: "the rule's own http2Origin: false beats the config's true",
      objects: viaConfig([{ hostname: host, service: 'https://web.app:443', originRequest: { http2Origin: false } }, catchAll], {
        ports: [{ name: 'grpc', port: 443 }],
        extra: { originRequest: { http2Origin: true } },
      }),
      findings: [{ resource: 'Service app/web', port: 443, severity: 'error', message: "false in the rule's originRequest" }],
    },
  ],
});
