// `--proxy-config` live, through the real @kubernetes/client-node kubeconfig handling and the
// loopback API server's pod proxy subresource: the client proxies' dumps (and the targets' on
// request) are read with GET .../pods/NAME:15000/proxy/config_dump?include_eds and compared; a
// 403, 404 or 503 is said (incomplete, notes) and never judged as agreement; reads are bounded.

import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fetchProxyConfigs, proxyConfigPath } from '../../src/collect/envoy.js';
import { startApiServer, type ApiServer, type PodProxyAnswer } from '../support/apiserver.js';
import { ROOT, runCli, runInProcess } from '../support/cli.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { lazyTempDir } from '../support/tmp.js';
import { demo } from './scenarios.js';

const CLIENT_POD = 'cloudflare-operator-system/main-tunnel-5c6d7f8b9-x2kqp';
const TARGET_POD = 'app/sg-cloud-gateway-7d9f8b6c5d-4kd8s';
const fixture = (f: string): unknown => JSON.parse(readFileSync(join(ROOT, 'fixtures', 'envoy', 'demo', f), 'utf8'));
const CLIENT_DUMP = fixture('main-tunnel-5c6d7f8b9-x2kqp.json');
const TARGET_DUMP = fixture('sg-cloud-gateway-7d9f8b6c5d-4kd8s.json');
const dir = lazyTempDir('proxy-config-live');

interface Doc {
  findings: Array<{ code: string; evidence: string[] }>;
  incomplete: Array<{ kind: string; namespace?: string; name?: string; reason: string; message?: string }>;
  notes: string[];
}

async function withServer<T>(podProxy: Record<string, PodProxyAnswer>, fn: (server: ApiServer, kubeconfig: string) => Promise<T>, forbidden: Array<{ kind: string }> = []): Promise<T> {
  const server = await startApiServer({ objects: demo(), podProxy, forbidden });
  try {
    return await fn(server, writeKubeconfig(server));
  } finally {
    await server.close();
  }
}

const proxyRequests = (server: ApiServer) => server.requests.filter((r) => r.path.includes('/proxy/'));
const envoyLines = (doc: Doc) => doc.findings.flatMap((f) => f.evidence.filter((e) => e.startsWith('Envoy')));

describe('--proxy-config against a live cluster', () => {
  it("reads the client proxy's dump (cloudflared's sidecar) with include_eds, GET only, and the TM101 evidence says Envoy agrees", async () => {
    await withServer({ [`${CLIENT_POD}:15000`]: { body: CLIENT_DUMP } }, async (server, kubeconfig) => {
      const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '--proxy-config', '-o', 'json']);
      assert.equal(run.code, 1, run.stderr);
      const doc = JSON.parse(run.stdout) as Doc;
      assert.deepEqual(doc.incomplete, []);
      const asked = proxyRequests(server);
      assert.deepEqual(asked.map((r) => `${r.method} ${r.path}`), [`GET /api/v1/namespaces/cloudflare-operator-system/pods/main-tunnel-5c6d7f8b9-x2kqp:15000/proxy/config_dump`]);
      assert.ok('include_eds' in (asked[0]?.query ?? {}), 'endpoints are asked for (?include_eds)');
      assert.ok(envoyLines(doc).some((l) => /^Envoy agrees \(dump of Pod cloudflare-operator-system\/main-tunnel-5c6d7f8b9-x2kqp, read live by this run/.test(l)), envoyLines(doc).join('\n'));
    });
  });

  it('clients,targets also reads one target pod per workload', async () => {
    await withServer({ [`${CLIENT_POD}:15000`]: { body: CLIENT_DUMP }, [`${TARGET_POD}:15000`]: { body: TARGET_DUMP } }, async (server, kubeconfig) => {
      const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '--proxy-config=clients,targets', '-o', 'json']);
      const doc = JSON.parse(run.stdout) as Doc;
      // sg-cloud-gateway (two pods, one read) and shop/web (no dump served: its sidecar's admin port answers 503).
      assert.deepEqual(proxyRequests(server).map((r) => r.path.split('/')[6]).sort(), ['main-tunnel-5c6d7f8b9-x2kqp:15000', 'sg-cloud-gateway-7d9f8b6c5d-4kd8s:15000', 'web-6b8c9d7f4-abcde:15000']);
      assert.ok(envoyLines(doc).some((l) => /^Envoy agrees \(dump of Pod app\/sg-cloud-gateway-7d9f8b6c5d-4kd8s, read live.*excludeInboundPorts=9091/.test(l)));
      assert.deepEqual(doc.incomplete.map((e) => `${e.kind} ${e.namespace}/${e.name} ${e.reason}`), ['EnvoyConfigDump shop/web-6b8c9d7f4-abcde error']);
    });
  });

  it('403 (get on pods/proxy not granted): incomplete forbidden, said on stderr and in the notes with the role to bind; judged without Envoy', async () => {
    await withServer(
      { [`${CLIENT_POD}:15000`]: { body: CLIENT_DUMP } },
      async (_server, kubeconfig) => {
        const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '--proxy-config', '-o', 'json']);
        assert.equal(run.code, 1, run.stderr);
        const doc = JSON.parse(run.stdout) as Doc;
        assert.deepEqual(doc.incomplete.map((e) => `${e.kind} ${e.namespace}/${e.name} ${e.reason}`), [`EnvoyConfigDump ${CLIENT_POD} forbidden`]);
        assert.match(run.stderr, /could not read EnvoyConfigDump cloudflare-operator-system\/main-tunnel-5c6d7f8b9-x2kqp: forbidden/);
        assert.ok(doc.notes.some((n) => /not read \(forbidden\): get on pods\/proxy is not granted .*tunnelmesh-proxy-config; its edges are not compared with Envoy/.test(n)), doc.notes.join('\n'));
        assert.deepEqual(envoyLines(doc), [], 'nothing claims agreement without a dump');
      },
      [{ kind: 'pods/proxy' }],
    );
  });

  it("503 (a stock sidecar: Envoy's admin port answers on localhost only) and 404 (the pod is gone): each said, with how to save the dump", async () => {
    await withServer({}, async (_server, kubeconfig) => {
      const doc = JSON.parse((await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '--proxy-config', '-o', 'json'])).stdout) as Doc;
      const gap = doc.incomplete.find((e) => e.kind === 'EnvoyConfigDump');
      assert.equal(gap?.reason, 'error');
      assert.match(gap?.message ?? '', /could not reach Envoy's admin port 15000 \(HTTP 503: error trying to reach service: dial tcp 10\.244\.1\.17:15000: connect: connection refused\)/);
      assert.match(doc.notes.join('\n'), /bound to localhost as in stock Istio; save it with istioctl proxy-config all main-tunnel-5c6d7f8b9-x2kqp\.cloudflare-operator-system -o json .* --proxy-config-file cloudflare-operator-system\/main-tunnel-5c6d7f8b9-x2kqp=main-tunnel-5c6d7f8b9-x2kqp\.json/);
    });
    await withServer({ [`${CLIENT_POD}:15000`]: { status: 404, message: 'pods "main-tunnel-5c6d7f8b9-x2kqp" not found' } }, async (_server, kubeconfig) => {
      const doc = JSON.parse((await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '--proxy-config', '-o', 'json'])).stdout) as Doc;
      assert.match(doc.notes.join('\n'), /not read \(not-found\): the pod or its admin port was not found \(HTTP 404/);
    });
  });

  it('an answer that is not a config dump is said, not compared', async () => {
    await withServer({ [`${CLIENT_POD}:15000`]: { rawBody: '{"hello": "admin"}' } }, async (_server, kubeconfig) => {
      const doc = JSON.parse((await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '--proxy-config', '-o', 'json'])).stdout) as Doc;
      assert.match(doc.notes.join('\n'), /not read \(invalid\): the answer is not an Envoy config dump/);
      assert.deepEqual(envoyLines(doc), []);
    });
  });

  it('bounded: at most N dumps, each at most M bytes (the rest said, never read)', async () => {
    await withServer({ [`${CLIENT_POD}:15000`]: { body: CLIENT_DUMP }, [`${TARGET_POD}:15000`]: { body: TARGET_DUMP } }, async (server) => {
      const conn = { server: server.url, agent: new https.Agent({ ca: server.caPem }), headers: { Authorization: `Bearer ${server.token}` }, timeoutMs: 10_000 };
      const pods = [CLIENT_POD, TARGET_POD].map((p) => ({ namespace: p.split('/')[0] as string, name: p.split('/')[1] as string }));
      const capped = await fetchProxyConfigs(conn, pods, { maxBytes: 10_000 });
      assert.deepEqual(capped.gaps.map((g) => `${g.pod.name} ${g.reason}`), ['main-tunnel-5c6d7f8b9-x2kqp too-large', 'sg-cloud-gateway-7d9f8b6c5d-4kd8s too-large']);
      server.clearRequests();
      const few = await fetchProxyConfigs(conn, pods, { maxDumps: 1 });
      assert.deepEqual([few.inputs.length, few.gaps.map((g) => `${g.pod.name} ${g.reason}`)], [1, ['sg-cloud-gateway-7d9f8b6c5d-4kd8s error']]);
      assert.equal(server.requests.length, 1, 'the pod over the limit is not asked for');
      assert.equal(proxyConfigPath(pods[0] as { namespace: string; name: string }), '/api/v1/namespaces/cloudflare-operator-system/pods/main-tunnel-5c6d7f8b9-x2kqp:15000/proxy/config_dump?include_eds');
    });
  });

  it('snapshot --proxy-config keeps the dumps (pruned) for replay; doctor -f on it compares the same; why uses them too', async () => {
    await withServer({ [`${CLIENT_POD}:15000`]: { body: CLIENT_DUMP } }, async (_server, kubeconfig) => {
      const snap = await runCli(['snapshot', '--kubeconfig', kubeconfig, '-A', '--proxy-config']);
      assert.equal(snap.code, 0, snap.stderr);
      assert.match(snap.stdout, /^kind: EnvoyConfigDump$/m);
      assert.doesNotMatch(snap.stdout, /inline_bytes|BEGIN CERTIFICATE|private_key/);
      const file = join(dir(), 'snapshot.yaml');
      writeFileSync(file, snap.stdout);
      const replay = JSON.parse((await runInProcess(['doctor', '-f', file, '-o', 'json'])).stdout) as Doc;
      assert.ok(envoyLines(replay).some((l) => /^Envoy agrees \(dump of Pod cloudflare-operator-system\/main-tunnel-5c6d7f8b9-x2kqp, from .*snapshot\.yaml:\d+ \(pods\/main-tunnel-5c6d7f8b9-x2kqp:15000\/proxy/.test(l)), envoyLines(replay).join('\n'));
      const why = await runInProcess(['why', 'TLS error: WRONG_VERSION_NUMBER outbound|9091||sg-cloud-gateway.app.svc.cluster.local', '--kubeconfig', kubeconfig, '-A', '--proxy-config', '-o', 'json']);
      assert.equal(why.code, 1, why.stderr);
      const doc = JSON.parse(why.stdout) as { explanations: Array<{ finding: { code: string; evidence: string[] } }> };
      assert.equal(doc.explanations[0]?.finding.code, 'TM101');
      assert.ok(doc.explanations[0]?.finding.evidence.some((e) => e.startsWith('Envoy agrees')));
    });
  });
});
