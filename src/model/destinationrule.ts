// Which DestinationRule a client applies to a host (domain §6), and the TLS it sets for a
// Service port (§4 step 1). Mirrors Istio's PushContext.destinationRule lookup: the client's
// namespace, then rules exported from the Service's namespace, then from the root namespace;
// first hit wins, an exact host beats the most specific wildcard.

import type { ClientTls, DestinationRule, StringMap, TrafficPolicy } from '../core/k8s.js';
import { matchesLabels } from '../core/labels.js';
import { oldestFirst } from './peerauth.js';

export interface IndexedRule {
  rule: DestinationRule;
  /** Host after short-name resolution (`reviews` → `reviews.<dr-ns>.svc.<domain>`). */
  host: string;
  exportTo: Set<string>;
}

export type LookupStep = 'client-namespace' | 'service-namespace' | 'root-namespace';

export interface RuleMatch {
  /** Every rule for the matched host in that namespace, oldest first (Istio merges them). */
  rules: IndexedRule[];
  step: LookupStep;
  host: string;
}

/** Istio: a host without a dot is short; with a dot it is taken as written. */
export function resolveHost(host: string, namespace: string, clusterDomain: string): string {
  if (host === '*' || host.includes('.') || /^[0-9a-f:]+$/i.test(host)) return host;
  return `${host}.${namespace}.svc.${clusterDomain}`;
}

export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** Exact host first; else the longest matching wildcard. */
function mostSpecific(rules: IndexedRule[], host: string): IndexedRule[] {
  const exact = rules.filter((r) => r.host === host);
  if (exact.length) return exact;
  let best = '';
  let found = false;
  for (const r of rules) {
    if (r.host.startsWith('*') && hostMatches(r.host, host) && (!found || r.host.length > best.length)) {
      best = r.host;
      found = true;
    }
  }
  return found ? rules.filter((r) => r.host === best) : [];
}

function isPrivateOnly(r: IndexedRule, ns: string): boolean {
  return r.exportTo.size === 1 && (r.exportTo.has('.') || r.exportTo.has(ns));
}

function visibleLocally(r: IndexedRule, ns: string): boolean {
  const e = r.exportTo;
  return e.size === 0 || e.has('*') || e.has('.') || e.has(ns);
}

function exportedTo(r: IndexedRule, clientNs: string): boolean {
  const e = r.exportTo;
  return e.size === 0 || e.has('*') || e.has(clientNs);
}

export interface ClientIdentity {
  namespace: string;
  /** Labels of the client pod, for DestinationRules with a workloadSelector. */
  labels?: StringMap;
}

export class DestinationRuleIndex {
  private readonly byExactHost = new Map<string, IndexedRule[]>();
  private readonly wildcards: IndexedRule[] = [];
  private readonly local = new Map<string, IndexedRule[]>();
  private readonly exported = new Map<string, IndexedRule[]>();
  private readonly rootLocal: IndexedRule[] = [];
  readonly all: IndexedRule[];
  /** Any rule with a workloadSelector (then a client's labels matter to the lookup). */
  readonly hasWorkloadSelectors: boolean;

  constructor(
    rules: DestinationRule[],
    readonly rootNamespace: string,
    readonly clusterDomain: string,
  ) {
    // Rules with a workloadSelector come first, then by age (Istio's order).
    const sorted = [...oldestFirst(rules)].sort((a, b) => Number(!a.spec.workloadSelector) - Number(!b.spec.workloadSelector));
    this.all = sorted.map((rule) => {
      const ns = rule.metadata.namespace as string;
      // A rule with a workloadSelector is never exported.
      const exportTo = rule.spec.workloadSelector ? new Set(['.']) : new Set(rule.spec.exportTo ?? []);
      return { rule, host: resolveHost(rule.spec.host, ns, clusterDomain), exportTo };
    });
    this.hasWorkloadSelectors = this.all.some((r) => r.rule.spec.workloadSelector !== undefined);
    for (const r of this.all) {
      if (r.host.startsWith('*')) this.wildcards.push(r);
      else push(this.byExactHost, r.host, r);
      const ns = r.rule.metadata.namespace as string;
      if (visibleLocally(r, ns)) push(this.local, ns, r);
      if (!isPrivateOnly(r, ns) && !r.exportTo.has('~')) push(this.exported, ns, r);
      else if (ns === rootNamespace) this.rootLocal.push(r);
    }
  }

  /** The rules a client applies to `host` (a Service in `serviceNamespace`), or undefined. */
  lookup(client: ClientIdentity, host: string, serviceNamespace: string): RuleMatch | undefined {
    const pick = (rules: IndexedRule[], step: LookupStep, filter: (r: IndexedRule) => boolean): RuleMatch | undefined => {
      const matched = mostSpecific(rules, host).filter(filter).filter((r) => this.selects(r, client));
      return matched.length ? { rules: matched, step, host: matched[0]?.host as string } : undefined;
    };
    const first =
      client.namespace === this.rootNamespace
        ? pick(this.rootLocal, 'client-namespace', () => true)
        : pick(this.local.get(client.namespace) ?? [], 'client-namespace', () => true);
    return (
      first ??
      pick(this.exported.get(serviceNamespace) ?? [], 'service-namespace', (r) => exportedTo(r, client.namespace)) ??
      pick(this.exported.get(this.rootNamespace) ?? [], 'root-namespace', (r) => exportedTo(r, client.namespace))
    );
  }

  /**
   * Every rule for exactly `host` (no wildcard, no workloadSelector) a client in `clientNs`
   * considers, per lookup step in order: the first non-empty step applies (its rules merged),
   * the later ones are shadowed.
   */
  candidates(clientNs: string, host: string, serviceNamespace: string): Array<{ step: LookupStep; rules: IndexedRule[] }> {
    const exact = (r: IndexedRule): boolean => r.host === host && !r.rule.spec.workloadSelector;
    const seen = new Set<IndexedRule>();
    const take = (rules: IndexedRule[]): IndexedRule[] => {
      const out = rules.filter((r) => exact(r) && !seen.has(r));
      for (const r of out) seen.add(r);
      return out;
    };
    const steps: Array<{ step: LookupStep; rules: IndexedRule[] }> = [
      { step: 'client-namespace', rules: take(clientNs === this.rootNamespace ? this.rootLocal : (this.local.get(clientNs) ?? [])) },
      { step: 'service-namespace', rules: take((this.exported.get(serviceNamespace) ?? []).filter((r) => exportedTo(r, clientNs))) },
      { step: 'root-namespace', rules: take((this.exported.get(this.rootNamespace) ?? []).filter((r) => exportedTo(r, clientNs))) },
    ];
    return steps.filter((s) => s.rules.length > 0);
  }

  /**
   * Rules that would apply to any meshed client outside their own namespace: exported
   * from the Service's namespace or the root namespace (for checks with no particular client).
   */
  lookupForAnyClient(host: string, serviceNamespace: string): RuleMatch | undefined {
    return this.lookup({ namespace: '\u0000any' }, host, serviceNamespace);
  }

  /** Every rule whose host matches `host`, wherever it lives and whoever sees it. */
  rulesMatching(host: string): IndexedRule[] {
    return [...(this.byExactHost.get(host) ?? []), ...this.wildcards.filter((r) => hostMatches(r.host, host))];
  }

  private selects(r: IndexedRule, client: ClientIdentity): boolean {
    const sel = r.rule.spec.workloadSelector?.matchLabels;
    if (!sel || Object.keys(sel).length === 0) return true;
    return client.labels !== undefined && matchesLabels(sel, client.labels);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function drName(rule: DestinationRule): string {
  return `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name}`;
}

export interface TlsSetting {
  /** The `tls` block in force, or undefined when no rule sets one (auto mTLS decides). */
  tls?: ClientTls;
  /** ISTIO_MUTUAL, MUTUAL, SIMPLE or DISABLE (a `tls` block without mode is DISABLE). */
  mode?: string;
  /** Where it was found, e.g. `DestinationRule app/x portLevelSettings[port 9091].tls`. */
  where: string;
  rule: DestinationRule;
  /** The Service port has its own portLevelSettings entry (which replaces the top-level policy). */
  portLevel: boolean;
}

/** Istio merges rules for one host: the first trafficPolicy (oldest rule) wins. */
export function effectivePolicy(match: RuleMatch): { policy?: TrafficPolicy; rule: DestinationRule } {
  for (const r of match.rules) {
    if (r.rule.spec.trafficPolicy) return { policy: r.rule.spec.trafficPolicy, rule: r.rule };
  }
  return { rule: (match.rules[0] as IndexedRule).rule };
}

/**
 * TLS for one Service port: a portLevelSettings entry REPLACES the top-level policy (an entry
 * without `tls` falls back to auto mTLS); a subset's policy, when routed to, overrides both.
 */
export function tlsForPort(match: RuleMatch, servicePort: number, subset?: string): TlsSetting {
  const { policy, rule } = effectivePolicy(match);
  let result = fromPolicy(policy, servicePort, rule, '');
  if (subset) {
    for (const r of match.rules) {
      const s = r.rule.spec.subsets?.find((x) => x.name === subset);
      if (s?.trafficPolicy) {
        const fromSubset = fromPolicy(s.trafficPolicy, servicePort, r.rule, `subsets[${subset}].`);
        if (fromSubset.tls) result = fromSubset;
        break;
      }
    }
  }
  return result;
}

function fromPolicy(policy: TrafficPolicy | undefined, port: number, rule: DestinationRule, prefix: string): TlsSetting {
  const name = drName(rule);
  const entry = policy?.portLevelSettings?.find((p) => p.port?.number === port);
  if (entry) {
    const where = `${name} ${prefix}trafficPolicy.portLevelSettings[port ${port}]`;
    return entry.tls
      ? { tls: entry.tls, mode: (entry.tls.mode ?? 'DISABLE').toUpperCase(), where: `${where}.tls`, rule, portLevel: true }
      : { where: `${where} (no tls: auto mTLS decides; the top-level tls is not inherited)`, rule, portLevel: true };
  }
  if (policy?.tls) {
    return { tls: policy.tls, mode: (policy.tls.mode ?? 'DISABLE').toUpperCase(), where: `${name} ${prefix}trafficPolicy.tls`, rule, portLevel: false };
  }
  return { where: `${name} sets no tls for port ${port}`, rule, portLevel: false };
}

/** `name.namespace.svc.<cluster domain>` → the Service it names; other hosts are not Services. */
export function serviceOfHost(host: string, clusterDomain: string): { name: string; namespace: string } | undefined {
  const suffix = `.svc.${clusterDomain}`;
  if (!host.endsWith(suffix)) return undefined;
  const parts = host.slice(0, -suffix.length).split('.');
  if (parts.length !== 2 || parts.some((p) => p === '')) return undefined;
  return { name: parts[0] as string, namespace: parts[1] as string };
}

export interface PortLevelEntry {
  /** `trafficPolicy` or `subsets[v1].trafficPolicy`. */
  where: string;
  port: number;
}

/** Every portLevelSettings port of a rule: top-level and per subset. */
export function portLevelEntries(rule: DestinationRule): PortLevelEntry[] {
  const out: PortLevelEntry[] = [];
  const add = (policy: TrafficPolicy | undefined, where: string): void => {
    for (const s of policy?.portLevelSettings ?? []) if (s.port?.number !== undefined) out.push({ where, port: s.port.number });
  };
  add(rule.spec.trafficPolicy, 'trafficPolicy');
  for (const subset of rule.spec.subsets ?? []) add(subset.trafficPolicy, `subsets[${subset.name}].trafficPolicy`);
  return out;
}

export function isWildcardHost(host: string): boolean {
  return host.startsWith('*');
}
