// One Envoy config dump, read into what the comparison asks of it: whose proxy it is (the
// bootstrap node), what each outbound cluster puts on the wire (transport socket, socket
// matches, the endpoints' tlsMode metadata), and what the inbound listener accepts per target
// port (filter chains). Pure: reads the pruned JSON of core/envoy-dump.ts, never the network.
// Names and shapes follow Istio's generator (pilot/pkg/networking/core: cluster_tls.go,
// listener_inbound.go, filterchain_options.go) and Envoy's admin API (admin.v3.ConfigDump).

import { parseNodeId, type ConfigDumpJson, type PodName, type ProxyConfigInput } from '../../core/envoy-dump.js';

/** What a transport socket puts on the wire; the vocabulary of traffic.ts's `Sends`, minus what only apps do. */
export type WireSends = 'ISTIO_MUTUAL' | 'MUTUAL' | 'SIMPLE' | 'PLAINTEXT' | 'HBONE' | 'UNKNOWN';

export interface UpstreamSocket {
  sends: WireSends;
  /** `envoy.transport_sockets.tls (ALPN istio-peer-exchange,istio; SDS default/ROOTCA)`. */
  describe: string;
}

export interface SocketMatch {
  name: string;
  /** Endpoint metadata (`envoy.transport_socket_match`) this entry requires; {} matches every endpoint. */
  match: Record<string, string>;
  socket: UpstreamSocket;
}

export interface EnvoyCluster {
  name: string;
  /** From `outbound|PORT|SUBSET|HOST`. */
  direction: 'outbound' | 'inbound' | 'other';
  port?: number;
  subset?: string;
  host?: string;
  /** EDS, ORIGINAL_DST (headless), STRICT_DNS, … */
  type?: string;
  /** The cluster's own socket: used for endpoints no socket match takes (plaintext when absent). */
  socket: UpstreamSocket;
  hasOwnSocket: boolean;
  matches: SocketMatch[];
  /** The Istio config that built it (metadata `istio.config`): `DestinationRule ns/name`. */
  builtFrom?: string;
  versionInfo?: string;
  lastUpdated?: string;
  warming: boolean;
  rejected?: string;
}

export interface EnvoyEndpoint {
  address?: string;
  port?: number;
  /** Endpoint (and locality) metadata under `envoy.transport_socket_match`. */
  tlsMatch: Record<string, string>;
  /** `istio.workload`: `name;namespace;canonical-service;revision;cluster`. */
  workload?: string;
  health?: string;
}

export interface InboundChain {
  name?: string;
  /** `filter_chain_match.destination_port`; undefined for the passthrough chains every port falls into. */
  port?: number;
  transportProtocol?: string;
  alpn: string[];
  /** The chain's socket terminates TLS and asks for a client certificate: Istio mTLS ends here. */
  terminatesMtls: boolean;
  /** The chain terminates TLS without asking for a client certificate (Sidecar ingress TLS). */
  terminatesTls: boolean;
  /** Plaintext is handled here (a raw_buffer chain without a TLS socket). */
  plaintext: boolean;
  /** TLS that is not Istio's passes through to the application (PERMISSIVE TCP ports). */
  tlsPassthrough: boolean;
}

export interface InboundListener {
  name: string;
  /** The port it binds (15006 for virtualInbound). */
  port?: number;
  chains: InboundChain[];
  versionInfo?: string;
  lastUpdated?: string;
}

export type ProxyType = 'sidecar' | 'router' | 'waypoint' | 'ztunnel' | 'unknown';

export interface EnvoyNode {
  id?: string;
  type: ProxyType;
  /** The IP in the node id (`sidecar~10.0.0.5~…`). */
  ip?: string;
  /** NAME/NAMESPACE metadata, else the node id's `POD.NS`. */
  pod?: PodName;
  labels: Record<string, string>;
  /** The pod annotations pilot-agent started with (capture and sidecar keys only). */
  annotations?: Record<string, string>;
  istioVersion?: string;
  instanceIps: string[];
  owner?: string;
  workloadName?: string;
}

export interface EnvoyDump {
  input: ProxyConfigInput;
  node?: EnvoyNode;
  hasClusters: boolean;
  hasEndpoints: boolean;
  hasListeners: boolean;
  clusters: Map<string, EnvoyCluster>;
  endpoints: Map<string, EnvoyEndpoint[]>;
  inbound: InboundListener[];
  /** Updates Envoy refused (`error_state`): it runs the config from before them. */
  rejected: string[];
  /** The newest `last_updated` in the dump: it was taken at or after that time. */
  newestUpdate?: string;
  clustersVersion?: string;
  listenersVersion?: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Protobuf UInt32Value in JSON: a number, a numeric string, or `{value: n}`. */
function num(v: unknown): number | undefined {
  const raw = isObj(v) ? v.value : v;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

function strings(v: unknown): string[] {
  return arr(v).filter((x): x is string => typeof x === 'string');
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

const TLS_SOCKET = 'envoy.transport_sockets.tls';
const RAW_SOCKET = 'envoy.transport_sockets.raw_buffer';

function tlsSummary(tc: Obj): { alpn: string[]; sds: string[]; validation?: string; clientCert: boolean; sni?: string } {
  const ctx = isObj(tc.common_tls_context) ? tc.common_tls_context : {};
  const sds = arr(ctx.tls_certificate_sds_secret_configs).flatMap((s) => (isObj(s) && typeof s.name === 'string' ? [s.name] : []));
  const validation = isObj(ctx.validation_context_sds_secret_config) ? str(ctx.validation_context_sds_secret_config.name) : undefined;
  const clientCert = sds.length > 0 || arr(ctx.tls_certificates).length > 0;
  const sni = str(tc.sni);
  return { alpn: strings(ctx.alpn_protocols), sds, ...(validation ? { validation } : {}), clientCert, ...(sni ? { sni } : {}) };
}

/**
 * What an upstream transport socket sends. Istio's mTLS socket (cluster_tls.go
 * buildIstioMutualTLS) takes the workload certificate from SDS `default`, validates with
 * `ROOTCA` and offers the `istio*` ALPNs; any other TLS with a client certificate is MUTUAL,
 * without one SIMPLE. No socket, or raw_buffer, is plaintext. Wrappers are followed inward.
 */
export function upstreamSocket(socket: unknown, depth = 0): UpstreamSocket {
  if (!isObj(socket)) return { sends: 'PLAINTEXT', describe: 'no transport socket (plaintext)' };
  const name = str(socket.name) ?? '';
  const tc = isObj(socket.typed_config) ? socket.typed_config : undefined;
  const type = str(tc?.['@type']) ?? '';
  if (name === RAW_SOCKET || type.endsWith('.RawBuffer')) return { sends: 'PLAINTEXT', describe: `${name || 'raw_buffer'} (plaintext)` };
  if (name === TLS_SOCKET || type.endsWith('.UpstreamTlsContext')) {
    const t = tlsSummary(tc ?? {});
    const istio = (t.sds.includes('default') && t.validation === 'ROOTCA') || t.alpn.some((a) => a === 'istio' || a.startsWith('istio-'));
    const sends: WireSends = istio ? 'ISTIO_MUTUAL' : t.clientCert ? 'MUTUAL' : 'SIMPLE';
    const parts = [
      t.alpn.length ? `ALPN ${t.alpn.join(',')}` : '',
      t.sds.length ? `SDS ${t.sds.join(',')}${t.validation ? `/${t.validation}` : ''}` : '',
      t.sni ? `SNI ${t.sni}` : '',
    ].filter(Boolean);
    return { sends, describe: `${name || TLS_SOCKET}${parts.length ? ` (${parts.join('; ')})` : ''}` };
  }
  const inner = tc && isObj(tc.transport_socket) && depth < 8 ? upstreamSocket(tc.transport_socket, depth + 1) : undefined;
  if (inner) return { sends: inner.sends, describe: `${name} around ${inner.describe}` };
  return { sends: 'UNKNOWN', describe: `${name || type || 'an unknown transport socket'}` };
}

/** `outbound|9080|v1|reviews.default.svc.cluster.local` → its parts (Istio's BuildSubsetKey). */
export function parseClusterName(name: string): Pick<EnvoyCluster, 'direction' | 'port' | 'subset' | 'host'> {
  const parts = name.split('|');
  if (parts.length !== 4 || (parts[0] !== 'outbound' && parts[0] !== 'inbound')) return { direction: 'other' };
  const port = /^\d+$/.test(parts[1] ?? '') ? Number(parts[1]) : undefined;
  return {
    direction: parts[0],
    ...(port !== undefined ? { port } : {}),
    ...(parts[2] ? { subset: parts[2] } : {}),
    ...(parts[3] ? { host: parts[3] } : {}),
  };
}

/** `outbound|PORT|SUBSET|HOST`, the name Istio gives the cluster of a Service port (and subset). */
export function outboundClusterName(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}

/** `/apis/networking.istio.io/v1alpha3/namespaces/app/destination-rule/web` → `DestinationRule app/web`. */
export function configRef(path: string | undefined): string | undefined {
  if (!path) return undefined;
  const m = /\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return path;
  const kind = (m[2] as string)
    .split('-')
    .map((w) => (w[0] ?? '').toUpperCase() + w.slice(1))
    .join('');
  return `${kind} ${m[1]}/${m[3]}`;
}

function readCluster(entry: Obj, warming: boolean): EnvoyCluster | undefined {
  const c = isObj(entry.cluster) ? entry.cluster : undefined;
  const name = str(c?.name);
  if (!c || !name) return undefined;
  const matches = arr(c.transport_socket_matches).flatMap((m): SocketMatch[] =>
    isObj(m) ? [{ name: str(m.name) ?? '', match: stringMap(m.match), socket: upstreamSocket(m.transport_socket) }] : [],
  );
  const istio = isObj(c.metadata) && isObj(c.metadata.filter_metadata) && isObj(c.metadata.filter_metadata.istio) ? c.metadata.filter_metadata.istio : {};
  const builtFrom = configRef(str(istio.config));
  const rejected = isObj(entry.error_state) ? str(entry.error_state.details) : undefined;
  return {
    name,
    ...parseClusterName(name),
    ...(str(c.type) ? { type: str(c.type) } : {}),
    socket: upstreamSocket(c.transport_socket),
    hasOwnSocket: isObj(c.transport_socket),
    matches,
    ...(builtFrom ? { builtFrom } : {}),
    ...(str(entry.version_info) ? { versionInfo: str(entry.version_info) } : {}),
    ...(str(entry.last_updated) ? { lastUpdated: str(entry.last_updated) } : {}),
    warming,
    ...(rejected ? { rejected } : {}),
  };
}

function transportMatchOf(md: unknown): Record<string, string> {
  const fm = isObj(md) && isObj(md.filter_metadata) ? md.filter_metadata : undefined;
  return stringMap(fm?.['envoy.transport_socket_match']);
}

function readEndpoints(entry: Obj): { cluster: string; endpoints: EnvoyEndpoint[] } | undefined {
  const ec = isObj(entry.endpoint_config) ? entry.endpoint_config : undefined;
  const cluster = str(ec?.cluster_name);
  if (!ec || !cluster) return undefined;
  const endpoints: EnvoyEndpoint[] = [];
  for (const le of arr(ec.endpoints)) {
    if (!isObj(le)) continue;
    // Envoy matches socket matches against the endpoint's metadata and its locality's.
    const locality = transportMatchOf(le.metadata);
    for (const lb of arr(le.lb_endpoints)) {
      if (!isObj(lb)) continue;
      const sa = isObj(lb.endpoint) && isObj(lb.endpoint.address) && isObj(lb.endpoint.address.socket_address) ? lb.endpoint.address.socket_address : undefined;
      const fm = isObj(lb.metadata) && isObj(lb.metadata.filter_metadata) ? lb.metadata.filter_metadata : {};
      const workload = isObj(fm.istio) ? str(fm.istio.workload) : undefined;
      const address = str(sa?.address);
      const port = num(sa?.port_value);
      endpoints.push({
        ...(address ? { address } : {}),
        ...(port !== undefined ? { port } : {}),
        tlsMatch: { ...locality, ...transportMatchOf(lb.metadata) },
        ...(workload ? { workload } : {}),
        ...(str(lb.health_status) ? { health: str(lb.health_status) } : {}),
      });
    }
  }
  return { cluster, endpoints };
}

function readChain(fc: unknown): InboundChain | undefined {
  if (!isObj(fc)) return undefined;
  const m = isObj(fc.filter_chain_match) ? fc.filter_chain_match : {};
  const ts = isObj(fc.transport_socket) ? fc.transport_socket : undefined;
  const tc = ts && isObj(ts.typed_config) ? ts.typed_config : undefined;
  const tls = Boolean(ts && (ts.name === TLS_SOCKET || str(tc?.['@type'])?.endsWith('.DownstreamTlsContext')));
  const requireCert = tls && (tc?.require_client_certificate === true || (isObj(tc?.require_client_certificate) && tc.require_client_certificate.value === true));
  const transportProtocol = str(m.transport_protocol);
  const port = num(m.destination_port);
  return {
    ...(str(fc.name) ? { name: str(fc.name) } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(transportProtocol ? { transportProtocol } : {}),
    alpn: strings(m.application_protocols),
    terminatesMtls: requireCert,
    terminatesTls: tls && !requireCert,
    plaintext: !tls && transportProtocol !== 'tls',
    tlsPassthrough: !tls && transportProtocol === 'tls',
  };
}

function readListener(entry: Obj): { listener?: InboundListener; rejected?: string } {
  const state = isObj(entry.active_state) ? entry.active_state : undefined;
  const l = state && isObj(state.listener) ? state.listener : undefined;
  const rejected = isObj(entry.error_state) ? str(entry.error_state.details) ?? 'an update was rejected' : undefined;
  if (!l) return rejected ? { rejected: `listener ${str(entry.name) ?? '?'}: ${rejected}` } : {};
  const name = str(l.name) ?? str(entry.name) ?? '';
  const sa = isObj(l.address) && isObj(l.address.socket_address) ? l.address.socket_address : undefined;
  const chains = [...arr(l.filter_chains), ...(l.default_filter_chain ? [l.default_filter_chain] : [])].flatMap((fc) => {
    const c = readChain(fc);
    return c ? [c] : [];
  });
  const port = num(sa?.port_value);
  const listener: InboundListener = {
    name,
    ...(port !== undefined ? { port } : {}),
    chains,
    ...(str(state?.version_info) ? { versionInfo: str(state?.version_info) } : {}),
    ...(str(state?.last_updated) ? { lastUpdated: str(state?.last_updated) } : {}),
  };
  return { listener, ...(rejected ? { rejected: `listener ${name}: ${rejected}` } : {}) };
}

/** Istio's node id, typed for the kinds of proxy tunnelmesh knows. */
function nodeIdParts(id: string): Pick<EnvoyNode, 'type' | 'ip' | 'pod'> {
  const p = parseNodeId(id);
  const type: ProxyType = p.type === 'sidecar' || p.type === 'router' || p.type === 'waypoint' || p.type === 'ztunnel' ? p.type : 'unknown';
  return { type, ...(p.ip ? { ip: p.ip } : {}), ...(p.pod ? { pod: p.pod } : {}) };
}

function readNode(node: unknown): EnvoyNode | undefined {
  if (!isObj(node)) return undefined;
  const id = str(node.id);
  const parsed = id ? nodeIdParts(id) : { type: 'unknown' as const };
  const md = isObj(node.metadata) ? node.metadata : {};
  const name = str(md.NAME);
  const namespace = str(md.NAMESPACE);
  const pod = name && namespace ? { namespace, name } : parsed.pod;
  const ips = (str(md.INSTANCE_IPS) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const annotations = isObj(md.ANNOTATIONS) ? stringMap(md.ANNOTATIONS) : undefined;
  return {
    ...(id ? { id } : {}),
    type: parsed.type,
    ...(parsed.ip ? { ip: parsed.ip } : {}),
    ...(pod ? { pod } : {}),
    labels: stringMap(md.LABELS),
    ...(annotations ? { annotations } : {}),
    ...(str(md.ISTIO_VERSION) ? { istioVersion: str(md.ISTIO_VERSION) } : {}),
    instanceIps: ips,
    ...(str(md.OWNER) ? { owner: str(md.OWNER) } : {}),
    ...(str(md.WORKLOAD_NAME) ? { workloadName: str(md.WORKLOAD_NAME) } : {}),
  };
}

function newest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function kindOf(config: Obj): string {
  const type = str(config['@type']) ?? '';
  return type.slice(type.lastIndexOf('.') + 1);
}

/** Reads one (pruned) dump. Several entries of one kind (merged partial dumps) are read in order; a later cluster of one name wins. */
export function readEnvoyDump(input: ProxyConfigInput): EnvoyDump {
  const dump: EnvoyDump = {
    input,
    hasClusters: false,
    hasEndpoints: false,
    hasListeners: false,
    clusters: new Map(),
    endpoints: new Map(),
    inbound: [],
    rejected: [],
  };
  const json: ConfigDumpJson = input.dump;
  for (const config of json.configs) {
    if (!isObj(config)) continue;
    switch (kindOf(config)) {
      case 'BootstrapConfigDump': {
        const node = readNode(isObj(config.bootstrap) ? config.bootstrap.node : undefined);
        if (node) dump.node = node;
        dump.newestUpdate = newest(dump.newestUpdate, str(config.last_updated));
        break;
      }
      case 'ClustersConfigDump':
        dump.hasClusters = true;
        if (str(config.version_info)) dump.clustersVersion = str(config.version_info);
        for (const [key, warming] of [['dynamic_active_clusters', false], ['dynamic_warming_clusters', true]] as const) {
          for (const e of arr(config[key])) {
            const c = isObj(e) ? readCluster(e, warming) : undefined;
            if (!c) continue;
            // A warming cluster is the update Envoy has not applied yet: the active one is what it sends with.
            if (!warming || !dump.clusters.has(c.name)) dump.clusters.set(c.name, c);
            else (dump.clusters.get(c.name) as EnvoyCluster).warming = true;
            if (c.rejected) dump.rejected.push(`cluster ${c.name}: ${c.rejected}`);
            dump.newestUpdate = newest(dump.newestUpdate, c.lastUpdated);
          }
        }
        break;
      case 'EndpointsConfigDump':
        dump.hasEndpoints = true;
        for (const e of arr(config.dynamic_endpoint_configs)) {
          const read = isObj(e) ? readEndpoints(e) : undefined;
          if (read) dump.endpoints.set(read.cluster, read.endpoints);
          if (isObj(e)) dump.newestUpdate = newest(dump.newestUpdate, str(e.last_updated));
        }
        break;
      case 'ListenersConfigDump':
        dump.hasListeners = true;
        if (str(config.version_info)) dump.listenersVersion = str(config.version_info);
        for (const e of [...arr(config.static_listeners), ...arr(config.dynamic_listeners)]) {
          if (!isObj(e)) continue;
          const { listener, rejected } = readListener(e);
          if (listener) {
            dump.inbound.push(listener);
            dump.newestUpdate = newest(dump.newestUpdate, listener.lastUpdated);
          }
          if (rejected) dump.rejected.push(rejected);
        }
        break;
      default:
        break;
    }
  }
  return dump;
}

// ---- questions the comparison asks -------------------------------------------------------

/** Does a socket match entry take an endpoint with this metadata (every key equal; {} takes all)? */
function takes(match: Record<string, string>, metadata: Record<string, string>): boolean {
  return Object.entries(match).every(([k, v]) => metadata[k] === v);
}

export interface EnvoySendsAnswer {
  /** What leaves for this endpoint; `DEPENDS` when the endpoint's metadata is not in the dump and the choice depends on it. */
  sends: WireSends | 'DEPENDS';
  /** How Envoy decided, in one line. */
  how: string;
  /** With DEPENDS: what an endpoint with tlsMode=istio gets, and what one without gets. */
  withTlsMode?: WireSends;
  withoutTlsMode?: WireSends;
  /** The endpoint as Envoy holds it, when EDS is in the dump. */
  endpoint?: EnvoyEndpoint;
  /** EDS is in the dump for this cluster, but the endpoint is not (not ready, or not pushed yet). */
  endpointMissing?: boolean;
}

/** The socket Envoy uses for an endpoint with this metadata (Envoy: first socket match that takes it, else the cluster's socket). */
export function socketFor(cluster: EnvoyCluster, metadata: Record<string, string>): { socket: UpstreamSocket; via: string } {
  const m = cluster.matches.find((x) => takes(x.match, metadata));
  if (m) return { socket: m.socket, via: `transport socket match ${m.name || '(unnamed)'}` };
  return { socket: cluster.socket, via: cluster.hasOwnSocket ? "the cluster's transport socket" : 'no transport socket' };
}

function describeMetadata(md: Record<string, string>): string {
  const entries = Object.entries(md);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : 'no tlsMode';
}

/** What this cluster sends to the endpoint at address:port (an IP may be unknown offline). */
export function envoySendsTo(dump: EnvoyDump, cluster: EnvoyCluster, address: string | undefined, port: number | undefined): EnvoySendsAnswer {
  const eds = dump.endpoints.get(cluster.name);
  const endpoint = eds && address ? eds.find((e) => e.address === address && (port === undefined || e.port === undefined || e.port === port)) : undefined;
  if (endpoint) {
    const { socket, via } = socketFor(cluster, endpoint.tlsMatch);
    return { sends: socket.sends, how: `${via} (endpoint metadata ${describeMetadata(endpoint.tlsMatch)}): ${socket.describe}`, endpoint };
  }
  const withTls = socketFor(cluster, { tlsMode: 'istio' });
  const without = socketFor(cluster, {});
  const missing = eds !== undefined && address !== undefined;
  const why = missing ? `its endpoints (EDS) do not include ${address}:${port ?? '?'}` : eds ? 'the pod IP is not known' : 'the dump holds no endpoints for it (take it with ?include_eds)';
  if (withTls.socket.sends === without.socket.sends) {
    return { sends: without.socket.sends, how: `${without.via}: ${without.socket.describe} to every endpoint`, ...(missing ? { endpointMissing: true } : {}) };
  }
  return {
    sends: 'DEPENDS',
    how: `per endpoint: ${withTls.via} gives ${withTls.socket.describe} to endpoints with tlsMode=istio, ${without.via} gives ${without.socket.describe} to the others; ${why}`,
    withTlsMode: withTls.socket.sends,
    withoutTlsMode: without.socket.sends,
    ...(missing ? { endpointMissing: true } : {}),
  };
}

export type InboundMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE' | 'NONE';

export interface InboundAnswer {
  /** The chains that take connections to the port; the passthrough chains when none names it. */
  chains: InboundChain[];
  /** A chain for the port exists (else the passthrough chains decide). */
  forPort: boolean;
  acceptsMtls: boolean;
  acceptsPlaintext: boolean;
  /** PeerAuthentication modes as Istio renders them (filterchain_options.go): both = PERMISSIVE, mTLS only = STRICT, plaintext only = DISABLE. */
  mode: InboundMode;
  listener: InboundListener;
}

/**
 * What the virtual inbound listener (or a listener bound to the port) does with connections to
 * a target port. Excluded ports still get chains: istiod builds them from the Service's target
 * ports, whatever iptables captures (listener_inbound.go getFilterChainsByServicePort).
 */
export function inboundFor(dump: EnvoyDump, port: number): InboundAnswer | undefined {
  const bound = dump.inbound.find((l) => l.port === port && l.name !== 'virtualInbound');
  const listener = bound ?? dump.inbound.find((l) => l.name === 'virtualInbound');
  if (!listener) return undefined;
  const own = bound ? listener.chains : listener.chains.filter((c) => c.port === port);
  const forPort = own.length > 0;
  // The passthrough chains match no port; the blackhole chain matches the listener's own port.
  const chains = forPort ? own : listener.chains.filter((c) => c.port === undefined);
  const acceptsMtls = chains.some((c) => c.terminatesMtls);
  const acceptsPlaintext = chains.some((c) => c.plaintext);
  const mode: InboundMode = acceptsMtls && acceptsPlaintext ? 'PERMISSIVE' : acceptsMtls ? 'STRICT' : acceptsPlaintext ? 'DISABLE' : 'NONE';
  return { chains, forPort, acceptsMtls, acceptsPlaintext, mode, listener };
}

export function describeInbound(a: InboundAnswer, port: number): string {
  const accepts = [a.acceptsMtls ? 'mTLS' : '', a.acceptsPlaintext ? 'plaintext' : ''].filter(Boolean).join(' and ') || 'nothing it can terminate';
  const where = a.forPort ? `${a.chains.length} filter chain${a.chains.length === 1 ? '' : 's'} for port ${port}` : `no filter chain for port ${port}, so its passthrough chains`;
  return `${a.listener.name}: ${where} accept${a.forPort && a.chains.length === 1 ? 's' : ''} ${accepts} (${a.mode === 'NONE' ? 'no chain takes it' : a.mode})`;
}

/** `Pod app/web-1` as the node says, or where the dump came from. */
export function describeDump(dump: EnvoyDump): string {
  const pod = dump.input.pod ?? dump.node?.pod;
  return pod ? `Pod ${pod.namespace}/${pod.name}` : dump.input.source;
}
