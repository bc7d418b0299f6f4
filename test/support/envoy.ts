// Envoy config dumps for the tests' scenarios, shaped as Istio's pilot renders them
// (pilot/pkg/networking/core cluster_tls.go: `tlsMode-istio` / `tlsMode-disabled` socket matches
// for auto mTLS, a cluster transport socket for a DestinationRule tls mode; filterchain_options.go:
// the virtualInbound chains per PeerAuthentication mode) and as Envoy's admin API dumps them.

import type { Obj } from './build.js';

const T = 'type.googleapis.com/';
const UPSTREAM_TLS = `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`;
const DOWNSTREAM_TLS = `${T}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`;

type Json = Record<string, unknown>;

function sds(name: string): Json {
  return { name, sds_config: { api_config_source: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], transport_api_version: 'V3' }, resource_api_version: 'V3' } };
}

export function istioUpstreamTls(sni: string): Json {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': UPSTREAM_TLS,
      common_tls_context: {
        alpn_protocols: ['istio-peer-exchange', 'istio'],
        tls_certificate_sds_secret_configs: [sds('default')],
        combined_validation_context: { default_validation_context: { match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/app/sa/default' }] }, validation_context_sds_secret_config: sds('ROOTCA') },
      },
      sni,
    },
  };
}

/** TLS originated by the sidecar without a client certificate (DestinationRule SIMPLE). */
export function simpleUpstreamTls(sni: string): Json {
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': UPSTREAM_TLS, common_tls_context: {}, sni } };
}

const RAW = { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': `${T}envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer` } };

export interface ClusterSpec {
  port: number;
  host: string;
  subset?: string;
  /** auto: tlsMode-istio + tlsMode-disabled matches; ISTIO_MUTUAL/SIMPLE: the cluster's socket; DISABLE: no socket. */
  tls: 'auto' | 'ISTIO_MUTUAL' | 'SIMPLE' | 'DISABLE';
  /** `app/web` → metadata istio.config of the DestinationRule that built it. */
  destinationRule?: string;
  updated?: string;
  warming?: boolean;
  type?: string;
}

export interface EndpointSpec {
  ip: string;
  port: number;
  tlsMode?: boolean;
  workload?: string;
}

export interface ChainSpec {
  port: number;
  mode: 'PERMISSIVE' | 'STRICT' | 'DISABLE';
}

export interface DumpSpec {
  pod: string;
  namespace: string;
  ip: string;
  type?: 'sidecar' | 'router' | 'waypoint';
  /** Deployment name (OWNER and WORKLOAD_NAME metadata). */
  owner?: string;
  annotations?: Record<string, string>;
  /** Leave the bootstrap out (a partial dump). */
  noBootstrap?: boolean;
  clusters?: ClusterSpec[];
  /** Cluster name → its endpoints; omitted: no EndpointsConfigDump (taken without ?include_eds). */
  endpoints?: Record<string, EndpointSpec[]>;
  /** Inbound chains by port; omitted: no ListenersConfigDump. */
  inbound?: ChainSpec[];
  /** Newest last_updated of everything. */
  updated?: string;
  /** An update Envoy refused (listener error_state). */
  rejected?: string;
}

export function clusterName(c: { port: number; host: string; subset?: string }): string {
  return `outbound|${c.port}|${c.subset ?? ''}|${c.host}`;
}

function cluster(c: ClusterSpec, updated: string): Json {
  const name = clusterName(c);
  const sni = `outbound_.${c.port}_.${c.subset ?? ''}_.${c.host}`;
  const body: Json = {
    '@type': `${T}envoy.config.cluster.v3.Cluster`,
    name,
    type: c.type ?? 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: name },
    connect_timeout: '10s',
    metadata: { filter_metadata: { istio: { services: [{ host: c.host }], default_original_port: c.port, ...(c.subset ? { subset: c.subset } : {}), ...(c.destinationRule ? { config: `/apis/networking.istio.io/v1/namespaces/${c.destinationRule.split('/')[0]}/destination-rule/${c.destinationRule.split('/')[1]}` } : {}) } } },
  };
  if (c.tls === 'auto') body.transport_socket_matches = [{ name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: istioUpstreamTls(sni) }, { name: 'tlsMode-disabled', match: {}, transport_socket: RAW }];
  else if (c.tls === 'ISTIO_MUTUAL') body.transport_socket = istioUpstreamTls(sni);
  else if (c.tls === 'SIMPLE') body.transport_socket = simpleUpstreamTls(c.host);
  return { version_info: `${c.updated ?? updated}/7`, cluster: body, last_updated: c.updated ?? updated };
}

function downstreamMtls(): Json {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': DOWNSTREAM_TLS,
      common_tls_context: { alpn_protocols: ['h2', 'http/1.1'], tls_certificate_sds_secret_configs: [sds('default')], combined_validation_context: { validation_context_sds_secret_config: sds('ROOTCA') } },
      require_client_certificate: true,
    },
  };
}

function chains(spec: ChainSpec): Json[] {
  const out: Json[] = [];
  const name = `0.0.0.0_${spec.port}`;
  const hcm = { name: 'envoy.filters.network.http_connection_manager' };
  if (spec.mode !== 'DISABLE') {
    out.push({
      filter_chain_match: { destination_port: spec.port, transport_protocol: 'tls', ...(spec.mode === 'PERMISSIVE' ? { application_protocols: ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'] } : {}) },
      filters: [{ name: 'istio.metadata_exchange' }, hcm],
      transport_socket: downstreamMtls(),
      name,
    });
  }
  if (spec.mode !== 'STRICT') out.push({ filter_chain_match: { destination_port: spec.port, transport_protocol: 'raw_buffer' }, filters: [hcm], name });
  return out;
}

const PASSTHROUGH: Json[] = [
  { filter_chain_match: { destination_port: 15006 }, filters: [{ name: 'envoy.filters.network.tcp_proxy' }], name: 'virtualInbound-blackhole' },
  { filter_chain_match: { transport_protocol: 'tls', application_protocols: ['istio-peer-exchange', 'istio'] }, filters: [{ name: 'envoy.filters.network.tcp_proxy' }], transport_socket: downstreamMtls(), name: 'virtualInbound' },
  { filter_chain_match: { transport_protocol: 'raw_buffer' }, filters: [{ name: 'envoy.filters.network.tcp_proxy' }], name: 'virtualInbound' },
];

/** A config dump as `istioctl proxy-config all POD -o json` writes it (with endpoints when given). */
export function configDump(d: DumpSpec): { configs: Json[] } {
  const updated = d.updated ?? '2026-11-20T09:00:00Z';
  const configs: Json[] = [];
  if (!d.noBootstrap) {
    configs.push({
      '@type': `${T}envoy.admin.v3.BootstrapConfigDump`,
      bootstrap: {
        node: {
          id: `${d.type ?? 'sidecar'}~${d.ip}~${d.pod}.${d.namespace}~${d.namespace}.svc.cluster.local`,
          metadata: {
            NAME: d.pod,
            NAMESPACE: d.namespace,
            INSTANCE_IPS: d.ip,
            ISTIO_VERSION: '1.26.2',
            LABELS: { app: d.owner ?? d.pod },
            ...(d.owner ? { OWNER: `kubernetes://apis/apps/v1/namespaces/${d.namespace}/deployments/${d.owner}`, WORKLOAD_NAME: d.owner } : {}),
            ...(d.annotations ? { ANNOTATIONS: d.annotations } : {}),
          },
        },
        admin: { address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } },
      },
      last_updated: '2026-11-20T08:00:00Z',
    });
  }
  if (d.clusters) {
    const active = d.clusters.filter((c) => !c.warming).map((c) => cluster(c, updated));
    const warming = d.clusters.filter((c) => c.warming).map((c) => cluster(c, updated));
    configs.push({ '@type': `${T}envoy.admin.v3.ClustersConfigDump`, version_info: `${updated}/7`, dynamic_active_clusters: active, dynamic_warming_clusters: warming });
  }
  if (d.endpoints) {
    configs.push({
      '@type': `${T}envoy.admin.v3.EndpointsConfigDump`,
      dynamic_endpoint_configs: Object.entries(d.endpoints).map(([name, eps]) => ({
        endpoint_config: {
          '@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`,
          cluster_name: name,
          endpoints: [
            {
              locality: {},
              lb_endpoints: eps.map((e) => ({
                endpoint: { address: { socket_address: { address: e.ip, port_value: e.port } } },
                health_status: 'HEALTHY',
                metadata: { filter_metadata: { ...(e.tlsMode ? { 'envoy.transport_socket_match': { tlsMode: 'istio' } } : {}), istio: { workload: e.workload ?? 'app;ns;app;latest;Kubernetes' } } },
              })),
            },
          ],
        },
        last_updated: updated,
      })),
    });
  }
  if (d.inbound || d.rejected) {
    const listeners: Json[] = [];
    if (d.inbound) {
      listeners.push({
        name: 'virtualInbound',
        active_state: {
          version_info: `${updated}/7`,
          listener: {
            '@type': `${T}envoy.config.listener.v3.Listener`,
            name: 'virtualInbound',
            address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
            filter_chains: [...PASSTHROUGH, ...d.inbound.flatMap(chains)],
            listener_filters: [{ name: 'envoy.filters.listener.original_dst' }, { name: 'envoy.filters.listener.tls_inspector' }, { name: 'envoy.filters.listener.http_inspector' }],
            traffic_direction: 'INBOUND',
          },
          last_updated: updated,
        },
      });
    }
    if (d.rejected) listeners.push({ name: 'virtualOutbound', error_state: { details: d.rejected, last_update_attempt: updated } });
    configs.push({ '@type': `${T}envoy.admin.v3.ListenersConfigDump`, version_info: `${updated}/7`, dynamic_listeners: listeners });
  }
  return { configs };
}

/** The dump as a `kind: EnvoyConfigDump` document (what snapshot files hold), so rule cases carry it among their objects. */
export function envoyDump(d: DumpSpec, claim?: { namespace: string; name: string }): Obj {
  const who = claim ?? (d.noBootstrap ? undefined : { namespace: d.namespace, name: d.pod });
  return {
    apiVersion: 'tunnelmesh.io/v1alpha1',
    kind: 'EnvoyConfigDump',
    metadata: who ? { name: who.name, namespace: who.namespace } : { name: 'unmatched' },
    configDump: configDump(d),
  };
}
