// Building blocks of the rules' examples (meta.example): one small cluster — a cloudflared
// tunnel in `edge`, a gateway in `app` — varied per rule, so each example reads as the
// situation it stands for. Docs and `tunnelmesh rules CODE` run them through doctor.

/** Namespace `edge` where cloudflared runs, with or without sidecar injection. */
export function edgeNamespace(injected: boolean): string {
  return `apiVersion: v1
kind: Namespace
metadata: {name: edge${injected ? ', labels: {istio-injection: enabled}' : ''}}
`;
}

export const APP_NAMESPACE = `apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {istio-injection: enabled}}
`;

/** A hand-written cloudflared config routing admin.example.com to a gateway port. */
export function tunnelConfig(port: number): string {
  return `apiVersion: v1
kind: ConfigMap
metadata: {name: tunnel, namespace: edge}
data:
  config.yaml: |
    tunnel: main
    credentials-file: /etc/cloudflared/creds/credentials.json
    ingress:
      - hostname: admin.example.com
        service: http://gateway.app.svc:${port}
      - service: http_status:404
`;
}

export const CLOUDFLARED = `apiVersion: apps/v1
kind: Deployment
metadata: {name: cloudflared, namespace: edge}
spec:
  selector: {matchLabels: {app: cloudflared}}
  template:
    metadata: {labels: {app: cloudflared}}
    spec:
      containers:
        - {name: cloudflared, image: cloudflare/cloudflared:2025.11.1, args: [tunnel, --config, /etc/cloudflared/config/config.yaml, run]}
      volumes:
        - {name: config, configMap: {name: tunnel}}
`;

/** The gateway (ports 8080 and 9091), with one pod-template annotation set to "9091". */
export function gateway(annotation?: string): string {
  const annotations = annotation ? `\n      annotations:\n        ${annotation}: "9091"` : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: gateway, namespace: app}
spec:
  selector: {matchLabels: {app: gateway}}
  template:
    metadata:
      labels: {app: gateway}${annotations}
    spec:
      containers:
        - name: gateway
          image: registry.example.com/gateway:1.0
          ports: [{containerPort: 8080}, {containerPort: 9091}]
`;
}

export const GATEWAY_SERVICE = `apiVersion: v1
kind: Service
metadata: {name: gateway, namespace: app}
spec:
  selector: {app: gateway}
  ports:
    - {name: http, port: 8080}
    - {name: http-admin, port: 9091}
`;

export const EXCLUDE_INBOUND = 'traffic.sidecar.istio.io/excludeInboundPorts';

/** Documents joined into one stream, as `helm template` prints them. */
export function manifests(...docs: string[]): string {
  return docs.join('---\n');
}

// ---- Envoy config dumps (TM5xx) -------------------------------------------------------------

const ISTIO_UPSTREAM_TLS = (sni: string): string =>
  `{name: envoy.transport_sockets.tls, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, sni: '${sni}', common_tls_context: {alpn_protocols: [istio-peer-exchange, istio], tls_certificate_sds_secret_configs: [{name: default}], combined_validation_context: {validation_context_sds_secret_config: {name: ROOTCA}}}}}`;

const ISTIO_DOWNSTREAM_TLS =
  "{name: envoy.transport_sockets.tls, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, require_client_certificate: true, common_tls_context: {alpn_protocols: [h2, http/1.1], tls_certificate_sds_secret_configs: [{name: default}], combined_validation_context: {validation_context_sds_secret_config: {name: ROOTCA}}}}}";

/** A saved dump (`kind: EnvoyConfigDump`, as snapshot files hold them) of a pod of `workload` in `ns`. */
function dumpOf(ns: string, workload: string, pod: string, ip: string, configs: string): string {
  return `apiVersion: tunnelmesh.io/v1alpha1
kind: EnvoyConfigDump
metadata: {name: ${pod}, namespace: ${ns}}
configDump:
  configs:
    - '@type': type.googleapis.com/envoy.admin.v3.BootstrapConfigDump
      bootstrap:
        node:
          id: sidecar~${ip}~${pod}.${ns}~${ns}.svc.cluster.local
          metadata: {NAME: ${pod}, NAMESPACE: ${ns}, OWNER: 'kubernetes://apis/apps/v1/namespaces/${ns}/deployments/${workload}', ISTIO_VERSION: 1.26.2}
${configs}`;
}

/** The example of TM501 (client), TM502 (target) or TM503 (stale). */
export function envoyExample(which: 'client' | 'target' | 'stale'): { description: string; manifests: string } {
  if (which === 'client') {
    return {
      description:
        "TM101's DestinationRule (port 9091 DISABLE) was applied at 09:00, but the dump of cloudflared's sidecar was last updated at 08:00: its cluster for port 9091 is still auto mTLS, so the gateway's uncaptured actuator still receives a TLS handshake.",
      manifests: manifests(
        edgeNamespace(true),
        APP_NAMESPACE,
        tunnelConfig(9091),
        CLOUDFLARED,
        gateway(EXCLUDE_INBOUND),
        GATEWAY_SERVICE,
        `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-9091-no-mtls, namespace: app, creationTimestamp: '2026-03-02T09:00:00Z'}
spec:
  host: gateway.app.svc.cluster.local
  trafficPolicy:
    portLevelSettings:
      - port: {number: 9091}
        tls: {mode: DISABLE}
`,
        dumpOf(
          'edge',
          'cloudflared',
          'cloudflared-6b7c8d9f4-q2w3e',
          '10.244.1.17',
          `    - '@type': type.googleapis.com/envoy.admin.v3.ClustersConfigDump
      dynamic_active_clusters:
        - last_updated: '2026-03-02T08:00:00Z'
          cluster:
            name: outbound|9091||gateway.app.svc.cluster.local
            type: EDS
            transport_socket_matches:
              - {name: tlsMode-istio, match: {tlsMode: istio}, transport_socket: ${ISTIO_UPSTREAM_TLS('outbound_.9091_._.gateway.app.svc.cluster.local')}}
              - {name: tlsMode-disabled, match: {}, transport_socket: {name: envoy.transport_sockets.raw_buffer}}
`,
        ),
      ),
    };
  }
  if (which === 'target') {
    return {
      description:
        "cloudflared runs without a sidecar and sends plaintext to port 8080; the manifests hold no PeerAuthentication (PERMISSIVE), but the gateway's Envoy has only a TLS filter chain for 8080 (STRICT, from a policy outside the input): it resets the tunnel's requests.",
      manifests: manifests(
        edgeNamespace(false),
        APP_NAMESPACE,
        tunnelConfig(8080),
        CLOUDFLARED,
        gateway(),
        GATEWAY_SERVICE,
        dumpOf(
          'app',
          'gateway',
          'gateway-5f7c9d8b6-x9k2m',
          '10.244.2.31',
          `    - '@type': type.googleapis.com/envoy.admin.v3.ListenersConfigDump
      dynamic_listeners:
        - name: virtualInbound
          active_state:
            last_updated: '2026-03-02T08:00:00Z'
            listener:
              name: virtualInbound
              address: {socket_address: {address: 0.0.0.0, port_value: 15006}}
              listener_filters: [{name: envoy.filters.listener.original_dst}, {name: envoy.filters.listener.tls_inspector}]
              filter_chains:
                - name: 0.0.0.0_8080
                  filter_chain_match: {destination_port: 8080, transport_protocol: tls}
                  transport_socket: ${ISTIO_DOWNSTREAM_TLS}
                  filters: [{name: envoy.filters.network.http_connection_manager}]
`,
        ),
      ),
    };
  }
  return {
    description: "The gateway's Envoy refused its last listener update (an EnvoyFilter patch it cannot apply): it keeps serving the listeners it had before, whatever the manifests say now.",
    manifests: manifests(
      APP_NAMESPACE,
      gateway(),
      GATEWAY_SERVICE,
      dumpOf(
        'app',
        'gateway',
        'gateway-5f7c9d8b6-x9k2m',
        '10.244.2.31',
        `    - '@type': type.googleapis.com/envoy.admin.v3.ListenersConfigDump
      dynamic_listeners:
        - name: virtualInbound
          error_state:
            details: "Error adding/updating listener(s) virtualInbound: unknown filter envoy.filters.http.example (EnvoyFilter app/add-example)"
            last_update_attempt: '2026-03-02T09:00:00Z'
`,
      ),
    ),
  };
}
