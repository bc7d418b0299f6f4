// How Istio decides a Service port's protocol (domain §8).

import type { ServicePort } from './k8s.js';

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
