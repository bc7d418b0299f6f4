import { tm209 } from '../../src/rules/catalog/tm209-ambient-sidecar-conflict.js';
import { deployment, namespace, pod } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const AMBIENT = { 'istio.io/dataplane-mode': 'ambient' };

testRule(tm209, {
  valid: [
    { name: 'an ambient namespace with ambient pods', objects: [namespace('app', AMBIENT), deployment('app', 'web'), pod('app', 'web-1', { owner: 'web', sidecar: 'none' })] },
    { name: 'ambient plus istio-injection=disabled (istioctl: not a conflict)', objects: [namespace('app', { ...AMBIENT, 'istio-injection': 'disabled' }), deployment('app', 'web')] },
    { name: 'ambient, istio-injection=disabled and istio.io/rev: injection stays off', objects: [namespace('app', { ...AMBIENT, 'istio-injection': 'disabled', 'istio.io/rev': 'test' }), deployment('app', 'web')] },
    { name: 'a sidecar namespace', objects: [namespace('app', { 'istio-injection': 'enabled' }), pod('app', 'web-1', { owner: 'web' })] },
    { name: 'a sidecar pod that opted out of ambient (dataplane-mode none)', objects: [namespace('app', AMBIENT), pod('app', 'web-1', { owner: 'web', labels: { app: 'web', 'istio.io/dataplane-mode': 'none' } })] },
    { name: 'a waypoint (gateway) in an ambient namespace', objects: [namespace('app', AMBIENT), pod('app', 'waypoint-1', { labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } })] },
  ],
  invalid: [
    {
      name: 'namespace with ambient and istio-injection=enabled (istioctl multi-ns-2): one finding naming the pods',
      objects: [namespace('app', { ...AMBIENT, 'istio-injection': 'enabled' }), pod('app', 'web-1', { owner: 'web' }), pod('app', 'web-2', { owner: 'web' })],
      findings: [
        {
          resource: 'Namespace app',
          message: ['istio.io/dataplane-mode=ambient', 'istio-injection=enabled', 'Affected: Deployment app/web (pods web-1, web-2)'],
          fixes: [
            { title: 'Remove label istio.io/dataplane-mode from Namespace app', yaml: ['istio.io/dataplane-mode: null', 'kubectl patch namespace app --type merge'] },
            { title: 'Remove label istio-injection from Namespace app' },
          ],
        },
      ],
    },
    {
      name: 'namespace with ambient and istio.io/rev (istioctl multi-ns-3)',
      objects: [namespace('app', { ...AMBIENT, 'istio.io/rev': 'test' }), deployment('app', 'web')],
      findings: [{ resource: 'Namespace app', message: 'istio.io/rev=test', fixes: [{}, { title: 'Remove label istio.io/rev from Namespace app' }] }],
    },
    {
      name: 'a running pod with a sidecar in an ambient namespace (created before the switch)',
      objects: [namespace('app', AMBIENT), pod('app', 'web-1', { owner: 'web', sidecar: 'native' })],
      findings: [
        {
          resource: 'Deployment app/web',
          message: ['has an Istio sidecar', 'namespace app label istio.io/dataplane-mode=ambient'],
          fixes: [{ title: 'Keep Deployment app/web on its sidecar (istio.io/dataplane-mode: none)' }, { title: 'Move Deployment app/web to ambient' }],
        },
      ],
      fixResolves: false,
    },
    {
      name: 'a template with sidecar.istio.io/inject=true in an ambient namespace',
      objects: [namespace('app', AMBIENT), deployment('app', 'web', { labels: { app: 'web', 'sidecar.istio.io/inject': 'true' } })],
      findings: [{ resource: 'Deployment app/web', message: 'gets an Istio sidecar' }],
    },
    {
      name: 'a pod label dataplane-mode=ambient on a pod with a sidecar',
      objects: [namespace('app', { 'istio-injection': 'enabled' }), deployment('app', 'web', { labels: { app: 'web', 'istio.io/dataplane-mode': 'ambient' } })],
      findings: [{ resource: 'Deployment app/web', message: 'pod label istio.io/dataplane-mode=ambient' }],
    },
  ],
});
