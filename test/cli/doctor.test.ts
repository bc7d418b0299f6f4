import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deployment, namespace, operatorCloudflared, operatorTunnelConfig, service, toYaml } from '../support/build.js';
import { ROOT, run } from '../support/cli.js';

const FORBID = ['--import', `${ROOT}test/support/forbid-client-node.mjs`];

describe('tunnelmesh doctor on the demo', () => {
  it('exits 1 and shows TM101 with the DestinationRule fix first', async () => {
    const r = await run(['doctor', '-f', 'fixtures/demo'], { nodeArgs: FORBID });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /ERROR TM101 mtls-to-uncaptured-port {2}Service app\/sg-cloud-gateway :9091/);
    assert.match(r.stdout, /fix 1 \(recommended\): DestinationRule app\/sg-cloud-gateway-9091-no-mtls/);
    assert.match(r.stdout, /Summary: 1 error, 0 warnings, 0 info/);
    assert.doesNotMatch(r.stdout, /\u001b\[/, 'no colour on a pipe');
    assert.equal(r.stderr, '');
  });

  it('-o json follows the contract', async () => {
    const r = await run(['doctor', '-f', 'fixtures/demo', '-o', 'json']);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as { findings: Array<Record<string, unknown>>; summary: unknown; incomplete: unknown };
    assert.deepEqual(Object.keys(doc).slice(0, 3), ['findings', 'summary', 'incomplete']);
    assert.deepEqual(doc.summary, { error: 1, warning: 0, info: 0, suppressed: 0, edges: { total: 3, judged: 3, notJudged: 0 }, incomplete: 0 });
    assert.deepEqual(doc.incomplete, []);
    const [f] = doc.findings;
    assert.deepEqual(Object.keys(f ?? {}).slice(0, 9), ['code', 'name', 'severity', 'resource', 'port', 'message', 'symptom', 'evidence', 'fixes']);
    assert.deepEqual(f?.resource, { kind: 'Service', namespace: 'app', name: 'sg-cloud-gateway' });
    assert.equal(f?.port, 9091);
    assert.match(String((f?.fixes as Array<{ yaml: string }>)[0]?.yaml), /apiVersion: networking\.istio\.io\/v1\nkind: DestinationRule/);
  });

  it('--fail-on moves the exit code, the same in every format', async () => {
    for (const output of ['table', 'json']) {
      assert.equal((await run(['doctor', '-f', 'fixtures/demo', '-o', output, '--fail-on', 'none'])).code, 0);
      assert.equal((await run(['doctor', '-f', 'fixtures/demo', '-o', output, '--fail-on', 'info'])).code, 1);
    }
  });

  it('FORCE_COLOR colours the table; NO_COLOR wins over it', async () => {
    assert.match((await run(['doctor', '-f', 'fixtures/demo'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } })).stdout, /\u001b\[/);
    assert.doesNotMatch((await run(['doctor', '-f', 'fixtures/demo'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } })).stdout, /\u001b\[/);
  });

  it('--help and --version never load the Kubernetes client', async () => {
    assert.equal((await run(['--version'], { nodeArgs: FORBID })).code, 0);
    const help = await run(['doctor', '--help'], { nodeArgs: FORBID });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--namespace/);
  });
});

describe('CI preflight: a helm template stream on stdin', () => {
  // The demo's situation as a chart renders it: Deployments and Services, no Pods; sidecars are predicted.
  const stream = toYaml([
    namespace('app', { 'istio-injection': 'enabled' }),
    namespace('cloudflare-operator-system', { 'istio-injection': 'enabled' }),
    operatorTunnelConfig([{ hostname: 'admin.example.com', service: 'http://sg-cloud-gateway.app.svc:9091' }]),
    operatorCloudflared({ annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' } }),
    deployment('app', 'sg-cloud-gateway', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, ports: [{ name: 'http', port: 8080 }, { name: 'actuator', port: 9091 }] }),
    service('app', 'sg-cloud-gateway', [{ name: 'http', port: 8080 }, { name: 'http-actuator', port: 9091 }]),
  ]);

  it('gives TM101 from predicted sidecars', async () => {
    const r = await run(['doctor', '-f', '-', '-o', 'json'], { stdin: stream, nodeArgs: FORBID });
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { findings: Array<{ code: string; port: number; evidence: string[] }> };
    assert.deepEqual(doc.findings.map((f) => `${f.code}:${f.port}`), ['TM101:9091']);
    assert.match(doc.findings[0]?.evidence.join('\n') ?? '', /injected at admission: namespace label istio-injection=enabled/);
  });

  it('without the Namespace objects the sidecars are unknown: no verdict, and a note says why', async () => {
    const noNamespaces = stream.split('---\n').filter((d) => !/^kind: Namespace/m.test(d)).join('---\n');
    const r = await run(['doctor', '-f', '-', '-o', 'json'], { stdin: noNamespaces });
    assert.equal(r.code, 0);
    const doc = JSON.parse(r.stdout) as { findings: unknown[]; notes: string[] };
    assert.deepEqual(doc.findings, []);
    assert.match(doc.notes.join('\n'), /not judged: .*namespace labels not known/);
  });
});

describe('bad input', () => {
  it('unparseable YAML: one line naming file and line, exit 2', async () => {
    const r = await run(['doctor', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tunnelmesh: <stdin>:\d+: invalid YAML: .+\n$/);
  });
  it('a missing file', async () => {
    const r = await run(['doctor', '-f', 'nope.yaml']);
    assert.deepEqual([r.code, r.stderr], [2, 'tunnelmesh: nope.yaml: no such file or directory\n']);
  });
  it('usage errors are exit 2 with one line', async () => {
    const r = await run(['doctor', '-n', 'a', '-A', '-f', 'fixtures/demo']);
    assert.deepEqual([r.code, r.stderr], [2, 'tunnelmesh: -n and -A cannot be used together\n']);
    const u = await run(['doctor', '--frobnicate']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /^tunnelmesh: unknown option '--frobnicate'/);
  });
  it('objects of the wrong shape are skipped with a word, the rest is judged', async () => {
    const r = await run(['doctor', '-f', '-', '-o', 'json'], { stdin: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports: {}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n' });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /tunnelmesh: warning: <stdin>:1: Service a\/s: spec\.ports: expected a list/);
    assert.doesNotThrow(() => JSON.parse(r.stdout));
  });
});
