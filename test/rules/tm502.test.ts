import { tm502 } from '../../src/rules/catalog/tm502-envoy-target-disagrees.js';
import { heldUntilProxyStarts, cloudflaredConfigMap, namespace, peerAuthentication, pod, service, type Obj } from '../support/build.js';
import { envoyDump, type ChainSpec, type DumpSpec } from '../support/envoy.js';
import { testRule } from '../support/rule-tester.js';

const GW = { pod: 'gateway-7d9f8b6c5d-aaaaa', namespace: 'app', ip: '10.244.2.31', owner: 'gateway' };

interface Scenario {
  /** cloudflared has a sidecar (sends auto mTLS) — default; false: plaintext. */
  meshedClient?: boolean;
  port?: number;
  gatewayAnnotations?: Record<string, string>;
  initExclude?: string;
  extra?: Obj[];
  /** The gateway's dump; omitted: none. */
  dump?: Partial<DumpSpec>;
  gatewaySidecar?: 'classic' | 'none';
  /** Istio CNI: no istio-init container, capture comes from the annotations alone. */
  cni?: boolean;
}

function withoutInit(o: Obj): Obj {
  const spec = { ...(o.spec as Record<string, unknown>) };
  delete spec.initContainers;
  return { ...o, spec };
}

function scenario(s: Scenario = {}): Obj[] {
  const port = s.port ?? 8080;
  const meshed = s.meshedClient !== false;
  return [
    namespace('edge', meshed ? { 'istio-injection': 'enabled' } : {}),
    namespace('app', { 'istio-injection': 'enabled' }),
    cloudflaredConfigMap('edge', 'tunnel', [{ hostname: 'admin.example.com', service: `http://gateway.app.svc:${port}` }, { service: 'http_status:404' }]),
    heldUntilProxyStarts(pod('edge', 'cloudflared-7d9f8b6c5d-abcde', {
      owner: 'cloudflared',
      sidecar: meshed ? 'classic' : 'none',
      podIP: '10.244.1.17',
      image: 'cloudflare/cloudflared:2025.11.1',
      args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'],
      volumes: [{ name: 'config', configMap: { name: 'tunnel' } }],
    })),
    (s.cni ? withoutInit : (o: Obj) => o)(pod('app', GW.pod, {
      owner: 'gateway',
      podIP: GW.ip,
      ports: [{ port: 8080 }, { port: 9091 }],
      ...(s.gatewaySidecar ? { sidecar: s.gatewaySidecar } : {}),
      ...(s.gatewayAnnotations ? { annotations: s.gatewayAnnotations } : {}),
      ...(s.initExclude ? { initExclude: s.initExclude } : {}),
    })),
    service('app', 'gateway', [{ name: 'http', port: 8080 }, { name: 'http-admin', port: 9091 }]),
    ...(s.extra ?? []),
    ...(s.dump ? [envoyDump({ ...GW, ...s.dump })] : []),
  ];
}

const chains = (...c: ChainSpec[]): Partial<DumpSpec> => ({ inbound: c });
const EXCLUDE_9091 = { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' };
const meshStrict = peerAuthentication('istio-system', 'default', { mode: 'STRICT' });

testRule(tm502, {
  valid: [
    { name: 'no dump', objects: scenario() },
    { name: 'PERMISSIVE as configured: a TLS chain and a raw_buffer chain for 8080', objects: scenario({ dump: chains({ port: 8080, mode: 'PERMISSIVE' }) }) },
    { name: 'STRICT as configured (mesh-wide STRICT): only the TLS chain', objects: scenario({ extra: [meshStrict], dump: chains({ port: 8080, mode: 'STRICT' }) }) },
    {
      name: 'port-level DISABLE on 8080: only the raw_buffer chain',
      objects: scenario({ meshedClient: false, extra: [peerAuthentication('app', 'gateway', { selector: { app: 'gateway' }, portLevel: { 8080: 'DISABLE' } })], dump: chains({ port: 8080, mode: 'DISABLE' }) }),
    },
    {
      name: 'an excluded port still has its chains (istiod builds them from the Service); the proxy started with the same exclusion',
      objects: scenario({ port: 9091, gatewayAnnotations: EXCLUDE_9091, initExclude: '9091', dump: { ...chains({ port: 9091, mode: 'PERMISSIVE' }), annotations: EXCLUDE_9091 } }),
    },
    {
      name: 'an excluded port, a dump without the startup annotations: capture cannot be seen in a dump, nothing is claimed',
      objects: scenario({ port: 9091, gatewayAnnotations: EXCLUDE_9091, initExclude: '9091', dump: chains({ port: 9091, mode: 'PERMISSIVE' }) }),
    },
    { name: 'a dump without listeners is not compared', objects: scenario({ dump: { clusters: [] } }) },
  ],
  invalid: [
    {
      name: "cloudflared sends plaintext; the manifests say PERMISSIVE, the gateway's Envoy has only the TLS chain (STRICT from a policy not in the input)",
      objects: scenario({ meshedClient: false, dump: chains({ port: 8080, mode: 'STRICT' }) }),
      fixResolves: false,
      findings: [
        {
          resource: 'Deployment app/gateway',
          port: 8080,
          severity: 'error',
          message: [/The Envoy of Pod app\/gateway-7d9f8b6c5d-aaaaa handles target port 8080 otherwise than the configuration says \(port 8080 captured and PERMISSIVE\)/, /accepts mTLS \(STRICT\)/, /traffic fails although the configuration says it works/],
          evidence: [/the client's plaintext is refused there/, /can mean: a PeerAuthentication not in the input/],
        },
      ],
    },
    {
      name: 'the manifests say STRICT, Envoy still accepts plaintext too (PERMISSIVE): the meshed client works either way',
      objects: scenario({ extra: [peerAuthentication('app', 'default', { mode: 'STRICT', created: '2026-11-20T10:00:00Z' })], dump: { ...chains({ port: 8080, mode: 'PERMISSIVE' }), updated: '2026-11-20T09:00:00Z' } }),
      fixResolves: false,
      findings: [
        {
          resource: 'Deployment app/gateway',
          port: 8080,
          severity: 'warning',
          evidence: [/can mean: the dump predates PeerAuthentication app\/default \(created 2026-11-20T10:00:00Z/],
          fixes: [{ title: 'Restart Deployment app/gateway' }],
        },
      ],
    },
    {
      name: 'no filter chain for the target port: its passthrough chains take the connection',
      objects: scenario({ dump: chains({ port: 9091, mode: 'PERMISSIVE' }) }),
      fixResolves: false,
      findings: [{ resource: 'Deployment app/gateway', port: 8080, severity: 'warning', message: /no filter chain for port 8080, so its passthrough chains accept mTLS and plaintext/, evidence: [/can mean: istiod built no chain for port 8080/] }],
    },
    {
      name: 'Istio CNI: the pod now excludes 9091, its proxy started capturing it (annotations edited on the running pod)',
      objects: scenario({ port: 9091, cni: true, gatewayAnnotations: EXCLUDE_9091, dump: { ...chains({ port: 9091, mode: 'PERMISSIVE' }), annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '' } } }),
      fixResolves: false,
      findings: [
        {
          resource: 'Deployment app/gateway',
          port: 9091,
          severity: 'warning',
          message: /its proxy started with traffic\.sidecar\.istio\.io\/excludeInboundPorts=, which captures port 9091/,
          evidence: [/can mean: the capture annotations were edited on the running pod/],
          fixes: [{ title: 'Restart Deployment app/gateway' }],
        },
      ],
    },
  ],
});
