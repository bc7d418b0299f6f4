// The Cloudflare operator's view of Ingresses (domain §9; research notes a-iii, StringKe/cloudflare-operator
// internal/controller/ingress): which Ingresses it serves and through which TunnelIngressClassConfig,
// the rule it writes for each backend, and the seven-level protocol chain. Pure functions over the
// objects, so the model, the rules and explain-protocol read one answer.

import type { Ingress, IngressClass, ServicePort, StringMap, TunnelIngressClassConfig } from '../core/k8s.js';
import type { ServiceView } from './services.js';
import { OPERATOR_NAMESPACE } from '../core/wellknown.js';

export { OPERATOR_NAMESPACE };

export const OPERATOR_CONTROLLER = 'cloudflare-operator.io/ingress-controller';
export const TICC_API_GROUP = 'networking.cloudflare-operator.io';
export const TICC_KIND = 'TunnelIngressClassConfig';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** Priority the operator gives Ingress rules (lower is placed earlier). */
export const INGRESS_RULE_PRIORITY = 100;

export const CF_ANNOTATION = {
  protocol: 'cloudflare.com/protocol',
  protocolPrefix: 'cloudflare.com/protocol-',
  noTlsVerify: 'cloudflare.com/no-tls-verify',
  http2Origin: 'cloudflare.com/http2-origin',
  proxyAddress: 'cloudflare.com/proxy-address',
  proxyPort: 'cloudflare.com/proxy-port',
  proxyType: 'cloudflare.com/proxy-type',
} as const;

/** Annotations the operator reads into originRequest but drops on the ConfigMap path. */
const DROPPED_ANNOTATIONS = [
  'ca-pool',
  'connect-timeout',
  'tls-timeout',
  'keep-alive-timeout',
  'keep-alive-connections',
  'origin-server-name',
  'http-host-header',
  'disable-chunked-encoding',
  'bastion-mode',
].map((k) => `cloudflare.com/${k}`);

/** TunnelIngressClassConfig defaultOriginRequest fields that do not reach the config either. */
const DROPPED_DEFAULTS = [
  'caPool',
  'connectTimeout',
  'tlsTimeout',
  'keepAliveTimeout',
  'keepAliveConnections',
  'originServerName',
  'httpHostHeader',
  'disableChunkedEncoding',
  'bastionMode',
];

// ---- Ingress class ----------------------------------------------------------------------

export interface ClassResolution {
  via: 'ingressClassName' | 'annotation' | 'default-class' | 'none';
  className?: string;
  ingressClass?: IngressClass;
  /** The operator reconciles this Ingress; 'unknown' when the IngressClass is not in the input. */
  ours: boolean | 'unknown';
  /** Its rules reach the tunnel config (the operator's filter drops Ingresses that name no class). */
  rulesAdded: boolean;
  evidence: string;
}

function isDefaultClass(c: IngressClass): boolean {
  return c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
}

/**
 * The operator's `isOurIngress`: `spec.ingressClassName`, else the legacy annotation, else any
 * default IngressClass of its controller. Its rule aggregation (`filterIngressesByClass`) keeps only
 * Ingresses that NAME a class, so a live Ingress relying on the default class is reconciled but
 * contributes no rule. A manifest without a class is different: Kubernetes' DefaultIngressClass
 * admission plugin writes the default class into it when it is created (`live` false).
 */
export function resolveIngressClass(ingress: Ingress, classes: readonly IngressClass[], live: boolean, classesComplete: boolean): ClassResolution {
  const byName = ingress.spec?.ingressClassName;
  const byAnnotation = ingress.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (byName || byAnnotation) {
    const className = (byName || byAnnotation) as string;
    const via = byName ? 'ingressClassName' : 'annotation';
    const how = byName ? `spec.ingressClassName ${className}` : `annotation ${LEGACY_CLASS_ANNOTATION}=${className}`;
    const cls = classes.find((c) => c.metadata.name === className);
    if (!cls) {
      return classesComplete
        ? { via, className, ours: false, rulesAdded: false, evidence: `${how}: IngressClass ${className} does not exist, so no controller serves it` }
        : { via, className, ours: 'unknown', rulesAdded: false, evidence: `${how}: IngressClass ${className} is not in the input` };
    }
    const controller = cls.spec?.controller ?? '';
    if (controller !== OPERATOR_CONTROLLER) {
      return { via, className, ingressClass: cls, ours: false, rulesAdded: false, evidence: `${how}: IngressClass ${className} belongs to controller ${controller || '(none)'}, not the Cloudflare operator` };
    }
    return { via, className, ingressClass: cls, ours: true, rulesAdded: true, evidence: `${how} (controller ${OPERATOR_CONTROLLER})` };
  }
  const defaults = classes.filter(isDefaultClass);
  const ourDefault = defaults.find((c) => c.spec?.controller === OPERATOR_CONTROLLER);
  if (!live) {
    if (defaults.length === 1 && ourDefault) {
      return {
        via: 'default-class',
        className: ourDefault.metadata.name,
        ingressClass: ourDefault,
        ours: true,
        rulesAdded: true,
        evidence: `no class named: Kubernetes' DefaultIngressClass admission writes ingressClassName ${ourDefault.metadata.name} (the default IngressClass) when the Ingress is created; one created before that class existed is reconciled without its rules being added`,
      };
    }
    if (defaults.length === 0 && !classesComplete) {
      return { via: 'none', ours: 'unknown', rulesAdded: false, evidence: 'no class named and no default IngressClass in the input: which controller serves it is unknown' };
    }
    return { via: 'none', ours: false, rulesAdded: false, evidence: `no class named; the default IngressClass ${defaults.map((d) => d.metadata.name).join(', ') || '(none)'} is not the Cloudflare operator's` };
  }
  if (ourDefault) {
    return {
      via: 'default-class',
      className: ourDefault.metadata.name,
      ingressClass: ourDefault,
      ours: true,
      rulesAdded: false,
      evidence: `no class named: the operator reconciles it through the default IngressClass ${ourDefault.metadata.name}, but its rule aggregation keeps only Ingresses that name a class, so none of its rules is added to the tunnel`,
    };
  }
  return { via: 'none', ours: false, rulesAdded: false, evidence: 'no class named and no default IngressClass of the Cloudflare operator' };
}

export interface ClassConfigResolution {
  config?: TunnelIngressClassConfig;
  namespace?: string;
  name?: string;
  /** Why the operator cannot use it (its reconcile stops with this error). */
  problem?: string;
  evidence: string;
}

/** `getIngressClassConfig`: IngressClass.spec.parameters → TunnelIngressClassConfig (namespace default: the operator's). */
export function resolveClassConfig(cls: IngressClass, configs: readonly TunnelIngressClassConfig[], configsComplete: boolean): ClassConfigResolution {
  const p = cls.spec?.parameters;
  const name = cls.metadata.name;
  if (!p || !p.name) return { problem: `IngressClass "${name}" has no parameters configured`, evidence: `IngressClass ${name} has no spec.parameters` };
  if (p.apiGroup !== TICC_API_GROUP) return { problem: `IngressClass "${name}" has invalid parameters apiGroup: ${p.apiGroup ?? ''}`, evidence: `spec.parameters.apiGroup ${p.apiGroup ?? '(none)'}` };
  if (p.kind !== TICC_KIND) return { problem: `IngressClass "${name}" has invalid parameters kind: ${p.kind ?? ''}`, evidence: `spec.parameters.kind ${p.kind ?? '(none)'}` };
  const namespace = p.namespace || OPERATOR_NAMESPACE;
  const config = configs.find((c) => c.metadata.namespace === namespace && c.metadata.name === p.name);
  const where = `IngressClass ${name} spec.parameters → TunnelIngressClassConfig ${namespace}/${p.name}${p.namespace ? '' : ' (namespace defaults to the operator namespace)'}`;
  if (!config) {
    return {
      namespace,
      name: p.name,
      problem: configsComplete ? `tunnelingressclassconfig ${namespace}/${p.name} not found` : `TunnelIngressClassConfig ${namespace}/${p.name} is not in the input`,
      evidence: where,
    };
  }
  return { config, namespace, name: p.name, evidence: where };
}

// ---- Ports and the protocol chain ----------------------------------------------------------

export interface BackendPort {
  /** The Service port the operator writes into the URL and keys `cloudflare.com/protocol-<port>` by. */
  port: number;
  /** The Service port entry appProtocol and name are read from. */
  servicePort?: ServicePort;
  evidence: string;
  /** A named port the Service lacks: the operator silently uses 80. */
  missingName?: string;
}

/** `getServiceInfo`: the Service port (never the target port) and the entry its appProtocol/name come from. */
export function resolveBackendPort(port: { number?: number; name?: string } | undefined, svc: ServiceView | undefined): BackendPort {
  if (!svc) {
    if (port?.number) return { port: port.number, evidence: `Service not found: the operator uses backend port ${port.number}` };
    return { port: 80, evidence: `Service not found: the operator uses port 80${port?.name ? ` (backend port name "${port.name}" cannot be resolved)` : ''}`, ...(port?.name ? { missingName: port.name } : {}) };
  }
  if (port?.number) {
    const sp = svc.ports.find((p) => p.port === port.number);
    return sp ? { port: port.number, servicePort: sp, evidence: `backend port ${port.number}` } : { port: port.number, evidence: `backend port ${port.number}, which Service ${svc.namespace}/${svc.name} does not declare` };
  }
  if (port?.name) {
    const sp = svc.ports.find((p) => p.name === port.name);
    if (sp) return { port: sp.port, servicePort: sp, evidence: `backend port name "${port.name}" = Service port ${sp.port}` };
    return { port: 80, missingName: port.name, evidence: `backend port name "${port.name}" is not a port of Service ${svc.namespace}/${svc.name}: the operator silently uses 80` };
  }
  const first = svc.ports[0];
  return first ? { port: first.port, servicePort: first, evidence: `no backend port: the first Service port, ${first.port}` } : { port: 80, evidence: `Service ${svc.namespace}/${svc.name} has no ports: the operator uses 80` };
}

/** Level 4, exact match; any other non-empty value is used verbatim as the scheme. */
export const APP_PROTOCOL_SCHEMES: Readonly<Record<string, string>> = {
  'kubernetes.io/h2c': 'h2mux',
  h2c: 'h2mux',
  'kubernetes.io/ws': 'ws',
  ws: 'ws',
  'kubernetes.io/wss': 'wss',
  wss: 'wss',
  http: 'http',
  HTTP: 'http',
  https: 'https',
  HTTPS: 'https',
  tcp: 'tcp',
  TCP: 'tcp',
  udp: 'udp',
  UDP: 'udp',
  grpc: 'http',
  GRPC: 'http',
};

/** Level 5, exact match only (Istio-style `http-foo` is not recognised). */
export const PORT_NAME_SCHEMES: Readonly<Record<string, string>> = {
  http: 'http',
  'http-web': 'http',
  'http-api': 'http',
  web: 'http',
  https: 'https',
  'https-web': 'https',
  'https-api': 'https',
  secure: 'https',
  grpc: 'http',
  'grpc-web': 'http',
  h2c: 'h2mux',
  http2: 'h2mux',
  ws: 'ws',
  websocket: 'ws',
  wss: 'wss',
  'websocket-secure': 'wss',
  ssh: 'ssh',
  rdp: 'rdp',
  smb: 'smb',
  tcp: 'tcp',
  udp: 'udp',
};

/** Level 7. 8443 is NOT https. */
export function portNumberScheme(port: number): string {
  if (port === 443) return 'https';
  if (port === 22) return 'ssh';
  if (port === 3389) return 'rdp';
  if (port === 139 || port === 445) return 'smb';
  return 'http';
}

export interface ChainInput {
  /** `Ingress ns/name` */
  ingressLabel: string;
  ingressAnnotations: StringMap;
  /** `Service ns/name`, undefined when the Service does not exist. */
  serviceLabel?: string;
  serviceAnnotations?: StringMap;
  /** The Service port entry (appProtocol, name), when there is one. */
  servicePort?: ServicePort;
  /** The Service port number the operator uses. */
  port: number;
  /** The TunnelIngressClassConfig, when found: its label and defaultProtocol as stored (undefined = CRD default). */
  classConfig?: { label: string; defaultProtocol?: string };
}

export interface ChainLevel {
  level: number;
  /** What was looked at, naming the object and key. */
  source: string;
  /** The scheme this level answers, or null when it says nothing. */
  value: string | null;
  /** Why a present value says nothing, or how it was mapped. */
  note?: string;
}

export interface ProtocolChain {
  protocol: string;
  level: number;
  source: string;
  levels: ChainLevel[];
}

/**
 * The operator's `determineProtocol`: the first level with an answer wins. Every level is
 * evaluated (not only up to the deciding one) so a report can show what lower levels would say.
 */
export function protocolChain(input: ChainInput): ProtocolChain {
  const levels: ChainLevel[] = [];
  const ann = input.ingressAnnotations;
  const wide = ann[CF_ANNOTATION.protocol];
  levels.push({
    level: 1,
    source: `${input.ingressLabel} annotation ${CF_ANNOTATION.protocol}${wide ? `=${wide}` : ''}`,
    value: wide ? wide : null,
    ...(wide ? { note: 'applies to every backend of the Ingress, used as written' } : {}),
  });
  const portKey = `${CF_ANNOTATION.protocolPrefix}${input.port}`;
  const perPort = ann[portKey];
  levels.push({ level: 2, source: `${input.ingressLabel} annotation ${portKey}${perPort ? `=${perPort}` : ''}`, value: perPort ? perPort : null });
  const svcValue = input.serviceAnnotations?.[CF_ANNOTATION.protocol];
  levels.push(
    input.serviceLabel
      ? { level: 3, source: `${input.serviceLabel} annotation ${CF_ANNOTATION.protocol}${svcValue ? `=${svcValue}` : ''}`, value: svcValue ? svcValue : null }
      : { level: 3, source: `Service annotation ${CF_ANNOTATION.protocol}`, value: null, note: 'the Service was not found' },
  );
  const sp = input.servicePort;
  const portLabel = input.serviceLabel ? `${input.serviceLabel} port ${input.port}` : `Service port ${input.port}`;
  const app = sp?.appProtocol;
  if (app) {
    const mapped = APP_PROTOCOL_SCHEMES[app];
    levels.push({
      level: 4,
      source: `${portLabel} appProtocol ${app}`,
      value: mapped ?? app,
      note: mapped ? (mapped === app ? 'recognised' : `mapped ${app} → ${mapped}`) : 'not one the operator maps: passed through unchanged as the scheme',
    });
  } else {
    levels.push({ level: 4, source: `${portLabel} appProtocol`, value: null, ...(sp ? {} : { note: 'no Service port entry to read' }) });
  }
  const name = sp?.name;
  if (name) {
    const mapped = PORT_NAME_SCHEMES[name];
    levels.push(
      mapped
        ? { level: 5, source: `${portLabel} name ${name}`, value: mapped }
        : { level: 5, source: `${portLabel} name ${name}`, value: null, note: 'not one of the names the operator recognises (exact match; Istio-style prefixes such as http-foo are not)' },
    );
  } else {
    levels.push({ level: 5, source: `${portLabel} name`, value: null, ...(sp ? { note: 'the port has no name' } : {}) });
  }
  const cc = input.classConfig;
  if (cc) {
    levels.push(
      cc.defaultProtocol
        ? { level: 6, source: `${cc.label} spec.defaultProtocol=${cc.defaultProtocol}`, value: cc.defaultProtocol }
        : { level: 6, source: `${cc.label} spec.defaultProtocol`, value: 'http', note: 'not set in the object: the CRD defaults it to http' },
    );
  } else {
    levels.push({ level: 6, source: 'TunnelIngressClassConfig spec.defaultProtocol', value: null, note: 'no TunnelIngressClassConfig found' });
  }
  levels.push({ level: 7, source: `port number ${input.port}`, value: portNumberScheme(input.port), note: '443 https, 22 ssh, 3389 rdp, 139/445 smb, else http' });
  const decided = levels.find((l) => l.value !== null) as ChainLevel;
  return { protocol: decided.value as string, level: decided.level, source: decided.source, levels };
}

/** `convertPathType`: "" or "/" → no path; Exact → `^p$`; Prefix (and the rest) → `p.*` when p ends in `/`, else `p(/.*)?$`. */
export function operatorPath(path: string | undefined, pathType: string | undefined): string | undefined {
  if (path === undefined || path === '' || path === '/') return undefined;
  if (pathType === 'Exact') return `^${path}$`;
  return path.endsWith('/') ? `${path}.*` : `${path}(/.*)?$`;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

export interface PredictedOriginRequest {
  originRequest: Record<string, unknown>;
  /** Settings given (annotations, defaultOriginRequest) that the ConfigMap path drops. */
  dropped: string[];
}

/**
 * The originRequest the operator writes for an Ingress rule on the ConfigMap path: only noTLSVerify
 * and http2Origin (always, as explicit booleans) and the proxy settings survive; annotations beat
 * the TunnelIngressClassConfig's defaultOriginRequest.
 */
export function predictedOriginRequest(annotations: StringMap, defaults: Record<string, unknown> | undefined): PredictedOriginRequest {
  const d = defaults ?? {};
  const bool = (annotation: string, key: string): boolean => parseGoBool(annotations[annotation]) ?? (d[key] === true);
  const out: Record<string, unknown> = {
    noTLSVerify: bool(CF_ANNOTATION.noTlsVerify, 'noTlsVerify'),
    http2Origin: bool(CF_ANNOTATION.http2Origin, 'http2Origin'),
  };
  const proxyAddress = annotations[CF_ANNOTATION.proxyAddress] || (typeof d.proxyAddress === 'string' ? d.proxyAddress : '');
  if (proxyAddress) out.proxyAddress = proxyAddress;
  const annPort = Number(annotations[CF_ANNOTATION.proxyPort]);
  const proxyPort = Number.isInteger(annPort) && annPort > 0 && annPort < 65536 ? annPort : typeof d.proxyPort === 'number' ? d.proxyPort : undefined;
  if (proxyPort) out.proxyPort = proxyPort;
  const proxyType = annotations[CF_ANNOTATION.proxyType] || (typeof d.proxyType === 'string' ? d.proxyType : '');
  if (proxyType) out.proxyType = proxyType;
  const dropped = [
    ...DROPPED_ANNOTATIONS.filter((k) => annotations[k] !== undefined).map((k) => `annotation ${k}`),
    ...DROPPED_DEFAULTS.filter((k) => d[k] !== undefined && d[k] !== '' && d[k] !== false).map((k) => `defaultOriginRequest.${k}`),
  ];
  return { originRequest: out, dropped };
}

/** `protocol://svc.ns.svc:port`, as the operator formats it. */
export function operatorServiceUrl(protocol: string, service: string, namespace: string, port: number): string {
  return `${protocol}://${service}.${namespace}.svc:${port}`;
}
