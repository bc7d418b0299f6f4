// The Cloudflare operator's other rule writers (besides Ingresses): TunnelBindings and Gateway API
// HTTPRoutes through its gateway controller. Each object becomes the rules the operator writes
// for it, with where each rule comes from in the object (so a fix edits that object), read from
// StringKe/cloudflare-operator:
//   internal/controller/tunnelbinding_controller.go  getConfigForSubject, getServiceProto,
//     configureCloudflareDaemon, getRelevantTunnelBindings (and adyanth/cloudflare-operator's
//     ancestor of the same file for the networking.cfargotunnel.com group);
//   internal/controller/gateway/gateway_controller.go  buildIngressRules, routeReferencesGateway,
//     convertHTTPRouteToRules, resolveHTTPBackendRef, syncTunnelConfigToAPI;
//   internal/controller/gateway/common.go GetTunnelGatewayClassConfig; internal/controller/route
//     (ConvertGatewayPathType, InferProtocolFromPort, OriginRequestBuilder.WithDefaults).
// Pure functions over the objects: the operator view groups the rules into tunnel configs.

import type {
  GatewayApiGateway,
  GatewayClass,
  HTTPBackendRef,
  HTTPRoute,
  KObject,
  OperatorTunnel,
  ServicePort,
  TunnelBinding,
  TunnelBindingSubject,
  TunnelGatewayClassConfig,
} from '../core/k8s.js';
import { CFARGOTUNNEL_BINDING, kindIdOf } from '../core/kinds.js';
import { OPERATOR_NAMESPACE } from '../core/wellknown.js';
import type { ServiceView } from './services.js';
import type { Flavour, TunnelIdentity, WrittenAt, WrittenRule } from './tunnels.js';

export type { Flavour, TunnelIdentity, WrittenAt, WrittenRule };

export const GATEWAY_CONTROLLER = 'cloudflare-operator.io/gateway-controller';
/** GatewayClasses istiod creates itself (they are rarely in manifests). */
const ISTIO_CLASSES = new Set(['istio', 'istio-waypoint', 'istio-remote', 'istio-east-west']);
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
/** Priorities the operator gives rules (internal/controller/tunnelconfig/types.go): lower is placed earlier. */
export const BINDING_RULE_PRIORITY = 50;
export const GATEWAY_RULE_PRIORITY = 100;

export function tunnelKey(t: TunnelIdentity): string {
  return `${t.flavour}:${t.kind}/${t.namespace ?? ''}/${t.name}`;
}

export function formatTunnel(t: TunnelIdentity): string {
  return `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}${t.flavour === 'adyanth' ? ' (networking.cfargotunnel.com)' : ''}`;
}

/** Lookups the writers need from the model. */
export interface SourcesContext {
  service(namespace: string, name: string): ServiceView | undefined;
  /** Files: the input holds Services of the namespace; live: a complete list covered it. */
  servicesCollected(namespace: string): boolean;
  tunnels: readonly OperatorTunnel[];
  /** Live and listed in full: a missing object does not exist. */
  complete(kindId: string, namespace?: string): boolean;
}

function ref(o: KObject): string {
  return `${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** The Tunnel or ClusterTunnel object, when in the input. */
export function findTunnel(ctx: SourcesContext, t: TunnelIdentity): OperatorTunnel | undefined {
  if (t.flavour === 'adyanth') return undefined; // its Tunnel CRD (networking.cfargotunnel.com) is not collected
  return ctx.tunnels.find((o) => o.kind === t.kind && o.metadata.name === t.name && (t.kind === 'ClusterTunnel' || o.metadata.namespace === t.namespace));
}

// ---- TunnelBinding --------------------------------------------------------------------------

/** `tunnelValidProtoMap`: a subject protocol outside it falls back to the port logic. */
const BINDING_PROTOCOLS = new Set(['http', 'https', 'rdp', 'smb', 'ssh', 'tcp', 'udp']);

export interface BindingView {
  binding: TunnelBinding;
  flavour: Flavour;
  /** `TunnelBinding ns/name` */
  label: string;
  namespace: string;
  tunnel?: TunnelIdentity;
  /** Why the binding writes nothing (refused, unserved), for all its subjects. */
  unserved?: string;
  rules: WrittenRule[];
}

export function bindingFlavour(b: TunnelBinding): Flavour {
  return kindIdOf(b) === CFARGOTUNNEL_BINDING ? 'adyanth' : 'operator';
}

/**
 * The API server's view of the shape: both CRDs declare `subjects` and `tunnelRef` at the top
 * level and require them; there is no `spec`, so an object that nests them under `spec:` is
 * refused when it is applied (`subjects: Required value`) and never reaches an operator.
 */
function shapeProblem(b: TunnelBinding): string | undefined {
  const top = b.subjects !== undefined || b.tunnelRef !== undefined;
  if (!top && (b.spec?.subjects !== undefined || b.spec?.tunnelRef !== undefined)) {
    return 'its subjects and tunnelRef are under spec:, but the TunnelBinding CRD has them at the top level and requires them (it has no spec): the API server refuses the object, so no operator writes a rule for it — move subjects and tunnelRef out of spec';
  }
  const missing = [b.subjects === undefined ? 'subjects' : '', b.tunnelRef === undefined ? 'tunnelRef' : ''].filter(Boolean);
  if (missing.length) return `it has no ${missing.join(' and ')}, which the TunnelBinding CRD requires: the API server refuses it`;
  if (!b.tunnelRef?.name) return 'its tunnelRef has no name, which the CRD requires: the API server refuses it';
  return undefined;
}

/** The subjects as the author meant them, even where the shape is refused (explain shows what a moved block would write). */
export function bindingSubjects(b: TunnelBinding): TunnelBindingSubject[] {
  return b.subjects ?? b.spec?.subjects ?? [];
}

export function bindingTunnel(b: TunnelBinding): TunnelIdentity | undefined {
  const r = b.tunnelRef ?? b.spec?.tunnelRef;
  if (!r?.name) return undefined;
  // initStruct switches on strings.ToLower(kind): anything else is "invalid kind".
  const kind = (r.kind ?? '').toLowerCase();
  const flavour = bindingFlavour(b);
  if (kind === 'clustertunnel') return { kind: 'ClusterTunnel', name: r.name, flavour };
  if (kind === 'tunnel') return { kind: 'Tunnel', namespace: b.metadata.namespace as string, name: r.name, flavour };
  return undefined;
}

/** `getServiceProto`: a valid subject protocol, else by the first Service port (TCP: 22 ssh, 139/445 smb, 443 https, 3389 rdp, else http; UDP: udp). */
function bindingProtocol(subject: TunnelBindingSubject, sp: ServicePort, svcLabel: string): { scheme: string; source: string } {
  const asked = subject.spec?.protocol ?? '';
  if (asked && BINDING_PROTOCOLS.has(asked)) return { scheme: asked, source: `subject protocol ${asked}` };
  const note = asked ? ` (subject protocol "${asked}" is not one the operator accepts: http, https, rdp, smb, ssh, tcp, udp)` : '';
  // The API server defaults an absent port protocol to TCP.
  const proto = (sp.protocol ?? 'TCP').toUpperCase();
  if (proto === 'TCP') {
    const byPort: Record<number, string> = { 22: 'ssh', 139: 'smb', 445: 'smb', 443: 'https', 3389: 'rdp' };
    const scheme = byPort[sp.port] ?? 'http';
    return { scheme, source: `${svcLabel} first port ${sp.port}/TCP: ${byPort[sp.port] ? `port ${sp.port} is ${scheme}` : 'http (only 22, 139, 443, 445 and 3389 are not)'}${note}` };
  }
  if (proto === 'UDP') return { scheme: 'udp', source: `${svcLabel} first port ${sp.port}/UDP${note}` };
  return { scheme: '', source: `${svcLabel} first port ${sp.port}/${proto}: the operator selects no protocol for it (it writes "://…")${note}` };
}

/** originRequest the operator writes for a subject: only the settings that are set (caPool is not carried). adyanth's writes the booleans always and caPool as a path. */
function bindingOriginRequest(subject: TunnelBindingSubject, flavour: Flavour): { originRequest?: Record<string, unknown>; dropped: string[] } {
  const s = subject.spec;
  if (!s) return flavour === 'adyanth' ? { originRequest: { noTLSVerify: false, http2Origin: false }, dropped: [] } : { dropped: [] };
  // The CRD defaults proxyAddress to 127.0.0.1 in every subject that has a spec.
  const proxyAddress = s.proxyAddress ?? '127.0.0.1';
  const out: Record<string, unknown> = {};
  if (flavour === 'adyanth') {
    out.noTLSVerify = s.noTlsVerify === true;
    out.http2Origin = s.http2Origin === true;
  } else {
    if (s.noTlsVerify) out.noTLSVerify = true;
    if (s.http2Origin) out.http2Origin = true;
  }
  if (proxyAddress) out.proxyAddress = proxyAddress;
  if (s.proxyPort) out.proxyPort = s.proxyPort;
  if (s.proxyType) out.proxyType = s.proxyType;
  const dropped: string[] = [];
  if (s.caPool) {
    if (flavour === 'adyanth') out.caPool = `/etc/cloudflared/certs/${s.caPool}`;
    else dropped.push(`caPool ${s.caPool} (the operator's tunnel config has no caPool: it is not written)`);
  }
  return Object.keys(out).length ? { originRequest: out, dropped } : { dropped };
}

/** `getConfigForSubject` + the rule `configureCloudflareDaemon` builds from it. */
function subjectRule(ctx: SourcesContext, b: TunnelBinding, flavour: Flavour, subject: TunnelBindingSubject, index: number, tunnel: TunnelIdentity | undefined): WrittenRule {
  const ns = b.metadata.namespace as string;
  const label = `TunnelBinding ${ns}/${b.metadata.name} subjects[${index}] (${subject.name})`;
  const t = tunnel ? findTunnel(ctx, tunnel) : undefined;
  const domain = t?.spec?.cloudflare?.domain;
  let hostnameAssumed: string | undefined;
  let hostname = subject.spec?.fqdn ?? '';
  if (!hostname) {
    hostname = `${subject.name}.${domain || '<domain>'}`;
    if (!domain) hostnameAssumed = `no fqdn: the operator uses ${subject.name}.<domain of ${tunnel ? formatTunnel(tunnel) : 'the tunnel'}${t ? ' (it sets no spec.cloudflare.domain: its credentials\' domain)' : ', which is not in the input'}>`;
  }
  const svc = ctx.service(ns, subject.name);
  const { originRequest, dropped } = bindingOriginRequest(subject, flavour);
  const view: WrittenRule = {
    writerKind: 'TunnelBinding',
    writer: b,
    label,
    namespace: ns,
    at: { kind: 'subject', subject: index },
    sourceKey: `TunnelBinding/${ns}/${b.metadata.name}`,
    hostname,
    service: '',
    priority: BINDING_RULE_PRIORITY,
    serviceRef: { namespace: ns, name: subject.name },
    protocol: { scheme: '', source: '' },
    dropped,
    driftChecked: false,
    drift: [],
  };
  if (hostnameAssumed) view.hostnameAssumed = hostnameAssumed;
  if (subject.spec?.path) view.path = subject.spec.path;
  if (originRequest) view.originRequest = originRequest;
  if (tunnel) view.tunnel = tunnel;
  const target = subject.spec?.target;
  if (svc) view.svc = svc;
  const first = svc?.ports[0];
  if (svc && first) {
    view.servicePort = first;
    view.serviceRef = { namespace: ns, name: subject.name, port: first.port };
    view.protocol = bindingProtocol(subject, first, `Service ${ns}/${svc.name}`);
    view.service = `${view.protocol.scheme}://${svc.name}.${ns}.svc:${first.port}`;
  } else if (svc) {
    view.service = 'http_status:404';
    view.protocol = { scheme: '', source: `Service ${ns}/${svc.name} has no ports: the operator writes http_status:404` };
  } else if (ctx.servicesCollected(ns)) {
    view.service = 'http_status:404';
    view.protocol = { scheme: '', source: `no Service ${ns}/${subject.name} exists: the operator writes http_status:404` };
  } else if (!target) {
    view.unserved = `Service ${ns}/${subject.name} is not in the input: the rule the operator writes depends on its first port`;
  }
  if (target) {
    // spec.target replaces the generated service; the Service is still read for the status.
    view.service = target;
    view.protocol = { scheme: /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(target)?.[1]?.toLowerCase() ?? '', source: `subject spec.target ${target}` };
  }
  return view;
}

export function bindingView(ctx: SourcesContext, b: TunnelBinding): BindingView {
  const flavour = bindingFlavour(b);
  const ns = b.metadata.namespace as string;
  const tunnel = bindingTunnel(b);
  const view: BindingView = { binding: b, flavour, label: `TunnelBinding ${ns}/${b.metadata.name}`, namespace: ns, rules: [] };
  if (tunnel) view.tunnel = tunnel;
  const problem = shapeProblem(b);
  const unserved =
    problem ??
    (!tunnel
      ? `its tunnelRef kind ${(b.tunnelRef ?? b.spec?.tunnelRef)?.kind ?? '(none)'} is neither Tunnel nor ClusterTunnel: the operator stops with "invalid kind"`
      : tunnel.flavour === 'operator' && ctx.complete(tunnel.kind, tunnel.namespace) && !findTunnel(ctx, tunnel)
        ? `${formatTunnel(tunnel)} does not exist: the operator stops before writing its rules`
        : undefined);
  if (unserved) view.unserved = unserved;
  view.rules = bindingSubjects(b).map((s, i) => {
    const r = subjectRule(ctx, b, flavour, s, i, tunnel);
    if (unserved) r.unserved = unserved;
    return r;
  });
  return view;
}

/**
 * The rules a binding's source carries: the operator lists every TunnelBinding labelled with
 * the same tunnelRef name (`cloudflare-operator.io/name`, any namespace, Tunnel or ClusterTunnel
 * alike), sorted by binding name, and writes all their rules under each binding's source key.
 */
export function bindingSourceRules(binding: BindingView, all: readonly BindingView[]): WrittenRule[] {
  const name = binding.tunnel?.name;
  const peers = all.filter((b) => !b.unserved && b.flavour === binding.flavour && b.tunnel?.name === name);
  peers.sort((a, b) => compare(a.binding.metadata.name, b.binding.metadata.name) || compare(a.namespace, b.namespace));
  return peers.flatMap((b) => b.rules.filter((r) => !r.unserved));
}

// ---- Gateway API through the operator's gateway controller -----------------------------------

export interface GatewayChain {
  gateway: GatewayApiGateway;
  /** `Gateway ns/name` */
  label: string;
  namespace: string;
  gatewayClass?: GatewayClass;
  /** The operator serves it (its GatewayClass names the operator's controller); 'unknown' when the class is not in the input. */
  ours: boolean | 'unknown';
  config?: TunnelGatewayClassConfig;
  tunnel?: TunnelIdentity;
  /** Why the operator writes nothing for it. */
  problem?: string;
  evidence: string[];
}

/** GatewayClass → TunnelGatewayClassConfig (`GetTunnelGatewayClassConfig`: the namespace must be given) → tunnel. */
export function gatewayChain(
  gw: GatewayApiGateway,
  classes: readonly GatewayClass[],
  configs: readonly TunnelGatewayClassConfig[],
  ctx: SourcesContext,
): GatewayChain {
  const ns = gw.metadata.namespace as string;
  const className = gw.spec?.gatewayClassName ?? '';
  const chain: GatewayChain = { gateway: gw, label: `Gateway ${ns}/${gw.metadata.name}`, namespace: ns, ours: false, evidence: [] };
  const cls = classes.find((c) => c.metadata.name === className);
  if (!cls && ISTIO_CLASSES.has(className)) {
    chain.evidence.push(`gatewayClassName ${className}: Istio's own GatewayClass (istiod creates it), not the Cloudflare operator's`);
    return chain;
  }
  if (!cls) {
    chain.ours = ctx.complete('GatewayClass') ? false : 'unknown';
    chain.evidence.push(`gatewayClassName ${className || '(none)'}: GatewayClass ${ctx.complete('GatewayClass') ? 'does not exist' : 'is not in the input'}`);
    return chain;
  }
  chain.gatewayClass = cls;
  const controller = cls.spec?.controllerName ?? '';
  if (controller !== GATEWAY_CONTROLLER) {
    chain.evidence.push(`GatewayClass ${className} belongs to controller ${controller || '(none)'}, not the Cloudflare operator`);
    return chain;
  }
  chain.ours = true;
  chain.evidence.push(`gatewayClassName ${className} (controller ${GATEWAY_CONTROLLER})`);
  const p = cls.spec?.parametersRef;
  if (!p?.name) chain.problem = `GatewayClass ${className} has no parametersRef`;
  else if (p.group !== 'networking.cloudflare-operator.io') chain.problem = `GatewayClass ${className} parametersRef has invalid group: ${p.group ?? ''}`;
  else if (p.kind !== 'TunnelGatewayClassConfig') chain.problem = `GatewayClass ${className} parametersRef has invalid kind: ${p.kind ?? ''}`;
  else if (!p.namespace) chain.problem = `GatewayClass ${className} parametersRef must specify namespace for TunnelGatewayClassConfig (the operator has no default)`;
  if (chain.problem || !p) return chain;
  const config = configs.find((c) => c.metadata.namespace === p.namespace && c.metadata.name === p.name);
  if (!config) {
    const complete = ctx.complete('TunnelGatewayClassConfig', p.namespace);
    chain.problem = complete
      ? `TunnelGatewayClassConfig ${p.namespace}/${p.name} not found`
      : `TunnelGatewayClassConfig ${p.namespace}/${p.name} is not in the input`;
    return chain;
  }
  chain.config = config;
  chain.evidence.push(`GatewayClass ${className} parametersRef → TunnelGatewayClassConfig ${ref(config)}`);
  const t = config.spec?.tunnelRef;
  if (t?.kind === 'ClusterTunnel' && t.name) chain.tunnel = { kind: 'ClusterTunnel', name: t.name, flavour: 'operator' };
  else if (t?.kind === 'Tunnel' && t.name) chain.tunnel = { kind: 'Tunnel', namespace: t.namespace || (config.metadata.namespace as string), name: t.name, flavour: 'operator' };
  else {
    chain.problem = `TunnelGatewayClassConfig ${ref(config)} tunnelRef kind ${t?.kind ?? '(none)'}: invalid tunnel kind (expected Tunnel or ClusterTunnel)`;
    return chain;
  }
  chain.evidence.push(`tunnelRef ${formatTunnel(chain.tunnel)}`);
  if (ctx.complete(chain.tunnel.kind, chain.tunnel.namespace) && !findTunnel(ctx, chain.tunnel)) chain.problem = `${formatTunnel(chain.tunnel)} not found: the Gateway is not accepted`;
  return chain;
}

/**
 * `routeReferencesGateway`: group and kind default to the Gateway API's Gateway; a parentRef
 * without a namespace matches a Gateway of that name in ANY namespace (the operator does not
 * default it to the route's namespace as the Gateway API does); sectionName and port are not read.
 */
export function operatorRouteAttaches(route: HTTPRoute, gw: GatewayApiGateway): boolean {
  return (route.spec?.parentRefs ?? []).some(
    (r) =>
      (r.group === undefined || r.group === GATEWAY_API_GROUP) &&
      (r.kind === undefined || r.kind === 'Gateway') &&
      r.name === gw.metadata.name &&
      (r.namespace === undefined || r.namespace === gw.metadata.namespace),
  );
}

/** `ConvertGatewayPathType`: "" and "/" match everything; Exact `^p$`; PathPrefix `p.*` (trailing /) or `p(/.*)?$`; RegularExpression as written. */
export function gatewayPath(value: string | undefined, type: string | undefined): string | undefined {
  if (value === undefined || value === '' || value === '/') return undefined;
  const t = type ?? 'PathPrefix';
  if (t === 'Exact') return `^${value}$`;
  if (t === 'PathPrefix') return value.endsWith('/') ? `${value}.*` : `${value}(/.*)?$`;
  return value;
}

/** `InferProtocolFromPort`: 443 https, 22 ssh, 3389 rdp, 139/445 smb, else http. */
function portProtocol(port: number): string {
  return ({ 443: 'https', 22: 'ssh', 3389: 'rdp', 139: 'smb', 445: 'smb' } as Record<number, string>)[port] ?? 'http';
}

/**
 * `resolveHTTPBackendRef`: http, unless the Service exists and has a port equal to the backend
 * port (default 80): then the port number decides (appProtocol, port names and annotations are
 * not read).
 */
function backendTarget(ctx: SourcesContext, routeNs: string, ref: HTTPBackendRef): { service: string; namespace: string; port: number; svc?: ServiceView; sp?: ServicePort; source: string; scheme: string } | undefined {
  if (ref.kind !== undefined && ref.kind !== 'Service') return undefined;
  const namespace = ref.namespace ?? routeNs;
  const port = ref.port ?? 80;
  const svc = ctx.service(namespace, ref.name);
  const sp = svc?.ports.find((p) => p.port === port);
  const scheme = sp ? portProtocol(port) : 'http';
  const source = sp
    ? `Service ${namespace}/${ref.name} has port ${port}: the operator infers ${scheme} from the number (${portProtocol(port) === 'http' ? 'only 22, 139, 443, 445 and 3389 are not http' : `port ${port}`}; appProtocol and the port name are not read)`
    : svc
      ? `Service ${namespace}/${ref.name} has no port ${port}: the operator writes http`
      : `Service ${namespace}/${ref.name} ${ctx.servicesCollected(namespace) ? 'does not exist' : 'is not in the input'}: the operator writes http${ctx.servicesCollected(namespace) ? '' : ' (443, 22, 3389, 139 and 445 would change that when the Service has the port)'}`;
  const out = { service: `${scheme}://${ref.name}.${namespace}.svc:${port}`, namespace, port, source, scheme } as ReturnType<typeof backendTarget> & object;
  if (svc) out.svc = svc;
  if (sp) out.sp = sp;
  return out;
}

/** `OriginRequestBuilder.WithDefaults` then `convertOriginRequest`: what reaches config.json (empty values omitted, caPool dropped, durations as Go prints them). */
export function gatewayOriginRequest(defaults: Record<string, unknown> | undefined): { originRequest: Record<string, unknown>; dropped: string[] } {
  const out: Record<string, unknown> = {};
  const dropped: string[] = [];
  if (!defaults) return { originRequest: out, dropped };
  if (defaults.noTlsVerify === true) out.noTLSVerify = true;
  if (defaults.http2Origin === true) out.http2Origin = true;
  for (const key of ['connectTimeout', 'tlsTimeout', 'keepAliveTimeout'] as const) {
    const v = defaults[key];
    if (typeof v !== 'string' || v === '') continue;
    const d = goDuration(v);
    if (d === undefined) dropped.push(`defaultOriginRequest.${key} ${v} (not a Go duration: ignored)`);
    else if (d !== 0) out[key] = formatGoDuration(d);
  }
  if (typeof defaults.keepAliveConnections === 'number' && defaults.keepAliveConnections !== 0) out.keepAliveConnections = defaults.keepAliveConnections;
  for (const key of ['originServerName', 'httpHostHeader', 'proxyAddress', 'proxyType'] as const) {
    const v = defaults[key];
    if (typeof v === 'string' && v !== '') out[key] = v;
  }
  if (typeof defaults.proxyPort === 'number' && defaults.proxyPort !== 0) out.proxyPort = defaults.proxyPort;
  if (defaults.disableChunkedEncoding === true) out.disableChunkedEncoding = true;
  if (defaults.bastionMode === true) out.bastionMode = true;
  if (typeof defaults.caPool === 'string' && defaults.caPool) dropped.push(`defaultOriginRequest.caPool ${defaults.caPool} (the operator's tunnel config has no caPool: it is not written)`);
  return { originRequest: out, dropped };
}

export interface GatewayRules {
  chain: GatewayChain;
  rules: WrittenRule[];
  /** HTTPRoute backends the operator writes nothing for, and why. */
  skipped: WrittenRule[];
}

/** `buildIngressRules` for one of the operator's Gateways: every attached HTTPRoute's rules, sorted by hostname then path. */
export function gatewayRules(ctx: SourcesContext, chain: GatewayChain, routes: readonly HTTPRoute[]): GatewayRules {
  const out: WrittenRule[] = [];
  const skipped: WrittenRule[] = [];
  const gw = chain.gateway;
  const config = chain.config;
  const sourceKey = config ? `HTTPRoute/${config.metadata.namespace}/${config.metadata.name}` : '';
  const { originRequest, dropped } = gatewayOriginRequest(config?.spec?.defaultOriginRequest);
  for (const route of routes) {
    if (!operatorRouteAttaches(route, gw)) continue;
    const rns = route.metadata.namespace as string;
    const hostnames = route.spec?.hostnames?.length ? route.spec.hostnames : [''];
    (route.spec?.rules ?? []).forEach((rule, ri) => {
      for (const hostname of hostnames) {
        const matches = rule.matches?.length ? rule.matches.map((m, mi) => ({ m, mi })) : [{ m: undefined, mi: undefined }];
        for (const { m, mi } of matches) {
          (rule.backendRefs ?? []).forEach((backend, bi) => {
            const label = `HTTPRoute ${rns}/${route.metadata.name} rules[${ri}]${mi !== undefined ? `.matches[${mi}]` : ''}.backendRefs[${bi}] (${backend.name}:${backend.port ?? 80})`;
            const target = backendTarget(ctx, rns, backend);
            const path = gatewayPath(m?.path?.value, m?.path?.type);
            const at: WrittenAt = { kind: 'backendRef', rule: ri, backend: bi, hostname, gateway: { namespace: chain.namespace, name: gw.metadata.name }, ...(mi !== undefined ? { match: mi } : {}) };
            const w: WrittenRule = {
              writerKind: 'HTTPRoute',
              writer: route,
              label,
              namespace: rns,
              at,
              sourceKey,
              hostname,
              service: target?.service ?? '',
              originRequest,
              priority: GATEWAY_RULE_PRIORITY,
              protocol: { scheme: target?.scheme ?? '', source: target?.source ?? '' },
              dropped,
              driftChecked: false,
              drift: [],
            };
            if (path) w.path = path;
            if (chain.tunnel) w.tunnel = chain.tunnel;
            if (target) {
              w.serviceRef = { namespace: target.namespace, name: backend.name, port: target.port };
              if (target.svc) w.svc = target.svc;
              if (target.sp) w.servicePort = target.sp;
            }
            const extra = Object.keys(m ?? {}).filter((k) => k !== 'path');
            if (extra.length) w.dropped = [...w.dropped, `matches[${mi}] ${extra.join(', ')} (the operator writes hostname and path only: every request of the path reaches this backend)`];
            if (!target) w.unserved = `backendRef kind ${backend.kind}: the operator serves Service backends only`;
            else if (hostname === '' && !path) w.unserved = 'no hostname and no path: the operator drops a rule with neither, taking it for its own fallback';
            (w.unserved ? skipped : out).push(w);
          });
        }
      }
    });
  }
  // sort.Slice by hostname, then path (unstable in Go: ties here by where the rule comes from, whatever the input order).
  out.sort((a, b) => compare(a.hostname, b.hostname) || compare(a.path ?? '', b.path ?? '') || compare(a.label, b.label));
  return { chain, rules: out, skipped };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- Go durations, as time.ParseDuration reads and Duration.String prints them ---------------

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Nanoseconds, or undefined when Go would reject the text. */
export function goDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length) {
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** Go's Duration.String: `1h2m3.5s`, `300ms`, `1.5µs`, `0s`. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  const trim = (v: number, digits: number): string => {
    const whole = Math.floor(v / 10 ** digits);
    const frac = String(v % 10 ** digits).padStart(digits, '0').replace(/0+$/, '');
    return frac ? `${whole}.${frac}` : String(whole);
  };
  let out: string;
  if (n < 1e3) out = `${n}ns`;
  else if (n < 1e6) out = `${trim(n, 3)}µs`;
  else if (n < 1e9) out = `${trim(n, 6)}ms`;
  else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    out = `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${trim(n, 9)}s`;
  }
  return neg ? `-${out}` : out;
}

/** The namespace a tunnel's own objects live in (ClusterTunnel: the operator's). */
export function tunnelNamespace(t: TunnelIdentity): string {
  return t.namespace ?? OPERATOR_NAMESPACE;
}
