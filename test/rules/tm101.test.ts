import { tm101 } from '../../src/rules/catalog/tm101-mtls-to-uncaptured-port.js';
import {
  cloudflaredConfigMap,
  cloudflaredDeployment,
  deployment,
  destinationRule,
  meshConfig,
  namespace,
  operatorCloudflared,
  operatorTunnelConfig,
  peerAuthentication,
  ingress,
  operatorStack,
  pod,
  service,
  type Obj,
} from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const OP = 'cloudflare-operator-system';
const FQDN = 'gw.app.svc.cluster.local';

interface Scenario {
  /** Annotations on the gateway's pod template. */
  annotations?: Record<string, string>;
  /** Labels of the app namespace. */
  appNs?: Record<string, string> | null;
  opNs?: Record<string, string>;
  servicePort?: number;
  targetPort?: number | string;
  extra?: Obj[];
  cloudflaredAnnotations?: Record<string, string>;
}

/** The same objects with the gateway's Service headless (clusterIP None). */
function headless(objects: Obj[]): Obj[] {
  return objects.map((o) => (o.kind === 'Service' ? { ...o, spec: { ...(o.spec as object), clusterIP: 'None' } } : o));
}

/** Seed 000: a meshed operator cloudflared → Service app/gw → a Spring Boot gateway excluding its actuator port. */
function scenario(s: Scenario = {}): Obj[] {
  const port = s.servicePort ?? 9091;
  return [
    namespace(OP, s.opNs ?? { 'istio-injection': 'enabled' }),
    ...(s.appNs === null ? [] : [namespace('app', s.appNs ?? { 'istio-injection': 'enabled' })]),
    operatorTunnelConfig([{ hostname: 'admin.example.com', service: `http://gw.app.svc:${port}` }]),
    operatorCloudflared(s.cloudflaredAnnotations ? { annotations: s.cloudflaredAnnotations } : {}),
    deployment('app', 'gw', {
      annotations: s.annotations ?? { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' },
      ports: [
        { name: 'http', port: 8080 },
        { name: 'admin', port: 9091 },
      ],
    }),
    service('app', 'gw', [
      { name: 'http', port: 8080 },
      { name: 'http-admin', port, targetPort: s.targetPort ?? 9091 },
    ]),
    ...(s.extra ?? []),
  ];
}

testRule(tm101, {
  valid: [
    { name: 'a DestinationRule in the Service namespace disables tls for the Service port', objects: scenario({ extra: [destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }) },
    { name: 'the DestinationRule uses a short host, resolved in its own namespace', objects: scenario({ extra: [destinationRule('app', 'gw', { host: 'gw', portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }) },
    {
      name: 'a DestinationRule in the root namespace, exported, disables tls',
      objects: scenario({ extra: [destinationRule('istio-system', 'gw', { host: FQDN, portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }),
    },
    {
      name: "a DestinationRule in the client's namespace disables tls, even with exportTo '.'",
      objects: scenario({ extra: [destinationRule(OP, 'gw', { host: FQDN, exportTo: ['.'], portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }),
    },
    {
      name: 'a DestinationRule tls block without mode means DISABLE',
      objects: scenario({
        extra: [{ ...destinationRule('app', 'gw', { host: FQDN }), spec: { host: FQDN, trafficPolicy: { portLevelSettings: [{ port: { number: 9091 }, tls: { sni: 'x' } }] } } }],
      }),
    },
    { name: 'a workload PeerAuthentication disables the target port (auto mTLS then sends plaintext)', objects: scenario({ extra: [peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9091: 'DISABLE' } })] }) },
    { name: 'a namespace-wide PeerAuthentication DISABLE makes clients send plaintext to the whole Service', objects: scenario({ extra: [peerAuthentication('app', 'default', { mode: 'DISABLE' })] }) },
    { name: 'auto mTLS is off mesh-wide', objects: scenario({ extra: [meshConfig({ enableAutoMtls: false })] }) },
    { name: "seed 000's misspelled annotation: Istio ignores it, the port stays captured", objects: scenario({ annotations: { 'traffic.istio.io/excludeInboundPorts': '9091' } }) },
    { name: 'cloudflared has no sidecar: it sends plaintext, which the excluded port expects', objects: scenario({ opNs: {} }) },
    {
      name: "cloudflared's sidecar does not capture the Service port (excludeOutboundPorts)",
      objects: scenario({ cloudflaredAnnotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': '9091' } }),
    },
    { name: 'the target has no sidecar', objects: scenario({ appNs: {} }) },
    { name: 'the target namespace is ambient (ztunnel, no sidecar)', objects: scenario({ appNs: { 'istio.io/dataplane-mode': 'ambient' } }) },
    { name: "the target's namespace labels are unknown: unknown, never a finding", objects: scenario({ appNs: null }) },
    { name: 'a DestinationRule forces ISTIO_MUTUAL on the port: that is TM103, not auto mTLS', objects: scenario({ extra: [destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 9091, tls: 'ISTIO_MUTUAL' }] })] }) },
    { name: 'the tunnel targets the captured port', objects: scenario({ annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '8081' } }) },
    {
      name: 'the exclude list only applies with includeInboundPorts *: an explicit include list captures the port',
      objects: scenario({ annotations: { 'traffic.sidecar.istio.io/includeInboundPorts': '8080,9091', 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' } }),
    },
    {
      name: 'a DestinationRule top-level DISABLE with an entry for 9091 without tls: the cluster is auto, but the endpoints lose their tlsMode label (plaintext)',
      objects: scenario({ extra: [destinationRule('app', 'gw', { host: FQDN, tls: 'DISABLE', portLevel: [{ port: 9091 }] })] }),
    },
    {
      name: 'behind a headless Service with one endpoint lacking tlsMode istio, Istio sends plaintext to every endpoint',
      objects: headless(scenario({ extra: [pod('app', 'gw-old', { owner: 'gw', sidecar: 'none', ports: [{ name: 'admin', port: 9091 }] }), pod('app', 'gw-new', { owner: 'gw', initExclude: '9091', ports: [{ name: 'admin', port: 9091 }] })] })),
    },
  ],
  invalid: [
    {
      name: "seed 000: meshed cloudflared, port 9091 excluded, no DestinationRule",
      objects: scenario(),
      findings: [
        {
          resource: 'Service app/gw',
          port: 9091,
          message: ['Deployment cloudflare-operator-system/main-tunnel sends Istio mTLS to Service app/gw port 9091', 'does not capture target port 9091'],
          evidence: ['no DestinationRule for gw.app.svc.cluster.local is visible from namespace cloudflare-operator-system', 'auto mTLS', 'NOT captured'],
          fixes: [
            { title: 'DestinationRule app/gw-9091-no-mtls', yaml: [`host: ${FQDN}`, /number: 9091\n\s+tls:\n\s+mode: DISABLE/] },
            { title: 'PeerAuthentication app/gw-port-9091-disable', yaml: ['"9091":', 'app: gw'] },
            { title: 'Stop excluding port 9091', yaml: ['traffic.sidecar.istio.io/excludeInboundPorts: ""'] },
          ],
        },
      ],
    },
    {
      name: 'Service port ≠ target port, named targetPort: the DR fix uses the Service port, the PA fix the target port',
      objects: scenario({ servicePort: 80, targetPort: 'admin' }),
      findings: [
        {
          resource: 'Service app/gw',
          port: 80,
          message: 'does not capture target port 9091',
          evidence: ['targetPort "admin" = containerPort 9091'],
          fixes: [{ yaml: [/number: 80\b/] }, { yaml: ['"9091":'] }],
        },
      ],
    },
    {
      name: 'a DestinationRule keyed by the target port (9091) matches nothing when the Service port is 80',
      objects: scenario({ servicePort: 80, extra: [destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }),
      findings: [{ resource: 'Service app/gw', port: 80, fixes: [{ title: 'in DestinationRule app/gw', yaml: [/number: 9091/, /number: 80/] }] }],
    },
    {
      name: 'a PeerAuthentication keyed by the Service port (80) matches nothing on target port 9091',
      objects: scenario({ servicePort: 80, extra: [peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 80: 'DISABLE' } })] }),
      findings: [{ resource: 'Service app/gw', port: 80, fixes: [{}, { title: 'in PeerAuthentication app/gw', yaml: ['"80":', '"9091":'] }] }],
    },
    {
      name: "a DestinationRule exported only to its own namespace is not seen by cloudflared",
      objects: scenario({ extra: [destinationRule('app', 'gw', { host: FQDN, exportTo: ['.'], portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }),
      // Issue 13: a second rule for the host beside the hidden one would be a duplicate (TM403) that Istio does
      // not merge with it. The hidden rule already disables tls for 9091: exported, it is the fix for every client.
      findings: [
        {
          resource: 'Service app/gw',
          port: 9091,
          fixes: [{ title: 'Set tls.mode DISABLE for port 9091 in DestinationRule app/gw (case.yaml:', yaml: ['exportTo:\n    - "*"\n', 'hides it from clients in other namespaces'] }],
        },
      ],
    },
    {
      name: 'a private DestinationRule that says something else for the host: the fix goes to the client\'s namespace, looked up first',
      objects: scenario({ extra: [destinationRule('app', 'gw', { host: FQDN, exportTo: ['.'], portLevel: [{ port: 8080, tls: 'ISTIO_MUTUAL' }] })] }),
      findings: [
        {
          resource: 'Service app/gw',
          port: 9091,
          fixes: [
            {
              title: 'DestinationRule cloudflare-operator-system/gw-9091-no-mtls: tls.mode DISABLE for gw.app.svc.cluster.local port 9091',
              yaml: ['namespace: cloudflare-operator-system\n', 'exportTo:\n    - .\n', 'is not exported to namespace cloudflare-operator-system'],
            },
          ],
        },
      ],
    },
    {
      name: 'a DestinationRule in a third namespace is not looked up (client ns, service ns, root only)',
      objects: scenario({ extra: [namespace('other'), destinationRule('other', 'gw', { host: FQDN, portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }),
      findings: [{ resource: 'Service app/gw', port: 9091, fixes: [{ title: 'DestinationRule app/gw-9091-no-mtls' }] }],
    },
    {
      name: "a dotted short host (gw.app) is taken as written and matches nothing",
      objects: scenario({ extra: [destinationRule('app', 'gw', { host: 'gw.app', portLevel: [{ port: 9091, tls: 'DISABLE' }] })] }),
      findings: [{ resource: 'Service app/gw', port: 9091 }],
    },
    {
      name: 'a port-level entry without tls replaces the top-level ISTIO_MUTUAL: auto mTLS decides, and sends mTLS',
      objects: scenario({ extra: [destinationRule('app', 'gw', { host: FQDN, tls: 'ISTIO_MUTUAL', portLevel: [{ port: 9091 }] })] }),
      findings: [{ resource: 'Service app/gw', port: 9091, evidence: ['has no tls (a port entry replaces the top-level policy: no tls is inherited)', 'endpoint: DestinationRule app/gw trafficPolicy.tls (the port entry has no tls, so the top-level mode counts here).mode=ISTIO_MUTUAL keeps the tlsMode label'], fixes: [{ title: 'in DestinationRule app/gw' }] }],
    },
    {
      name: 'a wildcard DestinationRule in the root namespace applies: the fix adds a host-specific rule keeping its policy',
      objects: scenario({ extra: [destinationRule('istio-system', 'mesh-lb', { host: '*.local', portLevel: [{ port: 8080 }] })] }),
      findings: [{ resource: 'Service app/gw', port: 9091, fixes: [{ title: 'DestinationRule app/gw-9091-no-mtls', yaml: ['istio-system/mesh-lb', /number: 8080/, /number: 9091/] }] }],
    },
    {
      name: 'excludeInboundPorts with spaces around entries',
      objects: scenario({ annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': ' 15020 , 9091 ' } }),
      findings: [{ resource: 'Service app/gw', port: 9091, fixes: [{}, {}, { yaml: ['excludeInboundPorts: "15020"'] }] }],
    },
    {
      name: 'the port is outside a non-* includeInboundPorts',
      objects: scenario({ annotations: { 'traffic.sidecar.istio.io/includeInboundPorts': '8080' } }),
      findings: [{ resource: 'Service app/gw', port: 9091, fixes: [{}, {}, { yaml: ['includeInboundPorts: 8080,9091'] }] }],
    },
    {
      name: '-n app still collects the tunnel and its client from their own namespace',
      objects: scenario(),
      namespace: 'app',
      findings: [{ resource: 'Service app/gw', port: 9091 }],
    },
    {
      name: 'running pods: native sidecar, exclusion seen only in istio-init args',
      objects: [
        namespace(OP),
        namespace('app'),
        operatorTunnelConfig([{ hostname: 'admin.example.com', service: 'http://gw.app.svc.cluster.local:9091' }]),
        pod(OP, 'main-tunnel-abc', { sidecar: 'native', labels: { 'cloudflare-operator.io/app': 'cloudflared', 'cloudflare-operator.io/id': '6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f' }, image: 'cloudflare/cloudflared:2025.11.1' }),
        pod('app', 'gw-1', { owner: 'gw', sidecar: 'native', initExclude: '9091', ports: [{ port: 9091 }] }),
        pod('app', 'gw-2', { owner: 'gw', sidecar: 'classic', initExclude: '9091', ports: [{ port: 9091 }] }),
        service('app', 'gw', [{ name: 'http-admin', port: 9091 }]),
      ],
      findings: [
        {
          resource: 'Service app/gw',
          port: 9091,
          message: 'cloudflared Pod cloudflare-operator-system/main-tunnel-abc',
          evidence: ['restartPolicy: Always (native sidecar)', "istio-init args -b '*' -d '15090,15021,15020,9091'", 'also affected: Pod app/gw-2'],
          // No annotation to edit: the exclusion comes from the mesh's defaults, so no capture fix.
          fixes: [{ title: 'DestinationRule app/gw-9091-no-mtls' }, { title: 'PeerAuthentication app/gw-port-9091-disable' }],
        },
      ],
    },
    {
      name: 'Ingress-only manifests: the rule the operator would write, with the tunnel pods of its TunnelIngressClassConfig as clients',
      objects: [
        ...operatorStack(),
        namespace('app', { 'istio-injection': 'enabled' }),
        deployment('app', 'gw', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, ports: [{ port: 9091 }] }),
        service('app', 'gw', [{ name: 'http-admin', port: 9091 }]),
        ingress('app', 'admin', [{ host: 'admin.example.com', service: 'gw', port: 9091 }], { annotations: { 'cloudflare.com/protocol-9091': 'http' } }),
      ],
      findings: [
        {
          resource: 'Service app/gw',
          port: 9091,
          evidence: ['predicted for TunnelIngressClassConfig cloudflare-operator-system/cloudflare-tunnel-config: admin.example.com → http://gw.app.svc:9091', 'found by label cloudflare-operator.io/tunnel=main-tunnel'],
        },
      ],
    },
    {
      name: 'a hand-written cloudflared (config.yaml, short service name) with a sidecar',
      objects: [
        namespace('app', { 'istio-injection': 'enabled' }),
        cloudflaredConfigMap('app', 'cloudflared', [{ hostname: 'admin.example.com', service: 'http://gw:9091' }, { service: 'http_status:404' }]),
        cloudflaredDeployment('app', 'cloudflared', 'cloudflared'),
        deployment('app', 'gw', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, ports: [{ port: 9091 }] }),
        service('app', 'gw', [{ name: 'http', port: 9091 }]),
      ],
      findings: [{ resource: 'Service app/gw', port: 9091, message: 'cloudflared Deployment app/cloudflared', evidence: ['mounts ConfigMap app/cloudflared'] }],
    },
    {
      name: "a DestinationRule top-level ISTIO_MUTUAL with an entry for 9091 without tls keeps the label: the seed's option 2 (workload PA DISABLE) does not help",
      objects: scenario({
        extra: [
          destinationRule('app', 'gw', { host: FQDN, tls: 'ISTIO_MUTUAL', portLevel: [{ port: 9091 }] }),
          peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9091: 'DISABLE' } }),
        ],
      }),
      findings: [
        {
          resource: 'Service app/gw',
          port: 9091,
          evidence: ['keeps the tlsMode label', 'decided: cluster: auto mTLS (the port entry has no tls); endpoint: tlsMode kept: DR top-level ISTIO_MUTUAL'],
          fixes: [{ title: 'Set tls.mode DISABLE for port 9091 in DestinationRule app/gw', yaml: [/number: 9091\n\s+tls:\n\s+mode: DISABLE/] }, { title: /excludeInboundPorts|capture/i }],
        },
      ],
    },
    {
      name: "behind a headless Service the seed's option 2 does not help: one decision for all endpoints, workload PeerAuthentications not consulted",
      objects: headless(scenario({ extra: [peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9091: 'DISABLE' } })] })),
      findings: [
        {
          resource: 'Service app/gw',
          port: 9091,
          evidence: ['ORIGINAL_DST cluster (headless Service)', 'workload and port-level PeerAuthentications are not consulted'],
          fixes: [{ title: 'DestinationRule app/gw-9091-no-mtls' }],
        },
      ],
    },
  ],
});
