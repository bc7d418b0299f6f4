// An API server (or a proxy in front of it) that answers 200 with something that is not the
// list asked for, pages for ever, sends hundreds of megabytes: through the real CLI, each is
// an `incomplete` kind with the reason, the verdicts that need it are not judged (never "ok",
// never a crash), and the run ends in bounded requests and memory.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startApiServer } from '../support/apiserver.js';
import { runCli } from '../support/cli.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { DEMO_FINDING, demo, findingKeys, key, liveRun, type LiveRun } from './scenarios.js';

const TM101 = key(DEMO_FINDING);
const isPeerAuthList = (path: string): boolean => path.endsWith('/peerauthentications');

function assertClean(run: { stderr: string; code: number | null }): void {
  assert.notEqual(run.code, 70, run.stderr);
  assert.doesNotMatch(run.stderr, /internal error|\n\s+at /, run.stderr);
}

function incompleteOf(run: LiveRun, kind: string) {
  return run.json.incomplete.find((e) => e.kind === kind);
}

describe('a 200 that is not a list of the kind asked for', { concurrency: 4 }, () => {
  for (const [label, body] of [
    ['{}', '{}'],
    ['[]', '[]'],
    ['{"items": null}', '{"kind":"PeerAuthenticationList","apiVersion":"security.istio.io/v1","metadata":{},"items":null}'],
    ['a Status object', '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server is shutting down","reason":"ServiceUnavailable","code":503}'],
    ['null', 'null'],
    ['another kind of list', '{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}'],
    ['a list with a null item', '{"kind":"PeerAuthenticationList","apiVersion":"security.istio.io/v1","metadata":{},"items":[null]}'],
  ] as const) {
    test(`PeerAuthentications answered with ${label}: incomplete, and the edge is not judged`, async () => {
      const run = await liveRun({ objects: demo(), setup: (s) => void s.addFault({ body, match: (r) => isPeerAuthList(r.path) }) });
      assertClean(run);
      assert.equal(run.code, 0, run.stderr);
      const entry = incompleteOf(run, 'PeerAuthentication');
      assert.equal(entry?.reason, 'error', JSON.stringify(run.json.incomplete));
      assert.match(entry?.message ?? '', /^the API server answered 200 with /);
      assert.deepEqual(findingKeys(run), [], 'what the client sends depends on PeerAuthentications: unknown, not TM101, not ok');
      assert.ok(run.json.notes.some((n) => n.startsWith('edge to app/sg-cloud-gateway:9091 not judged')), run.json.notes.join('\n'));
    });
  }

  test('a null body on the Pod list (exit 70 before): incomplete, bin/tunnelmesh', async () => {
    const run = await liveRun({ objects: demo(), subprocess: true, setup: (s) => void s.addFault({ body: 'null', match: (r) => r.path === '/api/v1/pods' && !r.query.get('labelSelector') }) });
    assertClean(run);
    assert.equal(run.code, 0, run.stderr);
    assert.match(incompleteOf(run, 'Pod')?.message ?? '', /answered 200 with null/);
    assert.match(run.stderr, /^tunnelmesh: warning: could not list Pod: error \(the API server answered 200 with null\)$/m);
  });

  test('the mesh config answered with {}: incomplete, not "Istio defaults"', async () => {
    // With -n the GET is the only look at it (-A lists every ConfigMap anyway).
    const run = await liveRun({ objects: demo(), scope: ['-n', 'app'], setup: (s) => void s.addFault({ body: '{}', match: (r) => r.path === '/api/v1/namespaces/istio-system/configmaps/istio' }) });
    assertClean(run);
    const entry = run.json.incomplete.find((e) => e.kind === 'ConfigMap' && e.name === 'istio');
    assert.match(entry?.message ?? '', /answered 200 with \{\}/);
    assert.deepEqual(findingKeys(run), []);
  });

  test('explain-protocol on an edge that is ok: not "ok" when its PeerAuthentications came back as {}', async () => {
    const server = await startApiServer({ objects: demo() });
    try {
      const kubeconfig = writeKubeconfig(server, { namespace: 'app' });
      const healthy = await runCli(['explain-protocol', 'ingress/gateway-api', '--kubeconfig', kubeconfig, '-o', 'json']);
      assert.equal(healthy.code, 0, healthy.stderr);
      assert.deepEqual(JSON.parse(healthy.stdout).backends.map((b: { verdict: string }) => b.verdict), ['ok'], 'the baseline: this edge is ok');
      server.addFault({ body: '{}', match: (r) => isPeerAuthList(r.path) });
      const run = await runCli(['explain-protocol', 'ingress/gateway-api', '--kubeconfig', kubeconfig, '-o', 'json']);
      assertClean(run);
      const backends = JSON.parse(run.stdout).backends as Array<{ verdict: string; missing?: string[] }>;
      assert.deepEqual(backends.map((b) => b.verdict), ['unknown'], run.stdout);
    } finally {
      await server.close();
    }
  });
});

describe('pagination that never ends', { concurrency: 4 }, () => {
  test('the same continue token twice: the list stops there, incomplete', async () => {
    const run = await liveRun({ objects: demo(), setup: (s) => void s.addFault({ endlessContinue: 'same', match: (r) => r.path === '/api/v1/services' }) });
    assertClean(run);
    assert.equal(run.server.requests.filter((r) => r.path === '/api/v1/services').length, 2, 'page 1, then the repeated token is noticed on page 2');
    assert.match(incompleteOf(run, 'Service')?.message ?? '', /same continue token twice/);
    assert.deepEqual(findingKeys(run), []);
  });

  test('fresh tokens while remainingItemCount says 3 items are left: stopped after the pages 3 items can fill', async () => {
    const run = await liveRun({ objects: demo(), setup: (s) => void s.addFault({ endlessContinue: 'fresh', remainingItemCount: 3, match: (r) => r.path === '/api/v1/services' }) });
    assertClean(run);
    // Page 1 says 3 remain: at most 3 more pages (one item each) can follow.
    assert.equal(run.server.requests.filter((r) => r.path === '/api/v1/services').length, 4);
    assert.match(incompleteOf(run, 'Service')?.message ?? '', /more pages than the list can have \(its remainingItemCount said 3 more\)/);
  });

  test('fresh tokens on a label-selected list (no remainingItemCount): stopped at the hard page cap', async () => {
    const run = await liveRun({
      objects: demo(),
      scope: ['-n', 'app'],
      setup: (s) => void s.addFault({ endlessContinue: 'fresh', match: (r) => r.path === '/api/v1/configmaps' && r.query.get('labelSelector') !== null }),
    });
    assertClean(run);
    const pages = run.server.requests.filter((r) => r.path === '/api/v1/configmaps' && r.query.labelSelector).length;
    assert.equal(pages, 2000, '1,000,000 items at 500 a page');
    const entry = run.json.incomplete.find((e) => e.kind === 'ConfigMap' && e.labelSelector);
    assert.match(entry?.message ?? '', /more pages than the list can have: stopped after 2000 pages of 500/);
  });
});

describe('answers too large to hold', { concurrency: 2 }, () => {
  test('a list past --max-list-size: incomplete with the flag that lets it through, the rest judged', async () => {
    const run = await liveRun({
      objects: demo(),
      extraArgs: ['--max-list-size', '1Mi'],
      setup: (s) => void s.addFault({ streamBytes: 8 * 1024 * 1024, match: (r) => r.path === '/apis/apps/v1/deployments' }),
    });
    assertClean(run);
    assert.equal(run.code, 1, run.stderr);
    assert.match(incompleteOf(run, 'Deployment')?.message ?? '', /^the list is larger than --max-list-size 1 MiB \(raise it with --max-list-size 4Mi\)$/);
    assert.deepEqual(findingKeys(run), [TM101], 'Deployments are not needed for the verdict');
    assert.equal(run.server.requests.filter((r) => r.path === '/apis/apps/v1/deployments').length, 1, 'not retried');
  });

  test('a 600 MB page at the default cap (256Mi): incomplete, no stack trace, exit 0 (bin/tunnelmesh)', async () => {
    const run = await liveRun({
      objects: demo(),
      subprocess: true,
      setup: (s) => void s.addFault({ streamBytes: 600 * 1024 * 1024, match: (r) => r.path === '/api/v1/pods' && !r.query.get('labelSelector') }),
    });
    assertClean(run);
    assert.equal(run.code, 0, run.stderr);
    assert.match(incompleteOf(run, 'Pod')?.message ?? '', /larger than --max-list-size 256 MiB/);
  });

  test('--max-list-size that is not a size: exit 2', async () => {
    const run = await runCli(['doctor', '--max-list-size', 'lots', '--kubeconfig', '/nonexistent']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^tunnelmesh: --max-list-size lots: expected a size/);
  });
});

describe('hostile tunnel configs, live', () => {
  test('a cloudflared config with a null and an empty rule, live -A: TM306 "rule #N is empty", no crash (exit 70 before)', async () => {
    const config = 'tunnel: main\ningress:\n  - hostname: web.example.com\n    service: http://web.app.svc:80\n  -\n  - {}\n  - service: http_status:404\n';
    const run = await liveRun({
      objects: [...demo(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hand-tunnel', namespace: 'edge' }, data: { 'config.yaml': config } }],
    });
    assertClean(run);
    assert.equal(run.code, 1, run.stderr);
    const tm306 = run.json.findings.find((f) => f.code === 'TM306');
    assert.match(tm306?.message ?? '', /Rule #2 is empty .*Rule #3 is empty/);
  });
});
