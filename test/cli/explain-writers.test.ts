// explain-protocol tunnelbinding/NAME and httproute/NAME through the built CLI: the rules a
// TunnelBinding or HTTPRoute writes, how their scheme was decided, the Istio leg, the gateway hop
// of an Istio Gateway API route, the fixes on the object that writes the rule; live as offline.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KObject } from '../../src/core/k8s.js';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import { apiGateway, cloudflaredConfigMap, cloudflaredDeployment, deployment, httpRoute, namespace, pod, service, toYaml, tunnelBinding, type Obj } from '../support/build.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { viaBinding, viaHttpRoute } from '../support/tunnel-scenarios.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tunnelmesh');

function json(args: string[]): Promise<{ code: number; doc: any; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '-o', 'json'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', KUBECONFIG: '/nonexistent' } }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 0;
      resolve({ code, doc: stdout ? JSON.parse(stdout) : undefined, stderr });
    });
  });
}

function file(objects: Obj[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-explain-writers-'));
  const path = join(dir, 'input.yaml');
  writeFileSync(path, toYaml(objects));
  return path;
}

const BINDING = viaBinding([{ name: 'web', fqdn: 'web.example.com' }], { ports: [{ name: 'https', port: 8443 }] });

/** Istio's Gateway API in front of an app whose port 9091 the sidecar does not capture, reached by a tunnel rule to the generated Service. */
const ISTIO: Obj[] = [
  namespace('gw'),
  apiGateway('gw', 'public', 'istio'),
  namespace('app', { 'istio-injection': 'enabled' }),
  deployment('app', 'admin', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, ports: [{ name: 'admin', port: 9091 }] }),
  service('app', 'admin', [{ name: 'http-admin', port: 9091 }]),
  httpRoute('app', 'admin', { parents: [{ name: 'public', namespace: 'gw' }], hostnames: ['admin.example.com'], rules: [{ backends: [{ name: 'admin', port: 9091 }] }] }),
  namespace('edge'),
  cloudflaredConfigMap('edge', 'cloudflared', [{ hostname: 'admin.example.com', service: 'http://public-istio.gw.svc:80' }, { service: 'http_status:404' }]),
  cloudflaredDeployment('edge', 'cloudflared', 'cloudflared'),
];

describe('explain-protocol tunnelbinding/NAME', () => {
  it('the subject\'s rule (predicted), how the operator chose http://, the broken Istio leg and the fix on the TunnelBinding', async () => {
    const { code, doc } = await json(['explain-protocol', 'tunnelbinding/web', '-f', file(BINDING)]);
    assert.equal(code, 1);
    assert.equal(doc.target, 'tunnelbinding/web');
    assert.equal(doc.backends.length, 1);
    const b = doc.backends[0];
    assert.equal(b.host, 'web.example.com');
    assert.equal(b.protocol, 'http');
    assert.match(b.source, /first port 8443\/TCP: http \(only 22, 139, 443, 445 and 3389 are not\)/);
    assert.deepEqual(b.writer, { kind: 'TunnelBinding', namespace: 'app', name: 'web', rule: 'TunnelBinding app/web subjects[0] (web)', notWritten: [], unserved: null });
    assert.equal(b.tunnelRule.predicted, true);
    assert.equal(b.tunnelRule.service, 'http://web.app.svc:8443');
    assert.equal(b.verdict, 'broken');
    assert.deepEqual(b.codes, ['TM301']);
    assert.match(doc.findings[0].fixes[0].title, /^Set protocol https in TunnelBinding app\/web subjects\[0\] \(web\)/);
  });

  it('a binding nesting subjects under spec: no tunnel rule (unknown, with why), and the note says what it would write once admitted', async () => {
    const objects = [...BINDING.filter((o) => o.kind !== 'TunnelBinding'), tunnelBinding('app', 'web', [{ name: 'web', fqdn: 'web.example.com' }], { wrapped: true })];
    const { code, doc } = await json(['explain-protocol', 'tunnelbinding/web', '-f', file(objects)]);
    assert.equal(code, 0);
    assert.equal(doc.backends.length, 1);
    assert.equal(doc.backends[0].tunnelRule, null);
    assert.equal(doc.backends[0].verdict, 'unknown');
    assert.match(doc.backends[0].missing[0], /^no tunnel rule: its subjects and tunnelRef are under spec:/);
    assert.match(doc.notes.join('\n'), /under spec:.*the API server refuses the object/);
    assert.match(doc.notes.join('\n'), /once admitted, it would write: web\.example\.com → http:\/\/web\.app\.svc:8443/);
  });

  it('a TunnelBinding that does not exist is exit 2', async () => {
    const { code, stderr } = await json(['explain-protocol', 'tunnelbinding/nope', '-f', file(BINDING)]);
    assert.equal(code, 2);
    assert.match(stderr, /tunnelbinding\/nope not found in the input/);
  });
});

describe('explain-protocol httproute/NAME', () => {
  it("the operator's Gateway: each backendRef's rule, the scheme from the port number, the fix on the HTTPRoute and Service", async () => {
    const { code, doc } = await json(['explain-protocol', 'httproute/web', '-f', file(viaHttpRoute([{ backends: [{ name: 'web', port: 443 }] }], { ports: [{ name: 'http', port: 443, targetPort: 8080 }] }))]);
    assert.equal(code, 1);
    const b = doc.backends[0];
    assert.equal(b.writer.rule, 'HTTPRoute app/web rules[0].backendRefs[0] (web:443)');
    assert.equal(b.tunnelRule.service, 'https://web.app.svc:443');
    assert.match(b.source, /has port 443: the operator infers https from the number/);
    assert.deepEqual(b.codes, ['TM301']);
  });

  it("Istio's Gateway API: the tunnel rule to the generated Service, then the gateway hop through the HTTPRoute (TM101 there)", async () => {
    const { code, doc } = await json(['explain-protocol', 'httproute/admin', '-f', file(ISTIO)]);
    assert.equal(code, 1);
    assert.equal(doc.backends.length, 1);
    const b = doc.backends[0];
    assert.equal(b.tunnelRule.service, 'http://public-istio.gw.svc:80');
    assert.deepEqual(b.service, { namespace: 'gw', name: 'public-istio', port: 80 });
    assert.equal(b.gatewayRoutes.length, 1);
    assert.deepEqual(
      { httpRoute: b.gatewayRoutes[0].httpRoute, gateway: b.gatewayRoutes[0].gateway, service: b.gatewayRoutes[0].service, outcome: b.gatewayRoutes[0].outcome },
      { httpRoute: 'app/admin', gateway: 'gw/public', service: { namespace: 'app', name: 'admin', port: 9091 }, outcome: 'mtls-to-uncaptured' },
    );
    assert.match(b.gatewayRoutes[0].client, /istio gateway Deployment gw\/public-istio/);
    assert.equal(b.verdict, 'broken');
    assert.deepEqual(b.codes, ['TM101']);
  });

  it('an Istio route no tunnel rule reaches: its gateway hop alone', async () => {
    const objects = ISTIO.filter((o) => o.metadata.namespace !== 'edge' && o.metadata.name !== 'edge');
    const { doc } = await json(['explain-protocol', 'httproute/admin', '-f', file(objects)]);
    assert.equal(doc.backends.length, 1);
    assert.equal(doc.backends[0].tunnelRule, null);
    assert.equal(doc.backends[0].gatewayRoutes[0].outcome, 'mtls-to-uncaptured');
    assert.equal(doc.backends[0].verdict, 'broken');
  });

  describe('live, through the loopback API server (the generated Service and gateway pod exist there)', () => {
    let server: ApiServer;
    const objects: Obj[] = [
      ...ISTIO.filter((o) => o.kind !== 'Deployment' || o.metadata.namespace !== 'edge'),
      service('gw', 'public-istio', [{ name: 'status-port', port: 15021 }, { name: 'http', port: 80, appProtocol: 'http' }], { selector: { 'gateway.networking.k8s.io/gateway-name': 'public' } }),
      pod('gw', 'public-istio-1', { sidecar: 'gateway', owner: 'public-istio', labels: { 'gateway.networking.k8s.io/gateway-name': 'public' } }),
      pod('app', 'admin-1', { owner: 'admin', initExclude: '9091', ports: [{ name: 'admin', port: 9091 }] }),
      pod('edge', 'cloudflared-1', { sidecar: 'none', owner: 'cloudflared', image: 'cloudflare/cloudflared:2025.11.1', args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'], volumes: [{ name: 'config', configMap: { name: 'cloudflared' } }] }),
    ];
    before(async () => {
      server = await startApiServer({ objects: objects as unknown as KObject[] });
    });
    after(async () => {
      await server.close();
    });
    it('the same verdict and gateway hop as offline', async () => {
      const kubeconfig = writeKubeconfig(server);
      const { code, doc, stderr } = await json(['explain-protocol', 'httproute/admin', '-n', 'app', '--kubeconfig', kubeconfig]);
      assert.equal(code, 1, stderr);
      const b = doc.backends[0];
      assert.equal(b.gatewayRoutes[0].outcome, 'mtls-to-uncaptured');
      assert.match(b.gatewayRoutes[0].client, /istio gateway Deployment gw\/public-istio/);
      assert.deepEqual(b.codes, ['TM101']);
    });
  });
});
