// `tunnelmesh snapshot`: never Secrets (never even requested), only tunnel and mesh ConfigMaps,
// no managedFields, no token anywhere — and `doctor -f` on the snapshot finds what doctor found
// on the source, live or from manifests.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import type { KObject } from '../../src/core/k8s.js';
import { REDACTED, redactObject } from '../../src/collect/redact.js';
import { SECRET_KIND, startApiServer, type ApiServer } from '../support/apiserver.js';
import { loadManifests, runCli, runCliAsync } from '../support/bin.js';
import { writeKubeconfig } from '../support/kubeconfig.js';

// A cloudflared tunnel token is base64 of {"a":account,"t":tunnel id,"s":secret}.
const TOKEN = Buffer.from(JSON.stringify({ a: '0123456789abcdef0123456789abcdef', t: '6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f', s: 'c3VwZXItc2VjcmV0LXR1bm5lbC1zZWNyZXQ=' })).toString('base64');
const TUNNEL_SECRET = 'c3VwZXItc2VjcmV0LXR1bm5lbC1zZWNyZXQ=';
const SECRETS = [TOKEN, TUNNEL_SECRET, 'hunter2-db-password', 'plain-token-value-42'];

// Test fixtures are edited freely: any is the honest type here.
type Mutable = { kind: string; metadata: Record<string, any>; spec?: any; [field: string]: any };

/** The demo cluster, with token material everywhere a real one may carry it. */
function clusterObjects(): KObject[] {
  const objects = loadManifests('fixtures/demo') as unknown as Mutable[];
  for (const o of objects) {
    o.metadata.managedFields = [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:metadata': {} } }];
    const isCloudflared = o.metadata.labels?.['cloudflare-operator.io/app'] === 'cloudflared' || o.spec?.template?.metadata?.labels?.['cloudflare-operator.io/app'] === 'cloudflared';
    if (!isCloudflared) continue;
    const spec = o.kind === 'Pod' ? o.spec : o.spec.template.spec;
    const c = spec.containers.find((x: { name: string }) => x.name !== 'istio-proxy');
    c.args = ['tunnel', '--metrics', '0.0.0.0:2000', 'run', '--token', TOKEN];
    c.env = [
      { name: 'TUNNEL_TOKEN', value: TOKEN },
      { name: 'DB_PASSWORD', value: 'hunter2-db-password' },
      { name: 'TUNNEL_METRICS', value: '0.0.0.0:2000' },
    ];
    spec.initContainers = [...(spec.initContainers ?? []), { name: 'check', image: 'busybox', command: ['sh', '-c', `cloudflared tunnel run --token=plain-token-value-42`] }];
    o.metadata.annotations = { ...o.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec: { token: TOKEN } }) };
  }
  const credentials = JSON.stringify({ AccountTag: '0123456789abcdef', TunnelSecret: TUNNEL_SECRET, TunnelID: '6f1f2d0e' });
  return [
    ...(objects as unknown as KObject[]),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'hand-tunnel', namespace: 'cloudflare-operator-system' },
      data: {
        'config.yaml': `tunnel: hand\ncredentials-file: /etc/cloudflared/creds/credentials.json\ntoken: ${TOKEN}\ningress:\n  - hostname: x.example.com\n    service: http://sg-cloud-gateway.app.svc:8080\n  - service: http_status:404\n`,
        'credentials.json': credentials,
      },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-settings', namespace: 'app' }, data: { 'application.yaml': `db.password: hunter2-db-password\n` } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'main-tunnel-token', namespace: 'cloudflare-operator-system' }, data: { token: Buffer.from(TOKEN).toString('base64') } },
  ] as KObject[];
}

interface FindingLike {
  code: string;
  severity: string;
  resource: unknown;
  port: unknown;
  message: string;
}

function findings(stdout: string): FindingLike[] {
  const doc = JSON.parse(stdout) as { findings: FindingLike[] };
  return doc.findings.map(({ code, severity, resource, port, message }) => ({ code, severity, resource, port, message }));
}

function assertNoSecrets(text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `secret material in the output: ${s.slice(0, 12)}…`);
  assert.ok(!text.includes(Buffer.from(TOKEN).toString('base64')), 'the Secret value');
  assert.doesNotMatch(text, /managedFields:|last-applied-configuration:/);
}

describe('snapshot of a live cluster', () => {
  let server: ApiServer;
  let kubeconfig: string;
  let dir: string;
  before(async () => {
    server = await startApiServer({ objects: clusterObjects(), kinds: [SECRET_KIND] });
    kubeconfig = writeKubeconfig(server, { contexts: [{ name: 'prod', namespace: 'app' }] });
    dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-snapshot-'));
  });
  after(() => server.close());

  test('no Secret requested, only GETs, no token in the output, only tunnel and mesh ConfigMaps', async () => {
    server.clearRequests();
    const res = await runCliAsync(['snapshot', '--kubeconfig', kubeconfig, '-A']);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(server.requests.length > 0);
    assert.deepEqual(server.requests.filter((r) => r.method !== 'GET' || /secrets/.test(r.path)), []);
    assertNoSecrets(res.stdout);
    assertNoSecrets(res.stderr);
    const docs = jsyaml.loadAll(res.stdout) as KObject[];
    assert.equal(docs[0]!.kind, 'Snapshot');
    assert.ok(!docs.some((d) => d.kind === 'Secret'));
    const configMaps = docs.filter((d) => d.kind === 'ConfigMap').map((d) => `${d.metadata.namespace}/${d.metadata.name}`);
    assert.deepEqual(configMaps.sort(), ['cloudflare-operator-system/hand-tunnel', 'cloudflare-operator-system/tunnel-config-6f1f2d0e-5b7a-4c41-9d8e-3a2b1c0d9e8f', 'istio-system/istio']);
    const hand = docs.find((d) => d.metadata.name === 'hand-tunnel') as KObject & { data: Record<string, string> };
    assert.equal(hand.data['credentials.json'], REDACTED);
    assert.match(hand.data['config.yaml']!, /^token: "<redacted by tunnelmesh>"$/m);
    assert.match(hand.data['config.yaml']!, /credentials-file: \/etc\/cloudflared\/creds\/credentials.json/, 'the path stays');
    assert.match(res.stdout, /- "?--token"?\n\s+- <redacted by tunnelmesh>/, 'the flag stays visible, its value goes');
    assert.match(res.stdout, /name: TUNNEL_TOKEN\n\s+value: <redacted by tunnelmesh>/);
    assert.match(res.stdout, /name: TUNNEL_METRICS\n\s+value: 0.0.0.0:2000/, 'harmless env values stay');
  });

  test('--verbose names each request with its status and time, and the phases', async () => {
    const res = await runCliAsync(['snapshot', '--kubeconfig', kubeconfig, '-n', 'app', '-v']);
    assert.equal(res.status, 0);
    assert.match(res.stderr, /tunnelmesh: GET \/api\/v1\/namespaces\/app\/pods\?limit=500 → 200 \(\d+ ms\)/);
    assert.match(res.stderr, /tunnelmesh: collect: \d+ ms \(\d+ objects\)/);
    assertNoSecrets(res.stderr);
    assert.ok(!res.stderr.includes(server.token), 'the bearer token is never printed');
  });

  test('doctor -f on the snapshot finds what doctor found live', async () => {
    const live = await runCliAsync(['doctor', '--kubeconfig', kubeconfig, '-n', 'app', '-o', 'json']);
    const snap = await runCliAsync(['snapshot', '--kubeconfig', kubeconfig, '-n', 'app']);
    const file = join(dir, 'live.yaml');
    writeFileSync(file, snap.stdout);
    assert.match(snap.stdout, /# Replay: tunnelmesh doctor -f <this file> -n app/);
    const replay = runCli(['doctor', '-f', file, '-n', 'app', '-o', 'json']);
    assert.equal(replay.status, live.status);
    assert.ok(findings(live.stdout).length > 0);
    assert.deepEqual(findings(replay.stdout), findings(live.stdout));
  });

  test('a workload with no running pod: judged live as it is, and the same in the replay', async () => {
    // Live mode judges running pods; the replay must not start judging the idle template.
    server.putObjects([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'idle', namespace: 'app' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'idle' } },
          template: { metadata: { labels: { app: 'idle' }, annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '7000' } }, spec: { containers: [{ name: 'idle', image: 'x', ports: [{ containerPort: 7000 }] }] } },
        },
      } as KObject,
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'idle', namespace: 'app' }, spec: { selector: { app: 'idle' }, ports: [{ name: 'tcp', port: 7000 }] } } as KObject,
    ]);
    const live = await runCliAsync(['doctor', '--kubeconfig', kubeconfig, '-n', 'app', '-o', 'json']);
    const snap = await runCliAsync(['snapshot', '--kubeconfig', kubeconfig, '-n', 'app']);
    const file = join(dir, 'idle.yaml');
    writeFileSync(file, snap.stdout);
    assert.deepEqual(findings(runCli(['doctor', '-f', file, '-n', 'app', '-o', 'json']).stdout), findings(live.stdout));
  });
});

describe('replaying a snapshot judges what the live run judged', () => {
  test('PeerAuthentications forbidden live: the replay does not take them as absent (same verdicts, counts and notes)', async () => {
    const server = await startApiServer({ objects: loadManifests('fixtures/demo'), forbidden: [{ kind: 'PeerAuthentication', namespace: 'istio-system' }] });
    try {
      const kubeconfig = writeKubeconfig(server);
      const dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-replay-'));
      const live = await runCliAsync(['doctor', '--kubeconfig', kubeconfig, '-n', 'app', '-o', 'json']);
      const snap = await runCliAsync(['snapshot', '--kubeconfig', kubeconfig, '-n', 'app']);
      const file = join(dir, 'partial.yaml');
      writeFileSync(file, snap.stdout);
      const replay = runCli(['doctor', '-f', file, '-n', 'app', '-o', 'json']);
      const pick = (text: string) => {
        const doc = JSON.parse(text) as { summary: unknown; notes: string[]; incomplete: unknown };
        return { findings: findings(text), summary: doc.summary, notes: doc.notes, incomplete: doc.incomplete };
      };
      assert.equal(replay.status, live.status, replay.stderr);
      assert.ok((JSON.parse(live.stdout) as { summary: { edges: { notJudged: number } } }).summary.edges.notJudged > 0, 'the live run could not judge the demo edge');
      assert.deepEqual(pick(replay.stdout), pick(live.stdout));
    } finally {
      await server.close();
    }
  });
});

describe('snapshot of manifests', () => {
  test('doctor -f on the snapshot finds what doctor -f found on the manifests', () => {
    for (const source of ['fixtures/demo', 'fixtures/ci/rendered.yaml']) {
      const direct = runCli(['doctor', '-f', source, '-o', 'json']);
      const snap = runCli(['snapshot', '-f', source]);
      assert.equal(snap.status, 0, snap.stderr);
      const file = join(mkdtempSync(join(tmpdir(), 'tunnelmesh-snapshot-')), 'snap.yaml');
      writeFileSync(file, snap.stdout);
      const replay = runCli(['doctor', '-f', file, '-o', 'json']);
      assert.equal(replay.status, direct.status, source);
      assert.deepEqual(findings(replay.stdout), findings(direct.stdout), source);
    }
  });
});

describe('redactObject', () => {
  test('tokens in flags, shell lines, env, config keys and credentials files; the input is not changed', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'n', annotations: { note: `token ${TOKEN}` } },
      spec: {
        containers: [
          { name: 'a', args: ['run', `--token=${TOKEN}`], env: [{ name: 'API_KEY', value: 'k' }, { name: 'PORT', value: '80' }] },
          { name: 'b', command: ['sh', '-c', `exec cloudflared tunnel --credentials-contents '{"x":1}' run`] },
        ],
      },
    } as unknown as KObject;
    const before = JSON.stringify(pod);
    const out = JSON.stringify(redactObject(pod));
    assert.equal(JSON.stringify(pod), before);
    assert.ok(!out.includes(TOKEN));
    assert.ok(out.includes(`--token=${REDACTED}`));
    assert.ok(out.includes(`--credentials-contents ${REDACTED} run`));
    assert.ok(out.includes('"name":"API_KEY","value":"<redacted by tunnelmesh>"'));
    assert.ok(out.includes('"name":"PORT","value":"80"'));
  });
});
