// The live path, end to end: the real @kubernetes/client-node loads a kubeconfig file and
// authenticates over TLS to a loopback API server that serves the fixtures through the real
// REST paths. The verdicts must be the ones the offline run gives for the same objects.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { collectFromFiles } from '../../src/collect/files.js';
import { collectLive } from '../../src/collect/live.js';
import type { KObject } from '../../src/core/k8s.js';
import { SECRET_KIND, startApiServer, type ApiServer } from '../support/apiserver.js';
import { run } from '../support/cli.js';
import { writeKubeconfig, writeUnreachableKubeconfig } from '../support/kubeconfig.js';

let demo: KObject[];
let offline: { findings: unknown[]; summary: unknown };
let offlineApp: { findings: unknown[]; summary: unknown };

/** Findings without source positions (only file input has them). */
function comparable(doc: { findings: unknown[]; summary: unknown }): unknown {
  const findings = (doc.findings as Array<Record<string, unknown>>).map(({ location: _where, ...rest }) => rest);
  return JSON.parse(JSON.stringify({ findings, summary: doc.summary }).replace(/ ?\(fixtures\/demo\/[^)]+:\d+\)/g, ''));
}

async function live(server: ApiServer, args: string[], kubeconfigOptions: Parameters<typeof writeKubeconfig>[1] = {}) {
  const kubeconfig = writeKubeconfig(server, kubeconfigOptions);
  return run(['doctor', ...args], { env: { KUBECONFIG: kubeconfig } });
}

before(async () => {
  demo = (await collectFromFiles(['fixtures/demo'])).objects.map((o) => structuredClone(o));
  const r = await run(['doctor', '-f', 'fixtures/demo', '-o', 'json']);
  offline = JSON.parse(r.stdout);
  offlineApp = JSON.parse((await run(['doctor', '-f', 'fixtures/demo', '-n', 'app', '-o', 'json'])).stdout);
});

describe('doctor against a live cluster', () => {
  let server: ApiServer;
  before(async () => {
    server = await startApiServer({ objects: demo, kinds: [SECRET_KIND] });
  });
  after(() => server.close());

  it('-A gives the same findings as the offline run of the same objects', async () => {
    server.clearRequests();
    const r = await live(server, ['-A', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(comparable(JSON.parse(r.stdout)), comparable(offline));
    assert.ok(server.requests.length > 10);
    assert.ok(server.requests.every((q) => q.method === 'GET'), 'GET only');
    assert.ok(!server.requests.some((q) => /secrets/.test(q.path)), 'never Secrets');
  });

  it('-n app still collects the root namespace and the tunnel from its own namespace', async () => {
    server.clearRequests();
    const r = await live(server, ['-n', 'app', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(comparable(JSON.parse(r.stdout)), comparable(offlineApp));
    const paths = server.requests.map((q) => q.path);
    assert.ok(paths.includes('/api/v1/namespaces/app/pods'));
    assert.ok(paths.includes('/api/v1/namespaces/cloudflare-operator-system/configmaps'));
    assert.ok(paths.includes('/apis/security.istio.io/v1/namespaces/istio-system/peerauthentications'));
    assert.ok(!paths.includes('/api/v1/pods') || server.requests.some((q) => q.path === '/api/v1/pods' && q.query.labelSelector), 'no unfiltered cluster-wide pod list with -n');
  });

  it("without -n, the context's namespace scopes the findings", async () => {
    const r = await live(server, ['-o', 'json'], { namespace: 'shop' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).findings, []);
  });

  it('client-certificate authentication works the same', async () => {
    const r = await live(server, ['-A', '-o', 'json'], { auth: 'client-cert' });
    assert.equal(r.code, 1, r.stderr);
  });

  it('paginates with limit/continue and gets every object', async () => {
    const kubeconfig = writeKubeconfig(server);
    server.clearRequests();
    const small = await collectLive({ kubeconfig, allNamespaces: true, requestTimeoutMs: 5000, pageSize: 1 });
    const big = await collectLive({ kubeconfig, allNamespaces: true, requestTimeoutMs: 5000 });
    assert.ok(server.requests.some((q) => q.query.continue), 'continue tokens were followed');
    const names = (s: typeof small) => s.snapshot.objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort();
    assert.deepEqual(names(small), names(big));
    assert.ok(!names(big).some((n) => n.startsWith('ConfigMap/') && !/tunnel-config|\/istio$/.test(n)), 'only tunnel and mesh ConfigMaps are kept');
  });
});

describe('partial access and missing APIs', () => {
  it('a kind that may not be listed is reported in incomplete, and verdicts needing it are not given', async () => {
    const server = await startApiServer({ objects: demo, forbidden: [{ kind: 'PeerAuthentication' }] });
    try {
      const r = await live(server, ['-A', '-o', 'json']);
      const doc = JSON.parse(r.stdout) as { findings: unknown[]; incomplete: Array<{ kind: string; reason: string }>; notes: string[] };
      assert.equal(r.code, 0);
      assert.deepEqual(doc.incomplete.map((e) => `${e.kind}:${e.reason}`), ['PeerAuthentication:forbidden']);
      assert.deepEqual(doc.findings, []);
      assert.match(doc.notes.join('\n'), /sg-cloud-gateway:9091 not judged: .*PeerAuthentications could not be listed/);
      assert.match(r.stderr, /tunnelmesh: warning: could not list PeerAuthentication: forbidden/);
    } finally {
      await server.close();
    }
  });

  it('Istio and the operator not installed: none of those objects, the rest is judged', async () => {
    const server = await startApiServer({ objects: demo.filter((o) => !/istio\.io|cloudflare-operator\.io/.test(o.apiVersion)), absentGroups: ['networking.istio.io', 'security.istio.io', 'networking.cloudflare-operator.io'] });
    try {
      const r = await live(server, ['-A', '-o', 'json']);
      assert.equal(r.code, 1, r.stderr);
      const doc = JSON.parse(r.stdout) as { incomplete: unknown[]; findings: Array<{ code: string }> };
      assert.deepEqual(doc.incomplete, []);
      assert.deepEqual(doc.findings.map((f) => f.code), ['TM101']);
      assert.match(r.stderr, /API group security\.istio\.io is not installed/);
    } finally {
      await server.close();
    }
  });
});

describe('unreachable or unauthenticated clusters (exit 3, one line)', () => {
  it('a wrong token', async () => {
    const server = await startApiServer({ objects: demo });
    try {
      const r = await live(server, ['-A'], { auth: 'wrong-token' });
      assert.equal(r.code, 3);
      assert.match(r.stderr, /^tunnelmesh: authentication failed for context "tunnelmesh-test" \(https:\/\/127\.0\.0\.1:\d+\): Unauthorized — the token of user "tunnelmesh-test-wrong-token" was refused \(expired or revoked\): get a new one and set it with kubectl config set-credentials tunnelmesh-test-wrong-token --token=…; check with: kubectl --context tunnelmesh-test auth whoami\n$/);
      assert.equal(r.stdout, '');
    } finally {
      await server.close();
    }
  });
  it('a closed port', async () => {
    const kubeconfig = await writeUnreachableKubeconfig();
    const r = await run(['doctor', '-A'], { env: { KUBECONFIG: kubeconfig } });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^tunnelmesh: cannot reach the cluster of context "tunnelmesh-test" at https:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*\n$/);
  });
  it('no kubeconfig at all', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tm-home-'));
    const r = await run(['doctor'], { env: { HOME: home, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined } });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^tunnelmesh: no kubeconfig found \(KUBECONFIG, ~\/\.kube\/config\)/);
  });
  it('an unknown --context is a usage error', async () => {
    const server = await startApiServer({ objects: [] });
    try {
      const r = await live(server, ['--context', 'nope']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^tunnelmesh: context "nope" is not in the kubeconfig \(contexts: tunnelmesh-test\)\n$/);
    } finally {
      await server.close();
    }
  });
});
