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
