import { tm404 } from '../../src/rules/catalog/tm404-duplicate-peer-authentications.js';
import { deployment, namespace, peerAuthentication, pod, type Obj } from '../support/build.js';
import { testRule } from '../support/rule-tester.js';

const base: Obj[] = [namespace('app', { 'istio-injection': 'enabled' }), deployment('app', 'web', { labels: { app: 'web', tier: 'front' } })];

testRule(tm404, {
  valid: [
    { name: 'one policy per scope', objects: [...base, peerAuthentication('istio-system', 'default', { mode: 'STRICT' }), peerAuthentication('app', 'default', { mode: 'PERMISSIVE' }), peerAuthentication('app', 'web', { selector: { app: 'web' }, portLevel: { 9091: 'DISABLE' } })] },
    { name: 'workload policies selecting different workloads', objects: [...base, deployment('app', 'api'), peerAuthentication('app', 'web', { selector: { app: 'web' } }), peerAuthentication('app', 'api', { selector: { app: 'api' } })] },
    { name: 'a root-namespace selector policy is ignored anyway (TM106), not a duplicate', objects: [...base, peerAuthentication('istio-system', 'default', { mode: 'STRICT' }), peerAuthentication('istio-system', 'web', { selector: { app: 'web' } })] },
  ],
  invalid: [
    {
      name: 'two namespace-wide policies: the oldest wins',
      objects: [...base, peerAuthentication('app', 'strict', { mode: 'STRICT', created: '2024-03-01T00:00:00Z' }), peerAuthentication('app', 'permissive', { mode: 'PERMISSIVE', created: '2024-01-01T00:00:00Z' })],
      findings: [{ resource: 'PeerAuthentication app/strict', message: ['2 namespace-wide', 'applies PeerAuthentication app/permissive and ignores PeerAuthentication app/strict'], evidence: ['the oldest wins'] }],
      fixResolves: false,
    },
    {
      name: 'oldest-wins tie: equal creation times, the name that sorts first wins',
      objects: [...base, peerAuthentication('app', 'b-strict', { mode: 'STRICT', created: '2024-01-01T00:00:00Z' }), peerAuthentication('app', 'a-disable', { mode: 'DISABLE', created: '2024-01-01T00:00:00Z' })],
      findings: [{ resource: 'PeerAuthentication app/b-strict', message: 'applies PeerAuthentication app/a-disable', evidence: ['equal creation times: the name that sorts first wins'] }],
      fixResolves: false,
    },
    {
      name: 'manifests without creation times: said so',
      objects: [...base, peerAuthentication('istio-system', 'default', { mode: 'STRICT' }), peerAuthentication('istio-system', 'mesh', { mode: 'PERMISSIVE' })],
      findings: [{ resource: 'PeerAuthentication istio-system/mesh', message: 'mesh-wide', evidence: ['no creation times'] }],
      fixResolves: false,
    },
    {
      name: 'an empty selector ({}) is namespace-wide: two of them',
      objects: [...base, peerAuthentication('app', 'default', { mode: 'STRICT' }), { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'x', namespace: 'app' }, spec: { selector: {}, mtls: { mode: 'DISABLE' } } }],
      findings: [{ resource: 'PeerAuthentication app/x' }],
      fixResolves: false,
    },
    {
      name: 'two workload policies selecting one Deployment (different selectors, same pods): the fix carries the ignored port settings over',
      objects: [
        ...base,
        peerAuthentication('app', 'web', { selector: { app: 'web' }, mode: 'STRICT', created: '2024-01-01T00:00:00Z' }),
        peerAuthentication('app', 'front', { selector: { tier: 'front' }, portLevel: { 9091: 'DISABLE' }, created: '2024-05-01T00:00:00Z' }),
      ],
      findings: [
        {
          resource: 'PeerAuthentication app/front',
          message: ['2 workload PeerAuthentications select Deployment app/web (pod template)', 'ignores PeerAuthentication app/front'],
          fixes: [{ title: 'Keep one policy: PeerAuthentication app/web', yaml: ['"9091":', 'mode: STRICT', 'kubectl delete peerauthentication -n app front'] }],
        },
      ],
      fixResolves: false,
    },
    {
      name: 'running pods of one Deployment selected by two policies: one finding for the set',
      objects: [
        namespace('app'),
        pod('app', 'web-1', { owner: 'web', labels: { app: 'web', tier: 'front' } }),
        pod('app', 'web-2', { owner: 'web', labels: { app: 'web', tier: 'front' } }),
        peerAuthentication('app', 'web', { selector: { app: 'web' } }),
        peerAuthentication('app', 'front', { selector: { tier: 'front' } }),
      ],
      findings: [{ resource: 'PeerAuthentication app/web', message: ['Deployment app/web (pods web-1, web-2)', 'applies PeerAuthentication app/front'] }],
      fixResolves: false,
    },
  ],
});
