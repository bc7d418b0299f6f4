// Which DestinationRule a client applies to a host (domain §6), and the TLS it sets for a
// Service port (§4). Mirrors Istio's PushContext: setDestinationRules builds three indexes
// (namespace-local, exported per namespace, private root-namespace rules), mergeDestinationRule
// consolidates several rules for one host in one index only when their exportTo sets are equal,
// destinationRule() looks them up (client namespace → Service namespace → root namespace, first
// hit wins) and SidecarScope.DestinationRule picks one consolidated rule of the hit: a matching
// workloadSelector rule, else the newest.

import { isIP } from 'node:net';
import type { ClientTls, DestinationRule, StringMap, TrafficPolicy } from '../core/k8s.js';
import { matchesLabels } from '../core/labels.js';
import { oldestFirst } from './peerauth.js';

export interface IndexedRule {
  rule: DestinationRule;
  /** Host after short-name resolution (`reviews` → `reviews.<dr-ns>.svc.<domain>`). */
  host: string;
  /** `exportTo` as written (a rule with a workloadSelector: `.`); empty = the mesh default. */
  exportTo: Set<string>;
}

type Subset = NonNullable<DestinationRule['spec']['subsets']>[number];

/** Several rules for one host in one index, merged as Istio merges them (one ConsolidatedDestRule). */
export interface ConsolidatedRule {
  /** The rules merged into it, in Istio's order (the first is the one the others were merged into). */
  rules: IndexedRule[];
  host: string;
  namespace: string;
  /** The first rule's exportTo (Istio keeps it). */
  exportTo: Set<string>;
  workloadSelector?: StringMap;
  /** The top-level trafficPolicy: the first rule's that has one. */
  trafficPolicy?: TrafficPolicy;
  policyRule?: DestinationRule;
  /** Subsets concatenated; a name already present is skipped (the first definition counts). */
  subsets: Array<{ subset: Subset; rule: DestinationRule }>;
}

export type LookupStep = 'client-namespace' | 'service-namespace' | 'root-namespace';

export interface RuleMatch {
  /** The consolidated rule in force. */
  entry: ConsolidatedRule;
  /** Its rules (entry.rules). */
  rules: IndexedRule[];
  /** Other consolidated rules the same lookup step found for the host: not applied (the newest wins). */
  others: ConsolidatedRule[];
  step: LookupStep;
  host: string;
}

/** Istio's ResolveShortnameToFQDN: a host without a dot is short; with a dot, or an IP address, it is taken as written. */
export function resolveHost(host: string, namespace: string, clusterDomain: string): string {
  // Not a hex test: `db` or `cafe` are short names, only a real IP address is kept as written.
  if (host === '*' || host.includes('.') || isIP(host) !== 0) return host;
  return `${host}.${namespace}.svc.${clusterDomain}`;
}

export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

function setsEqual(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function supersetOf(a: Set<string>, b: Set<string>): boolean {
  for (const x of b) if (!a.has(x)) return false;
  return true;
}

function selectorsEqual(a: StringMap | undefined, b: StringMap | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}

/** One rule as the match a client would get if it saw it alone (fixes ask what a hidden rule would do). */
export function soleRuleMatch(r: IndexedRule, step: LookupStep): RuleMatch {
  const entry = newEntry(r);
  return { entry, rules: entry.rules, others: [], step, host: r.host };
}

function newEntry(r: IndexedRule): ConsolidatedRule {
  const spec = r.rule.spec;
  const entry: ConsolidatedRule = {
    rules: [r],
    host: r.host,
    namespace: r.rule.metadata.namespace as string,
    exportTo: r.exportTo,
    subsets: (spec.subsets ?? []).filter((s) => s && typeof s.name === 'string').map((subset) => ({ subset, rule: r.rule })),
  };
  if (spec.workloadSelector) entry.workloadSelector = spec.workloadSelector.matchLabels ?? {};
  if (spec.trafficPolicy) {
    entry.trafficPolicy = spec.trafficPolicy;
    entry.policyRule = r.rule;
  }
  return entry;
}

/**
 * Istio's mergeDestinationRule with ENABLE_ENHANCED_DESTINATIONRULE_MERGE (the default): the
 * incoming rule is merged into every existing entry whose exportTo equals its own (or that its
 * exportTo is a strict superset of), provided their workload selectors agree; it becomes an
 * entry of its own when the last entry compared said so. The loop is followed as written,
 * quirks included.
 */
function mergeInto(index: Map<string, ConsolidatedRule[]>, r: IndexedRule): void {
  const list = index.get(r.host);
  if (!list) {
    index.set(r.host, [newEntry(r)]);
    return;
  }
  let appendSeparately = true;
  const incomingSelector = r.rule.spec.workloadSelector;
  for (const mdr of list) {
    if (setsEqual(r.exportTo, mdr.exportTo)) appendSeparately = false;
    else if (mdr.exportTo.size > 0 && supersetOf(r.exportTo, mdr.exportTo)) appendSeparately = true;
    else {
      appendSeparately = true;
      continue;
    }
    const bothWithout = !incomingSelector && !mdr.workloadSelector;
    const bothWith = incomingSelector !== undefined && mdr.workloadSelector !== undefined;
    const match = selectorsEqual(incomingSelector?.matchLabels, mdr.workloadSelector);
    if (bothWith && !match) {
      appendSeparately = true;
      continue;
    }
    if (bothWithout || (bothWith && match)) appendSeparately = false;
    mdr.rules.push(r);
    const names = new Set(mdr.subsets.map((s) => s.subset.name));
    for (const subset of r.rule.spec.subsets ?? []) {
      if (!subset || typeof subset.name !== 'string' || names.has(subset.name)) continue;
      names.add(subset.name);
      mdr.subsets.push({ subset, rule: r.rule });
    }
    if (!mdr.trafficPolicy && r.rule.spec.trafficPolicy) {
      mdr.trafficPolicy = r.rule.spec.trafficPolicy;
      mdr.policyRule = r.rule;
    }
  }
  if (appendSeparately) list.push(newEntry(r));
}

/** Istio's MostSpecificHostMatch: an exact host first, else the most specific (longest) wildcard. */
function mostSpecific(index: Map<string, ConsolidatedRule[]> | undefined, host: string): ConsolidatedRule[] {
  if (!index) return [];
  const exact = host.startsWith('*') ? undefined : index.get(host);
  if (exact) return exact;
  let best: string | undefined;
  for (const h of index.keys()) {
    if (!h.startsWith('*') || !hostMatches(h, host)) continue;
    if (best === undefined || h.length > best.length || (h.length === best.length && h < best)) best = h;
  }
  return best === undefined ? [] : (index.get(best) ?? []);
}

function exportedTo(e: ConsolidatedRule, clientNs: string): boolean {
  const x = e.exportTo;
  return x.size === 0 || x.has('*') || x.has(clientNs);
}

export interface ClientIdentity {
  namespace: string;
  /** Labels of the client pod, for DestinationRules with a workloadSelector. */
  labels?: StringMap;
}

export interface DestinationRuleDefaults {
  /** meshConfig defaultDestinationRuleExportTo (undefined: `*`). */
  defaultExportTo?: readonly string[];
}

export class DestinationRuleIndex {
  private readonly local = new Map<string, Map<string, ConsolidatedRule[]>>();
  private readonly exported = new Map<string, Map<string, ConsolidatedRule[]>>();
  private readonly rootLocal = new Map<string, ConsolidatedRule[]>();
  private readonly byExactHost = new Map<string, IndexedRule[]>();
  private readonly wildcards: IndexedRule[] = [];
  readonly all: IndexedRule[];
  /** Any rule with a workloadSelector (then a client's labels matter to the lookup). */
  readonly hasWorkloadSelectors: boolean;
  /** Rules without exportTo are private to their namespace (meshConfig defaultDestinationRuleExportTo holds `.`). */
  readonly defaultPrivate: boolean;

  constructor(
    rules: DestinationRule[],
    readonly rootNamespace: string,
    readonly clusterDomain: string,
    defaults: DestinationRuleDefaults = {},
  ) {
    // Istio only honours `.` in the default: any other default leaves such rules public.
    this.defaultPrivate = defaults.defaultExportTo?.includes('.') ?? false;
    // Rules with a workloadSelector come first, then by age (sortConfigBySelectorAndCreationTime).
    const sorted = [...oldestFirst(rules)].sort((a, b) => Number(!a.spec.workloadSelector) - Number(!b.spec.workloadSelector));
    this.all = sorted.map((rule) => {
      const ns = rule.metadata.namespace as string;
      // A rule with a workloadSelector is never exported.
      const exportTo = rule.spec.workloadSelector ? new Set(['.']) : new Set((rule.spec.exportTo ?? []).filter((e) => typeof e === 'string'));
      return { rule, host: resolveHost(rule.spec.host, ns, clusterDomain), exportTo };
    });
    this.hasWorkloadSelectors = this.all.some((r) => r.rule.spec.workloadSelector !== undefined);
    for (const r of this.all) {
      if (r.host.startsWith('*')) this.wildcards.push(r);
      else push(this.byExactHost, r.host, r);
      const ns = r.rule.metadata.namespace as string;
      const e = r.exportTo;
      if (e.size === 0 || e.has('*') || e.has('.') || e.has(ns)) mergeInto(indexOf(this.local, ns), r);
      const privateOnly = (e.size === 0 && this.defaultPrivate) || (e.size === 1 && (e.has('.') || e.has(ns)));
      if (!privateOnly) mergeInto(indexOf(this.exported, ns), r);
      else if (ns === rootNamespace) mergeInto(this.rootLocal, r);
    }
  }

  /** Istio's PushContext.destinationRule: the consolidated rules of the first step that has any for `host`. */
  private stepHit(clientNs: string, host: string, serviceNamespace: string): { step: LookupStep; entries: ConsolidatedRule[] } | undefined {
    const first = mostSpecific(clientNs === this.rootNamespace ? this.rootLocal : this.local.get(clientNs), host);
    if (first.length) return { step: 'client-namespace', entries: first };
    const fromService = mostSpecific(this.exported.get(serviceNamespace), host).filter((e) => exportedTo(e, clientNs));
    if (fromService.length) return { step: 'service-namespace', entries: fromService };
    const fromRoot = mostSpecific(this.exported.get(this.rootNamespace), host).filter((e) => exportedTo(e, clientNs));
    if (fromRoot.length) return { step: 'root-namespace', entries: fromRoot };
    return undefined;
  }

  /**
   * The rule a client applies to `host` (a Service in `serviceNamespace`), or undefined. Of the
   * step's consolidated rules (SidecarScope.DestinationRule): the first with a workloadSelector
   * in the client's namespace matching its labels, else the last (newest) without a selector.
   * A step whose rules all select other workloads gives none: later steps are not consulted.
   */
  lookup(client: ClientIdentity, host: string, serviceNamespace: string): RuleMatch | undefined {
    const hit = this.stepHit(client.namespace, host, serviceNamespace);
    if (!hit) return undefined;
    let chosen: ConsolidatedRule | undefined;
    for (const e of hit.entries) {
      if (!e.workloadSelector) {
        chosen = e;
        continue;
      }
      if (e.namespace === client.namespace && client.labels !== undefined && matchesLabels(e.workloadSelector, client.labels)) {
        chosen = e;
        break;
      }
    }
    if (!chosen) return undefined;
    const entry = chosen;
    return { entry, rules: entry.rules, others: hit.entries.filter((e) => e !== entry && !e.workloadSelector), step: hit.step, host: entry.host };
  }

  /**
   * The consolidated rules for exactly `host` (no wildcard, no workloadSelector) a client in
   * `clientNs` considers, per lookup step in order: the first step applies (its newest entry),
   * the later ones are shadowed.
   */
  candidates(clientNs: string, host: string, serviceNamespace: string): Array<{ step: LookupStep; entries: ConsolidatedRule[] }> {
    const exact = (e: ConsolidatedRule): boolean => e.host === host && !e.workloadSelector;
    const steps: Array<{ step: LookupStep; entries: ConsolidatedRule[] }> = [
      { step: 'client-namespace', entries: (clientNs === this.rootNamespace ? this.rootLocal : this.local.get(clientNs))?.get(host) ?? [] },
      { step: 'service-namespace', entries: (this.exported.get(serviceNamespace)?.get(host) ?? []).filter((e) => exportedTo(e, clientNs)) },
      { step: 'root-namespace', entries: (this.exported.get(this.rootNamespace)?.get(host) ?? []).filter((e) => exportedTo(e, clientNs)) },
    ];
    // A rule seen at an earlier step (the client's namespace is the Service's) is not counted twice.
    const seen = new Set<DestinationRule>();
    const out: Array<{ step: LookupStep; entries: ConsolidatedRule[] }> = [];
    for (const s of steps) {
      const entries = s.entries.filter(exact).filter((e) => !e.rules.every((r) => seen.has(r.rule)));
      for (const e of entries) for (const r of e.rules) seen.add(r.rule);
      if (entries.length) out.push({ step: s.step, entries });
    }
    return out;
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
}

function indexOf(map: Map<string, Map<string, ConsolidatedRule[]>>, ns: string): Map<string, ConsolidatedRule[]> {
  let index = map.get(ns);
  if (!index) {
    index = new Map();
    map.set(ns, index);
  }
  return index;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function drName(rule: DestinationRule): string {
  return `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name}`;
}

/** `DestinationRule a/x` or `DestinationRules a/x + a/y (merged)`. */
export function entryName(entry: ConsolidatedRule): string {
  return entry.rules.length === 1 ? drName(entry.rules[0]!.rule) : `DestinationRules ${entry.rules.map((r) => `${r.rule.metadata.namespace}/${r.rule.metadata.name}`).join(' + ')} (merged)`;
}

export interface TlsSetting {
  /** The `tls` block in force. */
  tls?: ClientTls;
  /** ISTIO_MUTUAL, MUTUAL, SIMPLE or DISABLE (a `tls` block without mode is DISABLE). */
  mode?: string;
  /** Where it was found, e.g. `DestinationRule app/x portLevelSettings[port 9091].tls`. */
  where: string;
  rule: DestinationRule;
  /** Found in a portLevelSettings entry for the Service port (not the top level). */
  portLevel: boolean;
}

/** Istio keeps the top-level trafficPolicy of the first merged rule that has one. */
export function effectivePolicy(match: RuleMatch): { policy?: TrafficPolicy; rule: DestinationRule } {
  const e = match.entry;
  return e.trafficPolicy && e.policyRule ? { policy: e.trafficPolicy, rule: e.policyRule } : { rule: (e.rules[0] as IndexedRule).rule };
}

function modeOf(tls: ClientTls): string {
  return (typeof tls.mode === 'string' && tls.mode ? tls.mode : 'DISABLE').toUpperCase();
}

function portEntry(policy: TrafficPolicy | undefined, port: number) {
  return policy?.portLevelSettings?.find((p) => p?.port?.number === port);
}

function lbSimple(policy: Record<string, unknown> | undefined): string | undefined {
  const lb = policy?.['loadBalancer'];
  const simple = typeof lb === 'object' && lb !== null ? (lb as { simple?: unknown }).simple : undefined;
  return typeof simple === 'string' ? simple.toUpperCase() : undefined;
}

/** Stage A: the cluster's TLS and load balancer for one Service port (and subset). */
export interface ClusterPolicy {
  /** The tls the cluster is built with; undefined: none (auto mTLS decides). */
  tls?: TlsSetting;
  /** Why there is no tls, or where it came from, in one line. */
  where: string;
  /** The merged policy's loadBalancer is PASSTHROUGH: an ORIGINAL_DST cluster (no per-endpoint tls match). */
  passthroughLb: boolean;
  /** The policy Istio infers a passthrough Service's mTLS from (BestEffortInferServiceMTLSMode) has loadBalancer PASSTHROUGH. */
  inferPassthrough: boolean;
}

/**
 * Istio's GetPortLevelTrafficPolicy + MergeSubsetTrafficPolicy (cluster_builder.go): a
 * portLevelSettings entry for the Service port REPLACES the policy (its tls, or none); a subset's
 * policy (its own port entry replacing it the same way) overrides the DR's field by field, and
 * wholesale when the subset has a port entry.
 */
export function clusterPolicy(match: RuleMatch, servicePort: number, subset?: string): ClusterPolicy {
  const { policy, rule } = effectivePolicy(match);
  const name = drName(rule);
  const top = portEntry(policy, servicePort);
  let tlsBlock = top ? top.tls : policy?.tls;
  let lb = top ? lbSimple(top) : lbSimple(policy);
  let where = top
    ? top.tls
      ? `${name} trafficPolicy.portLevelSettings[port ${servicePort}].tls`
      : `${name} trafficPolicy.portLevelSettings[port ${servicePort}] has no tls (a port entry replaces the top-level policy: no tls is inherited)`
    : policy?.tls
      ? `${name} trafficPolicy.tls`
      : `${name} sets no tls for port ${servicePort}`;
  let tlsRule = rule;
  let portLevel = top !== undefined && top.tls !== undefined;
  let inferPassthrough = lbSimple(policy) === 'PASSTHROUGH';
  let passthroughLb = lb === 'PASSTHROUGH';
  if (subset) {
    const s = match.entry.subsets.find((x) => x.subset.name === subset);
    inferPassthrough = lbSimple(s?.subset.trafficPolicy) === 'PASSTHROUGH';
    const sp = s?.subset.trafficPolicy;
    if (s && sp) {
      const sEntry = portEntry(sp, servicePort);
      const sTls = sEntry ? sEntry.tls : sp.tls;
      const sLb = sEntry ? lbSimple(sEntry) : lbSimple(sp);
      const prefix = `${drName(s.rule)} subsets[${subset}].trafficPolicy`;
      const noParent = !top && !policy;
      if (noParent || sTls !== undefined || sEntry) {
        tlsBlock = sTls;
        tlsRule = s.rule;
        portLevel = sEntry !== undefined && sTls !== undefined;
        where = sEntry
          ? sTls
            ? `${prefix}.portLevelSettings[port ${servicePort}].tls`
            : `${prefix}.portLevelSettings[port ${servicePort}] has no tls (it replaces the subset's and the rule's policy)`
          : sTls
            ? `${prefix}.tls`
            : where;
      }
      if (noParent || sLb !== undefined || sEntry) lb = sLb;
      passthroughLb = passthroughLb || lb === 'PASSTHROUGH';
    }
  }
  const out: ClusterPolicy = { where, passthroughLb, inferPassthrough };
  if (tlsBlock) out.tls = { tls: tlsBlock, mode: modeOf(tlsBlock), where, rule: tlsRule, portLevel };
  return out;
}

/** Stage B: the DestinationRule tls mode the endpoint mTLS checker reads, or undefined. */
export interface EndpointTlsMode {
  mode: string;
  where: string;
  rule: DestinationRule;
  portLevel: boolean;
}

/** Istio's trafficPolicyTLSModeForPort: the top-level mode, overridden by a port entry only when that entry has tls. */
function policyTlsMode(policy: TrafficPolicy | undefined, port: number, rule: DestinationRule, prefix: string): EndpointTlsMode | undefined {
  if (!policy) return undefined;
  const entry = portEntry(policy, port);
  if (entry?.tls) return { mode: modeOf(entry.tls), where: `${drName(rule)} ${prefix}trafficPolicy.portLevelSettings[port ${port}].tls`, rule, portLevel: true };
  if (policy.tls) {
    const note = entry ? ` (the port entry has no tls, so the top-level mode counts here)` : '';
    return { mode: modeOf(policy.tls), where: `${drName(rule)} ${prefix}trafficPolicy.tls${note}`, rule, portLevel: false };
  }
  return undefined;
}

/**
 * Istio's tlsModeForDestinationRule (xds/endpoints/mtls_checker.go): computed differently from
 * the cluster's tls. For a subset: the subset's own policy, else the rule's; a subset the rule
 * does not define gives none.
 */
export function endpointTlsMode(match: RuleMatch, servicePort: number, subset?: string): EndpointTlsMode | undefined {
  const { policy, rule } = effectivePolicy(match);
  if (!subset) return policyTlsMode(policy, servicePort, rule, '');
  const s = match.entry.subsets.find((x) => x.subset.name === subset);
  if (!s) return undefined;
  return policyTlsMode(s.subset.trafficPolicy, servicePort, s.rule, `subsets[${subset}].`) ?? policyTlsMode(policy, servicePort, rule, '');
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
