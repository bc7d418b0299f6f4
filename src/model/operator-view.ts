// The Cloudflare operator applied to the input: every rule it writes — for Ingress backends,
// TunnelBinding subjects and HTTPRoute backends of its Gateways — linked to the rule that really
// serves it. Writers are grouped by the tunnel they name (one config per tunnel, every source's
// rules in it, as the operator's tunnel-config controller aggregates them). When a tunnel config
// of that tunnel is in the input, it is the truth and the writers' rules are compared with it
// (drift); when none is (manifests in CI), their rules become a predicted config whose clients
// are the tunnel's cloudflared pods, judged like any other.

import type { GatewayApiGateway, GatewayClass, HTTPRoute, Ingress, IngressClass, KObject, OperatorTunnel, TunnelBinding, TunnelGatewayClassConfig, TunnelIngressClassConfig } from '../core/k8s.js';
import { OPERATOR_NAMESPACE } from '../core/wellknown.js';
import {
  bindingSourceRules,
  bindingView,
  findTunnel,
  formatTunnel,
  gatewayChain,
  gatewayRules,
  tunnelKey,
  tunnelNamespace,
  type BindingView,
  type GatewayChain,
  type GatewayRules,
  type SourcesContext,
  type TunnelIdentity,
  type WrittenRule,
} from './operator-sources.js';
import {
  INGRESS_RULE_PRIORITY,
  operatorPath,
  operatorServiceUrl,
  predictedOriginRequest,
  protocolChain,
  resolveBackendPort,
  resolveClassConfig,
  resolveIngressClass,
  type BackendPort,
  type ClassConfigResolution,
  type ClassResolution,
  type ProtocolChain,
} from './operator.js';
import type { PodView } from './pods.js';
import type { ServiceView } from './services.js';
import {
  compareOperatorRules,
  OPERATOR_LABEL,
  parseOriginUrl,
  serviceAddress,
  withOperatorCatchAll,
  type IngressBackendView,
  type TunnelConfig,
  type TunnelRule,
} from './tunnels.js';

export type { IngressBackendView };


export interface StaleRule {
  tunnel: TunnelConfig;
  rule: TunnelRule;
  why: string;
}

export interface OperatorView {
  backends: IngressBackendView[];
  /** TunnelBindings (both groups) with the rules each subject gets. */
  bindings: BindingView[];
  /** Gateway API Gateways of the operator's GatewayClasses, with their HTTPRoutes' rules. */
  gateways: GatewayRules[];
  /** Every rule a TunnelBinding or HTTPRoute writes (or would, with why not), for reports and fixes. */
  written: WrittenRule[];
  /** TunnelGatewayClassConfigs that several Gateways write under one source key: only the Gateway reconciled last keeps its rules. */
  sharedGatewaySources: Array<{ config: TunnelGatewayClassConfig; gateways: GatewayRules[] }>;
  /** Configs the operator would write, for tunnels no config in the input covers. */
  predicted: TunnelConfig[];
  /** Rules from an Ingress source that no Ingress in the input produces any more. */
  stale: StaleRule[];
}

export interface OperatorInput {
  ingresses: readonly Ingress[];
  classes: readonly IngressClass[];
  classConfigs: readonly TunnelIngressClassConfig[];
  live: boolean;
  classesComplete: boolean;
  classConfigsComplete: boolean;
  service(namespace: string, name: string): ServiceView | undefined;
  pods: readonly PodView[];
  tunnels: readonly TunnelConfig[];
  clusterDomain: string;
  bindings?: readonly TunnelBinding[];
  routes?: readonly HTTPRoute[];
  gateways?: readonly GatewayApiGateway[];
  gatewayClasses?: readonly GatewayClass[];
  gatewayConfigs?: readonly TunnelGatewayClassConfig[];
  operatorTunnels?: readonly OperatorTunnel[];
  /** Lookups for the TunnelBinding and HTTPRoute writers (absent: none are read). */
  sources?: SourcesContext;
}

function ingressBackends(ingress: Ingress, input: OperatorInput): IngressBackendView[] {
  const ns = ingress.metadata.namespace as string;
  const label = `Ingress ${ns}/${ingress.metadata.name}`;
  const cls = resolveIngressClass(ingress, input.classes, input.live, input.classesComplete);
  const classConfig = cls.ingressClass && cls.ours === true ? resolveClassConfig(cls.ingressClass, input.classConfigs, input.classConfigsComplete) : undefined;
  const annotations = ingress.metadata.annotations ?? {};
  const ticc = classConfig?.config;
  const out: IngressBackendView[] = [];
  (ingress.spec?.rules ?? []).forEach((rule, ruleIndex) => {
    if (!rule.http) return; // the operator skips rules without http
    (rule.http.paths ?? []).forEach((p, pathIndex) => {
      const backend = p.backend?.service;
      const service = backend ? input.service(ns, backend.name) : undefined;
      const port = resolveBackendPort(backend?.port, service);
      // What the operator's chain resolves, also for an Ingress it may not serve: views show it
      // whenever an Ingress backs a backend; `unserved` says whether the operator writes the rule.
      const chain = !backend
        ? undefined
        : protocolChain({
              ingressLabel: label,
              ingressAnnotations: annotations,
              ...(service ? { serviceLabel: `Service ${ns}/${service.name}`, serviceAnnotations: service.object.metadata.annotations ?? {} } : {}),
              ...(port.servicePort ? { servicePort: port.servicePort } : {}),
              port: port.port,
              ...(ticc
                ? {
                    classConfig: {
                      label: `TunnelIngressClassConfig ${ticc.metadata.namespace}/${ticc.metadata.name}`,
                      ...(ticc.spec?.defaultProtocol ? { defaultProtocol: ticc.spec.defaultProtocol } : {}),
                    },
                  }
                : {}),
            });
      const { originRequest, dropped } = predictedOriginRequest(annotations, ticc?.spec?.defaultOriginRequest);
      const view: IngressBackendView = {
        ingress,
        label,
        namespace: ns,
        ruleIndex,
        pathIndex,
        host: rule.host ?? '',
        port,
        url: backend ? operatorServiceUrl(chain?.protocol ?? 'http', backend.name, ns, port.port) : 'http_status:503',
        originRequest,
        droppedOriginRequest: dropped,
        cls,
        driftChecked: false,
        drift: [],
      };
      if (p.path !== undefined) view.path = p.path;
      if (p.pathType !== undefined) view.pathType = p.pathType;
      const rulePath = operatorPath(p.path, p.pathType);
      if (rulePath !== undefined) view.rulePath = rulePath;
      if (backend) view.serviceName = backend.name;
      if (service) view.service = service;
      if (chain) view.chain = chain;
      if (classConfig) view.classConfig = classConfig;
      const unserved =
        cls.ours === false
          ? `not served by the Cloudflare operator: ${cls.evidence}`
          : cls.ours === 'unknown'
            ? `whether the Cloudflare operator serves it is unknown: ${cls.evidence}`
            : !cls.rulesAdded
              ? cls.evidence
              : classConfig?.problem
                ? `the operator cannot reconcile it: ${classConfig.problem}`
                : view.host === ''
                  ? 'the rule has no host: the operator drops host-less rules (they would be catch-alls)'
                  : undefined;
      if (unserved) view.unserved = unserved;
      out.push(view);
    });
  });
  return out;
}


function configKey(c: KObject): string {
  return `${c.metadata.namespace}/${c.metadata.name}`;
}

/** A TunnelIngressClassConfig's tunnelRef as a tunnel (`GetTunnelNamespace`: ClusterTunnel none, else the ref's or the config's namespace). */
function classConfigTunnel(ticc: TunnelIngressClassConfig): TunnelIdentity | undefined {
  const ref = ticc.spec?.tunnelRef;
  if (!ref?.name) return undefined;
  return ref.kind === 'ClusterTunnel'
    ? { kind: 'ClusterTunnel', name: ref.name, flavour: 'operator' }
    : { kind: 'Tunnel', namespace: ref.namespace ?? (ticc.metadata.namespace as string), name: ref.name, flavour: 'operator' };
}

/** The cloudflared pods of a tunnel: the operator labels them `cloudflare-operator.io/tunnel=<name>` (adyanth's: `cfargotunnel.com/tunnel`). */
function tunnelPods(t: TunnelIdentity | undefined, via: string, pods: readonly PodView[]): { pods: PodView[]; evidence: string } {
  if (!t) return { pods: [], evidence: `${via} has no spec.tunnelRef: its cloudflared pods cannot be found` };
  const label = t.flavour === 'adyanth' ? 'cfargotunnel.com/tunnel' : OPERATOR_LABEL.podTunnel;
  const namespace = t.kind === 'ClusterTunnel' ? undefined : t.namespace;
  const found = pods.filter((p) => p.labels[label] === t.name && (namespace === undefined || p.namespace === namespace));
  const selector = `${label}=${t.name}${namespace ? ` in ${namespace}` : ''}`;
  const of = `tunnelRef ${t.kind} ${t.name} of ${via}`;
  if (found.length === 0) return { pods: [], evidence: `no cloudflared pod carries ${selector} (${of})` };
  const names = [...new Set(found.map((p) => (p.owner ? `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}` : `Pod ${p.namespace}/${p.name}`)))];
  return { pods: found, evidence: `${names.join(', ')} found by label ${selector} (${of})` };
}

/** The writers of one tunnel: what the operator's tunnel-config controller aggregates into its config. */
interface TunnelGroup {
  key: string;
  tunnel?: TunnelIdentity;
  ingress: Array<{ ticc: TunnelIngressClassConfig; backends: IngressBackendView[] }>;
  /** One source per TunnelBinding, each carrying the rules of every binding of the tunnel's name. */
  bindings: Array<{ binding: BindingView; rules: WrittenRule[] }>;
  /** One source per TunnelGatewayClassConfig. */
  gateways: Array<{ config: TunnelGatewayClassConfig; rules: WrittenRule[]; status?: unknown }>;
}

interface Covering {
  tunnel: TunnelConfig;
  /** Rules of this layout are compared with what the writers produce (the current operator's config.json). */
  comparable: boolean;
  how: string;
}

/** The real config in the input that carries a tunnel's rules, if any: by one of its sources, by tunnel id, or the ConfigMap its pods mount. */
function coveringConfig(group: TunnelGroup, podsFound: PodView[], tunnels: readonly TunnelConfig[], operatorTunnels: readonly OperatorTunnel[]): Covering | undefined {
  const real = tunnels.filter((t) => !t.predicted);
  const keys = new Set([
    ...group.ingress.map((i) => `Ingress/${configKey(i.ticc)}`),
    ...group.bindings.map((b) => `TunnelBinding/${configKey(b.binding.binding)}`),
    ...group.gateways.map((g) => `HTTPRoute/${configKey(g.config)}`),
  ]);
  const source = (r: TunnelRule): string => (r.source ? `${r.source.kind}/${r.source.namespace ? `${r.source.namespace}/` : ''}${r.source.name}` : '');
  const bySource = real.find((t) => t.layout === 'operator-json' && t.rules.some((r) => keys.has(source(r))));
  if (bySource) {
    const k = bySource.rules.map(source).find((x) => keys.has(x)) as string;
    return { tunnel: bySource, comparable: true, how: `its source ${k}` };
  }
  const ids = new Set<string>();
  const statusId = (o: unknown): void => {
    const id = (o as { status?: { tunnelId?: unknown } } | undefined)?.status?.tunnelId;
    if (typeof id === 'string' && id) ids.add(id);
  };
  for (const i of group.ingress) statusId(i.ticc);
  for (const g of group.gateways) statusId(g.config);
  if (group.tunnel) statusId(operatorTunnels.find((o) => o.kind === group.tunnel?.kind && o.metadata.name === group.tunnel.name && (o.kind === 'ClusterTunnel' || o.metadata.namespace === group.tunnel.namespace)));
  for (const p of podsFound) if (p.labels[OPERATOR_LABEL.podId]) ids.add(p.labels[OPERATOR_LABEL.podId] as string);
  const byTunnel = real.find((t) => t.layout === 'operator-json' && ((t.tunnelId !== undefined && ids.has(t.tunnelId)) || t.connectors.some((c) => podsFound.includes(c))));
  if (byTunnel) return { tunnel: byTunnel, comparable: true, how: `the tunnel id ${byTunnel.tunnelId ?? '?'} of its tunnelRef` };
  const byMount = real.find(
    (t) =>
      t.layout === 'cloudflared-yaml' &&
      (t.connectors.some((c) => podsFound.includes(c)) ||
        // adyanth's operator keeps config.yaml in a ConfigMap named after the tunnel, in its namespace.
        (group.tunnel?.flavour === 'adyanth' && t.configMap?.metadata.name === group.tunnel.name && t.namespace === tunnelNamespace(group.tunnel))),
  );
  if (byMount) return { tunnel: byMount, comparable: false, how: 'the ConfigMap its tunnel pods mount' };
  return undefined;
}

function sameRule(b: IngressBackendView, r: TunnelRule): boolean {
  return (r.hostname ?? '') === b.host && (r.path ?? '') === (b.rulePath ?? '');
}

/** How a real rule differs from the chain's (scheme, Service, port); empty when they agree. */
function driftOf(b: IngressBackendView, r: TunnelRule, clusterDomain: string): string[] {
  if (!b.serviceName) return r.service === b.url ? [] : [`service: the config has ${r.service}, the operator writes ${b.url} for a resource backend`];
  const url = parseOriginUrl(r.service);
  if (!url) return [`service: the config has ${r.service}, the chain resolves ${b.url}`];
  const out: string[] = [];
  const scheme = (b.chain?.protocol ?? 'http').toLowerCase();
  if (url.scheme !== scheme) out.push(`scheme: the config has ${url.scheme}://, the chain resolves ${scheme} (level ${b.chain?.level}: ${b.chain?.source})`);
  const address = serviceAddress(url.host, b.namespace, clusterDomain);
  if (!address || address.name !== b.serviceName || address.namespace !== b.namespace) {
    out.push(`host: the config has ${url.host}, the backend is Service ${b.namespace}/${b.serviceName} (${b.serviceName}.${b.namespace}.svc)`);
  }
  if (url.port !== b.port.port) out.push(`port: the config has ${url.port ?? '(none)'}, the operator resolves ${b.port.port} (${b.port.evidence})`);
  return out;
}

/** How a real rule differs from what a TunnelBinding or HTTPRoute writes today (service, the settings it carries). */
function writtenDrift(w: WrittenRule, r: TunnelRule): string[] {
  const out: string[] = [];
  if (r.service !== w.service) out.push(`service: the config has ${r.service}, ${w.label} writes ${w.service}${w.protocol.source ? ` (${w.protocol.source})` : ''}`);
  for (const key of ['noTLSVerify', 'http2Origin'] as const) {
    const want = w.originRequest?.[key] === true;
    const have = r.originRequest?.[key] === true;
    if (want !== have) out.push(`originRequest.${key}: the config has ${have}, ${w.label} writes ${want}`);
  }
  return out;
}

function linkIngress(served: IngressBackendView[], ticc: TunnelIngressClassConfig, covering: Covering, clusterDomain: string, ingressNamespaces: Set<string>, stale: StaleRule[]): void {
  const ns = ticc.metadata.namespace;
  const name = ticc.metadata.name;
  const isSource = (r: TunnelRule) => r.source?.kind === 'Ingress' && r.source.namespace === ns && r.source.name === name;
  const sourceRules = covering.comparable ? covering.tunnel.rules.filter(isSource) : covering.tunnel.rules;
  const used = new Set<TunnelRule>();
  for (const b of served) {
    const r = sourceRules.find((x) => !used.has(x) && sameRule(b, x));
    b.driftChecked = covering.comparable;
    b.coveringConfig = covering.tunnel;
    if (!r) {
      if (covering.comparable) {
        const status = covering.tunnel.syncStatus ? ` (syncStatus ${covering.tunnel.syncStatus})` : '';
        b.drift = [`missing: ${covering.tunnel.label}${status}, the config of this tunnel (found by ${covering.how}), has no rule for ${b.host}${b.rulePath ? ` path ${b.rulePath}` : ''}`];
      }
      continue;
    }
    used.add(r);
    r.backend = b;
    b.rule = r;
    b.tunnel = covering.tunnel;
    if (covering.comparable) b.drift = driftOf(b, r, clusterDomain);
  }
  if (!covering.comparable) return;
  for (const r of sourceRules) {
    if (used.has(r)) continue;
    const url = parseOriginUrl(r.service);
    const rns = url ? serviceAddress(url.host, covering.tunnel.namespace, clusterDomain)?.namespace : undefined;
    if (rns && ingressNamespaces.has(rns)) {
      stale.push({ tunnel: covering.tunnel, rule: r, why: `no Ingress of ${`TunnelIngressClassConfig ${configKey(ticc)}`} in namespace ${rns} has host ${r.hostname ?? '(none)'}${r.path ? ` path ${r.path}` : ''}` });
    }
  }
}

/** Links the rules of one TunnelBinding or TunnelGatewayClassConfig source to the real config's rules of that source (by hostname, path, then service). */
function linkWritten(rules: WrittenRule[], sourceKey: string, covering: Covering): void {
  const [kind, ns, name] = sourceKey.split('/');
  const inSource = (r: TunnelRule): boolean => !covering.comparable || (r.source !== undefined && r.source.kind === kind && (r.source.namespace ?? '') === (ns ?? '') && r.source.name === name);
  const candidates = covering.tunnel.rules.filter((r) => !r.synthetic && inSource(r));
  const used = new Set<TunnelRule>();
  const key = (x: { hostname?: string; path?: string }): string => `${x.hostname ?? ''}\u0000${x.path ?? ''}`;
  for (const w of rules) {
    if (w.rule) continue; // a rule of several sources is linked through its own binding's source
    const same = candidates.filter((r) => !used.has(r) && key(r) === key(w));
    const r = same.find((x) => x.service === w.service) ?? same[0];
    w.driftChecked = covering.comparable;
    w.config = covering.tunnel;
    if (!r) {
      if (covering.comparable) {
        const status = covering.tunnel.syncStatus ? ` (syncStatus ${covering.tunnel.syncStatus})` : '';
        w.drift = [`missing: ${covering.tunnel.label}${status}, the config of this tunnel (found by ${covering.how}), has no rule of ${sourceKey} for ${w.hostname || '(no hostname)'}${w.path ? ` path ${w.path}` : ''}`];
      }
      continue;
    }
    used.add(r);
    r.written = w;
    w.rule = r;
    if (covering.comparable) w.drift = writtenDrift(w, r);
  }
}

export function buildOperatorView(input: OperatorInput): OperatorView {
  const backends = input.ingresses.flatMap((i) => ingressBackends(i, input));
  const ctx = input.sources;
  const bindings = ctx ? (input.bindings ?? []).map((b) => bindingView(ctx, b)) : [];
  const gatewayViews: GatewayRules[] = [];
  if (ctx) {
    for (const gw of input.gateways ?? []) {
      const chain = gatewayChain(gw, input.gatewayClasses ?? [], input.gatewayConfigs ?? [], ctx);
      if (chain.ours === false) continue;
      gatewayViews.push(unservedGateway(gatewayRules(ctx, chain, input.routes ?? []), chain));
    }
  }
  const written = [...bindings.flatMap((b) => b.rules), ...gatewayViews.flatMap((g) => [...g.rules, ...g.skipped])];

  // Group the writers by the tunnel they name.
  const groups = new Map<string, TunnelGroup>();
  const groupOf = (t: TunnelIdentity | undefined, fallbackKey: string): TunnelGroup => {
    const key = t ? tunnelKey(t) : fallbackKey;
    let g = groups.get(key);
    if (!g) {
      g = { key, ingress: [], bindings: [], gateways: [], ...(t ? { tunnel: t } : {}) };
      groups.set(key, g);
    }
    return g;
  };
  const byClassConfig = new Map<string, { ticc: TunnelIngressClassConfig; backends: IngressBackendView[] }>();
  for (const b of backends) {
    const ticc = b.classConfig?.config;
    if (b.unserved || !ticc) continue;
    const entry = byClassConfig.get(configKey(ticc)) ?? { ticc, backends: [] };
    entry.backends.push(b);
    byClassConfig.set(configKey(ticc), entry);
  }
  for (const entry of byClassConfig.values()) groupOf(classConfigTunnel(entry.ticc), `TunnelIngressClassConfig/${configKey(entry.ticc)}`).ingress.push(entry);
  for (const b of bindings) {
    if (b.unserved || !b.tunnel) continue;
    groupOf(b.tunnel, '').bindings.push({ binding: b, rules: b.flavour === 'adyanth' ? b.rules.filter((r) => !r.unserved) : bindingSourceRules(b, bindings) });
  }
  const sharedGatewaySources: OperatorView['sharedGatewaySources'] = [];
  const byGatewayConfig = new Map<string, GatewayRules[]>();
  for (const g of gatewayViews) {
    if (!g.chain.config || g.chain.problem || !g.chain.tunnel) continue;
    const key = configKey(g.chain.config);
    byGatewayConfig.set(key, [...(byGatewayConfig.get(key) ?? []), g]);
  }
  for (const list of byGatewayConfig.values()) {
    const config = (list[0] as GatewayRules).chain.config as TunnelGatewayClassConfig;
    if (list.length > 1) sharedGatewaySources.push({ config, gateways: list });
    // Several Gateways overwrite one source; every Gateway's rules are judged (TM311 says only one survives).
    groupOf((list[0] as GatewayRules).chain.tunnel, '').gateways.push({ config, rules: list.flatMap((g) => g.rules) });
  }

  const predicted: TunnelConfig[] = [];
  const stale: StaleRule[] = [];
  const ingressNamespaces = new Set(input.ingresses.map((i) => i.metadata.namespace as string));
  for (const group of groups.values()) {
    const onlyClassConfig = group.bindings.length === 0 && group.gateways.length === 0 && group.ingress.length === 1 ? (group.ingress[0] as { ticc: TunnelIngressClassConfig }).ticc : undefined;
    const via = onlyClassConfig
      ? `TunnelIngressClassConfig ${configKey(onlyClassConfig)}`
      : [
          ...group.ingress.map((i) => `TunnelIngressClassConfig ${configKey(i.ticc)}`),
          ...group.bindings.map((b) => b.binding.label),
          ...group.gateways.map((g) => `TunnelGatewayClassConfig ${configKey(g.config)}`),
        ].join(', ');
    const found = tunnelPods(group.tunnel, via, input.pods);
    const covering = coveringConfig(group, found.pods, input.tunnels, input.operatorTunnels ?? []);
    if (covering) {
      for (const i of group.ingress) linkIngress(i.backends, i.ticc, covering, input.clusterDomain, ingressNamespaces, stale);
      for (const b of group.bindings) linkWritten(b.binding.rules.filter((r) => !r.unserved), `TunnelBinding/${configKey(b.binding.binding)}`, covering);
      for (const g of group.gateways) linkWritten(g.rules, `HTTPRoute/${configKey(g.config)}`, covering);
      continue;
    }
    const drafts: Array<Omit<TunnelRule, 'index'>> = [];
    for (const { backends: served } of group.ingress) {
      // Within one Ingress source the operator sorts by hostname, then path ("" first).
      const ordered = [...served].sort((a, b) => compareStrings(a.host, b.host) || compareStrings(a.rulePath ?? '', b.rulePath ?? ''));
      drafts.push(
        ...ordered.map((b) => ({
          hostname: b.host,
          ...(b.rulePath ? { path: b.rulePath } : {}),
          service: b.url,
          originRequest: b.originRequest,
          priority: INGRESS_RULE_PRIORITY,
          source: { kind: 'Ingress', namespace: b.namespace, name: b.ingress.metadata.name },
          backend: b,
        })),
      );
    }
    const draftOf = (w: WrittenRule, source: { kind: string; namespace?: string; name: string }): Omit<TunnelRule, 'index'> => ({
      ...(w.hostname ? { hostname: w.hostname } : {}),
      ...(w.path ? { path: w.path } : {}),
      service: w.service,
      ...(w.originRequest ? { originRequest: w.originRequest } : {}),
      priority: w.priority,
      source,
      written: w,
    });
    for (const { binding, rules } of group.bindings) {
      drafts.push(...rules.map((w) => draftOf(w, { kind: 'TunnelBinding', namespace: binding.namespace, name: binding.binding.metadata.name })));
    }
    for (const { config, rules } of group.gateways) {
      drafts.push(...rules.map((w) => draftOf(w, { kind: 'HTTPRoute', namespace: config.metadata.namespace as string, name: config.metadata.name })));
    }
    if (drafts.length === 0) continue; // every writer of this tunnel writes nothing (yet): no config to predict
    const adyanth = group.tunnel?.flavour === 'adyanth';
    // adyanth's operator writes its bindings' rules in order and ends with the tunnel's fallbackTarget (default http_status:404).
    // The operator's order among rules of one priority and hostname is Go's unstable sort: any fixed order is as true,
    // and one that does not depend on the input's order keeps the output the same for the same objects.
    if (!adyanth) drafts.sort((a, b) => compareOperatorRules(a, b) || compareStrings(a.path ?? '', b.path ?? '') || compareStrings(draftKey(a), draftKey(b)));
    const rules = withOperatorCatchAll(drafts);
    const t = group.tunnel;
    const tunnelObject = t ? findTunnel(input.sources ?? { service: () => undefined, servicesCollected: () => false, tunnels: input.operatorTunnels ?? [], complete: () => false }, t) : undefined;
    const firstWriter: KObject | undefined = onlyClassConfig ?? tunnelObject ?? group.ingress[0]?.ticc ?? group.bindings[0]?.binding.binding ?? group.gateways[0]?.config;
    const ns = onlyClassConfig ? (onlyClassConfig.metadata.namespace as string) : t ? tunnelNamespace(t) : ((firstWriter?.metadata.namespace as string | undefined) ?? OPERATOR_NAMESPACE);
    const config: TunnelConfig = {
      label: onlyClassConfig ? `TunnelIngressClassConfig ${configKey(onlyClassConfig)}` : t ? formatTunnel(t) : via,
      object: firstWriter as KObject,
      namespace: ns,
      key: onlyClassConfig
        ? 'predicted: no tunnel config for it in the input, these are the rules the operator writes for its Ingresses'
        : `predicted: no tunnel config for it in the input, these are the rules the operator writes for ${via}`,
      layout: 'operator-predicted',
      predicted: true,
      rules,
      connectors: found.pods,
      connectorEvidence: found.evidence,
      problems: [],
    };
    if (t) config.tunnelName = t.name;
    for (const r of rules) {
      if (r.backend) {
        r.backend.rule = r;
        r.backend.tunnel = config;
      }
      const w = r.written;
      if (w && !w.rule) {
        w.rule = r;
        w.config = config;
      }
    }
    predicted.push(config);
  }
  return { backends, bindings, gateways: gatewayViews, written, sharedGatewaySources, predicted, stale };
}

/** A Gateway whose chain breaks writes nothing: every rule it would write says why. */
function unservedGateway(g: GatewayRules, chain: GatewayChain): GatewayRules {
  const why = chain.ours === 'unknown' ? `whether the Cloudflare operator serves ${chain.label} is unknown: ${chain.evidence.join('; ')}` : chain.problem ? `${chain.label}: ${chain.problem}` : undefined;
  if (!why) return g;
  for (const r of g.rules) r.unserved = why;
  return { chain, rules: [], skipped: [...g.skipped, ...g.rules] };
}

function draftKey(r: Omit<TunnelRule, 'index'>): string {
  const s = r.source;
  return `${s ? `${s.kind}/${s.namespace ?? ''}/${s.name}` : ''}\u0000${r.backend?.label ?? r.written?.label ?? ''}\u0000${r.service}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
