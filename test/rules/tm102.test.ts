import { tm102 } from '../../src/rules/catalog/tm102-plaintext-to-strict.js';
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
  pod,
  service,
  type Obj,
} from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const OP = 'cloudflare-operator-system';
const FQDN = 'web.app.svc.cluster.local';

interface Scenario {
  opNs?: Record<string, string>;
  appNs?: Record<string, string> | null;
  scheme?: string;
  webAnnotations?: Record<string, string>;
  extra?: Obj[];
}

/** A tunnel to a meshed web app; by default cloudflared has no sidecar (its namespace is not injected). */
function scenario(s: Scenario = {}): Obj[] {
  return [
    namespace(OP, s.opNs ?? {}),
    ...(s.appNs === null ? [] : [namespace('app', s.appNs ?? { 'istio-injection': 'enabled' })]),
    operatorTunnelConfig([{ hostname: 'www.example.com', service: `${s.scheme ?? 'http'}://web.app.svc:80` }]),
    operatorCloudflared(),
    deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }], ...(s.webAnnotations ? { annotations: s.webAnnotations } : {}) }),
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 'http' }]),
    ...(s.extra ?? []),
  ];
}

const meshStrict = peerAuthentication('istio-system', 'default', { mode: 'STRICT' });

testRule(tm102, {
  valid: [
    { name: 'no PeerAuthentication anywhere: PERMISSIVE accepts plaintext', objects: scenario() },
    { name: 'mesh-wide PERMISSIVE', objects: scenario({ extra: [peerAuthentication('istio-system', 'default', { mode: 'PERMISSIVE' })] }) },
    {
      name: 'namespace PERMISSIVE overrides mesh-wide STRICT',
      objects: scenario({ extra: [meshStrict, peerAuthentication('app', 'default', { mode: 'PERMISSIVE' })] }),
    },
    {
      name: 'a workload portLevelMtls PERMISSIVE on the target port (8080) overrides STRICT',
      objects: scenario({ extra: [meshStrict, peerAuthentication('app', 'web', { selector: { app: 'web' }, portLevel: { 8080: 'PERMISSIVE' } })] }),
    },
    { name: 'cloudflared has a sidecar: auto mTLS satisfies STRICT', objects: scenario({ opNs: { 'istio-injection': 'enabled' }, extra: [meshStrict] }) },
    { name: 'the target has no sidecar: nothing enforces STRICT', objects: scenario({ appNs: {}, extra: [meshStrict] }) },
    { name: 'the target port is excluded from capture: the app answers directly', objects: scenario({ webAnnotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '8080' }, extra: [meshStrict] }) },
    {
      name: 'a PeerAuthentication with a selector in the root namespace is ignored',
      objects: scenario({ extra: [peerAuthentication('istio-system', 'web-strict', { selector: { app: 'web' }, mode: 'STRICT' })] }),
    },
    {
      name: 'two namespace-wide policies: the oldest (PERMISSIVE) wins over the newer STRICT',
      objects: scenario({
        extra: [
          peerAuthentication('app', 'b-newer', { mode: 'STRICT', created: '2025-02-01T00:00:00Z' }),
          peerAuthentication('app', 'a-older', { mode: 'PERMISSIVE', created: '2025-01-01T00:00:00Z' }),
        ],
      }),
    },
    { name: "the target's namespace labels are unknown: unknown, not a finding", objects: scenario({ appNs: null, extra: [meshStrict] }) },
    {
      name: 'two DestinationRules in one namespace with different exportTo are not merged: the newest (no tls) applies, not the older DISABLE',
      objects: scenario({
        opNs: { 'istio-injection': 'enabled' },
        extra: [
          meshStrict,
          destinationRule('app', 'web-old', { host: FQDN, tls: 'DISABLE', exportTo: ['*'], created: '2024-01-01T00:00:00Z' }),
          destinationRule('app', 'web-new', { host: FQDN, exportTo: ['.', OP], subsets: [{ name: 'v1', labels: { app: 'web' } }], created: '2024-02-01T00:00:00Z' }),
        ],
      }),
    },
    {
      name: "meshConfig defaultDestinationRuleExportTo ['.']: a DISABLE rule without exportTo stays private to its namespace",
      objects: scenario({
        opNs: { 'istio-injection': 'enabled' },
        extra: [meshStrict, meshConfig({ defaultDestinationRuleExportTo: ['.'] }), destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE' })],
      }),
    },
  ],
  invalid: [
    {
      name: 'mesh-wide STRICT in the root namespace, plaintext cloudflared without a sidecar',
      objects: scenario({ extra: [meshStrict] }),
      findings: [
        {
          resource: 'Service app/web',
          port: 80,
          message: ['sends plaintext to Service app/web port 80', 'require', 'target port 8080', 'mesh-wide PeerAuthentication istio-system/default: STRICT'],
          evidence: ['has no sidecar', 'targetPort "http" = containerPort 8080'],
          fixes: [
            { title: 'PeerAuthentication app/web-port-8080-permissive', yaml: ['"8080":', 'mode: PERMISSIVE', 'app: web'] },
            { title: 'Inject an Istio sidecar into Deployment cloudflare-operator-system/main-tunnel', yaml: ['sidecar.istio.io/inject: "true"', 'holdApplicationUntilProxyStarts', 'deployPatch'] },
          ],
        },
      ],
    },
    {
      name: 'mesh-wide STRICT while -n app is given (the root-namespace policy is still evidence)',
      objects: scenario({ extra: [meshStrict] }),
      namespace: 'app',
      findings: [{ resource: 'Service app/web', port: 80 }],
    },
    {
      name: "https:// from a cloudflared without a sidecar: the app's own TLS is not Istio mTLS",
      objects: scenario({ scheme: 'https', extra: [meshStrict] }),
      findings: [{ resource: 'Service app/web', message: "the application's own TLS" }],
    },
    {
      name: 'a workload PeerAuthentication STRICT; its fix edits that policy instead of adding a rival',
      objects: scenario({ extra: [peerAuthentication('app', 'web', { selector: { app: 'web' }, mode: 'STRICT' })] }),
      findings: [{ resource: 'Service app/web', fixes: [{ title: 'in PeerAuthentication app/web', yaml: ['mode: STRICT', '"8080":'] }] }],
    },
    {
      name: 'a port-level STRICT keyed by the target port',
      objects: scenario({ extra: [peerAuthentication('app', 'web', { selector: { app: 'web' }, portLevel: { 8080: 'STRICT' } })] }),
      findings: [{ resource: 'Service app/web', evidence: ['portLevelMtls 8080: STRICT'] }],
    },
    {
      name: 'a meshed cloudflared whose DestinationRule sets DISABLE, against STRICT',
      objects: scenario({
        opNs: { 'istio-injection': 'enabled' },
        extra: [meshStrict, destinationRule(OP, 'web', { host: FQDN, tls: 'DISABLE' })],
      }),
      findings: [
        {
          resource: 'Service app/web',
          evidence: ['DestinationRule cloudflare-operator-system/web trafficPolicy.tls.mode=DISABLE'],
          fixes: [{ title: 'PeerAuthentication app/web-port-8080-permissive' }, { title: 'Send Istio mTLS on port 80 in DestinationRule cloudflare-operator-system/web', yaml: [/- port:\n\s+number: 80\n\s+tls:\n\s+mode: ISTIO_MUTUAL/, 'would still strip the endpoints\' tlsMode label'] }],
        },
      ],
    },
    {
      name: 'auto mTLS disabled mesh-wide while workloads are STRICT',
      objects: scenario({ opNs: { 'istio-injection': 'enabled' }, extra: [meshStrict, meshConfig({ enableAutoMtls: false })] }),
      findings: [{ resource: 'Service app/web', evidence: ['enableAutoMtls=false'] }],
    },
    {
      name: 'an ambient target namespace: ztunnel enforces STRICT on plaintext',
      objects: scenario({ appNs: { 'istio.io/dataplane-mode': 'ambient' }, extra: [meshStrict] }),
      findings: [{ resource: 'Service app/web', message: 'require' }],
    },
    {
      name: 'running pods: a hand-written cloudflared without a sidecar reaching a STRICT pod',
      objects: [
        namespace('edge'),
        namespace('app'),
        cloudflaredConfigMap('edge', 'cloudflared', [{ hostname: 'www.example.com', service: 'http://web.app:80' }, { service: 'http_status:404' }]),
        cloudflaredDeployment('edge', 'cloudflared', 'cloudflared'),
        pod('app', 'web-1', { owner: 'web', ports: [{ name: 'http', port: 8080 }] }),
        service('app', 'web', [{ name: 'http', port: 80, targetPort: 'http' }]),
        peerAuthentication('app', 'default', { mode: 'STRICT' }),
      ],
      findings: [{ resource: 'Service app/web', message: ['cloudflared Deployment edge/cloudflared', 'namespace-wide PeerAuthentication app/default: STRICT'] }],
      // The recommended PeerAuthentication fix creates a workload policy; the Deployment fix would only apply after a restart.
    },
    {
      name: 'a DestinationRule top-level DISABLE with a port entry without tls: the cluster is auto, the endpoints lose their label, plaintext reaches STRICT',
      objects: scenario({ opNs: { 'istio-injection': 'enabled' }, extra: [meshStrict, destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE', portLevel: [{ port: 80 }] })] }),
      findings: [
        {
          resource: 'Service app/web',
          evidence: ['decided: cluster: auto mTLS (the port entry has no tls); endpoint: tlsMode stripped: DR top-level DISABLE'],
          fixes: [{ title: 'PeerAuthentication app/web-port-8080-permissive' }, { title: 'Send Istio mTLS on port 80 in DestinationRule app/web', yaml: [/number: 80\n\s+tls:\n\s+mode: ISTIO_MUTUAL/] }],
        },
      ],
    },
    {
      name: 'a mixed headless Service: one endpoint without tlsMode istio makes Istio send plaintext to all, and the injected STRICT pods reset it',
      objects: [
        ...scenario({ opNs: { 'istio-injection': 'enabled' }, extra: [meshStrict] }).map((o) => (o.kind === 'Service' ? { ...o, spec: { ...(o.spec as object), clusterIP: 'None' } } : o)),
        pod('app', 'web-new', { owner: 'web', ports: [{ name: 'http', port: 8080 }] }),
        pod('app', 'web-old', { owner: 'web', sidecar: 'none', ports: [{ name: 'http', port: 8080 }] }),
      ],
      findings: [{ resource: 'Service app/web', message: ['plaintext', 'Deployment app/web requires Istio mTLS on target port 8080'], evidence: ['Pod app/web-old has no security.istio.io/tlsMode label: plaintext to every endpoint', 'result: the sidecar of Pod app/web-new requires mTLS'] }],
    },
  ],
});
