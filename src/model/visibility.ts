// What a sidecar sees: Istio's Sidecar resource limits the Services a workload's proxy knows
// (pilot/pkg/model/sidecar.go convertIstioListenerToWrapper, selectServices; push_context.go
// getSidecarScope). The DestinationRule lookup is unchanged for what it sees
// (selectDestinationRules looks up each imported Service's rules from the client's namespace):
// egress hosts hide a DestinationRule only by hiding its Service. A Service the proxy does not
// see has no cluster: outboundTrafficPolicy decides — REGISTRY_ONLY sends it to BlackHoleCluster
// (502 / reset), ALLOW_ANY to PassthroughCluster (plaintext to the original destination, no mTLS).
// Gateways (router proxies) never use a Sidecar resource.

import type { SidecarResource, StringMap } from '../core/k8s.js';
import { matchesLabels } from '../core/labels.js';
import { hostMatches } from './destinationrule.js';
import { oldestFirst } from './peerauth.js';
import type { ServiceView } from './services.js';

export type OutboundMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';

interface HostEntry {
  /** `*` (any), or a namespace (`.` already replaced by the client's). */
  namespace: string;
  host: string;
  excluded: boolean;
}

interface EgressListener {
  port?: number;
  hosts: HostEntry[];
}

export interface Visibility {
  visible: boolean;
  /** The Sidecar in force and how it was chosen. */
  sidecar: SidecarResource;
  mode: OutboundMode;
  /** One line for the evidence chain. */
  why: string;
}

function sidecarName(s: SidecarResource): string {
  return `Sidecar ${s.metadata.namespace}/${s.metadata.name}`;
}

function modeOf(m: string | undefined): OutboundMode | undefined {
  return m === 'REGISTRY_ONLY' || m === 'ALLOW_ANY' ? m : undefined;
}

/** Istio's `host.Name.SubsetOf`: `*` takes every host, `*.x` every host under x. */
function hostCovered(pattern: string, host: string): boolean {
  return hostMatches(pattern.toLowerCase(), host.toLowerCase());
}

export class SidecarIndex {
  /** Per namespace: selector Sidecars first, then by age (Istio's order). */
  private readonly byNamespace = new Map<string, SidecarResource[]>();
  private readonly root: SidecarResource | undefined;
  readonly any: boolean;

  constructor(
    sidecars: readonly SidecarResource[],
    readonly rootNamespace: string,
    private readonly meshMode: { mode: OutboundMode; source: string },
  ) {
    const sorted = [...oldestFirst([...sidecars])].sort((a, b) => Number(!a.spec?.workloadSelector) - Number(!b.spec?.workloadSelector));
    for (const s of sorted) {
      const ns = s.metadata.namespace as string;
      this.byNamespace.set(ns, [...(this.byNamespace.get(ns) ?? []), s]);
    }
    // The root namespace's first Sidecar without a selector is the mesh-wide default.
    this.root = (this.byNamespace.get(rootNamespace) ?? []).find((s) => !s.spec?.workloadSelector);
    this.any = sidecars.length > 0;
  }

  /** The Sidecar a workload's proxy uses, and why: its namespace's selector match, its namespace default, the root default. */
  scopeFor(namespace: string, labels: StringMap): { sidecar: SidecarResource; how: string } | undefined {
    for (const s of this.byNamespace.get(namespace) ?? []) {
      const sel = s.spec?.workloadSelector?.labels;
      if (sel && Object.keys(sel).length > 0) {
        if (matchesLabels(sel, labels)) return { sidecar: s, how: `${sidecarName(s)} selects it (workloadSelector)` };
        continue;
      }
      return { sidecar: s, how: `${sidecarName(s)} is the default of namespace ${namespace}` };
    }
    if (this.root) return { sidecar: this.root, how: `${sidecarName(this.root)} is the mesh default (root namespace ${this.rootNamespace})` };
    return undefined;
  }

  /** Does the workload's proxy (namespace, labels) see Service port `port`? undefined: no Sidecar applies, it sees every Service. */
  visibility(namespace: string, labels: StringMap, svc: ServiceView, port: number): Visibility | undefined {
    const scope = this.scopeFor(namespace, labels);
    if (!scope) return undefined;
    const { sidecar, how } = scope;
    const own = modeOf(sidecar.spec?.outboundTrafficPolicy?.mode);
    const mode = own ?? this.meshMode.mode;
    const modeSource = own ? `${sidecarName(sidecar)} outboundTrafficPolicy ${own}` : `outboundTrafficPolicy ${this.meshMode.mode} (${this.meshMode.source})`;
    const listeners = egressOf(sidecar, namespace);
    const hit = listeners.find((l) => (l.port === undefined || l.port === port) && imports(l, svc));
    if (hit) return { visible: true, sidecar, mode, why: `${how}; its egress imports ${svc.namespace}/${svc.fqdn}${hit.port ? ` on port ${hit.port}` : ''}` };
    const hosts = listeners.flatMap((l) => l.hosts.map((h) => `${h.excluded ? '~' : ''}${h.namespace}/${h.host}${l.port ? ` (port ${l.port})` : ''}`));
    const then =
      mode === 'REGISTRY_ONLY'
        ? `${modeSource}: the request goes to BlackHoleCluster (HTTP 502, TCP reset)`
        : `${modeSource}: the request goes to PassthroughCluster, plaintext to the original destination (no DestinationRule, no mTLS)`;
    return { visible: false, sidecar, mode, why: `${how}; its egress hosts (${hosts.join(', ') || 'none'}) do not import ${svc.namespace}/${svc.fqdn} port ${port}: ${then}` };
  }
}

const egressCache = new WeakMap<SidecarResource, Map<string, EgressListener[]>>();

/** Egress listeners with `.` read as the client's namespace (parsed once per Sidecar and namespace). */
function egressOf(s: SidecarResource, clientNamespace: string): EgressListener[] {
  let byNs = egressCache.get(s);
  if (!byNs) {
    byNs = new Map();
    egressCache.set(s, byNs);
  }
  let listeners = byNs.get(clientNamespace);
  if (!listeners) {
    listeners = parseEgress(s, clientNamespace);
    byNs.set(clientNamespace, listeners);
  }
  return listeners;
}

/** No egress is one listener importing `*\/*`. */
function parseEgress(s: SidecarResource, clientNamespace: string): EgressListener[] {
  const egress = s.spec?.egress;
  if (!egress || egress.length === 0) return [{ hosts: [{ namespace: '*', host: '*', excluded: false }] }];
  return egress.map((e) => {
    const hosts: HostEntry[] = [];
    for (const h of e.hosts ?? []) {
      if ((h.match(/\//g) ?? []).length !== 1) continue; // Istio logs and ignores a host not of the form namespace/dnsName
      let [ns, host] = h.split('/') as [string, string];
      const excluded = ns.startsWith('~');
      if (excluded) ns = ns.slice(1) || '*';
      if (ns === '.') ns = clientNamespace;
      hosts.push({ namespace: ns, host, excluded });
    }
    return { ...(e.port?.number ? { port: e.port.number } : {}), hosts };
  });
}

/** `selectServices`: a ~ exclusion in the Service's namespace or `*` hides it; else `ns/host`, then `*\/host`, imports it. */
function imports(l: EgressListener, svc: ServiceView): boolean {
  const fits = (ns: string) => l.hosts.filter((h) => h.namespace === ns);
  const mine = fits(svc.namespace);
  const any = fits('*');
  if ([...mine, ...any].some((h) => h.excluded && hostCovered(h.host, svc.fqdn))) return false;
  return [...mine, ...any].some((h) => !h.excluded && hostCovered(h.host, svc.fqdn));
}
