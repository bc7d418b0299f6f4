// TM406: a client's Sidecar resource does not import the Service it sends to, and its outbound
// policy is REGISTRY_ONLY: the proxy has no cluster for it and answers from BlackHoleCluster.

import type { SidecarResource } from '../../core/k8s.js';
import { workloadOf } from '../../model/pods.js';
import { clientNames, distinctBy, groupEvidence, groupHits, hitEdges, hitNamespaces, listing, serviceRef, unique } from '../edge-hits.js';
import { sidecarImportFix } from '../sidecar-fixes.js';
import { EDGES, kinds } from '../inputs.js';
import type { Fix, Rule } from '../types.js';
import { formatRef } from '../../core/k8s.js';

export const tm406: Rule = {
  meta: {
    code: 'TM406',
    name: 'service-hidden-by-sidecar',
    severity: 'error',
    summary:
      "A client's Istio Sidecar resource (egress hosts, workloadSelector, the namespace or mesh default) does not import the Service it sends to, and outboundTrafficPolicy is REGISTRY_ONLY: the request goes to BlackHoleCluster.",
    description:
      'A Sidecar resource limits the Services a workload\'s proxy knows to those its egress hosts import (`namespace/host`, `./*` for its own namespace, `*/*`, `~` to exclude). ' +
      'The one in force is the namespace\'s Sidecar that selects the workload, else the namespace default, else the root namespace\'s (the mesh default). A Service it does not ' +
      'import has no cluster, and no DestinationRule applies to it: with outboundTrafficPolicy REGISTRY_ONLY (the Sidecar\'s, else meshConfig\'s) the proxy answers from ' +
      'BlackHoleCluster — HTTP 502, a reset for TCP. (With ALLOW_ANY it passes the connection through in plaintext instead, which a STRICT target refuses: TM102.) Gateways do not use Sidecar resources.',
    howToFix: "Add the Service's `namespace/host` (or `namespace/*`) to the egress hosts of the Sidecar in force, on the listener for its port if the Sidecar has per-port listeners.",
    inputs: kinds(EDGES),
  },
  check({ model }) {
    return groupHits(model, (v) => v.outcome === 'blackhole').map(({ hits }) => {
      const first = hits[0]!;
      const { service: svc, servicePort: sp } = first.edge;
      const sidecars = new Map<SidecarResource, string>();
      for (const h of hits) {
        const pod = h.client.group.context.pod;
        const scope = pod ? model.sidecars.scopeFor(pod.namespace, pod.labels) : undefined;
        if (scope) sidecars.set(scope.sidecar, formatRef(workloadOf(pod!)));
      }
      const fixes: Fix[] = [...sidecars.keys()].map((s) =>
        sidecarImportFix(model, s, svc, sp.port, [`with the Service imported, the proxy of ${sidecars.get(s)} has a cluster for it: the DestinationRule lookup and auto mTLS apply`]),
      );
      const names = [...sidecars.keys()].map((s) => `Sidecar ${s.metadata.namespace}/${s.metadata.name}`);
      const clients = clientNames(hits);
      return {
        resource: serviceRef(first.edge),
        port: sp.port,
        message: `${listing(clients)} send${clients.length === 1 ? 's' : ''} to Service ${svc.namespace}/${svc.name} port ${sp.port}, which ${listing(unique(names))} ${names.length === 1 ? 'does' : 'do'} not import, with outboundTrafficPolicy REGISTRY_ONLY: the proxy answers from BlackHoleCluster.`,
        symptom: 'HTTP 502 from the client\'s own sidecar (response flag NR, cluster BlackHoleCluster in its access log), a reset for TCP; the tunnel hostname answers 502',
        evidence: groupEvidence(hits),
        fixes: distinctBy(fixes, (f) => f.yaml),
        namespaces: unique([...hitNamespaces(hits), ...[...sidecars.keys()].map((s) => s.metadata.namespace as string)]),
        edges: hitEdges(hits),
        objects: [svc.object, ...sidecars.keys()],
      };
    });
  },
};
