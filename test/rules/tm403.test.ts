import { tm403 } from '../../src/rules/catalog/tm403-duplicate-destination-rules.js';
import { destinationRule, namespace, pod, service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const FQDN = 'reviews.app.svc.cluster.local';
const base: Obj[] = [
  namespace('app'),
  namespace('front'),
  service('app', 'reviews', [{ name: 'http', port: 9080 }]),
  pod('app', 'reviews-1', { owner: 'reviews' }),
  pod('front', 'web-1', { owner: 'web' }),
];

testRule(tm403, {
  valid: [
    { name: 'one rule per host', objects: [...base, destinationRule('app', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] })] },
    {
      name: 'two private rules in two namespaces: no client sees both',
      objects: [...base, destinationRule('app', 'reviews', { host: FQDN, exportTo: ['.'] }), destinationRule('front', 'reviews', { host: FQDN, exportTo: ['.'] })],
    },
    { name: 'a specific host and a wildcard are different hosts (exact beats wildcard)', objects: [...base, destinationRule('app', 'reviews', { host: FQDN }), destinationRule('istio-system', 'all', { host: '*.local', tls: 'ISTIO_MUTUAL' })] },
    { name: 'a rule with a workloadSelector is scoped to its workloads', objects: [...base, destinationRule('front', 'r', { host: FQDN, workloadSelector: { app: 'front' } }), destinationRule('front', 'r2', { host: FQDN })] },
    { name: 'a rule in a third namespace without clients is not looked up by the others', objects: [...base, namespace('other'), destinationRule('app', 'reviews', { host: FQDN }), destinationRule('other', 'reviews', { host: FQDN, exportTo: ['.'] })] },
  ],
  invalid: [
    {
      name: 'two rules for one host in one namespace are merged: only the oldest trafficPolicy counts',
      objects: [
        ...base,
        destinationRule('app', 'reviews-lb', { host: 'reviews', tls: 'ISTIO_MUTUAL', created: '2024-01-01T00:00:00Z' }),
        destinationRule('app', 'reviews-tls', { host: FQDN, tls: 'DISABLE', subsets: [{ name: 'v2', labels: { version: 'v2' } }], created: '2024-02-01T00:00:00Z' }),
      ],
      findings: [
        {
          resource: 'DestinationRule app/reviews-tls',
          message: ['2 DestinationRules for reviews.app.svc.cluster.local', 'are merged: their subsets are combined', 'the trafficPolicy of DestinationRule app/reviews-lb is used and that of DestinationRule app/reviews-tls ignored'],
          fixes: [{ title: 'Merge into DestinationRule app/reviews-lb', yaml: ['name: v2', 'kubectl delete destinationrule -n app reviews-tls'] }],
        },
      ],
      fixResolves: false,
    },
    {
      name: 'a client-side rule shadows the exported one for clients in its namespace only',
      objects: [...base, destinationRule('app', 'reviews', { host: FQDN, tls: 'DISABLE' }), destinationRule('front', 'reviews', { host: FQDN, tls: 'ISTIO_MUTUAL', exportTo: ['.'] })],
      findings: [{ resource: 'DestinationRule app/reviews', message: ['clients in namespace front', 'DestinationRule front/reviews applies', 'DestinationRule app/reviews is ignored'] }],
      fixResolves: false,
    },
    {
      name: 'an exported root-namespace rule for the same host is hidden by the Service namespace\'s, for every client',
      objects: [...base, destinationRule('app', 'reviews', { host: FQDN }), destinationRule('istio-system', 'reviews', { host: FQDN, tls: 'ISTIO_MUTUAL' })],
      findings: [{ resource: 'DestinationRule istio-system/reviews', message: ['namespaces app and front', 'DestinationRule istio-system/reviews is ignored'] }],
      fixResolves: false,
    },
    {
      name: 'the oldest rule has no trafficPolicy: the next one\'s is used; a subset defined twice counts once',
      objects: [
        ...base,
        destinationRule('app', 'a-subsets', { host: FQDN, subsets: [{ name: 'v1', labels: { version: 'v1' } }], created: '2024-01-01T00:00:00Z' }),
        destinationRule('app', 'b-tls', { host: FQDN, tls: 'ISTIO_MUTUAL', subsets: [{ name: 'v1', labels: { version: 'one' } }], created: '2024-02-01T00:00:00Z' }),
      ],
      findings: [{ resource: 'DestinationRule app/b-tls', message: ['the trafficPolicy of DestinationRule app/b-tls is used', 'subset v1 is defined twice and only the first definition counts'] }],
      fixResolves: false,
    },
    {
      name: 'rules checked on their own (no pods in the input): every namespace named counts as a client namespace',
      objects: [destinationRule('app', 'a', { host: FQDN }), destinationRule('app', 'b', { host: FQDN })],
      findings: [{ resource: 'DestinationRule app/b', message: ['are merged', 'none sets a trafficPolicy'] }],
      fixResolves: false,
    },
    {
      name: 'two rules for one host in one namespace with different exportTo are not merged: the newest applies',
      objects: [
        ...base,
        destinationRule('app', 'reviews-old', { host: FQDN, tls: 'DISABLE', exportTo: ['*'], created: '2024-01-01T00:00:00Z' }),
        destinationRule('app', 'reviews-new', { host: FQDN, tls: 'ISTIO_MUTUAL', exportTo: ['.', 'front'], created: '2024-02-01T00:00:00Z' }),
      ],
      findings: [
        {
          resource: 'DestinationRule app/reviews-old',
          message: ['DestinationRule app/reviews-new applies', 'DestinationRule app/reviews-old is not merged with it (a different exportTo) and ignored: of the rules a client sees, the newest applies'],
          evidence: ['merges rules for one host in one namespace only when their exportTo lists are equal'],
        },
      ],
      fixResolves: false,
    },
  ],
});
