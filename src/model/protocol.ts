// How Istio decides a Service port's protocol (domain §8).

import type { ServicePort } from '../core/k8s.js';

export type IstioProtocol =
  | 'TCP'
  | 'UDP'
  | 'GRPC'
  | 'GRPC-Web'
  | 'HTTP'
  | 'HTTP2'
  | 'HTTPS'
  | 'TLS'
  | 'Mongo'
  | 'Redis'
  | 'MySQL'
  | 'UNKNOWN';

const BY_PREFIX: Record<string, IstioProtocol> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};

const APP_PROTOCOL_ALIASES: Record<string, IstioProtocol> = {
  'kubernetes.io/h2c': 'HTTP2',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'HTTPS',
};

/** Unnamed ports Istio forces to TCP (server-first protocols sniffing would break). */
const FORCED_TCP_PORTS = new Set([25, 53, 3306, 27017]);

export interface ProtocolDecision {
  protocol: IstioProtocol;
  /** Where it came from: `appProtocol "grpc"`, `port name "http-web"`, `port 3306`, or sniffing. */
  source: string;
}

function fromValue(value: string): IstioProtocol | undefined {
  const alias = APP_PROTOCOL_ALIASES[value];
  if (alias) return alias;
  const lower = value.toLowerCase();
  if (lower === 'grpc-web' || lower.startsWith('grpc-web-')) return 'GRPC-Web';
  return BY_PREFIX[lower.split('-')[0] as string];
}

export function istioProtocol(sp: ServicePort): ProtocolDecision {
  if ((sp.protocol ?? 'TCP').toUpperCase() === 'UDP') return { protocol: 'UDP', source: 'protocol UDP' };
  if (sp.appProtocol) {
    const p = fromValue(sp.appProtocol);
    if (p) return { protocol: p, source: `appProtocol "${sp.appProtocol}"` };
  }
  if (sp.name) {
    const p = fromValue(sp.name);
    if (p) return { protocol: p, source: `port name "${sp.name}"` };
  }
  if (!sp.name && FORCED_TCP_PORTS.has(sp.port)) return { protocol: 'TCP', source: `unnamed port ${sp.port}` };
  return { protocol: 'UNKNOWN', source: 'no protocol declared (Istio sniffs)' };
}

/** What a Service port says its application speaks, read the way a tunnel rule has to match it. */
export type Speech = 'http' | 'http2' | 'grpc' | 'grpc-web' | 'https' | 'tls' | 'tcp' | 'udp' | 'unknown';

export interface SpeechDecision {
  speech: Speech;
  /** Istio's protocol for the port (§8). */
  istio: ProtocolDecision;
  source: string;
}

const BY_ISTIO: Record<IstioProtocol, Speech> = {
  HTTP: 'http',
  HTTP2: 'http2',
  GRPC: 'grpc',
  'GRPC-Web': 'grpc-web',
  HTTPS: 'https',
  TLS: 'tls',
  TCP: 'tcp',
  Mongo: 'tcp',
  Redis: 'tcp',
  MySQL: 'tcp',
  UDP: 'udp',
  UNKNOWN: 'unknown',
};

/** Names and appProtocols Istio does not know but which plainly name an HTTP-based protocol. */
const HTTP_HINTS: Record<string, Speech> = {
  h2c: 'http2',
  web: 'http',
  ws: 'http',
  websocket: 'http',
  secure: 'https',
  wss: 'https',
  'websocket-secure': 'https',
};

/**
 * Istio's declared protocol first (appProtocol, then the port name); when Istio would sniff,
 * names such as `h2c`, `web` or `wss` (which the operator's chain recognises) still say what the
 * application speaks.
 */
export function declaredSpeech(sp: ServicePort): SpeechDecision {
  const istio = istioProtocol(sp);
  const speech = BY_ISTIO[istio.protocol];
  if (speech !== 'unknown') return { speech, istio, source: `Istio protocol ${istio.protocol} (${istio.source})` };
  for (const [what, value] of [['appProtocol', sp.appProtocol], ['port name', sp.name]] as const) {
    const hint = value ? HTTP_HINTS[value] : undefined;
    if (hint) return { speech: hint, istio, source: `${what} "${value}" (Istio itself would sniff)` };
  }
  return { speech: 'unknown', istio, source: istio.source };
}

/** HTTP and HTTP over TLS, in any version: what a browser hostname needs. */
export function isHttpFamily(s: Speech): boolean {
  return s === 'http' || s === 'http2' || s === 'grpc' || s === 'grpc-web' || s === 'https';
}

/** Protocols the application itself speaks in the clear. */
export function isPlainProtocol(p: IstioProtocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-Web' || p === 'TCP' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';
}

export function isTlsProtocol(p: IstioProtocol): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

export type ProtocolFamily = 'HTTP' | 'TCP' | 'TLS';

/**
 * How the sidecar's inbound listener treats a port: HTTP (http, http2, grpc, grpc-web share one
 * HTTP connection manager that negotiates the version), opaque TCP (tcp, mongo, redis, mysql),
 * or TLS passthrough (https, tls). Undeclared (sniffed) and UDP ports have none.
 */
export function protocolFamily(p: IstioProtocol): ProtocolFamily | undefined {
  switch (p) {
    case 'HTTP':
    case 'HTTP2':
    case 'GRPC':
    case 'GRPC-Web':
      return 'HTTP';
    case 'TCP':
    case 'Mongo':
    case 'Redis':
    case 'MySQL':
      return 'TCP';
    case 'HTTPS':
    case 'TLS':
      return 'TLS';
    default:
      return undefined;
  }
}
