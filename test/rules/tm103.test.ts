import { tm103 } from '../../src/rules/catalog/tm103-forced-mtls-to-plaintext-target.js';
import { deployment, destinationRule, namespace, peerAuthentication, service, type Obj } from '../support/build.js';
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

testRule(tm103, {
  valid: [
    { name: 'ISTIO_MUTUAL to a meshed, captured port', objects: scenario(injected, [destinationRule('app', 'db', { host: FQDN, tls: 'ISTIO_MUTUAL' })]) },
    { name: 'no DestinationRule: auto mTLS sends plaintext to pods without a sidecar', objects: scenario({}, []) },
    { name: 'the port-level entry DISABLEs the port the wildcard forces', objects: scenario({}, [destinationRule('istio-system', 'all', { host: '*.local', tls: 'ISTIO_MUTUAL' }), destinationRule('app', 'db', { host: FQDN, portLevel: [{ port: 5432, tls: 'DISABLE' }] })]) },
    { name: 'MUTUAL (own certificates) to a port declared TLS without a sidecar: the app terminates it', objects: scenario({}, [destinationRule('app', 'db', { host: FQDN, tls: 'MUTUAL' })], undefined, 'tls-postgres') },
    { name: 'a DestinationRule for another host', objects: scenario({}, [destinationRule('app', 'other', { host: 'other.app.svc.cluster.local', tls: 'ISTIO_MUTUAL' })]) },
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
  ],
});
