// The Cloudflare operator applied to the input: every Ingress backend with the rule the operator
// writes for it, linked to the rule that really serves it. When a tunnel config for its
// TunnelIngressClassConfig is in the input, that config is the truth and the chain's rule is
// compared with it (drift); when none is (manifests in CI), the chain's rules become a predicted
// config whose clients are the tunnel's cloudflared pods, judged like any other.

import type { Ingress, IngressClass, TunnelIngressClassConfig } from '../core/k8s.js';
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
  /** Configs the operator would write, for class configs no config in the input covers. */
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

function configKey(c: TunnelIngressClassConfig): string {
  return `${c.metadata.namespace}/${c.metadata.name}`;
}

/** The cloudflared pods of a class config's tunnelRef (operator label `cloudflare-operator.io/tunnel=<name>`). */
function tunnelPods(ticc: TunnelIngressClassConfig, pods: readonly PodView[]): { pods: PodView[]; evidence: string } {
  const ref = ticc.spec?.tunnelRef;
  const label = `TunnelIngressClassConfig ${configKey(ticc)}`;
  if (!ref?.name) return { pods: [], evidence: `${label} has no spec.tunnelRef: its cloudflared pods cannot be found` };
  const kind = ref.kind ?? 'Tunnel';
  const namespace = kind === 'ClusterTunnel' ? undefined : (ref.namespace ?? ticc.metadata.namespace);
  const found = pods.filter((p) => p.labels[OPERATOR_LABEL.podTunnel] === ref.name && (namespace === undefined || p.namespace === namespace));
  const selector = `${OPERATOR_LABEL.podTunnel}=${ref.name}${namespace ? ` in ${namespace}` : ''}`;
  if (found.length === 0) return { pods: [], evidence: `no cloudflared pod carries ${selector} (tunnelRef ${kind} ${ref.name} of ${label})` };
  const names = [...new Set(found.map((p) => (p.owner ? `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}` : `Pod ${p.namespace}/${p.name}`)))];
  return { pods: found, evidence: `${names.join(', ')} found by label ${selector} (tunnelRef ${kind} ${ref.name} of ${label})` };
}

interface Covering {
  tunnel: TunnelConfig;
  /** The config's rules written for this class config (its `Ingress/<ns>/<name>` source). */
  sourceRules: TunnelRule[];
  /** Rules of this layout are compared with the chain (the current operator's config.json). */
  comparable: boolean;
  how: string;
}

/** The real config in the input that carries a class config's Ingress rules, if any. */
function coveringConfig(ticc: TunnelIngressClassConfig, tunnelPodsFound: PodView[], tunnels: readonly TunnelConfig[]): Covering | undefined {
  const ns = ticc.metadata.namespace;
  const name = ticc.metadata.name;
  const real = tunnels.filter((t) => !t.predicted);
  const isSource = (r: TunnelRule) => r.source?.kind === 'Ingress' && r.source.namespace === ns && r.source.name === name;
  const bySource = real.find((t) => t.layout === 'operator-json' && t.rules.some(isSource));
  if (bySource) return { tunnel: bySource, sourceRules: bySource.rules.filter(isSource), comparable: true, how: `its source Ingress/${ns}/${name}` };
  const statusId = (ticc as { status?: { tunnelId?: unknown } }).status?.tunnelId;
  const podIds = new Set(tunnelPodsFound.map((p) => p.labels[OPERATOR_LABEL.podId]).filter(Boolean));
  const byTunnel = real.find(
    (t) => t.layout === 'operator-json' && ((typeof statusId === 'string' && t.tunnelId === statusId) || (t.tunnelId !== undefined && podIds.has(t.tunnelId)) || t.connectors.some((c) => tunnelPodsFound.includes(c))),
  );
  if (byTunnel) return { tunnel: byTunnel, sourceRules: [], comparable: true, how: `the tunnel id ${byTunnel.tunnelId ?? '?'} of its tunnelRef` };
  const byMount = real.find((t) => t.layout === 'cloudflared-yaml' && t.connectors.some((c) => tunnelPodsFound.includes(c)));
  if (byMount) return { tunnel: byMount, sourceRules: byMount.rules, comparable: false, how: 'the ConfigMap its tunnel pods mount' };
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

export function buildOperatorView(input: OperatorInput): OperatorView {
  const backends = input.ingresses.flatMap((i) => ingressBackends(i, input));
  const byClassConfig = new Map<string, { ticc: TunnelIngressClassConfig; backends: IngressBackendView[] }>();
  for (const b of backends) {
    const ticc = b.classConfig?.config;
    if (b.unserved || !ticc) continue;
    const entry = byClassConfig.get(configKey(ticc)) ?? { ticc, backends: [] };
    entry.backends.push(b);
    byClassConfig.set(configKey(ticc), entry);
  }
  const predicted: TunnelConfig[] = [];
  const stale: StaleRule[] = [];
  const ingressNamespaces = new Set(input.ingresses.map((i) => i.metadata.namespace as string));
  for (const { ticc, backends: served } of byClassConfig.values()) {
    const found = tunnelPods(ticc, input.pods);
    const covering = coveringConfig(ticc, found.pods, input.tunnels);
    if (covering) {
      const used = new Set<TunnelRule>();
      for (const b of served) {
        const r = covering.sourceRules.find((x) => !used.has(x) && sameRule(b, x));
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
        if (covering.comparable) b.drift = driftOf(b, r, input.clusterDomain);
      }
      if (covering.comparable) {
        for (const r of covering.sourceRules) {
          if (used.has(r)) continue;
          const url = parseOriginUrl(r.service);
          const ns = url ? serviceAddress(url.host, covering.tunnel.namespace, input.clusterDomain)?.namespace : undefined;
          if (ns && ingressNamespaces.has(ns)) {
            stale.push({ tunnel: covering.tunnel, rule: r, why: `no Ingress of ${`TunnelIngressClassConfig ${configKey(ticc)}`} in namespace ${ns} has host ${r.hostname ?? '(none)'}${r.path ? ` path ${r.path}` : ''}` });
          }
        }
      }
      continue;
    }
    // Within one Ingress source the operator sorts by hostname, then path ("" first).
    const ordered = [...served].sort((a, b) => compareStrings(a.host, b.host) || compareStrings(a.rulePath ?? '', b.rulePath ?? ''));
    const drafts: Array<Omit<TunnelRule, 'index'>> = ordered.map((b) => ({
      hostname: b.host,
      ...(b.rulePath ? { path: b.rulePath } : {}),
      service: b.url,
      originRequest: b.originRequest,
      priority: INGRESS_RULE_PRIORITY,
      source: { kind: 'Ingress', namespace: b.namespace, name: b.ingress.metadata.name },
      backend: b,
    }));
    drafts.sort(compareOperatorRules);
    const rules = withOperatorCatchAll(drafts);
    const ns = ticc.metadata.namespace as string;
    const config: TunnelConfig = {
      label: `TunnelIngressClassConfig ${ns}/${ticc.metadata.name}`,
      object: ticc,
      namespace: ns,
      key: 'predicted: no tunnel config for it in the input, these are the rules the operator writes for its Ingresses',
      layout: 'operator-predicted',
      predicted: true,
      rules,
      connectors: found.pods,
      connectorEvidence: found.evidence,
      problems: [],
    };
    const ref = ticc.spec?.tunnelRef?.name;
    if (ref) config.tunnelName = ref;
    for (const r of rules) {
      if (!r.backend) continue;
      r.backend.rule = r;
      r.backend.tunnel = config;
    }
    predicted.push(config);
  }
  return { backends, predicted, stale };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
