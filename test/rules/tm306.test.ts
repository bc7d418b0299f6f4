import { tm306 } from '../../src/rules/catalog/tm306-tunnel-config-invalid.js';
import { testRule } from '../support/rule-tester.js';
import { viaConfig, viaOperator } from '../support/tunnel-scenarios.js';

const host = 'web.example.com';
const catchAll = { service: 'http_status:404' };
const ports = [{ name: 'http', port: 80 }];

testRule(tm306, {
  valid: [
    { name: 'a valid hand-written config', objects: viaConfig([{ hostname: host, path: '^/api(/.*)?$', service: 'http://web.app:80' }, { hostname: '*.example.com', service: 'http://web.app:80' }, catchAll], { ports }) },
    { name: 'a catch-all written as hostname *', objects: viaConfig([{ hostname: host, service: 'http://web.app:80' }, { hostname: '*', service: 'http_status:404' }], { ports }) },
    { name: "the operator's config for a plain Ingress", objects: viaOperator([{ host, service: 'web', port: 80 }], { ports }) },
    { name: 'a bastion rule: originRequest.bastionMode and no service', objects: viaConfig([{ hostname: 'ssh.example.com', service: '', originRequest: { bastionMode: true } }, catchAll], { ports }) },
    { name: 'Go regexp syntax JavaScript refuses: (?i)', objects: viaConfig([{ hostname: host, path: '(?i)^/api', service: 'http://web.app:80' }, catchAll], { ports }) },
    { name: 'a socks-proxy with valid ipRules', objects: viaConfig([{ hostname: 'socks.example.com', service: 'socks-proxy', originRequest: { ipRules: [{ prefix: '10.0.0.0/8', allow: true }] } }, catchAll], { ports }) },
  ],
  invalid: [
    {
      name: 'the last rule is not a catch-all',
      objects: viaConfig([{ hostname: host, service: 'http://web.app:80' }], { ports }),
      findings: [
        {
          resource: 'ConfigMap edge/cloudflared',
          message: 'The last ingress rule must match all URLs',
          fixes: [{ title: 'Repair the ingress rules in ConfigMap edge/cloudflared', yaml: ['repaired: catch-all rule `service: http_status:404` appended', 'service: http_status:404'] }],
        },
      ],
    },
    {
      name: 'issue 13: the repair of a missing catch-all keeps every other rule\'s origin (it dropped the last character of service URLs)',
      objects: viaConfig([{ hostname: host, service: 'http://web.app.svc:80' }, { hostname: 'short.example.com', service: 'http://web' }], { ports }),
      findings: [
        {
          resource: 'ConfigMap edge/cloudflared',
          message: 'The last ingress rule must match all URLs',
          fixes: [{ yaml: ['service: http://web.app.svc:80\n', 'service: http://web\n', 'service: http_status:404'] }],
        },
      ],
    },
    {
      name: 'a catch-all before the last rule',
      objects: viaConfig([{ service: 'http://web.app:80' }, { hostname: host, service: 'http://web.app:80' }], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: ["Rule #1 is matching the hostname ''", 'The last ingress rule must match all URLs'], fixes: [{ yaml: ['catch-all rule moved to the end'] }] }],
    },
    {
      name: 'a path in the service URL',
      objects: viaConfig([{ hostname: host, service: 'http://web.app:80/api' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: "ingress rules don't support proxying to a different path", fixes: [{ yaml: ['service: http://web.app:80\n', 'the origin stays http://web.app:80'] }] }],
    },
    {
      name: 'a service without a scheme',
      objects: viaConfig([{ hostname: host, service: 'web.app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'please make sure it has a scheme and a hostname', fixes: [{ yaml: ['service: http://web.app:80'] }] }],
    },
    {
      name: 'a hostname with a port',
      objects: viaConfig([{ hostname: `${host}:443`, service: 'http://web.app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'Hostname cannot contain a port', fixes: [{ yaml: [`hostname: ${host}\n`] }] }],
    },
    {
      name: 'a path Go cannot compile: reported, no automatic repair',
      objects: viaConfig([{ hostname: host, path: '^/(?!admin)', service: 'http://web.app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'Rule #1 has an invalid regex' }],
      fixResolves: false,
    },
    {
      name: 'operator: an appProtocol it passes through verbatim makes a URL without a scheme; the whole remote config is refused',
      objects: viaOperator([{ host, service: 'web', port: 9000 }], { ports: [{ name: 'api', port: 9000, appProtocol: 'kubernetes.io/grpc' }] }),
      findings: [
        {
          resource: 'Ingress app/web',
          port: 9000,
          message: ['the config the operator writes for TunnelIngressClassConfig', 'kubernetes.io/grpc://web.app.svc:9000 is an invalid address'],
          fixes: [{ yaml: ['cloudflare.com/protocol-9000: http'] }],
        },
      ],
    },
    {
      name: 'operator: an ImplementationSpecific path that is not a Go regexp',
      objects: viaOperator([{ host, path: '/api/(v1', pathType: 'ImplementationSpecific', service: 'web', port: 80 }], { ports }),
      findings: [{ resource: 'Ingress app/web', port: 80, message: 'invalid regex', fixes: [{ title: 'Use the Prefix path /api/ for web.example.com', yaml: ['path: /api/', 'pathType: Prefix'] }] }],
    },
    {
      name: "a space in the service's host: Go's url.Parse refuses it",
      objects: viaConfig([{ hostname: host, service: 'http://web app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'parse "http://web app:80": invalid character " " in host name' }],
      fixResolves: false,
    },
    {
      name: 'Go regexp syntax JavaScript accepts: a lookahead',
      objects: viaConfig([{ hostname: host, path: '^/(?!admin)', service: 'http://web.app:80' }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'Rule #1 has an invalid regex: error parsing regexp: invalid or unsupported Perl syntax: `(?!`' }],
      fixResolves: false,
    },
    {
      name: 'socks-proxy ipRules with a bad CIDR',
      objects: viaConfig([{ hostname: 'socks.example.com', service: 'socks-proxy', originRequest: { ipRules: [{ prefix: '10.0.0.0/33', allow: true }] } }, catchAll], { ports }),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'unable to create ip rule for socks-proxy: unable to parse cidr: 10.0.0.0/33' }],
      fixResolves: false,
    },
    {
      name: 'a config.yaml written in JSON syntax is a tunnel config, judged like the YAML one',
      objects: viaConfig([{ hostname: host, service: 'http://web.app:80' }], { ports }).map((o) =>
        o.kind === 'ConfigMap' ? { ...o, data: { 'config.yaml': JSON.stringify({ tunnel: 'main', ingress: [{ hostname: host, service: 'http://web.app:80' }] }, null, 2) } } : o,
      ),
      findings: [{ resource: 'ConfigMap edge/cloudflared', message: 'The last ingress rule must match all URLs' }],
    },
  ],
});
