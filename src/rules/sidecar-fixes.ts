// Fixes on an Istio Sidecar resource: import the Service its workloads send to, so their proxy
// knows it (a cluster, the DestinationRule the lookup finds, auto mTLS) instead of dropping the
// request (REGISTRY_ONLY) or passing it through in plaintext (ALLOW_ANY).

import type { SidecarResource } from '../core/k8s.js';
import { hostMatches } from '../model/destinationrule.js';
import type { MeshModel } from '../model/model.js';
import type { ServiceView } from '../model/services.js';
import { editable, where } from './fixes.js';
import type { Fix } from './types.js';
import { withComments } from './yaml.js';

export function sidecarImportFix(model: MeshModel, sidecar: SidecarResource, svc: ServiceView, port: number, reasons: string[]): Fix {
  let why = reasons;
  const s = editable(sidecar);
  s.spec ??= {};
  const host = `${svc.namespace}/${svc.fqdn}`;
  const egress = s.spec.egress ?? [];
  // The listener for this port, else the catch-all one (no port), else a new catch-all listener.
  const listener = egress.find((e) => e.port?.number === port) ?? egress.find((e) => e.port === undefined);
  if (listener) listener.hosts = [...(listener.hosts ?? []), host];
  else egress.push({ hosts: [host] });
  // An exclusion (`~ns/host`, `~/*`) that covers the Service beats any import: it goes.
  const dropped: string[] = [];
  for (const e of egress) {
    e.hosts = (e.hosts ?? []).filter((h) => {
      const [ns, name] = h.split('/') as [string, string | undefined];
      const excludes = ns.startsWith('~') && ['', '*', svc.namespace].includes(ns.slice(1)) && name !== undefined && hostMatches(name.toLowerCase(), svc.fqdn);
      if (excludes) dropped.push(h);
      return !excludes;
    });
  }
  if (dropped.length) why = [...why, `${dropped.join(', ')} excluded the Service: removed`];
  s.spec.egress = egress;
  const ns = sidecar.metadata.namespace as string;
  return {
    title: `Import ${host} in Sidecar ${ns}/${sidecar.metadata.name}${where(model, sidecar)}`,
    yaml: withComments([...why, 'apply with: kubectl apply -f <this file>'], s),
    target: { kind: 'Sidecar', namespace: ns, name: sidecar.metadata.name },
  };
}
