// explain-protocol end to end, through the built CLI: the demo (seed 000) before and after its fix,
// the JSON contract, exit codes, targets, and the same answer live (loopback API server) as offline.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collectFromFiles } from '../../src/collect/files.js';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import { ingress, operatorStack, toYaml } from '../support/build.js';
import { writeKubeconfig, writeUnreachableKubeconfig } from '../support/kubeconfig.js';
import { app } from '../support/tunnel-scenarios.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tunnelmesh');
const DEMO = join(ROOT, 'fixtures', 'demo');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', KUBECONFIG: '/nonexistent', ...env } }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function json(args: string[], env?: Record<string, string>): Promise<{ code: number; doc: any; stderr: string }> {
  const r = await run([...args, '-o', 'json'], env);
  return { code: r.code, doc: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tunnelmesh-explain-'));
}

describe('explain-protocol on the demo (seed 000)', () => {
  it('level 2 decides http, the tunnel rule serves it, verdict broken with TM101 and its fix', async () => {
    const { code, doc } = await json(['explain-protocol', 'ingress/spring-boot-admin', '-f', DEMO]);
    assert.equal(code, 1, 'an error-severity finding fails the run (--fail-on error)');
    assert.equal(doc.target, 'ingress/spring-boot-admin');
    assert.equal(doc.backends.length, 1);
    const b = doc.backends[0];
    assert.deepEqual(
      { host: b.host, path: b.path, service: b.service, protocol: b.protocol, level: b.level },
      { host: 'admin.example.com', path: '/', service: { namespace: 'app', name: 'sg-cloud-gateway', port: 9091 }, protocol: 'http', level: 2 },
    );
    assert.equal(b.source, 'Ingress app/spring-boot-admin annotation cloudflare.com/protocol-9091=http');
    assert.deepEqual(
      b.chain.map((l: { level: number; value: string | null }) => [l.level, l.value]),
      [
        [1, null],
        [2, 'http'],
        [3, null],
        [4, null],
        [5, null],
        [6, 'http'],
        [7, 'http'],
      ],
    );
    assert.match(b.tunnelRule.config, /^ConfigMap cloudflare-operator-system\/tunnel-config-6f1f2d0e/);
    assert.equal(b.tunnelRule.index, 0);
    assert.equal(b.tunnelRule.service, 'http://sg-cloud-gateway.app.svc:9091');
    assert.deepEqual(b.tunnelRule.originRequest, { noTLSVerify: false, http2Origin: false });
    assert.equal(b.drift, false);
    assert.deepEqual(
      { ...b.istio, client: undefined, target: undefined, why: undefined },
      {
        clientSidecar: true,
        targetSidecar: true,
        captured: false,
        clientSends: 'ISTIO_MUTUAL',
        serverMode: 'PERMISSIVE',
        decidedBy: 'endpoint',
        decision: 'cluster: auto mTLS (no DestinationRule); endpoint: tlsMode istio kept (Pod app/sg-cloud-gateway-7d9f8b6c5d-4kd8s)',
        portProtocol: 'HTTP',
        client: undefined,
        target: undefined,
        targetPort: 9091,
        outcome: 'mtls-to-uncaptured',
        why: undefined,
      },
    );
    assert.equal(b.verdict, 'broken');
    assert.match(b.symptom, /WRONG_VERSION_NUMBER/);
    assert.deepEqual(b.codes, ['TM101']);
    assert.equal(doc.findings[0].code, 'TM101');
    assert.match(doc.findings[0].fixes[0].title, /DestinationRule app\/sg-cloud-gateway-9091-no-mtls/);
  });

  it('text output: the seven levels with the deciding one marked, the rule, the verdict and the fix', async () => {
    const r = await run(['explain-protocol', 'ingress/spring-boot-admin', '-f', DEMO]);
    assert.equal(r.code, 1);
    const out = r.stdout;
    assert.match(out, /▶ 2 {2}Ingress app\/spring-boot-admin annotation cloudflare\.com\/protocol-9091=http +http +← decides/);
    for (const level of [1, 3, 4, 5, 6, 7]) assert.match(out, new RegExp(`\\n {6}${level} {2}`), `level ${level} listed`);
    assert.match(out, /tunnel rule: #0 in ConfigMap cloudflare-operator-system\/tunnel-config-/);
    assert.match(out, /admin\.example\.com → http:\/\/sg-cloud-gateway\.app\.svc:9091/);
    assert.match(out, /drift: none/);
    assert.match(out, /NOT captured/);
    assert.match(out, /verdict: BROKEN — WRONG_VERSION_NUMBER/);
    assert.match(out, /ERROR TM101 mtls-to-uncaptured-port/);
    assert.match(out, /fix 1 \(recommended\): DestinationRule app\/sg-cloud-gateway-9091-no-mtls/);
    assert.doesNotMatch(out, /\x1b\[/, 'no colour with NO_COLOR');
  });

  it('after the recommended fix is applied to a copy of the fixture: ok, exit 0', async () => {
    const dir = tempDir();
    try {
      cpSync(DEMO, dir, { recursive: true });
      const before = await json(['explain-protocol', 'ingress/spring-boot-admin', '-f', dir]);
      writeFileSync(join(dir, '90-fix.yaml'), before.doc.findings[0].fixes[0].yaml);
      const { code, doc } = await json(['explain-protocol', 'ingress/spring-boot-admin', '-f', dir]);
      assert.equal(code, 0);
      assert.equal(doc.backends[0].verdict, 'ok');
      assert.equal(doc.backends[0].istio.clientSends, 'PLAINTEXT');
      assert.equal(doc.backends[0].symptom, null);
      assert.deepEqual(doc.backends[0].codes, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a hostname or URL is matched like cloudflared tunnel ingress rule', async () => {
    const byUrl = await json(['explain-protocol', 'https://admin.example.com/applications?x=1', '-f', DEMO]);
    assert.equal(byUrl.doc.backends.length, 1);
    assert.equal(byUrl.doc.backends[0].tunnelRule.index, 0);
    assert.equal(byUrl.doc.backends[0].level, 2);
    const byHost = await json(['explain-protocol', 'shop.example.com', '-f', DEMO]);
    assert.equal(byHost.code, 0);
    assert.equal(byHost.doc.backends[0].service.name, 'web');
    assert.equal(byHost.doc.backends[0].verdict, 'ok');
    assert.equal(byHost.doc.backends[0].level, 5, 'port named http');
  });

  it('service/NAME and service/NAME:PORT', async () => {
    const all = await json(['explain-protocol', 'service/sg-cloud-gateway', '-f', DEMO]);
    assert.deepEqual(all.doc.backends.map((b: { service: { port: number } }) => b.service.port).sort(), [8080, 9091]);
    const one = await json(['explain-protocol', 'service/sg-cloud-gateway:http', '-n', 'app', '-f', DEMO]);
    assert.deepEqual(one.doc.backends.map((b: { verdict: string }) => b.verdict), ['ok']);
    assert.equal(one.code, 0);
  });

  it('exit codes: a target that does not exist is 2, --fail-on none is 0', async () => {
    const missing = await run(['explain-protocol', 'ingress/nope', '-f', DEMO]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^tunnelmesh: ingress\/nope not found in the input\n$/);
    const host = await run(['explain-protocol', 'nothere.example.com', '-f', DEMO]);
    assert.equal(host.code, 2);
    assert.match(host.stderr, /no tunnel rule in the input serves nothere\.example\.com/);
    const port = await run(['explain-protocol', 'service/sg-cloud-gateway:1234', '-f', DEMO]);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /has no port 1234 \(ports: 8080\/http, 9091\/http-actuator\)/);
    const kind = await run(['explain-protocol', 'deployment/x', '-f', DEMO]);
    assert.equal(kind.code, 2);
    assert.equal((await run(['explain-protocol', 'ingress/spring-boot-admin', '-f', DEMO, '--fail-on', 'none'])).code, 0);
    assert.equal((await run(['explain-protocol', '-f', DEMO])).code, 2, 'TARGET is required');
  });
});

describe('Ingress-only manifests (the operator writes the config at run time)', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    const objects = [
      ...operatorStack(),
      ...app({ ports: [{ name: 'http-actuator', port: 9091 }] }),
      ingress('app', 'admin', [{ host: 'admin.example.com', service: 'web', port: 9091 }], { annotations: { 'cloudflare.com/protocol-9091': 'http' } }),
    ];
    // The actuator port stays out of the mesh, as in seed 000.
    const deploy = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'web') as unknown as { spec: { template: { metadata: Record<string, unknown> } } };
    deploy.spec.template.metadata.annotations = { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' };
    writeFileSync(join(dir, 'all.yaml'), toYaml(objects));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('doctor judges the predicted rule: TM101 for the meshed cloudflared Deployment', async () => {
    const { doc } = await json(['doctor', '-f', dir]);
    const tm101 = doc.findings.filter((f: { code: string }) => f.code === 'TM101');
    assert.equal(tm101.length, 1);
    assert.match(tm101[0].evidence.join('\n'), /predicted for TunnelIngressClassConfig cloudflare-operator-system\/cloudflare-tunnel-config/);
  });

  it('explain-protocol shows the predicted rule', async () => {
    const { doc } = await json(['explain-protocol', 'ingress/admin', '-f', dir]);
    assert.equal(doc.backends[0].tunnelRule.predicted, true);
    assert.equal(doc.backends[0].tunnelRule.service, 'http://web.app.svc:9091');
    assert.equal(doc.backends[0].verdict, 'broken');
  });

  it('with the real config present too, one finding, not two', async () => {
    const { doc } = await json(['doctor', '-f', DEMO]);
    assert.equal(doc.findings.filter((f: { code: string }) => f.code === 'TM101').length, 1);
  });
});

describe('explain-protocol live (loopback API server)', () => {
  let server: ApiServer;
  let kubeconfig: string;
  before(async () => {
    const snapshot = await collectFromFiles([DEMO]);
    server = await startApiServer({ objects: snapshot.objects });
    kubeconfig = writeKubeconfig(server, { namespace: 'app' });
  });
  after(() => server.close());

  it('gives the same backends and findings as offline', async () => {
    const offline = await json(['explain-protocol', 'ingress/spring-boot-admin', '-f', DEMO]);
    const live = await json(['explain-protocol', 'ingress/spring-boot-admin', '--kubeconfig', kubeconfig]);
    assert.equal(live.code, 1, live.stderr);
    assert.deepEqual(live.doc.backends, offline.doc.backends);
    const strip = (f: { fixes: Array<{ title: string }> }) => ({ ...f, fixes: f.fixes.map((x) => x.title.replace(/ \(fixtures\/demo\/[^)]*\)/, '')) });
    assert.deepEqual(live.doc.findings.map(strip), offline.doc.findings.map(strip));
    assert.ok(
      server.requests.every((r) => r.method === 'GET'),
      'read-only',
    );
  });

  it('doctor -n app: a rule to a namespace outside the scope is unknown, not a missing backend', async () => {
    const live = await json(['doctor', '--kubeconfig', kubeconfig]);
    assert.deepEqual(live.doc.findings.map((f: { code: string }) => f.code).filter((c: string) => c.startsWith('TM3')), []);
    assert.deepEqual(live.doc.findings.map((f: { code: string }) => f.code), ['TM101']);
  });

  it('a hostname target looks in every namespace', async () => {
    const live = await json(['explain-protocol', 'shop.example.com', '--kubeconfig', kubeconfig]);
    assert.equal(live.code, 0, live.stderr);
    assert.equal(live.doc.backends[0].verdict, 'ok');
    assert.equal(live.doc.backends[0].service.namespace, 'shop');
  });

  it('an Ingress that is not in the namespace is exit 2; an unreachable cluster is exit 3', async () => {
    assert.equal((await run(['explain-protocol', 'ingress/web', '--kubeconfig', kubeconfig])).code, 2);
    const unreachable = await writeUnreachableKubeconfig();
    assert.equal((await run(['explain-protocol', 'ingress/web', '--kubeconfig', unreachable])).code, 3);
  });
});
