// "Nothing is reported as healthy that was not seen", end to end: for each kind a verdict
// needs (Pods, Services, PeerAuthentications, DestinationRules, Namespaces, ConfigMaps and the
// mesh config), in each place it is looked up (the scope, the root namespace, the tunnel's and
// the clients' namespaces), a cluster where not seeing it would turn a broken or undecidable
// edge into a silent "ok". Each run must name the edge as not judged and say what was missing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../src/core/k8s.js';
import type { ForbiddenRule } from '../support/apiserver.js';
import { destinationRule } from '../support/build.js';
import { runInProcess } from '../support/cli.js';
import { DEMO_FINDING, STRICT_FINDING, demo, findingKeys, key, liveRun, strictObjects, type LiveRun } from './scenarios.js';

const STRICT_SCOPE = ['-n', 'app', '--tunnel-namespace', 'edge'];

function notJudged(run: LiveRun, edge: string, why: RegExp): void {
  const hit = run.json.notes.find((n) => n.includes(edge) && n.includes('not judged') && why.test(n));
  assert.ok(hit, `expected a note that ${edge} was not judged (${why}); notes:\n${run.json.notes.join('\n')}\nstderr:\n${run.stderr}`);
}

async function strictWith(forbidden: ForbiddenRule[], scope = STRICT_SCOPE): Promise<LiveRun> {
  return liveRun({ objects: strictObjects(), scope, server: { forbidden } });
}

describe('what was not seen is never judged healthy', { concurrency: 4 }, () => {
  test('baseline: a cloudflared without sidecar in front of a STRICT mesh is TM102, -A and -n', async () => {
    for (const scope of [['-A'], STRICT_SCOPE]) {
      const run = await liveRun({ objects: strictObjects(), scope });
      assert.equal(run.code, 1, run.stderr);
      assert.deepEqual(findingKeys(run), [key(STRICT_FINDING)]);
      assert.deepEqual(run.json.incomplete, []);
    }
  });

  test('PeerAuthentications of the root namespace not seen: unknown (seeing none would say PERMISSIVE, ok)', async () => {
    const run = await strictWith([{ kind: 'PeerAuthentication', namespace: 'istio-system' }]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(findingKeys(run), []);
    notJudged(run, 'app/web:80', /PeerAuthentications could not be listed in istio-system \(forbidden\)/);
    assert.deepEqual(run.json.incomplete.map((e) => `${e.kind} ${e.namespace} ${e.reason}`), ['PeerAuthentication istio-system forbidden']);
  });

  test("PeerAuthentications of the target's namespace not seen: unknown", async () => {
    const run = await strictWith([{ kind: 'PeerAuthentication', namespace: 'app' }]);
    assert.deepEqual(findingKeys(run), []);
    notJudged(run, 'app/web:80', /PeerAuthentications could not be listed in app/);
  });

  test('the mesh config not readable: the root namespace is not known, so neither are its policies', async () => {
    const run = await strictWith([{ kind: 'ConfigMap', namespace: 'istio-system' }]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(findingKeys(run), []);
    notJudged(run, 'app/web:80', /the mesh config \(ConfigMap istio-system\/istio\) could not be read \(forbidden\)/);
    assert.ok(run.json.incomplete.some((e) => e.kind === 'ConfigMap' && e.name === 'istio' && e.reason === 'forbidden'));
    assert.match(run.stderr, /warning: could not read ConfigMap istio-system\/istio: forbidden/);
  });

  test("the backends' Pods not seen: the edge has no known endpoints, so it is not judged", async () => {
    const run = await strictWith([{ kind: 'Pod', namespace: 'app' }]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(findingKeys(run), []);
    notJudged(run, 'edge to app/web:80', /Pods could not be listed in app \(forbidden\)/);
  });

  test("the tunnel's own Pods not seen: its clients are not known", async () => {
    const run = await strictWith([{ kind: 'Pod', namespace: 'edge' }]);
    assert.deepEqual(findingKeys(run), []);
    assert.ok(
      run.json.notes.some((n) => n.startsWith('ConfigMap edge/tunnel: no cloudflared pod in edge mounts ConfigMap tunnel, but Pods could not be listed in edge (forbidden)')),
      run.json.notes.join('\n'),
    );
  });

  test('Services not seen: the rule is not judged (not reported as pointing at nothing)', async () => {
    const run = await strictWith([{ kind: 'Service', namespace: 'app' }]);
    assert.deepEqual(findingKeys(run), []);
    notJudged(run, 'ConfigMap edge/tunnel rule #0 (web.example.com → http://web.app.svc:80)', /Services could not be listed in app/);
  });

  test('Namespaces not seen: a pod without sidecar may be ambient, so what it sends is unknown', async () => {
    const run = await strictWith([{ kind: 'Namespace' }], ['-A']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(findingKeys(run), []);
    notJudged(run, 'app/web:80', /whether namespace edge is ambient \(ztunnel\) is not known: Namespaces could not be listed \(forbidden\)/);
  });

  test('ConfigMaps not seen: tunnel configs may be missing, and the report says so instead of "none found"', async () => {
    const run = await strictWith([{ kind: 'ConfigMap', namespace: 'edge' }]);
    assert.deepEqual(findingKeys(run), []);
    assert.ok(run.json.notes.some((n) => n === 'tunnel configs in ConfigMaps in edge could not be listed (forbidden): tunnels there are not judged'), run.json.notes.join('\n'));
    assert.ok(run.json.notes.some((n) => n.startsWith('no tunnel config seen')), run.json.notes.join('\n'));
  });

  const demoDisabled = (): ReturnType<typeof demo> => [
    ...demo(),
    destinationRule('app', 'sg-cloud-gateway', { host: 'sg-cloud-gateway.app.svc.cluster.local', portLevel: [{ port: 9091, tls: 'DISABLE' }] }) as never,
  ];

  test("a DestinationRule in the Service's namespace disables tls: healthy only when the client's namespace was seen too", async () => {
    const healthy = await liveRun({ objects: demoDisabled(), scope: ['-n', 'app'] });
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.deepEqual(findingKeys(healthy), []);
    assert.ok(!healthy.json.notes.some((n) => n.includes('sg-cloud-gateway:9091')), healthy.json.notes.join('\n'));

    // A rule in cloudflared's namespace is looked up first and would win (§6): not seeing that namespace is not knowing.
    const run = await liveRun({ objects: demoDisabled(), scope: ['-n', 'app'], server: { forbidden: [{ kind: 'DestinationRule', namespace: 'cloudflare-operator-system' }] } });
    assert.equal(run.code, 0, run.stderr);
    notJudged(run, 'app/sg-cloud-gateway:9091', /DestinationRule app\/sg-cloud-gateway matches .* but DestinationRules could not be listed in cloudflare-operator-system/);
  });

  test('the table says the same: not collected, and verdicts that need it are unknown', async () => {
    const { startApiServer } = await import('../support/apiserver.js');
    const { writeKubeconfig } = await import('../support/kubeconfig.js');
    const forbidden = [{ kind: 'PeerAuthentication', namespace: 'istio-system' }, { kind: 'Namespace' }];
    const server = await startApiServer({ objects: strictObjects() as unknown as KObject[], forbidden });
    try {
      const run = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server), ...STRICT_SCOPE]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /No findings in what could be collected; some objects could not be \(below\), and the edges that need them were not judged\./);
      assert.doesNotMatch(run.stdout, /every judged tunnel → Service → pod edge agrees/);
      assert.match(run.stdout, /Not collected \(verdicts that need these are unknown, never ok\):\n {2}• Namespace: forbidden.*\n {2}• PeerAuthentication in istio-system: forbidden/);
      assert.match(run.stdout, /edge to app\/web:80 not judged/);
    } finally {
      await server.close();
    }
  });

  test('the demo under -n app with the root namespace unreadable: TM101 cannot be decided either', async () => {
    const run = await liveRun({ objects: demo(), scope: ['-n', 'app'], server: { forbidden: [{ kind: 'PeerAuthentication', namespace: 'istio-system' }] } });
    assert.ok(!findingKeys(run).includes(key(DEMO_FINDING)));
    notJudged(run, 'app/sg-cloud-gateway:9091', /PeerAuthentications could not be listed in istio-system/);
  });
});
