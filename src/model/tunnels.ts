// Tunnel configs (domain §9): the three layouts they live in, their ordered ingress rules,
// and the cloudflared pods (connectors) that serve each one.

import { LimitError, parseJson } from '../core/limits.js';
import { parseGoUrl } from './gourl.js';
import { isOperatorConfig, isRefusal, OPERATOR_LABEL, parseCloudflaredYaml } from '../core/wellknown.js';
import type { ConfigMap, HTTPRoute, Ingress, KObject, ServicePort, TunnelBinding } from '../core/k8s.js';
export { CONNECTOR_SELECTOR, isTunnelConfigMap, OPERATOR_LABEL } from '../core/wellknown.js';
import type { BackendPort, ClassConfigResolution, ClassResolution, ProtocolChain } from './operator.js';
import type { ServiceView } from './services.js';
import type { PodView } from './pods.js';


/**
 * operator-json: the Cloudflare operator's `tunnel-config-<id>` (config.json, pushed as remote config);
 * cloudflared-yaml: a cloudflared config.yaml in a ConfigMap (older operators, adyanth's, hand-written);
 * operator-predicted: not in the input — the rules the operator writes for the Ingresses, TunnelBindings
 * and HTTPRoutes of one tunnel (manifests in CI hold those, the operator writes the config at run time).
 */
export type TunnelLayout = 'operator-json' | 'cloudflared-yaml' | 'operator-predicted';

/** An Ingress backend as the Cloudflare operator reads it (built by operator-view.ts). */
export interface IngressBackendView {
  ingress: Ingress;
  /** `Ingress ns/name` */
  label: string;
  namespace: string;
  /** Position in the Ingress: spec.rules[ruleIndex].http.paths[pathIndex]. */
  ruleIndex: number;
  pathIndex: number;
  /** `spec.rules[].host` ('' when absent). */
  host: string;
  /** The path as written in the Ingress, and its pathType. */
  path?: string;
  pathType?: string;
  /** The path regexp the operator writes (undefined = all paths). */
  rulePath?: string;
  /** undefined: a resource backend (the operator writes http_status:503). */
  serviceName?: string;
  service?: ServiceView;
  port: BackendPort;
  /** The seven levels; undefined when the operator does not serve the Ingress. */
  chain?: ProtocolChain;
  /** The service the operator writes for it. */
  url: string;
  originRequest: Record<string, unknown>;
  /** originRequest settings asked for that the operator's ConfigMap path drops. */
  droppedOriginRequest: string[];
  cls: ClassResolution;
  classConfig?: ClassConfigResolution;
  /** Why the operator writes no rule for it; undefined = it writes one. */
  unserved?: string;
  /** The rule that serves it (the real config's when one covers its class config, else the predicted one). */
  rule?: TunnelRule;
  tunnel?: TunnelConfig;
  /** The real config that carries its class config's rules (also when it lacks this backend's rule). */
  coveringConfig?: TunnelConfig;
  /** A real operator config covers its class config, so the chain's rule was compared with it. */
  driftChecked: boolean;
  /** How the real rule differs from what the chain resolves today (empty: no drift). */
  drift: string[];
}

// ---- Rules the operator writes from TunnelBindings and HTTPRoutes (built by operator-sources.ts) ----

/** Which operator writes a binding's rules: its API group decides. */
export type Flavour = 'operator' | 'adyanth';

/** The Tunnel or ClusterTunnel a writer names, and which operator runs it. */
export interface TunnelIdentity {
  kind: 'Tunnel' | 'ClusterTunnel';
  /** Tunnel only. */
  namespace?: string;
  name: string;
  flavour: Flavour;
}

/** Where in its object a written rule comes from: a binding subject, or an HTTPRoute backendRef for one hostname and match. */
export type WrittenAt =
  | { kind: 'subject'; subject: number }
  | { kind: 'backendRef'; rule: number; match?: number; backend: number; hostname: string; gateway: { namespace: string; name: string } };

/** A rule the operator writes from a TunnelBinding subject or an HTTPRoute backend. */
export interface WrittenRule {
  writerKind: 'TunnelBinding' | 'HTTPRoute';
  /** The object whose edit changes the rule. */
  writer: TunnelBinding | HTTPRoute;
  /** `TunnelBinding app/web subjects[0] (web)`, `HTTPRoute default/api rules[0].backendRefs[0] (api-v1:8080)`. */
  label: string;
  /** Namespace of the writer. */
  namespace: string;
  at: WrittenAt;
  /** The config.json source key the operator writes it under. */
  sourceKey: string;
  /** The hostname ('' : none, an HTTPRoute without hostnames). */
  hostname: string;
  /** True when the hostname is the subject name plus a domain not in the input. */
  hostnameAssumed?: string;
  path?: string;
  service: string;
  originRequest?: Record<string, unknown>;
  priority: number;
  /** The Service the operator looks up for it, and the port it writes. */
  serviceRef?: { namespace: string; name: string; port?: number };
  svc?: ServiceView;
  servicePort?: ServicePort;
  /** How the scheme was decided, naming the objects and fields read. */
  protocol: { scheme: string; source: string };
  /** Settings asked for that the operator does not write. */
  dropped: string[];
  /** Why no rule is written (or why it is not known what is written); the rule is then in no config. */
  unserved?: string;
  /** The tunnel whose config holds it. */
  tunnel?: TunnelIdentity;
  /** The rule that serves it (real or predicted) and its config. */
  rule?: TunnelRule;
  config?: TunnelConfig;
  /** A real operator config holds this writer's source and was compared. */
  driftChecked: boolean;
  drift: string[];
}

export interface TunnelRule {
  /** Position in the final, ordered rule list cloudflared evaluates. */
  index: number;
  hostname?: string;
  path?: string;
  service: string;
  originRequest?: Record<string, unknown>;
  /** Operator layout: the object the rule came from (Ingress app/x, TunnelBinding …). */
  source?: { kind: string; namespace?: string; name: string };
  priority?: number;
  /** Appended by the operator, not written by anyone. */
  synthetic?: boolean;
  /** The Ingress backend the operator builds this rule from (predicted rules, and real ones matched by host and path). */
  backend?: IngressBackendView;
  /** The TunnelBinding subject or HTTPRoute backend the operator builds it from (predicted, or matched in a real config). */
  written?: WrittenRule;
}

export interface TunnelConfig {
  /** `ConfigMap ns/name` — how findings name the config. */
  label: string;
  /** The ConfigMap it was read from; for a predicted config, the TunnelIngressClassConfig. */
  object: KObject;
  configMap?: ConfigMap;
  namespace: string;
  /** The ConfigMap key (or, predicted, what the rules stand for). */
  key: string;
  layout: TunnelLayout;
  predicted: boolean;
  /** Who wrote a cloudflared YAML config, when it shows (an older operator, adyanth's operator). */
  managedBy?: string;
  /** config.json `syncStatus` (Synced, Error). */
  syncStatus?: string;
  tunnelId?: string;
  tunnelName?: string;
  rules: TunnelRule[];
  /** Top-level originRequest (cloudflared YAML; operator: the first Tunnel/ClusterTunnel source's settings). */
  originRequest?: Record<string, unknown>;
  /** The cloudflared pods (or templates) that run with this config. */
  connectors: PodView[];
  /** Why the connectors are what they are (or why none were found). */
  connectorEvidence: string;
  /** Live: none were found and the Pods where they would run were not all seen (why). */
  connectorsUnseen?: string;
  /** Problems parsing the config itself. */
  problems: string[];
  /** tunnelmesh refused to read it (its own input limits): nothing is judged, nothing claimed of cloudflared. */
  refused?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toRule(raw: unknown, index: number): TunnelRule | undefined {
  if (!isObject(raw)) return undefined;
  const rule: TunnelRule = { index, service: typeof raw.service === 'string' ? raw.service : '' };
  if (typeof raw.hostname === 'string' && raw.hostname !== '') rule.hostname = raw.hostname;
  if (typeof raw.path === 'string' && raw.path !== '') rule.path = raw.path;
  if (isObject(raw.originRequest)) rule.originRequest = raw.originRequest;
  if (typeof raw.priority === 'number') rule.priority = raw.priority;
  return rule;
}

/**
 * Operator v0.34+: `config.json` holds `sources` (one per TunnelIngressClassConfig, Tunnel,
 * TunnelBinding, HTTPRoute) each with rules; the operator pushes every source's rules sorted by
 * priority (lower first), then hostname, and appends `http_status:404` when any rule exists.
 * Path is not a sort key and its sort is unstable, so rules for one hostname keep no
 * guaranteed order (kept here in source order; TM309 says so when it matters).
 */
function operatorSources(json: Record<string, unknown>): unknown[] {
  return isObject(json.sources) ? Object.values(json.sources) : Array.isArray(json.sources) ? json.sources : [];
}

/** The config-wide originRequest: the first Tunnel/ClusterTunnel source with settings.originRequest. */
function operatorGlobalOriginRequest(json: Record<string, unknown>): Record<string, unknown> | undefined {
  for (const source of operatorSources(json)) {
    if (!isObject(source) || (source.kind !== 'Tunnel' && source.kind !== 'ClusterTunnel')) continue;
    const settings = source.settings;
    if (isObject(settings) && isObject(settings.originRequest)) return settings.originRequest;
  }
  return undefined;
}

function operatorRules(json: Record<string, unknown>): TunnelRule[] {
  const collected: Array<Omit<TunnelRule, 'index'>> = [];
  for (const source of operatorSources(json)) {
    if (!isObject(source) || !Array.isArray(source.rules)) continue;
    const ref = {
      kind: typeof source.kind === 'string' ? source.kind : 'Source',
      name: typeof source.name === 'string' ? source.name : '?',
      ...(typeof source.namespace === 'string' && source.namespace ? { namespace: source.namespace } : {}),
    };
    for (const raw of source.rules) {
      const rule = toRule(raw, 0);
      if (rule) collected.push({ ...rule, source: ref });
    }
  }
  collected.sort(compareOperatorRules); // Array.prototype.sort is stable: ties keep source order
  return withOperatorCatchAll(collected);
}

/** Indexes rules in order and appends the operator's hard-coded catch-all (only when a rule exists). */
export function withOperatorCatchAll(sorted: Array<Omit<TunnelRule, 'index'>>): TunnelRule[] {
  const rules: TunnelRule[] = sorted.map((r, index) => ({ ...r, index }));
  if (rules.length > 0) rules.push({ index: rules.length, service: 'http_status:404', synthetic: true });
  return rules;
}

export function compareOperatorRules(a: Omit<TunnelRule, 'index'>, b: Omit<TunnelRule, 'index'>): number {
  const pa = a.priority ?? 0;
  const pb = b.priority ?? 0;
  if (pa !== pb) return pa - pb;
  const ha = a.hostname ?? '';
  const hb = b.hostname ?? '';
  return ha < hb ? -1 : ha > hb ? 1 : 0;
}

/** Every tunnel config found in the ConfigMaps, with its connectors. */
export function discoverTunnels(configMaps: ConfigMap[], pods: PodView[]): TunnelConfig[] {
  const out: TunnelConfig[] = [];
  for (const cm of configMaps) {
    const ns = cm.metadata.namespace as string;
    if (isOperatorConfig(cm)) {
      out.push(operatorTunnel(cm, ns, pods));
      continue;
    }
    for (const [key, text] of Object.entries(cm.data ?? {})) {
      const parsed = parseCloudflaredYaml(text);
      if (!parsed) continue;
      const problems: string[] = 'error' in parsed ? [`key ${key} ${parsed.error}`] : [];
      const rules: TunnelRule[] = [];
      if (!('error' in parsed)) {
        parsed.ingress.forEach((raw, i) => {
          const rule = toRule(raw, i);
          if (rule) rules.push(rule);
          else problems.push(`ingress[${i}] is not a mapping`);
        });
      }
      const connectors = pods.filter((p) => p.namespace === ns && p.isCloudflared && mountsConfigMap(p, cm.metadata.name));
      const tunnel: TunnelConfig = {
        label: `ConfigMap ${ns}/${cm.metadata.name}`,
        object: cm,
        configMap: cm,
        namespace: ns,
        key,
        layout: 'cloudflared-yaml',
        predicted: false,
        rules,
        connectors,
        connectorEvidence: connectors.length
          ? `${connectorNames(connectors)} mount${connectors.length === 1 ? 's' : ''} ConfigMap ${ns}/${cm.metadata.name}`
          : `no cloudflared pod in ${ns} mounts ConfigMap ${cm.metadata.name}`,
        problems,
      };
      if ('error' in parsed) {
        if (parsed.refused) tunnel.refused = true;
        out.push(tunnel);
        continue;
      }
      const managedBy = yamlManager(cm, connectors);
      if (managedBy) tunnel.managedBy = managedBy;
      if (parsed.tunnel) tunnel.tunnelName = parsed.tunnel;
      if (parsed.originRequest) tunnel.originRequest = parsed.originRequest;
      out.push(tunnel);
    }
  }
  return out;
}

function operatorTunnel(cm: ConfigMap, ns: string, pods: PodView[]): TunnelConfig {
  const problems: string[] = [];
  let refused = false;
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = parseJson(cm.data?.['config.json'] ?? '');
    if (isObject(parsed)) json = parsed;
    else problems.push('config.json is not a JSON object');
  } catch (err) {
    problems.push(`config.json ${err instanceof LimitError ? 'is refused' : 'is not valid JSON'}: ${(err as Error).message}`);
    if (isRefusal(err)) refused = true;
  }
  const tunnelId =
    (typeof json.tunnelId === 'string' && json.tunnelId) ||
    cm.metadata.labels?.[OPERATOR_LABEL.tunnelId] ||
    (cm.metadata.name.startsWith('tunnel-config-') ? cm.metadata.name.slice('tunnel-config-'.length) : undefined);
  const tunnelName = typeof json.tunnelName === 'string' && json.tunnelName ? json.tunnelName : undefined;
  let connectors = tunnelId ? pods.filter((p) => p.labels[OPERATOR_LABEL.podId] === tunnelId) : [];
  let how = `label ${OPERATOR_LABEL.podId}=${tunnelId}`;
  if (connectors.length === 0 && tunnelName) {
    connectors = pods.filter((p) => p.labels[OPERATOR_LABEL.podTunnel] === tunnelName);
    how = `label ${OPERATOR_LABEL.podTunnel}=${tunnelName}`;
  }
  const tunnel: TunnelConfig = {
    label: `ConfigMap ${ns}/${cm.metadata.name}`,
    object: cm,
    configMap: cm,
    namespace: ns,
    key: 'config.json',
    layout: 'operator-json',
    predicted: false,
    rules: problems.length ? [] : operatorRules(json),
    connectors,
    connectorEvidence: connectors.length
      ? `${connectorNames(connectors)} found by ${how}`
      : `no cloudflared pod carries ${how}${tunnelName ? ` or ${OPERATOR_LABEL.podTunnel}=${tunnelName}` : ''}`,
    problems,
    ...(refused ? { refused } : {}),
  };
  if (tunnelId) tunnel.tunnelId = tunnelId;
  if (tunnelName) tunnel.tunnelName = tunnelName;
  const global = operatorGlobalOriginRequest(json);
  if (global) tunnel.originRequest = global;
  if (typeof json.syncStatus === 'string') tunnel.syncStatus = json.syncStatus;
  return tunnel;
}

/** Older Cloudflare operator versions own their config.yaml ConfigMap through the Tunnel; adyanth's labels its pods cfargotunnel.com/*. */
function yamlManager(cm: ConfigMap, connectors: PodView[]): string | undefined {
  const owner = cm.metadata.ownerReferences?.find((o) => o.kind === 'Tunnel' || o.kind === 'ClusterTunnel');
  const labels = connectors.flatMap((p) => Object.keys(p.labels));
  if (labels.some((k) => k.startsWith('cfargotunnel.com/')) || owner?.apiVersion?.includes('cfargotunnel.com')) return "adyanth's cloudflare-operator";
  if (owner || labels.some((k) => k.startsWith('cloudflare-operator.io/'))) return 'an older Cloudflare operator (config.yaml layout)';
  return undefined;
}

function mountsConfigMap(p: PodView, name: string): boolean {
  return (p.spec.volumes ?? []).some(
    (v) => v.configMap?.name === name || (v.projected?.sources ?? []).some((s) => s.configMap?.name === name),
  );
}

function connectorNames(pods: PodView[]): string {
  const names = [...new Set(pods.map((p) => (p.owner ? `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}` : `Pod ${p.namespace}/${p.name}`)))];
  return names.join(', ');
}

/** Cloudflared pods that serve no config in the input: remotely managed (`--token`) or config not collected. */
export function orphanConnectors(pods: PodView[], tunnels: TunnelConfig[]): PodView[] {
  const served = new Set(tunnels.flatMap((t) => t.connectors));
  return pods.filter((p) => p.isCloudflared && !served.has(p));
}

export function usesToken(p: PodView): boolean {
  return p.spec.containers.some(
    (c) => (c.args ?? []).includes('--token') || (c.command ?? []).includes('--token') || (c.env ?? []).some((e) => e.name === 'TUNNEL_TOKEN'),
  );
}

// ---- Service URLs --------------------------------------------------------------------

export interface OriginUrl {
  scheme: string;
  host: string;
  /** Explicit port, or the scheme's default. */
  port?: number;
  explicitPort: boolean;
  path: string;
}

/** Ports cloudflared dials when the URL has none (tcp: 7864, its own "random" default). */
const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443, ssh: 22, rdp: 3389, smb: 445, tcp: 7864 };

/** Special services that are not a network origin. */
export function isSpecialService(service: string): boolean {
  return /^(http_status:|hello[_-]world$|bastion$|socks-proxy$|unix:|unix\+tls:)/.test(service);
}

/** A service URL as cloudflared reads it (Go's url.Parse: host after any userinfo, port, path); undefined when Go refuses it or it has no host. */
export function parseOriginUrl(service: string): OriginUrl | undefined {
  const parsed = parseGoUrl(service);
  if (!parsed.ok || parsed.url.hostname === '' || parsed.url.scheme === '') return undefined;
  const u = parsed.url;
  const url: OriginUrl = { scheme: u.scheme, host: u.hostname.toLowerCase(), explicitPort: u.port !== '', path: u.path };
  const port = u.port !== '' ? Number(u.port) : DEFAULT_PORTS[u.scheme];
  if (port !== undefined) url.port = port;
  return url;
}

export interface ServiceAddress {
  name: string;
  namespace: string;
  /** How the host was read, for evidence. */
  form: string;
}

/**
 * A cluster hostname → Service: `svc` (the connector's namespace, via the DNS search path),
 * `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<cluster domain>`. Anything else is not a Service name.
 */
export function serviceAddress(host: string, connectorNamespace: string | undefined, clusterDomain: string): ServiceAddress | undefined {
  const labels = host.replace(/\.$/, '').split('.');
  if (labels.some((l) => l === '')) return undefined;
  if (labels.length === 1) {
    return connectorNamespace ? { name: labels[0] as string, namespace: connectorNamespace, form: `short name (namespace ${connectorNamespace} of the connector)` } : undefined;
  }
  const [name, namespace, svc, ...domain] = labels as [string, string, string | undefined, ...string[]];
  if (labels.length === 2) return { name, namespace, form: 'name.namespace' };
  if (svc !== 'svc') return undefined;
  if (domain.length === 0) return { name, namespace, form: 'name.namespace.svc' };
  const d = domain.join('.');
  return { name, namespace, form: d === clusterDomain ? 'fully qualified' : `cluster domain ${d}` };
}
