// Realistic clusters for the fix property test: several tunnels and meshes in one input, the
// situations people have (seed 000's gateway, a gRPC service, STRICT namespaces, private
// DestinationRules, running pods with and without owners).

import type { Obj } from './build.js';

export interface Cluster {
  name: string;
  objects: Obj[];
  /** At least this many recommended fixes are checked (a cluster that lost its findings tests nothing). */
  minFixes?: number;
}

export const CLUSTERS: Cluster[] = [];
