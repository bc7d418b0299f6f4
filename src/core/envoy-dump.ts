// Envoy config dumps (the proxy's `:15000/config_dump`, or `istioctl proxy-config all -o json`)
// as an input: how to recognise one, the wrapper tunnelmesh writes them in (snapshot files, so a
// replay sees the same dumps), and the pruning that keeps only what the comparison reads. Pruning
// happens as soon as a dump is read: real dumps run to tens of MB (every cluster of the mesh, the
// routes, the certificates of SecretsConfigDump), and none of that but the TLS shape of clusters,
// endpoints and inbound listeners is judged — nor should certificates ever reach a snapshot.

export const ENVOY_DUMP_KIND = 'EnvoyConfigDump';
export const ENVOY_DUMP_API_VERSION = 'tunnelmesh.io/v1alpha1';

/** Istio's `proxyAdminPort` default: Envoy's admin interface in every sidecar and gateway. */
export const ENVOY_ADMIN_PORT = 15000;

/** `?include_eds`: without it Envoy leaves the endpoints (and their tlsMode metadata) out (admin docs, ConfigDump). */
export const CONFIG_DUMP_PATH = 'config_dump?include_eds';

const ADMIN_TYPE_PREFIX = 'type.googleapis.com/envoy.admin.';

export interface PodName {
  namespace: string;
  name: string;
}

/** One config dump as collected: pruned, with where it came from and whose it is said to be. */
export interface ProxyConfigInput {
  /** `file.json`, `snapshot.yaml:120`, or `pods/NAME:15000/proxy` for a live fetch. */
  source: string;
  live: boolean;
  /** The pod it was taken from when something other than the dump says so (a live fetch, `NS/POD=FILE`, a snapshot wrapper). */
  pod?: PodName;
  /** An Envoy admin ConfigDump (`{configs: [...]}`), pruned by pruneConfigDump. */
  dump: ConfigDumpJson;
}

export interface ConfigDumpJson {
  configs: Array<Record<string, unknown>>;
}

/** What a live fetch of one pod's dump ran into (said in the report, never judged as "agrees"). */
export interface ProxyConfigGap {
  pod: PodName;
  reason: 'forbidden' | 'not-found' | 'unreachable' | 'too-large' | 'invalid' | 'error';
  message: string;
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

/** An Envoy admin config dump: `configs` entries typed `type.googleapis.com/envoy.admin.v3.*ConfigDump`. */
export function isConfigDump(value: unknown): value is ConfigDumpJson {
  if (!isObj(value) || !Array.isArray(value.configs)) return false;
  return value.configs.some((c) => isObj(c) && typeof c['@type'] === 'string' && c['@type'].startsWith(ADMIN_TYPE_PREFIX));
}

/** The `kind: EnvoyConfigDump` wrapper of a snapshot file (or written by hand): the pod and the dump. */
export function readDumpWrapper(value: unknown): { pod?: PodName; dump: unknown } | undefined {
  if (!isObj(value) || value.kind !== ENVOY_DUMP_KIND || typeof value.apiVersion !== 'string' || !value.apiVersion.startsWith('tunnelmesh.io/')) return undefined;
  const meta = isObj(value.metadata) ? value.metadata : {};
  const name = str(meta.name);
  const namespace = str(meta.namespace);
  return { ...(name && namespace ? { pod: { namespace, name } } : {}), dump: value.configDump };
}

/** `sidecar~10.0.0.5~web-7d9f.app~app.svc.cluster.local` (Istio's node id, pkg/model/proxy.go) → type, IP, pod. */
export function parseNodeId(id: string): { type: string; ip?: string; pod?: PodName } {
  const parts = id.split('~');
  if (parts.length !== 4) return { type: 'unknown' };
  const [type, ip, podDotNs, domain] = parts as [string, string, string, string];
  // The domain is `NS.svc.<cluster domain>`; the id `POD.NS` (pod names may hold dots).
  const namespace = domain.split('.')[0] ?? '';
  const name = namespace && podDotNs.endsWith(`.${namespace}`) ? podDotNs.slice(0, -namespace.length - 1) : '';
  return { type, ...(ip ? { ip } : {}), ...(name && namespace ? { pod: { namespace, name } } : {}) };
}

/** The pod a dump's bootstrap node names (metadata NAME/NAMESPACE, else the node id). */
export function podOfDump(dump: ConfigDumpJson): PodName | undefined {
  for (const c of dump.configs) {
    if (!String(c['@type'] ?? '').endsWith('.BootstrapConfigDump')) continue;
    const node = isObj(c.bootstrap) && isObj(c.bootstrap.node) ? c.bootstrap.node : undefined;
    const md = node && isObj(node.metadata) ? node.metadata : {};
    const name = str(md.NAME);
    const namespace = str(md.NAMESPACE);
    if (name && namespace) return { namespace, name };
    const id = str(node?.id);
    if (id) return parseNodeId(id).pod;
  }
  return undefined;
}

/** The wrapper document for one dump, as snapshot files hold it. */
export function dumpWrapper(input: ProxyConfigInput): Obj {
  const pod = input.pod ?? podOfDump(input.dump);
  return {
    apiVersion: ENVOY_DUMP_API_VERSION,
    kind: ENVOY_DUMP_KIND,
    metadata: pod ? { name: pod.name, namespace: pod.namespace } : { name: 'unmatched' },
    source: input.source,
    configDump: input.dump,
  };
}

// ---- pruning ----------------------------------------------------------------------------

/** Node metadata keys the comparison reads (Istio's BootstrapNodeMetadata, pkg/model/proxy.go). */
const NODE_METADATA_KEYS = ['NAME', 'NAMESPACE', 'LABELS', 'ISTIO_VERSION', 'INSTANCE_IPS', 'INTERCEPTION_MODE', 'WORKLOAD_NAME', 'OWNER', 'CLUSTER_ID'];

/** Pod annotations pilot-agent copies into the node metadata: only the capture and sidecar ones are kept (no free text). */
const KEPT_ANNOTATION = /^(traffic\.sidecar\.istio\.io|sidecar\.istio\.io|proxy\.istio\.io)\//;

function pick(o: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function stringMap(v: unknown, keep: (k: string) => boolean = () => true): Record<string, string> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string' && keep(k)) out[k] = val;
  return out;
}

function pruneNode(node: unknown): Obj | undefined {
  if (!isObj(node)) return undefined;
  const out: Obj = pick(node, ['id', 'cluster']);
  const md = isObj(node.metadata) ? node.metadata : undefined;
  if (md) {
    const m: Obj = {};
    for (const k of NODE_METADATA_KEYS) {
      const v = md[k];
      if (typeof v === 'string') m[k] = v;
      else if (k === 'LABELS') {
        const labels = stringMap(v);
        if (labels) m[k] = labels;
      }
    }
    const annotations = stringMap(md.ANNOTATIONS, (k) => KEPT_ANNOTATION.test(k) && k !== 'sidecar.istio.io/status');
    if (annotations && Object.keys(annotations).length) m.ANNOTATIONS = annotations;
    out.metadata = m;
  }
  return out;
}

function names(list: unknown): Obj[] {
  return arr(list).flatMap((x) => (isObj(x) && typeof x.name === 'string' ? [{ name: x.name }] : []));
}

/** TLS contexts: ALPN, SNI, which SDS secrets, whether a client certificate is asked for — never a certificate. */
function pruneTlsContext(tc: Obj): Obj {
  const out: Obj = { '@type': tc['@type'] };
  if (typeof tc.sni === 'string') out.sni = tc.sni;
  if (tc.require_client_certificate !== undefined) out.require_client_certificate = tc.require_client_certificate;
  const ctx = isObj(tc.common_tls_context) ? tc.common_tls_context : undefined;
  if (ctx) {
    const c: Obj = {};
    const alpn = arr(ctx.alpn_protocols).filter((a): a is string => typeof a === 'string');
    if (alpn.length) c.alpn_protocols = alpn;
    const sds = names(ctx.tls_certificate_sds_secret_configs);
    if (sds.length) c.tls_certificate_sds_secret_configs = sds;
    // Inline certificates: only how many (their files or bytes stay out).
    const inline = arr(ctx.tls_certificates).length;
    if (inline) c.tls_certificates = Array.from({ length: inline }, () => ({}));
    const combined = isObj(ctx.combined_validation_context) ? ctx.combined_validation_context : undefined;
    const validationSds = combined?.validation_context_sds_secret_config ?? ctx.validation_context_sds_secret_config;
    if (isObj(validationSds) && typeof validationSds.name === 'string') c.validation_context_sds_secret_config = { name: validationSds.name };
    out.common_tls_context = c;
  }
  return out;
}

const MAX_SOCKET_DEPTH = 8;

/** A transport socket: its name and typed config, wrappers (internal_upstream, tcp_stats, tap) followed to the socket inside. */
export function pruneSocket(socket: unknown, depth = 0): Obj | undefined {
  if (!isObj(socket) || depth > MAX_SOCKET_DEPTH) return undefined;
  const out: Obj = {};
  if (typeof socket.name === 'string') out.name = socket.name;
  const tc = isObj(socket.typed_config) ? socket.typed_config : undefined;
  if (tc) {
    const type = str(tc['@type']) ?? '';
    if (/TlsContext$/.test(type)) out.typed_config = pruneTlsContext(tc);
    else {
      const inner = pruneSocket(tc.transport_socket, depth + 1);
      out.typed_config = { '@type': tc['@type'], ...(inner ? { transport_socket: inner } : {}) };
    }
  }
  return out;
}

function pruneClusterMetadata(md: unknown): Obj | undefined {
  const istio = isObj(md) && isObj(md.filter_metadata) && isObj(md.filter_metadata.istio) ? md.filter_metadata.istio : undefined;
  if (!istio) return undefined;
  const kept: Obj = pick(istio, ['config', 'subset', 'default_original_port']);
  const services = arr(istio.services).flatMap((s) => (isObj(s) ? [pick(s, ['host', 'name', 'namespace'])] : []));
  if (services.length) kept.services = services;
  return { filter_metadata: { istio: kept } };
}

function pruneCluster(c: unknown): Obj | undefined {
  if (!isObj(c) || typeof c.name !== 'string') return undefined;
  const out: Obj = pick(c, ['name', 'type']);
  const socket = pruneSocket(c.transport_socket);
  if (socket) out.transport_socket = socket;
  const matches = arr(c.transport_socket_matches).flatMap((m) => {
    if (!isObj(m)) return [];
    const ts = pruneSocket(m.transport_socket);
    return [{ name: str(m.name) ?? '', match: isObj(m.match) ? stringMap(m.match) ?? {} : {}, ...(ts ? { transport_socket: ts } : {}) }];
  });
  if (matches.length) out.transport_socket_matches = matches;
  const md = pruneClusterMetadata(c.metadata);
  if (md) out.metadata = md;
  return out;
}

function pruneClusterEntry(e: unknown): Obj | undefined {
  if (!isObj(e)) return undefined;
  const cluster = pruneCluster(e.cluster);
  const err = isObj(e.error_state) ? { error_state: pick(e.error_state, ['details', 'last_update_attempt']) } : {};
  return cluster ? { ...pick(e, ['version_info', 'last_updated']), cluster, ...err } : undefined;
}

function pruneEndpointMetadata(md: unknown): Obj | undefined {
  const fm = isObj(md) && isObj(md.filter_metadata) ? md.filter_metadata : undefined;
  if (!fm) return undefined;
  const out: Obj = {};
  const tsm = stringMap(fm['envoy.transport_socket_match']);
  if (tsm) out['envoy.transport_socket_match'] = tsm;
  const istio = isObj(fm.istio) ? pick(fm.istio, ['workload']) : undefined;
  if (istio && Object.keys(istio).length) out.istio = istio;
  return Object.keys(out).length ? { filter_metadata: out } : undefined;
}

function pruneAddress(a: unknown): Obj | undefined {
  const sa = isObj(a) && isObj(a.socket_address) ? a.socket_address : undefined;
  if (sa) return { socket_address: pick(sa, ['address', 'port_value']) };
  const internal = isObj(a) && isObj(a.envoy_internal_address) ? a.envoy_internal_address : undefined;
  return internal ? { envoy_internal_address: pick(internal, ['server_listener_name', 'endpoint_id']) } : undefined;
}

function pruneEndpointConfig(e: unknown): Obj | undefined {
  if (!isObj(e)) return undefined;
  const ec = isObj(e.endpoint_config) ? e.endpoint_config : undefined;
  if (!ec || typeof ec.cluster_name !== 'string') return undefined;
  const endpoints = arr(ec.endpoints).flatMap((le) => {
    if (!isObj(le)) return [];
    const lbs = arr(le.lb_endpoints).flatMap((lb) => {
      if (!isObj(lb)) return [];
      const address = pruneAddress(isObj(lb.endpoint) ? lb.endpoint.address : undefined);
      const md = pruneEndpointMetadata(lb.metadata);
      return [{ ...(address ? { endpoint: { address } } : {}), ...pick(lb, ['health_status']), ...(md ? { metadata: md } : {}) }];
    });
    const md = pruneEndpointMetadata(le.metadata);
    return [{ ...(md ? { metadata: md } : {}), lb_endpoints: lbs }];
  });
  return { ...pick(e, ['version_info', 'last_updated']), endpoint_config: { cluster_name: ec.cluster_name, endpoints } };
}

function isInboundListener(l: Obj): boolean {
  return l.name === 'virtualInbound' || l.traffic_direction === 'INBOUND' || l.name === 'connect_terminate';
}

function pruneFilterChain(fc: unknown): Obj | undefined {
  if (!isObj(fc)) return undefined;
  const out: Obj = pick(fc, ['name']);
  const m = isObj(fc.filter_chain_match) ? fc.filter_chain_match : undefined;
  if (m) out.filter_chain_match = pick(m, ['destination_port', 'transport_protocol', 'application_protocols', 'prefix_ranges', 'server_names']);
  const ts = pruneSocket(fc.transport_socket);
  if (ts) out.transport_socket = ts;
  const filters = names(fc.filters);
  if (filters.length) out.filters = filters;
  return out;
}

function pruneListener(l: unknown): Obj | undefined {
  if (!isObj(l)) return undefined;
  const out: Obj = pick(l, ['name', 'traffic_direction']);
  const address = pruneAddress(l.address);
  if (address) out.address = address;
  const lf = names(l.listener_filters);
  if (lf.length) out.listener_filters = lf;
  out.filter_chains = arr(l.filter_chains).flatMap((fc) => {
    const p = pruneFilterChain(fc);
    return p ? [p] : [];
  });
  const dfc = pruneFilterChain(l.default_filter_chain);
  if (dfc) out.default_filter_chain = dfc;
  return out;
}

function pruneListenerState(s: unknown): Obj | undefined {
  if (!isObj(s)) return undefined;
  const listener = pruneListener(s.listener);
  return { ...pick(s, ['version_info', 'last_updated']), ...(listener ? { listener } : {}) };
}

function pruneListenerEntry(e: unknown): Obj | undefined {
  if (!isObj(e)) return undefined;
  const listener = (isObj(e.active_state) && isObj(e.active_state.listener) ? e.active_state.listener : undefined) ??
    (isObj(e.warming_state) && isObj(e.warming_state.listener) ? e.warming_state.listener : undefined) ??
    (isObj(e.listener) ? e.listener : undefined);
  const name = str(e.name) ?? str(listener?.name);
  const err = isObj(e.error_state) ? pick(e.error_state, ['details', 'last_update_attempt']) : undefined;
  // A rejected update is evidence whichever listener it was for; the chains only of inbound ones.
  if (!listener || !isInboundListener(listener)) return err ? { ...(name ? { name } : {}), error_state: err } : undefined;
  const out: Obj = { ...(name ? { name } : {}) };
  for (const key of ['active_state', 'warming_state'] as const) {
    const state = pruneListenerState(e[key]);
    if (state) out[key] = state;
  }
  // Static listeners are `{listener, last_updated}`.
  if (!out.active_state && isObj(e.listener)) out.active_state = { ...pick(e, ['last_updated']), listener: pruneListener(e.listener) };
  if (err) out.error_state = err;
  return out;
}

function entries(list: unknown, prune: (e: unknown) => Obj | undefined): Obj[] {
  return arr(list).flatMap((e) => {
    const p = prune(e);
    return p ? [p] : [];
  });
}

/**
 * The parts of a config dump the comparison reads: the bootstrap node (whose pod it is), the
 * clusters' TLS (transport sockets and socket matches, the DestinationRule that built them), the
 * endpoints' addresses and tlsMode metadata, the inbound listeners' filter chains, and every
 * version, timestamp and rejected update. Routes, secrets and outbound listeners are dropped.
 */
export function pruneConfigDump(dump: ConfigDumpJson): ConfigDumpJson {
  const configs: Obj[] = [];
  for (const c of dump.configs) {
    if (!isObj(c)) continue;
    const type = str(c['@type']) ?? '';
    const kind = type.slice(type.lastIndexOf('.') + 1);
    switch (kind) {
      case 'BootstrapConfigDump': {
        const bootstrap = isObj(c.bootstrap) ? c.bootstrap : {};
        const node = pruneNode(bootstrap.node);
        configs.push({ '@type': type, bootstrap: node ? { node } : {}, ...pick(c, ['last_updated']) });
        break;
      }
      case 'ClustersConfigDump':
        configs.push({
          '@type': type,
          ...pick(c, ['version_info']),
          dynamic_active_clusters: entries(c.dynamic_active_clusters, pruneClusterEntry),
          dynamic_warming_clusters: entries(c.dynamic_warming_clusters, pruneClusterEntry),
        });
        break;
      case 'EndpointsConfigDump':
        configs.push({ '@type': type, dynamic_endpoint_configs: entries(c.dynamic_endpoint_configs, pruneEndpointConfig) });
        break;
      case 'ListenersConfigDump':
        configs.push({
          '@type': type,
          ...pick(c, ['version_info']),
          static_listeners: entries(c.static_listeners, pruneListenerEntry),
          dynamic_listeners: entries(c.dynamic_listeners, pruneListenerEntry),
        });
        break;
      default:
        break; // routes, secrets (certificates), scoped routes, ECDS: not read
    }
  }
  return { configs };
}

/** Several partial dumps of one pod (`istioctl proxy-config cluster`, `endpoint`, `listener` saved apart) read as one. */
export function mergeConfigDumps(dumps: ConfigDumpJson[]): ConfigDumpJson {
  return { configs: dumps.flatMap((d) => d.configs) };
}
