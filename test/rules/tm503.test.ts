import { tm503 } from '../../src/rules/catalog/tm503-envoy-dump-stale.js';
import { namespace, pod, service, type Obj } from '../support/build.js';
import { envoyDump, type DumpSpec } from '../support/envoy.js';
import { testRule } from '../support/rule-tester.js';

const WEB = { pod: 'web-7d9f8b6c5d-aaaaa', namespace: 'app', ip: '10.244.2.31', owner: 'web' };

function objects(...extra: Obj[]): Obj[] {
  return [
    namespace('app', { 'istio-injection': 'enabled' }),
    pod('app', WEB.pod, { owner: 'web', podIP: WEB.ip, ports: [{ port: 8080 }] }),
    pod('app', 'plain-7d9f8b6c5d-ppppp', { owner: 'plain', sidecar: 'none', podIP: '10.244.2.40' }),
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
    ...extra,
  ];
}

const dump = (d: Partial<DumpSpec> = {}, claim?: { namespace: string; name: string }): Obj => envoyDump({ ...WEB, inbound: [{ port: 8080, mode: 'PERMISSIVE' }], ...d }, claim);

testRule(tm503, {
  valid: [
    { name: 'no dump', objects: objects() },
    { name: 'a dump of a pod of the input, same IP', objects: objects(dump()) },
    { name: 'a dump without a bootstrap node, named with NAMESPACE/POD', objects: objects(dump({ noBootstrap: true }, { namespace: 'app', name: WEB.pod })) },
    {
      name: 'partial dumps of one pod (clusters, then listeners) are read as one',
      objects: objects(dump({ inbound: undefined, clusters: [{ port: 80, host: 'web.app.svc.cluster.local', tls: 'auto' }] }), dump({ noBootstrap: true }, { namespace: 'app', name: WEB.pod })),
    },
  ],
  invalid: [
    {
      name: 'a dump of a pod that is not in the input, nor any pod of its workload',
      objects: objects(dump({ pod: 'api-5f6d7c8b9-zzzzz', owner: 'api' })),
      fixResolves: false,
      findings: [{ resource: 'Pod app/api-5f6d7c8b9-zzzzz', message: /is not compared: no Pod app\/api-5f6d7c8b9-zzzzz is in the input/ }],
    },
    {
      name: 'a dump of a pod replaced since (its Deployment runs another pod now)',
      objects: objects(dump({ pod: 'web-7d9f8b6c5d-oldpo' })),
      fixResolves: false,
      findings: [{ resource: 'Pod app/web-7d9f8b6c5d-aaaaa', message: /Deployment app\/web now runs web-7d9f8b6c5d-aaaaa: the dump is of a pod that has been replaced/ }],
    },
    {
      name: 'the same pod name with another IP: re-created after the dump (a StatefulSet pod)',
      objects: objects(dump({ ip: '10.244.9.9' })),
      fixResolves: false,
      findings: [{ resource: 'Pod app/web-7d9f8b6c5d-aaaaa', message: /had IP 10\.244\.9\.9, Pod app\/web-7d9f8b6c5d-aaaaa has 10\.244\.2\.31/ }],
    },
    {
      name: 'a dump of a pod that has no sidecar in the input',
      objects: objects(dump({ pod: 'plain-7d9f8b6c5d-ppppp', ip: '10.244.2.40', owner: 'plain' })),
      fixResolves: false,
      findings: [{ resource: 'Pod app/plain-7d9f8b6c5d-ppppp', message: /has no Istio proxy in the input/ }],
    },
    {
      name: 'no bootstrap node and no pod named for it',
      objects: objects(dump({ noBootstrap: true })),
      fixResolves: false,
      findings: [{ resource: 'EnvoyConfigDump case.yaml', message: /no bootstrap node naming its pod .* pass it as NAMESPACE\/POD=FILE/ }],
    },
    {
      name: 'given for one pod, its bootstrap node names another',
      objects: objects(dump({}, { namespace: 'app', name: 'web-7d9f8b6c5d-other' })),
      fixResolves: false,
      findings: [{ resource: 'Pod app/web-7d9f8b6c5d-other', message: /given for Pod app\/web-7d9f8b6c5d-other, but its bootstrap node is Pod app\/web-7d9f8b6c5d-aaaaa/ }],
    },
    {
      name: 'Envoy rejected an update: it runs the configuration from before',
      objects: objects(dump({ rejected: "Error adding/updating listener(s) virtualOutbound: unknown filter 'envoy.filters.http.bad' (EnvoyFilter app/bad)" })),
      fixResolves: false,
      findings: [
        {
          resource: 'Pod app/web-7d9f8b6c5d-aaaaa',
          message: /shows that Envoy rejected 1 update \(listener virtualOutbound: Error adding\/updating listener/,
          evidence: [/rejected: listener virtualOutbound/],
          fixes: [{ title: 'Restart Deployment app/web' }],
        },
      ],
    },
    {
      name: "a waypoint's dump (ambient): not a sidecar or gateway, said as information",
      objects: objects(dump({ type: 'waypoint', pod: 'waypoint-6c7d8e9f0-wwwww' })),
      fixResolves: false,
      findings: [{ resource: 'Pod app/waypoint-6c7d8e9f0-wwwww', severity: 'info', message: /a waypoint proxy's dump/ }],
    },
  ],
});
