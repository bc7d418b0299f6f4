import { tm204 } from '../../src/rules/catalog/tm204-mixed-sidecar-backends.js';
import { deployment, namespace, pod, service } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const svc = service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]);

testRule(tm204, {
  valid: [
    { name: 'all backends meshed (classic and native mixed is fine)', objects: [namespace('app'), pod('app', 'web-1', { owner: 'web' }), pod('app', 'web-2', { owner: 'web', sidecar: 'native' }), svc] },
    { name: 'no backend meshed', objects: [namespace('app'), pod('app', 'web-1', { owner: 'web', sidecar: 'none' }), pod('app', 'web-2', { owner: 'web', sidecar: 'none' }), svc] },
    { name: 'the unmeshed pod is not ready (not an endpoint)', objects: [namespace('app'), pod('app', 'web-1', { owner: 'web' }), pod('app', 'web-2', { owner: 'web', sidecar: 'none', ready: false }), svc] },
    { name: 'ambient pods next to sidecar pods are not "without a sidecar" in this sense', objects: [namespace('app', { 'istio.io/dataplane-mode': 'ambient' }), pod('app', 'web-1', { owner: 'web' }), pod('app', 'web-2', { owner: 'web', sidecar: 'none' }), svc] },
    { name: 'templates whose injection is unknown are not counted', objects: [deployment('app', 'web', { labels: { app: 'web', version: 'v1' } }), deployment('app', 'web-v2', { labels: { app: 'web', version: 'v2', 'sidecar.istio.io/inject': 'false' } }), svc] },
  ],
  invalid: [
    {
      name: 'half-finished restart after injection was enabled: the fix restarts the workload whose pods predate it',
      objects: [namespace('app', { 'istio-injection': 'enabled' }), pod('app', 'web-new', { owner: 'web' }), pod('app', 'web-old1', { owner: 'web', sidecar: 'none' }), pod('app', 'web-old2', { owner: 'web', sidecar: 'none' }), svc],
      findings: [
        {
          resource: 'Service app/web',
          message: ['3 ready pods', '2 without a sidecar (Deployment app/web (pods web-old1, web-old2))', '1 with one (Deployment app/web (pod web-new))'],
          fixes: [{ title: 'Restart Deployment app/web' }],
        },
      ],
      fixResolves: false,
    },
    {
      name: 'two Deployments behind one Service, one opted out: the fix injects it',
      objects: [
        namespace('app', { 'istio-injection': 'enabled' }),
        deployment('app', 'web-v1', { labels: { app: 'web', version: 'v1' } }),
        deployment('app', 'web-v2', { labels: { app: 'web', version: 'v2', 'sidecar.istio.io/inject': 'false' } }),
        svc,
      ],
      findings: [{ resource: 'Service app/web', message: 'Deployment app/web-v2 (pod template)', fixes: [{ title: 'Inject an Istio sidecar into Deployment app/web-v2', yaml: ['sidecar.istio.io/inject: "true"'] }] }],
    },
  ],
});
