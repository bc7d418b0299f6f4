// VirtualService route destinations, where subsets are referenced (a subset no DestinationRule
// defines makes the route fail with 503 NR).

import type { Destination, VirtualService } from '../core/k8s.js';

export interface RouteDestination {
  /** `http[0].route[1]` — where in the VirtualService. */
  path: string;
  destination: Destination;
}

export function routeDestinations(vs: VirtualService): RouteDestination[] {
  const out: RouteDestination[] = [];
  for (const section of ['http', 'tcp', 'tls'] as const) {
    (vs.spec?.[section] ?? []).forEach((route, i) => {
      (route.route ?? []).forEach((r, j) => {
        if (r.destination?.host) out.push({ path: `${section}[${i}].route[${j}]`, destination: r.destination });
      });
    });
  }
  return out;
}
