import { tm405 } from '../../src/rules/catalog/tm405-selector-matches-nothing.js';
import { deployment, destinationRule, namespace, peerAuthentication, pod, service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const base: Obj[] = [
  namespace('app'),
  deployment('app', 'reviews-v1', { labels: { app: 'reviews', version: 'v1' } }),
  deployment('app', 'reviews-v2', { labels: { app: 'reviews', version: 'v2' } }),
  service('app', 'reviews', [{ name: 'http', port: 9080 }], { selector: { app: 'reviews' } }),
];
const vs = (subset: string): Obj => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'app' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset } }] }] },
});

testRule(tm405, {
  valid: [
    { name: 'a workload policy that selects pods', objects: [...base, peerAuthentication('app', 'reviews', { selector: { app: 'reviews' }, mode: 'STRICT' })] },
    { name: 'subsets that select pods', objects: [...base, destinationRule('app', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] })] },
    { name: 'a subset on node topology labels (Istio adds them from the node; not visible here)', objects: [...base, destinationRule('app', 'reviews', { host: 'reviews', subsets: [{ name: 'west', labels: { 'topology.kubernetes.io/region': 'us-west' } }] })] },
    { name: 'a namespace-wide policy has no selector', objects: [...base, peerAuthentication('app', 'default', { mode: 'STRICT' })] },
    { name: 'a root-namespace selector policy is TM106', objects: [...base, peerAuthentication('istio-system', 'x', { selector: { app: 'nothing' } })] },
    { name: 'an unknown host is TM401', objects: [...base, destinationRule('app', 'x', { host: 'nothing', subsets: [{ name: 'v9', labels: { version: 'v9' } }] })] },
  ],
  invalid: [
    {
      name: 'a PeerAuthentication selector with a typo: the fix selects the closest workload',
      objects: [...base, peerAuthentication('app', 'reviews', { selector: { app: 'review' }, mode: 'STRICT' })],
      findings: [{ resource: 'PeerAuthentication app/reviews', message: 'selects app=review, which no pod in app carries', evidence: ['label app on pods in app: reviews'], fixes: [{ title: 'Select Deployment app/reviews-v1', yaml: ['version: v1'] }] }],
    },
    {
      name: 'istioctl IST0173 case: a subset whose labels select no pod of the Service (not routed to: the fix removes it)',
      objects: [...base, destinationRule('app', 'reviews', { host: 'reviews.app.svc.cluster.local', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'fake', labels: { version: 'v3' } }] })],
      findings: [{ resource: 'DestinationRule app/reviews', message: 'subset fake (version=v3) selects no pod of Service app/reviews', evidence: ['label version on those pods: v1 and v2'], fixes: [{ title: 'Remove subset fake' }] }],
    },
    {
      name: 'a routed empty subset: 503 no healthy upstream, no automatic fix',
      objects: [...base, destinationRule('app', 'reviews', { host: 'reviews', subsets: [{ name: 'v3', labels: { version: 'v3' } }] }), vs('v3')],
      findings: [{ resource: 'DestinationRule app/reviews', message: 'Routes to v3 have no endpoint', fixes: [] }],
      fixResolves: false,
    },
    {
      name: 'running pods: the selector is matched against them',
      objects: [namespace('app'), pod('app', 'web-1', { owner: 'web' }), peerAuthentication('app', 'web', { selector: { app: 'webb' } })],
      findings: [{ resource: 'PeerAuthentication app/web', fixes: [{ yaml: [/matchLabels:\n\s+app: web\n/] }] }],
    },
  ],
});
