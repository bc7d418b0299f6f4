// Clusters the live tests serve from the loopback API server, and a helper that runs the real
// CLI against one. `demo` is fixtures/demo (TM101 on app/sg-cloud-gateway:9091, exit 1);
// `strict` is a cloudflared without a sidecar in front of a STRICT mesh (TM102 on app/web:80),
// where a PeerAuthentication not seen would turn a broken edge into a healthy one.

import { startApiServer, type ApiServer, type ApiServerOptions } from '../support/apiserver.js';
import { cloudflaredConfigMap, namespace, peerAuthentication, pod, service, type Obj } from '../support/build.js';
import { demoObjects, jsonOf, runCli, runInProcess, type CliRun } from '../support/cli.js';
import { writeKubeconfig, type KubeconfigOptions } from '../support/kubeconfig.js';
import type { KObject } from '../../src/core/k8s.js';

export const DEMO_FINDING = { code: 'TM101', namespace: 'app', name: 'sg-cloud-gateway', port: 9091 };

export function strictObjects(): Obj[] {
  return [
    namespace('istio-system'),
    namespace('edge'),
    namespace('app', { 'istio-injection': 'enabled' }),
    cloudflaredConfigMap('edge', 'tunnel', [{ hostname: 'web.example.com', service: 'http://web.app.svc:80' }, { service: 'http_status:404' }]),
    pod('edge', 'cloudflared-7d9f8b6c5d-abcde', {
      sidecar: 'none',
      owner: 'cloudflared',
      image: 'cloudflare/cloudflared:2025.11.1',
      args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'],
      volumes: [{ name: 'config', configMap: { name: 'tunnel' } }],
    }),
    pod('app', 'web-7d9f8b6c5d-fghij', { owner: 'web', ports: [{ port: 8080 }] }),
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }], { selector: { app: 'web' } }),
    peerAuthentication('istio-system', 'default', { mode: 'STRICT' }),
  ];
}

export const STRICT_FINDING = { code: 'TM102', namespace: 'app', name: 'web', port: 80 };

export interface LiveRun extends CliRun {
  server: ApiServer;
  json: ReturnType<typeof jsonOf>;
}

export interface LiveCase {
  objects: readonly KObject[] | readonly Obj[];
  server?: Omit<ApiServerOptions, 'objects'>;
  /** Scope flags; default -A. */
  scope?: string[];
  extraArgs?: string[];
  kubeconfig?: KubeconfigOptions;
  /** Changes to the server after start (faults). */
  setup?: (server: ApiServer) => void;
  /** Run bin/tunnelmesh as its own process (default: main() in this process). */
  subprocess?: boolean;
}

/** Serves `objects`, runs `tunnelmesh doctor -o json` against it, and returns what the user saw. */
export async function liveRun(c: LiveCase): Promise<LiveRun> {
  const server = await startApiServer({ ...(c.server ?? {}), objects: c.objects as KObject[] });
  try {
    c.setup?.(server);
    const kubeconfig = writeKubeconfig(server, c.kubeconfig ?? {});
    const args = ['doctor', '--kubeconfig', kubeconfig, '-o', 'json', ...(c.scope ?? ['-A']), ...(c.extraArgs ?? [])];
    const run = c.subprocess ? await runCli(args) : await runInProcess(args);
    const json = run.code === 0 || run.code === 1 ? jsonOf(run) : { findings: [], incomplete: [], notes: [], summary: {} };
    return { ...run, server, json };
  } finally {
    await server.close();
  }
}

export function demo(): KObject[] {
  return demoObjects();
}

/**
 * `TM101 app/sg-cloud-gateway:9091` style keys of a run's error findings (the verdicts on edges;
 * warnings such as TM105 on annotations do not depend on what the API server let through).
 */
export function findingKeys(run: LiveRun): string[] {
  return run.json.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.resource.namespace}/${f.resource.name}:${f.port}`);
}

export function key(f: { code: string; namespace: string; name: string; port: number }): string {
  return `${f.code} ${f.namespace}/${f.name}:${f.port}`;
}
