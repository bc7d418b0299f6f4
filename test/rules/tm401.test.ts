import { tm401 } from '../../src/rules/catalog/tm401-dr-host-unknown.js';
import { destinationRule, namespace, service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const base: Obj[] = [namespace('app'), service('app', 'reviews', [{ name: 'http', port: 9080 }])];
const serviceEntry = (ns: string, hosts: string[], exportTo?: string[]): Obj => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name: 'external', namespace: ns },
  spec: { hosts, ...(exportTo ? { exportTo } : {}) },
});

testRule(tm401, {
  valid: [
    { name: 'FQDN of a Service', objects: [...base, destinationRule('app', 'reviews', { host: 'reviews.app.svc.cluster.local' })] },
    { name: 'short host resolved in the rule\'s namespace', objects: [...base, destinationRule('app', 'reviews', { host: 'reviews' })] },
    { name: 'a rule in another namespace naming the Service by FQDN', objects: [...base, namespace('client'), destinationRule('client', 'reviews', { host: 'reviews.app.svc.cluster.local' })] },
    { name: 'wildcard hosts are policies, not references', objects: [...base, destinationRule('istio-system', 'all', { host: '*.local' }), destinationRule('app', 'ext', { host: '*.example.com' })] },
    { name: 'an external host with a ServiceEntry', objects: [...base, serviceEntry('app', ['api.example.com']), destinationRule('app', 'api', { host: 'api.example.com', tls: 'SIMPLE' })] },
    { name: 'an external host under a wildcard ServiceEntry exported to all', objects: [...base, serviceEntry('egress', ['*.example.com']), destinationRule('app', 'api', { host: 'api.example.com' })] },
  ],
  invalid: [
    {
      name: 'a Service that does not exist (istioctl UnknownDestinationRuleHost, fake-host)',
      objects: [...base, destinationRule('app', 'fake', { host: 'fake-svc.app.svc.cluster.local' })],
      findings: [{ resource: 'DestinationRule app/fake', message: 'matches no Service: the rule applies to nothing', evidence: ['no Service app/fake-svc'] }],
      fixResolves: false,
    },
    {
      name: 'a short host in the wrong namespace: did you mean the Service of that name',
      objects: [...base, namespace('client'), destinationRule('client', 'reviews', { host: 'reviews' })],
      findings: [
        {
          resource: 'DestinationRule client/reviews',
          message: ['host reviews (resolved as reviews.client.svc.cluster.local)', 'Did you mean reviews.app.svc.cluster.local?'],
          fixes: [{ title: 'Set host reviews.app.svc.cluster.local in DestinationRule client/reviews', yaml: ['host: reviews.app.svc.cluster.local'] }],
        },
      ],
    },
    {
      name: 'a dotted partial host (name.namespace) is taken as written',
      objects: [...base, destinationRule('app', 'reviews', { host: 'reviews.app' })],
      findings: [{ resource: 'DestinationRule app/reviews', evidence: ['a dotted host is taken as written'], fixes: [{ yaml: ['host: reviews.app.svc.cluster.local'] }] }],
    },
    {
      name: 'a typo',
      objects: [...base, destinationRule('app', 'reviews', { host: 'reveiws.app.svc.cluster.local' })],
      findings: [{ resource: 'DestinationRule app/reviews', message: 'Did you mean reviews.app.svc.cluster.local?' }],
    },
    {
      name: 'an external host without ServiceEntry: the fix declares one with the rule\'s ports',
      objects: [...base, destinationRule('app', 'db', { host: 'db.example.com', portLevel: [{ port: 5432, tls: 'DISABLE' }] })],
      findings: [{ resource: 'DestinationRule app/db', message: 'no Service or ServiceEntry', fixes: [{ title: 'ServiceEntry app/db-example-com for db.example.com', yaml: ['number: 5432', 'MESH_EXTERNAL'] }] }],
    },
    {
      name: 'a ServiceEntry exported only to its own namespace is not seen from the rule\'s',
      objects: [...base, serviceEntry('egress', ['api.example.com'], ['.']), destinationRule('app', 'api', { host: 'api.example.com' })],
      findings: [{ resource: 'DestinationRule app/api' }],
    },
  ],
});
