import { tm103 } from '../../src/rules/catalog/tm103-forced-mtls-to-plaintext-target.js';
import { deployment, destinationRule, istioGateway, namespace, peerAuthentication, pod, service, virtualService, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const FQDN = 'db.app.svc.cluster.local';

function scenario(appNs: Record<string, string>, extra: Obj[], annotations?: Record<string, string>, portName = 'tcp-postgres'): Obj[] {
  return [
    namespace('app', appNs),
    deployment('app', 'db', { ports: [{ port: 5432 }], ...(annotations ? { annotations } : {}) }),
    service('app', 'db', [{ name: portName, port: 5432 }]),
    ...extra,
  ];
}

const injected = { 'istio-injection': 'enabled' };

/** An ingress gateway routes to subset v1 of db, whose port-level settings set ISTIO_MUTUAL. */
function subsetRoute(appNs: Record<string, string>): Obj[] {
  return [
    namespace('istio-system'),
    namespace('app', appNs),
    pod('istio-system', 'istio-ingressgateway-1', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } }),
    istioGateway('app', 'public'),
    virtualService('app', 'db', { gateways: ['public'], host: 'db', port: 5432, subset: 'v1' }),
    deployment('app', 'db', { labels: { app: 'db', version: 'v1' }, ports: [{ port: 5432 }] }),
    service('app', 'db', [{ name: 'tcp-postgres', port: 5432 }], { selector: { app: 'db' } }),
    destinationRule('app', 'db', {
      host: FQDN,
      subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { portLevelSettings: [{ port: { number: 5432 }, tls: { mode: 'ISTIO_MUTUAL' } }] } }],
    }),
  ];
}

testRule(tm103, {
  valid: [
    { name: 'ISTIO_MUTUAL to a meshed, captured port', objects: scenario(injected, [destinationRule('app', 'db', { host: FQDN, tls: 'ISTIO_MUTUAL' })]) },
    { name: 'no DestinationRule: auto mTLS sends plaintext to pods without a sidecar', objects: scenario({}, []) },
    { name: 'the port-level entry DISABLEs the port the wildcard forces', objects: scenario({}, [destinationRule('istio-system', 'all', { host: '*.local', tls: 'ISTIO_MUTUAL' }), destinationRule('app', 'db', { host: FQDN, portLevel: [{ port: 5432, tls: 'DISABLE' }] })]) },
    { name: 'MUTUAL (own certificates) to a port declared TLS without a sidecar: the app terminates it', objects: scenario({}, [destinationRule('app', 'db', { host: FQDN, tls: 'MUTUAL' })], undefined, 'tls-postgres') },
    { name: 'a DestinationRule for another host', objects: scenario({}, [destinationRule('app', 'other', { host: 'other.app.svc.cluster.local', tls: 'ISTIO_MUTUAL' })]) },
    {
      name: 'a pod labelled tlsMode istio WITH a sidecar: auto mTLS is terminated',
      objects: [namespace('app', injected), pod('app', 'db-1', { owner: 'db', ports: [{ port: 5432 }] }), service('app', 'db', [{ name: 'tcp-postgres', port: 5432 }])],
    },
    {
      name: 'a subset with ISTIO_MUTUAL on its port, routed to by a gateway, towards pods with sidecars',
      objects: subsetRoute(injected),
    },
  ],
  invalid: [
    {
      name: 'ISTIO_MUTUAL to a pod without a sidecar',
      objects: scenario({}, [destinationRule('app', 'db', { host: FQDN, tls: 'ISTIO_MUTUAL' })]),
      findings: [
        {
          resource: 'Service app/db',
          port: 5432,
          message: ['DestinationRule app/db (ISTIO_MUTUAL) forces mutual TLS', 'it has no sidecar'],
          fixes: [{ title: 'Set tls.mode DISABLE for port 5432 in DestinationRule app/db' }, { title: 'Inject an Istio sidecar into Deployment app/db' }],
        },
      ],
    },
    {
      name: 'a mesh-wide *.local ISTIO_MUTUAL in the root namespace: the fix adds a host-specific rule, not an edit of the wildcard',
      objects: scenario({}, [destinationRule('istio-system', 'default', { host: '*.local', tls: 'ISTIO_MUTUAL' })]),
      findings: [{ resource: 'Service app/db', fixes: [{ title: 'DestinationRule app/db-5432-no-mtls', yaml: ['host: db.app.svc.cluster.local', 'mode: ISTIO_MUTUAL', /number: 5432\n\s+tls:\n\s+mode: DISABLE/] }] }],
    },
    {
      name: 'ISTIO_MUTUAL to a port excluded from capture',
      objects: scenario(injected, [destinationRule('app', 'db', { host: FQDN, tls: 'ISTIO_MUTUAL' })], { 'traffic.sidecar.istio.io/excludeInboundPorts': '5432' }),
      findings: [{ resource: 'Service app/db', message: 'does not capture target port 5432' }],
    },
    {
      name: 'ISTIO_MUTUAL to a port whose PeerAuthentication is DISABLE',
      objects: scenario(injected, [
        destinationRule('app', 'db', { host: FQDN, portLevel: [{ port: 5432, tls: 'ISTIO_MUTUAL' }] }),
        peerAuthentication('app', 'db', { selector: { app: 'db' }, portLevel: { 5432: 'DISABLE' } }),
      ]),
      findings: [{ resource: 'Service app/db', message: 'disables mTLS on target port 5432', evidence: ['portLevelSettings[port 5432].tls.mode=ISTIO_MUTUAL'] }],
    },
    {
      name: 'MUTUAL (own certificates) to a plain TCP port without a sidecar',
      objects: scenario({}, [destinationRule('app', 'db', { host: FQDN, tls: 'MUTUAL' })]),
      findings: [{ resource: 'Service app/db', message: 'DestinationRule app/db (MUTUAL)', evidence: ['Istio protocol of port 5432: TCP'] }],
    },
    {
      name: "a DestinationRule in a client's namespace (exportTo '.') still breaks that namespace's clients",
      objects: scenario({}, [namespace('edge'), destinationRule('edge', 'db', { host: FQDN, exportTo: ['.'], tls: 'ISTIO_MUTUAL' })]),
      findings: [{ resource: 'Service app/db', evidence: ['meshed clients in namespace edge'] }],
    },
    {
      name: 'a pod labelled security.istio.io/tlsMode=istio without a sidecar: auto mTLS sends it Istio mTLS (no DestinationRule at all)',
      objects: [
        namespace('app'),
        pod('app', 'db-1', { owner: 'db', sidecar: 'none', labels: { app: 'db', 'security.istio.io/tlsMode': 'istio' }, ports: [{ port: 5432 }] }),
        service('app', 'db', [{ name: 'tcp-postgres', port: 5432 }]),
      ],
      findings: [
        {
          resource: 'Service app/db',
          port: 5432,
          message: ['auto mTLS (Pod app/db-1 is labelled security.istio.io/tlsMode=istio) forces mutual TLS', 'only the label security.istio.io/tlsMode=istio'],
          fixes: [{ title: 'DestinationRule app/db-5432-no-mtls' }],
        },
      ],
    },
    {
      name: 'a gateway route to a subset whose port-level settings set ISTIO_MUTUAL, towards pods without sidecars',
      objects: subsetRoute({}),
      findings: [
        {
          resource: 'Service app/db',
          port: 5432,
          message: 'DestinationRule app/db (ISTIO_MUTUAL) forces mutual TLS',
          evidence: ['subsets[v1].trafficPolicy.portLevelSettings[port 5432].tls'],
          fixes: [{ title: 'Set tls.mode DISABLE for port 5432 in DestinationRule app/db', yaml: [/- name: v1[\s\S]*number: 5432\n\s+tls:\n\s+mode: DISABLE/] }],
        },
      ],
    },
    {
      name: 'a top-level ISTIO_MUTUAL with a port entry without tls keeps the label where the workload PeerAuthentication disables the port',
      objects: scenario(injected, [
        destinationRule('app', 'db', { host: FQDN, tls: 'ISTIO_MUTUAL', portLevel: [{ port: 5432 }] }),
        peerAuthentication('app', 'db', { selector: { app: 'db' }, portLevel: { 5432: 'DISABLE' } }),
      ]),
      findings: [{ resource: 'Service app/db', message: ['top-level ISTIO_MUTUAL, which keeps the tlsMode label', 'disables mTLS on target port 5432'] }],
    },
    {
      name: 'behind a headless Service auto mTLS reaches a port whose workload PeerAuthentication is DISABLE',
      objects: [
        namespace('app', injected),
        deployment('app', 'db', { ports: [{ port: 5432 }] }),
        service('app', 'db', [{ name: 'tcp-postgres', port: 5432 }], { clusterIP: 'None' }),
        peerAuthentication('app', 'db', { selector: { app: 'db' }, portLevel: { 5432: 'DISABLE' } }),
      ],
      findings: [{ resource: 'Service app/db', message: ['auto mTLS on a headless Service', 'disables mTLS on target port 5432'] }],
    },
  ],
});
