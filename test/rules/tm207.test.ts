import { tm207 } from '../../src/rules/catalog/tm207-pod-without-service.js';
import { deployment, namespace, operatorCloudflared, pod, service } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const injected = namespace('app', { 'istio-injection': 'enabled' });

testRule(tm207, {
  valid: [
    { name: 'a Service selects the workload', objects: [injected, deployment('app', 'web', { ports: [{ port: 8080 }] }), service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }])] },
    { name: 'not meshed', objects: [namespace('app'), deployment('app', 'web')] },
    { name: 'cloudflared is a client: exempt', objects: [namespace('cloudflare-operator-system', { 'istio-injection': 'enabled' }), operatorCloudflared()] },
    {
      name: 'a CronJob is a client: exempt',
      objects: [
        injected,
        { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'report', namespace: 'app' }, spec: { jobTemplate: { spec: { template: { metadata: { labels: { app: 'report' } }, spec: { containers: [{ name: 'report' }] } } } } } },
      ],
    },
    { name: 'a waypoint/gateway pod (gateway-name label)', objects: [injected, pod('app', 'waypoint-1', { labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } })] },
  ],
  invalid: [
    {
      name: 'a meshed Deployment no Service selects: the fix is a Service from its container ports and selector',
      objects: [injected, deployment('app', 'worker', { ports: [{ name: 'http', port: 8080 }] }), service('app', 'web', [{ port: 80 }])],
      findings: [{ resource: 'Deployment app/worker', message: 'no Service in app selects it', fixes: [{ title: 'Service app/worker', yaml: ['app: worker', 'name: http', 'port: 8080'] }] }],
    },
    {
      name: 'running pods with a sidecar and no Service: selector without pod-template-hash',
      objects: [namespace('app'), pod('app', 'worker-a', { owner: 'worker', ports: [{ port: 9000 }] }), pod('app', 'worker-b', { owner: 'worker', ports: [{ port: 9000 }] })],
      findings: [{ resource: 'Deployment app/worker', message: 'pods worker-a, worker-b', fixes: [{ yaml: [/selector:\n\s+app: worker\n\s+ports/] }] }],
    },
  ],
});
