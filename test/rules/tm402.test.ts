import { tm402 } from '../../src/rules/catalog/tm402-subset-undefined.js';
import { deployment, destinationRule, namespace, service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const FQDN = 'reviews.app.svc.cluster.local';
const base: Obj[] = [
  namespace('app'),
  deployment('app', 'reviews-v1', { labels: { app: 'reviews', version: 'v1' } }),
  deployment('app', 'reviews-v2', { labels: { app: 'reviews', version: 'v2' } }),
  service('app', 'reviews', [{ name: 'http', port: 9080 }], { selector: { app: 'reviews' } }),
];

function vs(ns: string, subset: string, host = 'reviews', section: 'http' | 'tcp' = 'http'): Obj {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: ns },
    spec: { hosts: [host], [section]: [{ route: [{ destination: { host, subset } }] }] },
  };
}

const subsets = (...names: string[]) => names.map((n) => ({ name: n, labels: { version: n } }));

testRule(tm402, {
  valid: [
    { name: 'the DR in the namespace defines the subset', objects: [...base, destinationRule('app', 'reviews', { host: 'reviews', subsets: subsets('v1', 'v2') }), vs('app', 'v2')] },
    { name: 'a tcp route to a defined subset', objects: [...base, destinationRule('app', 'reviews', { host: FQDN, subsets: subsets('v1') }), vs('app', 'v1', 'reviews', 'tcp')] },
    {
      name: 'two rules for the host in one namespace are merged: the subset of the second counts',
      objects: [...base, destinationRule('app', 'a', { host: FQDN, subsets: subsets('v1') }), destinationRule('app', 'b', { host: FQDN, subsets: subsets('v2') }), vs('app', 'v2')],
    },
    {
      name: 'a VirtualService in another namespace sees the rule exported from the Service namespace',
      objects: [...base, namespace('front'), destinationRule('app', 'reviews', { host: FQDN, subsets: subsets('v1') }), vs('front', 'v1', FQDN)],
    },
  ],
  invalid: [
    {
      name: 'bookinfo virtual-service-all-v1 without destination-rule-all: the fix creates the rule, with the pods\' version label',
      objects: [...base, vs('app', 'v1')],
      findings: [
        {
          resource: 'VirtualService app/reviews',
          message: ['subset v1 of reviews.app.svc.cluster.local', '503 NR'],
          evidence: ['no DestinationRule for reviews.app.svc.cluster.local is visible from namespace app'],
          fixes: [{ title: 'DestinationRule app/reviews with subset v1', yaml: ['version: v1', `host: ${FQDN}`] }, { title: 'Route to the whole service' }],
        },
      ],
    },
    {
      name: 'the rule in force lacks the subset: it is edited; labels guessed when no pod carries the name',
      objects: [...base, destinationRule('app', 'reviews', { host: 'reviews', subsets: subsets('v1', 'v2') }), vs('app', 'v3')],
      findings: [{ resource: 'VirtualService app/reviews', evidence: ['defines v1 and v2'], fixes: [{ title: 'Define subset v3 in DestinationRule app/reviews', yaml: ['labels are a guess'] }] }],
    },
    {
      name: 'a DR in the client namespace shadows the one defining the subset',
      objects: [...base, namespace('front'), destinationRule('app', 'reviews', { host: FQDN, subsets: subsets('v1') }), destinationRule('front', 'reviews', { host: FQDN, tls: 'ISTIO_MUTUAL' }), vs('front', 'v1', FQDN)],
      findings: [{ resource: 'VirtualService front/reviews', evidence: ['DestinationRule front/reviews applies'], fixes: [{ title: 'Define subset v1 in DestinationRule front/reviews' }] }],
    },
    {
      name: 'a DR exported only to its own namespace is not seen by a VirtualService elsewhere',
      objects: [...base, namespace('front'), destinationRule('app', 'reviews', { host: FQDN, exportTo: ['.'], subsets: subsets('v1') }), vs('front', 'v1', FQDN)],
      findings: [{ resource: 'VirtualService front/reviews' }],
    },
  ],
});
