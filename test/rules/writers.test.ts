// TM3xx on rules the operator writes from TunnelBindings and from HTTPRoutes of its Gateways
// (predicted: the manifests hold no tunnel config): the rules judge them like Ingress rules,
// and every fix edits the object that writes the rule (TunnelBinding, HTTPRoute, Service or
// TunnelGatewayClassConfig), never "the rule should read as below".

import { describe } from 'node:test';
import { tm301 } from '../../src/rules/catalog/tm301-tunnel-scheme-mismatch.js';
import { tm303 } from '../../src/rules/catalog/tm303-tunnel-config-drift.js';
import { tm304 } from '../../src/rules/catalog/tm304-http2-origin-missing.js';
import { tm305 } from '../../src/rules/catalog/tm305-tunnel-backend-missing.js';
import { tm306 } from '../../src/rules/catalog/tm306-tunnel-config-invalid.js';
import { tm309 } from '../../src/rules/catalog/tm309-tunnel-rule-shadowed.js';
import { tm310 } from '../../src/rules/catalog/tm310-udp-through-tunnel.js';
import { service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';
import { viaBinding, viaHttpRoute } from '../support/tunnel-scenarios.js';

const fqdn = 'web.example.com';

/** The operator's config.json holding one TunnelBinding source (what it wrote before). */
function bindingConfig(rules: Array<Record<string, unknown>>): Obj {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'tunnel-config-6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f', namespace: 'cloudflare-operator-system', labels: { 'cloudflare-operator.io/type': 'tunnel-config' } },
    data: {
      'config.json': JSON.stringify({
        tunnelId: '6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f',
        tunnelName: 'main-tunnel',
        sources: { 'TunnelBinding/app/web': { kind: 'TunnelBinding', namespace: 'app', name: 'web', rules } },
        syncStatus: 'Synced',
      }),
    },
  };
}

describe('rules written by TunnelBindings and HTTPRoutes', () => {
  testRule(tm301, {
    valid: [
      { name: 'a subject on a port named http: http://', objects: viaBinding([{ name: 'web', fqdn }], { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }) },
      { name: 'an HTTPRoute backend on port 443 declared https: https://', objects: viaHttpRoute([{ backends: [{ name: 'web', port: 443 }] }], { ports: [{ name: 'https', port: 443 }] }) },
    ],
    invalid: [
      {
        name: 'a subject on port 8443 declared https: the operator writes http:// (only 443 is https); the fix sets the subject protocol',
        objects: viaBinding([{ name: 'web', fqdn }], { ports: [{ name: 'https', port: 8443 }] }),
        findings: [
          {
            resource: 'Service app/web',
            port: 8443,
            message: ['predicted for ClusterTunnel main-tunnel', 'uses http://', 'plain HTTP reaches a TLS server'],
            evidence: ['from TunnelBinding app/web subjects[0] (web)', 'first port 8443/TCP: http'],
            fixes: [{ title: /^Set protocol https in TunnelBinding app\/web subjects\[0\] \(web\)/, yaml: ['protocol: https', 'kind: TunnelBinding', 'kubectl apply -f'] }],
          },
        ],
      },
      {
        name: "the operator's config holds the subject's rule: the fix edits the TunnelBinding, whose reconcile rewrites its source (applied, the finding is gone)",
        objects: [
          ...viaBinding([{ name: 'web', fqdn }], { ports: [{ name: 'https', port: 8443 }] }),
          bindingConfig([{ hostname: fqdn, service: 'http://web.app.svc:8443', originRequest: { proxyAddress: '127.0.0.1' }, priority: 50 }]),
        ],
        findings: [
          {
            resource: 'Service app/web',
            port: 8443,
            message: ['rule #0 of ConfigMap cloudflare-operator-system/tunnel-config-', 'uses http://'],
            fixes: [{ title: /^Set protocol https in TunnelBinding app\/web subjects\[0\] \(web\)/, yaml: ['protocol: https'] }],
          },
        ],
      },
      {
        name: 'an HTTPRoute backend on port 443 that serves plain HTTP: https:// from the number; the fix adds a plain port and points the route at it',
        objects: viaHttpRoute([{ backends: [{ name: 'web', port: 443 }] }], { ports: [{ name: 'http', port: 443, targetPort: 8080 }] }),
        findings: [
          {
            resource: 'Service app/web',
            port: 443,
            message: ['uses https://', "cloudflared's TLS handshake reaches a plaintext server"],
            evidence: ['has port 443: the operator infers https from the number'],
            fixes: [{ title: /^Point HTTPRoute app\/web rules\[0\]\.backendRefs\[0\] \(web:443\) at port 8080 \(a new port of Service app\/web\)/, yaml: ['name: http-tunnel', 'port: 8080', 'kind: HTTPRoute', 'kind: Service'] }],
          },
        ],
      },
    ],
  });

  testRule(tm304, {
    valid: [{ name: 'a gRPC subject over https with http2Origin', objects: viaBinding([{ name: 'web', fqdn, protocol: 'https', http2Origin: true }], { ports: [{ name: 'grpc', port: 9090 }] }) }],
    invalid: [
      {
        name: 'a plaintext gRPC Service bound without protocol: no single change works (no h2c); the change of the subject (https, http2Origin) is offered for once it serves TLS',
        objects: viaBinding([{ name: 'web', fqdn }], { ports: [{ name: 'grpc', port: 9090 }] }),
        findings: [
          {
            resource: 'Service app/web',
            port: 9090,
            severity: 'error',
            fixes: [{ title: /^No single change/ }, { title: /Set protocol https, http2Origin: true in TunnelBinding app\/web/, yaml: ['http2Origin: true', 'protocol: https'] }],
          },
        ],
      },
      {
        name: 'a gRPC backend of an HTTPRoute: http2Origin comes from the TunnelGatewayClassConfig, https from port 443',
        objects: viaHttpRoute([{ backends: [{ name: 'web', port: 9090 }] }], { ports: [{ name: 'grpc', port: 9090 }] }),
        findings: [
          {
            resource: 'Service app/web',
            port: 9090,
            severity: 'error',
            fixes: [{ title: /^No single change/ }, { title: /^Set http2Origin: true in TunnelGatewayClassConfig cloudflare-operator-system\/cloudflare-gateway-config defaultOriginRequest; point HTTPRoute app\/web .* at port 443/, yaml: ['kind: TunnelGatewayClassConfig', 'http2Origin: true', 'port: 443', 'every HTTPRoute of its Gateways'] }],
          },
        ],
      },
    ],
  });

  testRule(tm305, {
    valid: [
      { name: 'a subject naming an existing Service', objects: viaBinding([{ name: 'web', fqdn }], { ports: [{ name: 'http', port: 80 }] }) },
      { name: 'an HTTPRoute backend that exists', objects: viaHttpRoute([{ backends: [{ name: 'web', port: 80 }] }], { ports: [{ name: 'http', port: 80 }] }) },
    ],
    invalid: [
      {
        name: 'a subject naming a Service that does not exist: the operator writes http_status:404; the fix names the one that does',
        objects: viaBinding([{ name: 'wbe', fqdn }], { ports: [{ name: 'http', port: 80 }] }),
        findings: [
          {
            resource: 'TunnelBinding app/web',
            message: ['names Service app/wbe, which does not exist', 'http_status:404', 'did you mean app/web'],
            fixes: [{ title: /Point subjects\[0\] \(wbe\) at Service app\/web port 80 in TunnelBinding app\/web/, yaml: ['name: web'] }, { title: /Remove TunnelBinding app\/web subjects\[0\]/ }],
          },
        ],
      },
      {
        name: 'an HTTPRoute backendRef to a Service that does not exist; the fix edits the backendRef',
        objects: viaHttpRoute([{ backends: [{ name: 'wbe', port: 80 }] }], { ports: [{ name: 'http', port: 80 }] }),
        findings: [{ resource: 'HTTPRoute app/web', port: 80, message: ['sends to Service app/wbe, which does not exist'], fixes: [{ title: /Point HTTPRoute app\/web rules\[0\]\.backendRefs\[0\] \(wbe:80\) at Service app\/web port 80/, yaml: ['name: web', 'kind: HTTPRoute'] }] }],
      },
    ],
  });

  testRule(tm309, {
    valid: [
      { name: 'two subjects on two hostnames', objects: viaBinding([{ name: 'web', fqdn }, { name: 'web', fqdn: 'api.example.com', path: '/api' }], { ports: [{ name: 'http', port: 80 }] }) },
    ],
    invalid: [
      {
        name: 'an HTTPRoute with / and /api on one hostname: the operator sorts the empty path first, /api never matches; the fix moves /api to its own hostname',
        objects: [
          ...viaHttpRoute(
            [
              { path: '/', backends: [{ name: 'web', port: 80 }] },
              { path: '/api', backends: [{ name: 'api', port: 80 }] },
            ],
            { ports: [{ name: 'http', port: 80 }] },
          ),
          service('app', 'api', [{ name: 'http', port: 80 }]),
        ],
        findings: [
          {
            resource: 'HTTPRoute app/web',
            port: 80,
            message: ['path /api(/.*)?$ → http://api.app.svc:80', 'never matches'],
            fixes: [{ title: /Serve HTTPRoute app\/web rules\[1\]\.matches\[0\]\.backendRefs\[0\] \(api:80\) under its own hostname api-web\.example\.com/, yaml: ['name: web-api-web', 'api-web.example.com'] }],
          },
        ],
      },
      {
        name: 'two subjects of one fqdn, the first without path: the second is dead; the fix gives it an fqdn of its own',
        objects: viaBinding([{ name: 'web', fqdn }, { name: 'web', fqdn, path: '/api' }], { ports: [{ name: 'http', port: 80 }] }),
        findings: [{ resource: 'TunnelBinding app/web', port: 80, fixes: [{ title: /Serve it under its own hostname web-web\.example\.com \(fqdn\) in TunnelBinding app\/web subjects\[1\]/, yaml: ['fqdn: web-web.example.com'] }] }],
      },
    ],
  });

  testRule(tm303, {
    valid: [{ name: 'the config holds what the binding writes', objects: [...viaBinding([{ name: 'web', fqdn }], { ports: [{ name: 'http', port: 80 }] }), bindingConfig([{ hostname: fqdn, service: 'http://web.app.svc:80', priority: 50 }])] }],
    invalid: [
      {
        name: 'the config still has the old port: drift on the TunnelBinding, the fix writes what the operator writes',
        objects: [...viaBinding([{ name: 'web', fqdn }], { ports: [{ name: 'http', port: 80 }] }), bindingConfig([{ hostname: fqdn, service: 'http://web.app.svc:8080', priority: 50 }])],
        findings: [{ resource: 'TunnelBinding app/web', port: 80, message: ['is http://web.app.svc:8080, but the operator writes http://web.app.svc:80 today'], fixes: [{ title: /Write the rule the operator writes for web\.example\.com/ }] }],
      },
    ],
  });

  testRule(tm310, {
    valid: [],
    invalid: [
      {
        name: 'a subject whose Service\'s first port is UDP: udp:// (a TCP stream); the fix removes the subject',
        objects: viaBinding([{ name: 'web', fqdn }], { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
        findings: [{ resource: 'TunnelBinding app/web', port: 53, fixes: [{ title: /^Remove TunnelBinding app\/web subjects\[0\]/ }] }],
      },
    ],
  });

  testRule(tm306, {
    valid: [],
    invalid: [
      {
        name: 'a subject path that is no Go regexp: cloudflared refuses the whole config; the fix drops the path',
        objects: viaBinding([{ name: 'web', fqdn, path: '/api(' }], { ports: [{ name: 'http', port: 80 }] }),
        findings: [{ resource: 'TunnelBinding app/web', port: 80, message: ['because of the rule it builds from TunnelBinding app/web subjects[0] (web)', 'invalid regex'], fixes: [{ title: /Drop the path \/api\( in TunnelBinding app\/web/ }] }],
      },
    ],
  });
});
