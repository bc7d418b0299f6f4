import { tm303 } from '../../src/rules/catalog/tm303-tunnel-config-drift.js';
import { cloudflaredConfigMap, cloudflaredDeployment, operatorTunnelConfig } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';
import { viaOperator } from '../support/tunnel-scenarios.js';

const host = 'web.example.com';
const ports = [{ name: 'http', port: 80, targetPort: 8080 }];
const rule = (service: string, extra: Record<string, unknown> = {}) => ({ hostname: host, service, priority: 100, ...extra });

testRule(tm303, {
  valid: [
    { name: 'the config holds what the chain resolves', objects: [...viaOperator([{ host, service: 'web', port: 80 }], { ports }), operatorTunnelConfig([rule('http://web.app.svc:80')])] },
    { name: 'no config in the input: the rules are predicted, nothing to compare', objects: viaOperator([{ host, service: 'web', port: 80 }], { ports }) },
    {
      name: 'the same Service written fully qualified is not drift',
      objects: [...viaOperator([{ host, service: 'web', port: 80 }], { ports }), operatorTunnelConfig([rule('http://web.app.svc.cluster.local:80')])],
    },
    {
      name: 'an older operator layout (config.yaml mounted by the tunnel pods) is not compared with the current chain',
      objects: [
        ...viaOperator([{ host, service: 'web', port: 80 }], { ports, annotations: { 'cloudflare.com/protocol-80': 'https' } }),
        cloudflaredConfigMap('cloudflare-operator-system', 'main-tunnel', [{ hostname: host, service: 'http://web.app.svc:80' }, { service: 'http_status:404' }]),
        cloudflaredDeployment('cloudflare-operator-system', 'old', 'main-tunnel', { labels: { 'cloudflare-operator.io/tunnel': 'main-tunnel', app: 'old' } }),
      ],
    },
  ],
  invalid: [
    {
      name: 'the annotation now says https, the config still has http://',
      objects: [...viaOperator([{ host, service: 'web', port: 80 }], { ports, annotations: { 'cloudflare.com/protocol-80': 'https' } }), operatorTunnelConfig([rule('http://web.app.svc:80')])],
      findings: [
        {
          resource: 'Ingress app/web',
          port: 80,
          message: ['is http://web.app.svc:80', 'resolves https://web.app.svc:80', 'scheme differ'],
          evidence: ['drift: scheme: the config has http://, the chain resolves https (level 2'],
          fixes: [{ title: 'Write the rule the operator resolves for web.example.com (https://web.app.svc:80)', yaml: ['kind: ConfigMap', '"service": "https://web.app.svc:80"'] }],
        },
      ],
    },
    {
      name: 'the backend port changed: the config still sends to the old one',
      objects: [...viaOperator([{ host, service: 'web', port: 80 }], { ports }), operatorTunnelConfig([rule('http://web.app.svc:8080')])],
      findings: [{ resource: 'Ingress app/web', port: 80, evidence: ['drift: port: the config has 8080, the operator resolves 80'] }],
    },
    {
      name: 'a backend the config has no rule for (not synced)',
      objects: [
        ...viaOperator(
          [
            { host, service: 'web', port: 80 },
            { host: 'new.example.com', service: 'web', port: 80 },
          ],
          { ports },
        ),
        operatorTunnelConfig([rule('http://web.app.svc:80')]),
      ],
      findings: [{ resource: 'Ingress app/web', port: 80, message: 'has no rule for Ingress app/web new.example.com', evidence: ['drift: missing: ConfigMap cloudflare-operator-system/tunnel-config-'] }],
    },
    {
      name: 'a rule no Ingress produces any more is stale',
      objects: [
        ...viaOperator([{ host, service: 'web', port: 80 }], { ports }),
        operatorTunnelConfig([rule('http://web.app.svc:80'), { hostname: 'old.example.com', service: 'http://gone.app.svc:80', priority: 100 }]),
      ],
      findings: [
        {
          resource: 'ConfigMap cloudflare-operator-system/tunnel-config-6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f',
          message: 'still routes old.example.com to http://gone.app.svc:80',
          fixes: [{ title: 'Remove the stale rule old.example.com → http://gone.app.svc:80' }],
        },
      ],
    },
  ],
});
