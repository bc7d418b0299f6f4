import { tm203 } from '../../src/rules/catalog/tm203-missing-sidecar.js';
import { deployment, namespace, pod, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const plain = (ns: string, name: string, o: Parameters<typeof pod>[2] = {}): Obj => pod(ns, name, { sidecar: 'none', ...o });

testRule(tm203, {
  valid: [
    { name: 'an injected pod (classic)', objects: [namespace('app', { 'istio-injection': 'enabled' }), pod('app', 'web-1', { owner: 'web' })] },
    { name: 'an injected pod (native sidecar)', objects: [namespace('app', { 'istio-injection': 'enabled' }), pod('app', 'web-1', { owner: 'web', sidecar: 'native' })] },
    { name: 'namespace without injection labels', objects: [namespace('app'), plain('app', 'web-1', { owner: 'web' })] },
    { name: 'istio-injection=disabled', objects: [namespace('app', { 'istio-injection': 'disabled' }), plain('app', 'web-1')] },
    {
      name: 'istio-injection=disabled beats a pod label sidecar.istio.io/inject=true (no webhook matches)',
      objects: [namespace('app', { 'istio-injection': 'disabled' }), plain('app', 'web-1', { labels: { app: 'web', 'sidecar.istio.io/inject': 'true' } })],
    },
    { name: 'pod label inject=false vetoes', objects: [namespace('app', { 'istio-injection': 'enabled' }), plain('app', 'web-1', { labels: { app: 'web', 'sidecar.istio.io/inject': 'false' } })] },
    { name: 'the deprecated annotation inject=false still vetoes', objects: [namespace('app', { 'istio-injection': 'enabled' }), plain('app', 'web-1', { annotations: { 'sidecar.istio.io/inject': 'false' } })] },
    {
      name: 'the deprecated annotation inject=true cannot opt a pod in (objectSelector sees labels only)',
      objects: [namespace('app'), plain('app', 'web-1', { annotations: { 'sidecar.istio.io/inject': 'true' } })],
    },
    {
      name: 'only exact "true" counts: a label "yes" does not opt in',
      objects: [namespace('app'), plain('app', 'web-1', { labels: { app: 'web', 'sidecar.istio.io/inject': 'yes' } })],
    },
    { name: 'hostNetwork pods are never injected (TM206)', objects: [namespace('app', { 'istio-injection': 'enabled' }), plain('app', 'agent-1', { hostNetwork: true })] },
    { name: 'ignored namespaces (kube-system) even when labelled', objects: [namespace('kube-system', { 'istio-injection': 'enabled' }), plain('kube-system', 'coredns-1')] },
    { name: 'ambient namespace: ztunnel, no sidecar expected', objects: [namespace('app', { 'istio.io/dataplane-mode': 'ambient' }), plain('app', 'web-1')] },
    { name: 'namespace labels unknown: no evidence', objects: [plain('app', 'web-1', { labels: { app: 'web', 'istio.io/rev': 'canary' } })] },
    { name: 'pod templates are predicted, not missing anything', objects: [namespace('app', { 'istio-injection': 'enabled' }), deployment('app', 'web')] },
    { name: 'a gateway pod runs the proxy as its workload', objects: [namespace('app', { 'istio-injection': 'enabled' }), pod('app', 'ingress-1', { sidecar: 'gateway' })] },
  ],
  invalid: [
    {
      name: 'late injection: three pods of one Deployment created before the namespace was labelled: one finding, a restart',
      objects: [namespace('app', { 'istio-injection': 'enabled' }), plain('app', 'web-a', { owner: 'web' }), plain('app', 'web-b', { owner: 'web' }), plain('app', 'web-c', { owner: 'web' })],
      findings: [
        {
          resource: 'Deployment app/web',
          message: ['Deployment app/web (pods web-a, web-b, web-c) have no Istio sidecar', 'namespace label istio-injection=enabled', 'created before injection was enabled'],
          fixes: [{ title: 'Restart Deployment app/web', yaml: ['kind: Deployment', 'kubectl.kubernetes.io/restartedAt: "tunnelmesh: replaces web-a and 2 more"'] }],
        },
      ],
      fixResolves: false,
    },
    {
      name: 'istio.io/rev on the namespace',
      objects: [namespace('app', { 'istio.io/rev': 'canary' }), plain('app', 'web-1', { owner: 'web' })],
      findings: [{ resource: 'Deployment app/web', message: 'namespace label istio.io/rev=canary' }],
      fixResolves: false,
    },
    {
      name: 'pod label sidecar.istio.io/inject=true in an unlabelled namespace',
      objects: [namespace('app'), plain('app', 'web-1', { owner: 'web', labels: { app: 'web', 'sidecar.istio.io/inject': 'true' } })],
      findings: [{ resource: 'Deployment app/web', message: 'pod label sidecar.istio.io/inject=true' }],
      fixResolves: false,
    },
    {
      name: 'pod label istio.io/rev in an unlabelled namespace',
      objects: [namespace('app'), plain('app', 'web-1', { owner: 'web', labels: { app: 'web', 'istio.io/rev': 'canary' } })],
      findings: [{ resource: 'Deployment app/web', message: 'pod label istio.io/rev=canary' }],
      fixResolves: false,
    },
    {
      name: 'the label beats the deprecated annotation: label true, annotation false',
      objects: [namespace('app'), plain('app', 'web-1', { owner: 'web', labels: { app: 'web', 'sidecar.istio.io/inject': 'true' }, annotations: { 'sidecar.istio.io/inject': 'false' } })],
      findings: [{ resource: 'Deployment app/web' }],
      fixResolves: false,
    },
    {
      name: 'a bare pod: re-created',
      objects: [namespace('app', { 'istio-injection': 'enabled' }), plain('app', 'debug')],
      findings: [{ resource: 'Pod app/debug', fixes: [{ yaml: ['kubectl replace --force'] }] }],
      fixResolves: false,
    },
    {
      name: 'istiod-style pods in a labelled namespace with their ReplicaSet in the input: owner resolved through ownerReferences',
      objects: [
        namespace('app', { 'istio-injection': 'enabled' }),
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: { name: 'api-5c9d', namespace: 'app', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api-server', controller: true }] },
          spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api' }] } } },
        },
        { ...plain('app', 'api-5c9d-x'), metadata: { name: 'api-5c9d-x', namespace: 'app', labels: { app: 'api' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-5c9d', controller: true }] } },
      ],
      findings: [{ resource: 'Deployment app/api-server', fixes: [{ yaml: ['name: api-server'] }] }],
      fixResolves: false,
    },
  ],
});
