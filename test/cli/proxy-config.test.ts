// Saved Envoy config dumps against the demo: matching dumps show agreement in the findings'
// evidence; a dump that contradicts the configuration gives TM501 (client) or TM502 (target);
// the dumps travel in snapshot files so a replay compares the same; bad dump files are exit 2.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsonOf, runCli, runInProcess } from '../support/cli.js';
import { lazyTempDir } from '../support/tmp.js';
import { configDump } from '../support/envoy.js';

const DEMO = 'fixtures/demo';
const CLIENT = 'fixtures/envoy/demo/main-tunnel-5c6d7f8b9-x2kqp.json';
const TARGET = 'fixtures/envoy/demo/sg-cloud-gateway-7d9f8b6c5d-4kd8s.json';
const STRICT_TARGET = 'fixtures/envoy/strict-elsewhere/sg-cloud-gateway-7d9f8b6c5d-9wq2n.json';
const dir = lazyTempDir('proxy-config');

interface Doc {
  findings: Array<{ code: string; severity: string; resource: { kind: string; namespace?: string; name: string }; port: number | null; message: string; evidence: string[]; fixes: Array<{ title: string }> }>;
  notes: string[];
  incomplete: unknown[];
}

async function doctor(args: string[]): Promise<{ code: number | null; doc: Doc; stderr: string }> {
  const run = await runInProcess(['doctor', ...args, '-o', 'json']);
  assert.ok(run.code === 0 || run.code === 1, `exit ${run.code}: ${run.stderr}`);
  return { code: run.code, doc: jsonOf(run) as unknown as Doc, stderr: run.stderr };
}

const keys = (doc: Doc): string[] => doc.findings.map((f) => `${f.code} ${f.severity} ${f.resource.kind} ${f.resource.namespace}/${f.resource.name}:${f.port}`);

describe('doctor with saved Envoy config dumps', () => {
  it('the demo and its dumps: Envoy agrees with the TM101 prediction, in the finding\'s evidence, on both sides', async () => {
    const r = await doctor(['-f', DEMO, '--proxy-config-file', CLIENT, TARGET]);
    assert.equal(r.code, 1);
    assert.deepEqual(keys(r.doc), ['TM101 error Service app/sg-cloud-gateway:9091']);
    const evidence = r.doc.findings[0]?.evidence.join('\n') ?? '';
    assert.match(evidence, /Envoy agrees \(dump of Pod cloudflare-operator-system\/main-tunnel-5c6d7f8b9-x2kqp, from fixtures\/envoy\/demo\/main-tunnel-5c6d7f8b9-x2kqp\.json, newest update 2026-11-20T09:12:30\.123Z\): cluster outbound\|9091\|\|sg-cloud-gateway\.app\.svc\.cluster\.local, transport socket match tlsMode-istio \(endpoint metadata tlsMode=istio\)/);
    assert.match(evidence, /Envoy agrees \(dump of Pod app\/sg-cloud-gateway-7d9f8b6c5d-4kd8s.*its proxy started with traffic\.sidecar\.istio\.io\/excludeInboundPorts=9091, which leaves port 9091 out of capture; virtualInbound: 2 filter chains for port 9091 accept mTLS and plaintext \(PERMISSIVE\), but iptables does not send port 9091 there/);
    assert.ok(r.doc.notes.some((n) => /^Envoy config dumps: 2 of 2 matched a pod; 7 comparisons on 3 edges: 7 agree, 0 disagree/.test(n)), r.doc.notes.join('\n'));
  });

  it('opt-in: without dumps the demo says nothing of Envoy', async () => {
    const r = await doctor(['-f', DEMO]);
    assert.ok(!r.doc.findings.some((f) => f.evidence.some((e) => e.startsWith('Envoy'))));
    assert.ok(!r.doc.notes.some((n) => n.startsWith('Envoy')));
  });

  it("the TM101 fix applied after cloudflared's dump was taken: TM101 is gone, TM501 says the proxy still sends mTLS (error) and why", async () => {
    const r = await doctor(['-f', DEMO, '-f', 'fixtures/envoy/fix-pending', '--proxy-config-file', CLIENT, TARGET]);
    assert.equal(r.code, 1);
    assert.deepEqual(keys(r.doc), ['TM501 error Service app/sg-cloud-gateway:9091']);
    const f = r.doc.findings[0];
    assert.match(f?.message ?? '', /sends Istio mTLS to 10\.244\.2\.31:9091 .* where the configuration says it sends plaintext \(DestinationRule app\/sg-cloud-gateway-9091-no-mtls sets tls DISABLE\): with what Envoy sends the edge fails/);
    assert.ok(f?.evidence.some((e) => /^can mean: the dump predates DestinationRule app\/sg-cloud-gateway-9091-no-mtls \(created 2026-11-20T10:00:00Z; this part of the dump was last updated 2026-11-20T09:12:30\.123Z\)/.test(e)));
    assert.equal(f?.fixes[0]?.title, 'Restart Deployment cloudflare-operator-system/main-tunnel');
  });

  it("a gateway pod's Envoy requires mTLS on 8080 where the manifests say PERMISSIVE: TM502 (a warning: the meshed client sends mTLS anyway)", async () => {
    const r = await doctor(['-f', DEMO, '--proxy-config-file', CLIENT, STRICT_TARGET]);
    assert.deepEqual(keys(r.doc), ['TM101 error Service app/sg-cloud-gateway:9091', 'TM502 warning Deployment app/sg-cloud-gateway:8080']);
    assert.match(r.doc.findings[1]?.message ?? '', /The Envoy of Pod app\/sg-cloud-gateway-7d9f8b6c5d-9wq2n handles target port 8080 otherwise than the configuration says \(port 8080 captured and PERMISSIVE\): virtualInbound: 1 filter chain for port 8080 accepts mTLS \(STRICT\)/);
  });

  it('dumps among the -f inputs read the same as --proxy-config-file, in any order (byte-identical output)', async () => {
    const a = await runInProcess(['doctor', '-f', DEMO, '--proxy-config-file', CLIENT, TARGET, '-o', 'json']);
    const b = await runInProcess(['doctor', '-f', 'fixtures/envoy/demo', '-f', DEMO, '-o', 'json']);
    const c = await runInProcess(['doctor', '-f', DEMO, '--proxy-config-file', TARGET, CLIENT, '-o', 'json']);
    assert.equal(a.code, 1);
    const strip = (s: string) => s.replace(/ \(?from [^,]+, newest/g, ' from X, newest').replace(/"file": "[^"]+", "line": \d+/g, '');
    assert.equal(strip(b.stdout), strip(a.stdout));
    assert.equal(c.stdout, a.stdout);
    assert.doesNotMatch(b.stderr, /skipped|not a Kubernetes object/);
  });

  it('a partial dump without a bootstrap node, named with NAMESPACE/POD=FILE, is compared', async () => {
    const dump = configDump({
      pod: 'main-tunnel-5c6d7f8b9-x2kqp',
      namespace: 'cloudflare-operator-system',
      ip: '10.244.1.17',
      noBootstrap: true,
      clusters: [{ port: 9091, host: 'sg-cloud-gateway.app.svc.cluster.local', tls: 'auto' }],
    });
    const file = join(dir(), 'clusters.json');
    writeFileSync(file, JSON.stringify(dump));
    const named = await doctor(['-f', DEMO, '--proxy-config-file', `cloudflare-operator-system/main-tunnel-5c6d7f8b9-x2kqp=${file}`]);
    assert.ok(named.doc.findings[0]?.evidence.some((e) => /^Envoy agrees \(dump of Pod cloudflare-operator-system\/main-tunnel-5c6d7f8b9-x2kqp/.test(e)));
    const unnamed = await doctor(['-f', DEMO, '--proxy-config-file', file]);
    assert.ok(unnamed.doc.findings.some((f) => f.code === 'TM503' && /no bootstrap node naming its pod/.test(f.message)));
  });

  it('bad input: --proxy-config with -f, a missing dump, a file that is no dump (exit 2, one line)', async () => {
    const live = await runInProcess(['doctor', '-f', DEMO, '--proxy-config']);
    assert.equal(live.code, 2);
    assert.match(live.stderr, /^tunnelmesh: --proxy-config reads the proxies of a live cluster; with -f, pass saved dumps with --proxy-config-file FILE\n$/);
    const missing = await runInProcess(['doctor', '-f', DEMO, '--proxy-config-file', 'no-such-dump.json']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^tunnelmesh: no-such-dump\.json: /);
    const notDump = await runInProcess(['doctor', '-f', DEMO, '--proxy-config-file', 'fixtures/demo/30-app.yaml']);
    assert.equal(notDump.code, 2);
    assert.match(notDump.stderr, /^tunnelmesh: fixtures\/demo\/30-app\.yaml:1: not an Envoy config dump/);
    const roles = await runInProcess(['doctor', '--proxy-config=everything', '--kubeconfig', '/nonexistent']);
    assert.equal(roles.code, 2);
    assert.match(roles.stderr, /--proxy-config everything: expected clients, targets or clients,targets/);
  });
});

// explain-protocol and snapshot write to stdout directly: run as the user does, through bin/tunnelmesh.
describe('explain-protocol and snapshot with dumps', () => {
  it("explain-protocol shows Envoy's word per backend (JSON and text)", async () => {
    const json = await runCli(['explain-protocol', 'ingress/spring-boot-admin', '-f', DEMO, '--proxy-config-file', CLIENT, TARGET, '-o', 'json']);
    assert.equal(json.code, 1, json.stderr);
    const doc = JSON.parse(json.stdout) as { backends: Array<{ envoy?: Array<{ side: string; result: string; pod: string }> }>; notes: string[] };
    const envoy = doc.backends[0]?.envoy ?? [];
    assert.deepEqual([...new Set(envoy.map((e) => `${e.side} ${e.result} ${e.pod}`))].sort(), [
      'client agrees cloudflare-operator-system/main-tunnel-5c6d7f8b9-x2kqp',
      'target agrees app/sg-cloud-gateway-7d9f8b6c5d-4kd8s',
    ]);
    const text = await runCli(['explain-protocol', 'ingress/spring-boot-admin', '-f', DEMO, '--proxy-config-file', CLIENT, TARGET, '--color', 'never']);
    assert.match(text.stdout, /^ {2}envoy: Envoy agrees \(dump of Pod cloudflare-operator-system\/main-tunnel-5c6d7f8b9-x2kqp/m);
    const without = JSON.parse((await runCli(['explain-protocol', 'ingress/spring-boot-admin', '-f', DEMO, '-o', 'json'])).stdout) as { backends: Array<Record<string, unknown>> };
    assert.equal('envoy' in (without.backends[0] ?? {}), false, 'no envoy field without dumps');
  });

  it('snapshot keeps the pruned dumps (no certificate), and doctor on the snapshot compares the same', async () => {
    const snap = await runCli(['snapshot', '-f', DEMO, '--proxy-config-file', CLIENT, TARGET]);
    assert.equal(snap.code, 0, snap.stderr);
    const text = snap.stdout;
    assert.equal((text.match(/^kind: EnvoyConfigDump$/gm) ?? []).length, 2);
    assert.doesNotMatch(text, /inline_bytes|BEGIN CERTIFICATE|private_key|SecretsConfigDump/);
    const file = join(dir(), 'snapshot.yaml');
    writeFileSync(file, text);
    const replay = await doctor(['-f', file]);
    const direct = await doctor(['-f', DEMO, '--proxy-config-file', CLIENT, TARGET]);
    assert.deepEqual(keys(replay.doc), keys(direct.doc));
    const agree = (d: Doc) => (d.findings[0]?.evidence ?? []).filter((e) => e.startsWith('Envoy agrees')).map((e) => e.replace(/, from [^,]+,/, ','));
    assert.deepEqual(agree(replay.doc), agree(direct.doc));
    assert.ok(agree(replay.doc).length === 2);
  });
});
