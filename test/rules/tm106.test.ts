import { tm106 } from '../../src/rules/catalog/tm106-invalid-port-level-mtls.js';
import { deployment, meshConfig, namespace, peerAuthentication, pod, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const app = (labels: Record<string, string> = { 'istio-injection': 'enabled' }): Obj[] => [
  namespace('app', labels),
  deployment('app', 'gw', { ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
];

/** A PeerAuthentication written by hand, to get shapes the builder does not make. */
function rawPa(ns: string, name: string, spec: Record<string, unknown>): Obj {
  return { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace: ns }, spec };
}

testRule(tm106, {
  valid: [
    { name: 'a workload policy with portLevelMtls keyed by numbers', objects: [...app(), peerAuthentication('app', 'gw', { selector: { app: 'gw' }, portLevel: { 9091: 'DISABLE' } })] },
    { name: 'a namespace-wide policy without portLevelMtls', objects: [...app(), peerAuthentication('app', 'default', { mode: 'STRICT' })] },
    { name: 'a mesh-wide policy in the root namespace without selector', objects: [...app(), peerAuthentication('istio-system', 'default', { mode: 'STRICT' })] },
    {
      name: 'a custom root namespace: a selector policy in istio-system is an ordinary workload policy there',
      objects: [...app(), meshConfig({ rootNamespace: 'mesh-root' }), peerAuthentication('istio-system', 'ingress', { selector: { app: 'istio-ingressgateway' }, mode: 'STRICT' })],
    },
  ],
  invalid: [
    {
      name: 'portLevelMtls on a namespace-wide policy: rejected; the fix drops it, and the next one carries it to the workload listening on the port',
      objects: [...app(), peerAuthentication('app', 'default', { mode: 'STRICT', portLevel: { 9091: 'DISABLE' } })],
      findings: [
        {
          resource: 'PeerAuthentication app/default',
          message: ['portLevelMtls without a selector', 'namespace-wide'],
          fixes: [
            { title: 'Remove portLevelMtls from PeerAuthentication app/default', yaml: [/mode: STRICT/] },
            { title: 'PeerAuthentication app/gw-port-9091-disable', yaml: ['app: gw', '"9091":'] },
          ],
        },
      ],
    },
    {
      name: 'portLevelMtls with an empty selector ({}) is namespace-wide too; an existing workload policy is edited, not rivalled',
      objects: [
        ...app(),
        rawPa('app', 'default', { selector: {}, portLevelMtls: { 9091: { mode: 'DISABLE' } } }),
        peerAuthentication('app', 'gw', { selector: { app: 'gw' }, mode: 'STRICT' }),
      ],
      findings: [{ resource: 'PeerAuthentication app/default', fixes: [{}, { title: 'Set portLevelMtls 9091: DISABLE in PeerAuthentication app/gw' }] }],
    },
    {
      name: 'a mesh-wide policy with portLevelMtls',
      objects: [...app(), peerAuthentication('istio-system', 'default', { mode: 'STRICT', portLevel: { 15020: 'PERMISSIVE' } })],
      findings: [{ resource: 'PeerAuthentication istio-system/default', message: 'mesh-wide' }],
    },
    {
      name: 'root-namespace policy with a selector is ignored as a whole; the fix recreates it where its pods are',
      objects: [...app(), peerAuthentication('istio-system', 'gw-strict', { selector: { app: 'gw' }, mode: 'STRICT' })],
      findings: [
        {
          resource: 'PeerAuthentication istio-system/gw-strict',
          message: ['root namespace istio-system', 'the whole policy does nothing'],
          fixes: [{ title: 'Move PeerAuthentication istio-system/gw-strict to namespace app', yaml: ['namespace: app', 'kubectl delete peerauthentication -n istio-system gw-strict'] }],
        },
      ],
      // Moving needs a delete of the original, which a YAML apply cannot do.
      fixResolves: false,
    },
    {
      name: 'root namespace from meshConfig: a selector policy there is ignored',
      objects: [...app(), meshConfig({ rootNamespace: 'mesh-root' }), peerAuthentication('mesh-root', 'gw', { selector: { app: 'gw' }, portLevel: { 9091: 'DISABLE' } })],
      findings: [{ resource: 'PeerAuthentication mesh-root/gw', message: 'root namespace mesh-root' }],
      fixResolves: false,
    },
    {
      name: 'an empty portLevelMtls map',
      objects: [...app(), rawPa('app', 'gw', { selector: { matchLabels: { app: 'gw' } }, portLevelMtls: {} })],
      findings: [{ resource: 'PeerAuthentication app/gw', message: 'empty', fixes: [{ title: 'Remove the empty portLevelMtls' }] }],
    },
    {
      name: 'keys that are not port numbers: a port name is replaced by its number, 0 and 70000 dropped',
      objects: [...app(), rawPa('app', 'gw', { selector: { matchLabels: { app: 'gw' } }, portLevelMtls: { admin: { mode: 'DISABLE' }, 0: { mode: 'DISABLE' }, 70000: { mode: 'DISABLE' } } })],
      findings: [
        {
          resource: 'PeerAuthentication app/gw',
          message: ['"admin"', '"0"', '"70000"', 'not a port number'],
          evidence: ['"admin" is the name of container port 9091'],
          fixes: [{ yaml: [/"9091":\n\s+mode: DISABLE/] }],
        },
      ],
    },
    {
      name: 'running pods (native sidecars) are what the selector is matched against',
      objects: [namespace('app'), pod('app', 'gw-1', { owner: 'gw', sidecar: 'native', ports: [{ port: 9091 }] }), peerAuthentication('app', 'default', { portLevel: { 9091: 'DISABLE' } })],
      findings: [{ resource: 'PeerAuthentication app/default', fixes: [{}, { title: 'PeerAuthentication app/gw-port-9091-disable', yaml: ['app: gw'] }] }],
    },
  ],
});
