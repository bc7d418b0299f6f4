import { tm206 } from '../../src/rules/catalog/tm206-unmeshable-pod.js';
import { deployment, namespace, pod } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

testRule(tm206, {
  valid: [
    { name: 'hostNetwork in a namespace without injection', objects: [namespace('infra'), deployment('infra', 'agent', { hostNetwork: true })] },
    { name: 'hostNetwork with an explicit opt-out label', objects: [namespace('infra', { 'istio-injection': 'enabled' }), deployment('infra', 'agent', { hostNetwork: true, labels: { app: 'agent', 'sidecar.istio.io/inject': 'false' } })] },
    { name: 'hostNetwork with the deprecated opt-out annotation', objects: [namespace('infra', { 'istio-injection': 'enabled' }), deployment('infra', 'agent', { hostNetwork: true, annotations: { 'sidecar.istio.io/inject': 'false' } })] },
    { name: 'istio-injection=disabled wins over istio.io/rev', objects: [namespace('infra', { 'istio-injection': 'disabled', 'istio.io/rev': 'canary' }), deployment('infra', 'agent', { hostNetwork: true })] },
    { name: 'pod network in an injected namespace', objects: [namespace('infra', { 'istio-injection': 'enabled' }), deployment('infra', 'agent')] },
  ],
  invalid: [
    {
      name: 'a hostNetwork Deployment in an injection-enabled namespace',
      objects: [namespace('infra', { 'istio-injection': 'enabled' }), deployment('infra', 'agent', { hostNetwork: true })],
      findings: [
        {
          resource: 'Deployment infra/agent',
          message: ['hostNetwork: true', 'istio-injection=enabled', 'never injects'],
          fixes: [
            { title: 'Mark Deployment infra/agent as outside the mesh', yaml: ['sidecar.istio.io/inject: "false"'] },
            { title: 'Run Deployment infra/agent on the pod network', yaml: ['hostNetwork: false'] },
          ],
        },
      ],
    },
    {
      name: 'istio.io/rev namespace, running pods of one DaemonSet',
      objects: [
        namespace('infra', { 'istio.io/rev': 'canary' }),
        { ...pod('infra', 'agent-a', { sidecar: 'none', hostNetwork: true }), metadata: { name: 'agent-a', namespace: 'infra', labels: { app: 'agent' }, ownerReferences: [{ kind: 'DaemonSet', name: 'agent', controller: true }] } },
        { ...pod('infra', 'agent-b', { sidecar: 'none', hostNetwork: true }), metadata: { name: 'agent-b', namespace: 'infra', labels: { app: 'agent' }, ownerReferences: [{ kind: 'DaemonSet', name: 'agent', controller: true }] } },
      ],
      findings: [{ resource: 'DaemonSet infra/agent', message: ['DaemonSet infra/agent (pods agent-a, agent-b)', 'istio.io/rev=canary'], fixes: [{ yaml: ['kind: DaemonSet'] }] }],
      fixResolves: false,
    },
  ],
});
