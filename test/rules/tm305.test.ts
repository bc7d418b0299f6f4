import { tm305 } from '../../src/rules/catalog/tm305-tunnel-backend-missing.js';
import { deployment, service } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';
import { app, viaConfig, viaOperator } from '../support/tunnel-scenarios.js';

const host = 'web.example.com';
const catchAll = { service: 'http_status:404' };
const ports = [{ name: 'http', port: 80, targetPort: 8080 }];

testRule(tm305, {
  valid: [
    { name: 'the Service, its port and a pod exist', objects: viaConfig([{ hostname: host, service: 'http://web.app:80' }, catchAll], { ports }) },
    { name: 'an origin outside the cluster', objects: viaConfig([{ hostname: host, service: 'https://origin.example.org:443' }, catchAll], { ports }) },
    { name: 'a namespace the input does not hold: unknown, not missing', objects: viaConfig([{ hostname: host, service: 'http://web.other.svc:80' }, catchAll], { ports }) },
    {
      name: 'a Service without selector (Endpoints managed by hand)',
      objects: [...viaConfig([{ hostname: host, service: 'http://ext.app:80' }, catchAll], { ports }), { ...service('app', 'ext', [{ port: 80 }]), spec: { ports: [{ port: 80 }] } }],
    },
    { name: 'an Ingress backend by Service port name', objects: viaOperator([{ host, service: 'web', port: 'http' }], { ports }) },
  ],
  invalid: [
    {
      name: 'a typo in the Service name: did you mean',
      objects: viaConfig([{ hostname: host, service: 'http://wbe.app:80' }, catchAll], { ports }),
      findings: [
        {
          resource: 'Service app/wbe',
          port: 80,
          message: 'Service app/wbe, which does not exist (did you mean app/web?)',
          fixes: [{ title: 'Rewrite rule #0 (web.example.com) as http://web.app.svc:80' }, { title: 'Remove rule #0' }],
        },
      ],
    },
    {
      name: 'the rule uses the target port instead of the Service port',
      objects: viaConfig([{ hostname: host, service: 'http://web.app:8080' }, catchAll], { ports }),
      findings: [{ resource: 'Service app/web', port: 8080, message: 'did you mean 80?', evidence: ['8080 is the target port of Service port 80'] }],
    },
    {
      name: 'an Ingress names the container port: the operator writes port 80, which the Service lacks',
      objects: viaOperator([{ host, service: 'web', port: 'http' }], { ports: [{ name: 'web', port: 8000, targetPort: 'http' }] }),
      findings: [
        {
          resource: 'Service app/web',
          port: 80,
          evidence: ['names backend port "http", which Service app/web does not have: the operator silently writes port 80'],
          fixes: [{ title: /Point web.example.com \/ at Service web port web in Ingress app\/web/, yaml: ['name: web'] }],
        },
      ],
    },
    {
      name: 'a named backend port the Service lacks while port 80 exists: a silent misroute',
      objects: viaOperator([{ host, service: 'web', port: 'admin' }], { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'mgmt', port: 9000, targetPort: 'admin' }] }),
      findings: [{ resource: 'Ingress app/web', port: 80, message: 'falls back to port 80', fixes: [{ yaml: ['name: mgmt'] }] }],
    },
    {
      name: "an Ingress to a Service that does not exist",
      objects: [...viaOperator([{ host, service: 'frontend', port: 80 }], { ports })],
      findings: [{ resource: 'Ingress app/web', port: 80, message: 'Service app/frontend, which does not exist', fixes: [{ title: /Remove web.example.com/ }] }],
    },
    {
      name: 'a selector that matches no pod',
      objects: [
        ...viaConfig([{ hostname: host, service: 'http://front.app:80' }, catchAll], { ports }),
        service('app', 'front', [{ port: 80, targetPort: 8080 }], { selector: { app: 'frontend' } }),
        deployment('app', 'front', { labels: { app: 'front' }, ports: [{ port: 8080 }] }),
      ],
      findings: [{ resource: 'Service app/front', port: 80, message: 'no pod or workload in app matches its selector app=frontend', fixes: [{ title: 'Select Deployment app/front', yaml: ['app: front'] }] }],
    },
    {
      name: 'a named targetPort no pod declares: no endpoints',
      // The pods declare port 80 unnamed: the Service's targetPort name "web" matches none of them.
      objects: [...app({ ports: [{ name: 'http', port: 80 }] }).slice(0, 2), service('app', 'web', [{ name: 'http', port: 80, targetPort: 'web' }]), ...viaConfig([{ hostname: host, service: 'http://web.app:80' }, catchAll], { ports: [{ name: 'http', port: 80 }] }).slice(0, 3)],
      findings: [{ resource: 'Service app/web', port: 80, message: 'no ready pod has a container port named "web"' }],
      fixResolves: false,
    },
  ],
});
