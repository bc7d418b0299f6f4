import { tm107 } from '../../src/rules/catalog/tm107-port-key-mismatch.js';
import { deployment, destinationRule, namespace, peerAuthentication, pod, service, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const FQDN = 'gw.app.svc.cluster.local';

/** Service gw: port 80 → targetPort 9091 (named "admin" when asked), port 8080 → 8080. */
function app(o: { named?: boolean; extra?: Obj[]; podPorts?: Array<{ name?: string; port: number }> } = {}): Obj[] {
  return [
    namespace('app', { 'istio-injection': 'enabled' }),
    deployment('app', 'gw', { ports: o.podPorts ?? [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
    service('app', 'gw', [
      { name: 'http', port: 8080 },
      { name: 'http-admin', port: 80, targetPort: o.named ? 'admin' : 9091 },
    ]),
    ...(o.extra ?? []),
  ];
}

testRule(tm107, {
  valid: [
    { name: 'portLevelMtls keyed by the target port', objects: app({ extra: [peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9091: 'DISABLE' } })] }) },
    { name: 'portLevelMtls keyed by a target port reached through a named targetPort', objects: app({ named: true, extra: [peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9091: 'DISABLE' } })] }) },
    { name: 'portLevelSettings keyed by the Service port', objects: app({ extra: [destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 80, tls: 'DISABLE' }] })] }) },
    { name: 'portLevelSettings with a short host, keyed by the Service port', objects: app({ extra: [destinationRule('app', 'gw', { host: 'gw', portLevel: [{ port: 80, tls: 'DISABLE' }] })] }) },
    {
      name: 'a key the pods do not declare, while their containers declare nothing complete, is not judged (an undeclared port may be open)',
      objects: [
        namespace('app', { 'istio-injection': 'enabled' }),
        deployment('app', 'gw', { ports: [{ port: 8080 }], containers: [{ name: 'metrics', image: 'exporter:1' }] }),
        peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9100: 'DISABLE' } }),
      ],
    },
    {
      name: 'a metrics port announced by prometheus.io/port counts as a port of the pods',
      objects: [
        namespace('app', { 'istio-injection': 'enabled' }),
        deployment('app', 'gw', { ports: [{ name: 'http', port: 8080 }], annotations: { 'prometheus.io/port': '9102' } }),
        peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9102: 'DISABLE' } }),
      ],
    },
    { name: 'a selector that selects nothing is TM405, not a key mismatch', objects: app({ extra: [peerAuthentication('app', 'other', { selector: { app: 'other' }, portLevel: { 80: 'DISABLE' } })] }) },
    { name: 'a namespace-wide policy with portLevelMtls is TM106', objects: app({ extra: [peerAuthentication('app', 'default', { portLevel: { 80: 'DISABLE' } })] }) },
    { name: 'a root-namespace policy with a selector is ignored (TM106)', objects: app({ extra: [peerAuthentication('istio-system', 'gw', { selector: { app: 'gw' }, portLevel: { 80: 'DISABLE' } })] }) },
    { name: 'a DestinationRule for an unknown host is TM401', objects: app({ extra: [destinationRule('app', 'x', { host: 'nothing.app.svc.cluster.local', portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }) },
    { name: 'a wildcard DestinationRule is not judged per Service', objects: app({ extra: [destinationRule('istio-system', 'all', { host: '*.local', portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }) },
  ],
  invalid: [
    {
      name: 'portLevelMtls keyed by the Service port (80): 9091 would have matched',
      objects: app({ extra: [peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 80: 'DISABLE' } })] }),
      findings: [
        {
          resource: 'PeerAuthentication app/gw',
          port: 80,
          message: ['port 80, which is not a port of the pods it selects (Deployment app/gw (pod template))', '9091 would have matched', 'Service app/gw maps port 80 to targetPort 9091'],
          evidence: ['keyed by the target (container) port'],
          fixes: [{ title: 'Key portLevelMtls by target port 9091 instead of 80', yaml: [/"9091":\n\s+mode: DISABLE/] }],
        },
      ],
    },
    {
      name: 'named targetPort: the Service port key resolves per pod to the container port',
      objects: app({ named: true, extra: [peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 80: 'DISABLE' } })] }),
      findings: [{ resource: 'PeerAuthentication app/gw', port: 80, message: '9091 would have matched' }],
    },
    {
      name: 'a key no declared port matches, with every container declaring its ports: a warning listing the known ports',
      objects: app({ extra: [peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9090: 'DISABLE' } })] }),
      findings: [{ resource: 'PeerAuthentication app/gw', port: 9090, severity: 'warning', message: 'their known ports: 8080 and 9091', fixes: [] }],
      fixResolves: false,
    },
    {
      name: 'running pods of two ReplicaSets of one Deployment are one workload in the message',
      objects: [
        namespace('app'),
        pod('app', 'gw-a', { owner: 'gw', sidecar: 'native', ports: [{ port: 9091 }] }),
        pod('app', 'gw-b', { owner: 'gw', sidecar: 'classic', ports: [{ port: 9091 }] }),
        service('app', 'gw', [{ name: 'http', port: 80, targetPort: 9091 }]),
        peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 80: 'DISABLE' } }),
      ],
      findings: [{ resource: 'PeerAuthentication app/gw', port: 80, message: ['Deployment app/gw (pods gw-a, gw-b)', '9091 would have matched'] }],
    },
    {
      name: 'portLevelSettings keyed by the target port (9091): Service port 80 would have matched',
      objects: app({ extra: [destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }),
      findings: [
        {
          resource: 'DestinationRule app/gw',
          port: 9091,
          message: ['port 9091, which Service app/gw does not have', '80 would have matched (it maps to targetPort 9091)'],
          fixes: [{ title: 'Key portLevelSettings by Service port 80 instead of 9091', yaml: [/number: 80\n\s+tls:\n\s+mode: DISABLE/] }],
        },
      ],
    },
    {
      name: 'portLevelSettings in a subset keyed by a named target port',
      objects: app({
        named: true,
        extra: [
          {
            ...destinationRule('app', 'gw', { host: FQDN }),
            spec: { host: FQDN, subsets: [{ name: 'v1', labels: { app: 'gw' }, trafficPolicy: { portLevelSettings: [{ port: { number: 9091 }, tls: { mode: 'DISABLE' } }] } }] },
          },
        ],
      }),
      findings: [{ resource: 'DestinationRule app/gw', port: 9091, evidence: ['subsets[v1].trafficPolicy.portLevelSettings[port 9091]'], message: '80 would have matched' }],
    },
    {
      name: 'portLevelSettings for a port nothing maps to',
      objects: app({ extra: [destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 443, tls: 'SIMPLE' }] })] }),
      findings: [{ resource: 'DestinationRule app/gw', port: 443, message: "The Service's ports: 8080 and 80" }],
      fixResolves: false,
    },
  ],
});
