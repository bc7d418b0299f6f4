// Which pods' Envoy config is worth fetching for `--proxy-config`: the client proxies of the
// judged edges (a tunnel's meshed cloudflared, an ingress gateway routing to a Service), and on
// request the targets behind them. One pod per client group or target workload (the pods of one
// workload get one configuration from istiod), ready pods first, in a stable order.

import type { PodName } from '../../core/envoy-dump.js';
import type { MeshModel } from '../model.js';
import { workloadOf, type PodView } from '../pods.js';

export type ProxyRole = 'clients' | 'targets';

function pick(pods: readonly PodView[]): PodView | undefined {
  const live = pods.filter((p) => !p.fromTemplate && p.sidecar.state === 'present');
  return [...live].sort((a, b) => Number(b.ready) - Number(a.ready) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
}

/**
 * The pods to fetch, clients before targets. With `namespace` (-n), only edges whose Service or
 * client is in it: the findings are limited to it, and so is what is worth asking for.
 */
export function proxyConfigTargets(model: MeshModel, roles: readonly ProxyRole[], namespace?: string): PodName[] {
  const clients: PodView[] = [];
  const targets: PodView[] = [];
  const seenTargets = new Set<string>();
  for (const edge of [...model.tunnelEdges, ...model.routeEdges]) {
    for (const c of edge.clients) {
      const clientNs = c.group.context.pod?.namespace ?? c.group.context.namespace;
      if (namespace !== undefined && edge.service.namespace !== namespace && clientNs !== namespace) continue;
      const client = pick(c.group.pods);
      if (client && !clients.includes(client)) clients.push(client);
      if (!roles.includes('targets')) continue;
      const byWorkload = new Map<string, PodView[]>();
      for (const e of c.endpoints) {
        if (e.pod.sidecar.state !== 'present' || e.pod.sidecar.kind === 'gateway') continue;
        const w = workloadOf(e.pod);
        const key = `${w.kind}/${w.namespace}/${w.name}`;
        byWorkload.set(key, [...(byWorkload.get(key) ?? []), e.pod]);
      }
      for (const [key, pods] of [...byWorkload.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (seenTargets.has(key)) continue;
        const target = pick(pods);
        if (!target) continue;
        seenTargets.add(key);
        targets.push(target);
      }
    }
  }
  const chosen = [...(roles.includes('clients') ? clients : []), ...targets];
  return chosen.map((p) => ({ namespace: p.namespace, name: p.name }));
}
