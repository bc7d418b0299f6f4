// API faults, each against the loopback API server through the real CLI: what the user sees
// (exit code, the one stderr line, `incomplete` in -o json) when the API server errs, throttles,
// stalls, resets, garbles, refuses the credentials, forbids some kinds, lacks CRD groups, or
// expires a continue token. Each case fails when its handling in src/collect is taken out.
// No case reads a clock: waits are counted (--verbose says each one and its length), and a
// request abandoned in time is one the server never got to answer (status 0 in its log).

import assert from 'node:assert/strict';
import dns from 'node:dns';
import { describe, test } from 'node:test';
import { closedPortUrl, writeKubeconfig } from '../support/kubeconfig.js';
import { assertErrorDocument, run as runAsUser, runInProcess, stderrLines } from '../support/cli.js';
import { startApiServer, startSilentServer } from '../support/apiserver.js';
import { testPki } from '../support/certs.js';
import { untrustedClientCert } from '../support/certs.js';
import { pod } from '../support/build.js';
import { KINDS } from '../../src/core/kinds.js';
import { DEMO_FINDING, demo, findingKeys, key, liveRun, type LiveRun } from './scenarios.js';

const TM101 = key(DEMO_FINDING);
const isPodList = (path: string): boolean => /\/pods$/.test(path);

function podListStatuses(run: LiveRun, namespace?: string): Array<number> {
  const path = namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods';
  return run.server.requests.filter((r) => r.path === path && !r.query.labelSelector).map((r) => r.status);
}

/** --verbose lines that announce a wait before another attempt. */
function retryLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /trying again in \d+ ms$/.test(l));
}

function assertCleanStderr(run: LiveRun): void {
  assert.doesNotMatch(run.stderr, /internal error|\n\s+at /, run.stderr);
}

// main() runs in this process (see runInProcess); the cases that are about exit codes and the
// one stderr line also run bin/tunnelmesh as its own process.
describe('API faults', { concurrency: 4 }, () => {
  test('baseline: the demo cluster, -A and -n app, reports TM101 and exits 1 (bin/tunnelmesh)', async () => {
    for (const scope of [['-A'], ['-n', 'app']]) {
      const run = await liveRun({ objects: demo(), scope, subprocess: true });
      assert.equal(run.code, 1, run.stderr);
      assert.deepEqual(findingKeys(run), [TM101]);
      assert.deepEqual(run.json.incomplete, []);
      assert.equal(run.stderr, '', 'a healthy API server gives nothing to say on stderr');
    }
  });

  test('500 twice, then success: the list is retried and the run is whole', async () => {
    const run = await liveRun({
      objects: demo(),
      setup: (s) => void s.addFault({ status: 500, times: 2, match: (r) => r.kind?.kind === 'Pod' && !r.query.get('labelSelector') }),
    });
    assert.deepEqual(podListStatuses(run), [500, 500, 200]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(findingKeys(run), [TM101]);
    assert.deepEqual(run.json.incomplete, []);
  });

  test('503 that never ends: four attempts, then the kind is incomplete and its verdicts unknown (no finding, no "ok")', async () => {
    const run = await liveRun({ objects: demo(), setup: (s) => void s.addFault({ status: 503, match: (r) => r.kind?.kind === 'Pod' }) });
    assert.deepEqual(podListStatuses(run), [503, 503, 503, 503], 'bounded retries');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(findingKeys(run), []);
    assert.ok(run.json.incomplete.some((e) => e.kind === 'Pod' && e.reason === 'error' && e.namespace === undefined), JSON.stringify(run.json.incomplete));
    assert.ok(run.json.notes.some((n) => n.includes('not judged') || n.includes('cannot be judged')), run.json.notes.join('\n'));
    assert.match(run.stderr, /^tunnelmesh: warning: could not list Pod: error/m);
    assertCleanStderr(run);
  });

  test('429 with Retry-After: 1 waits the second it was told to wait', async () => {
    const run = await liveRun({
      objects: demo(),
      extraArgs: ['--verbose'],
      setup: (s) => void s.addFault({ status: 429, retryAfterSeconds: 1, times: 1, match: (r) => r.kind?.kind === 'Pod' && !r.query.get('labelSelector') }),
    });
    const attempts = run.server.requests.filter((r) => r.path === '/api/v1/pods' && !r.query.labelSelector);
    assert.deepEqual(attempts.map((r) => r.status), [429, 200]);
    assert.deepEqual(retryLines(run.stderr), ['tunnelmesh: GET /api/v1/pods?limit=500: HTTP 429, Retry-After 1, trying again in 1000 ms']);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(findingKeys(run), [TM101]);
  });

  test('a slow answer past --request-timeout is abandoned and tried once more', async () => {
    const run = await liveRun({
      objects: demo(),
      extraArgs: ['--request-timeout', '800ms', '--verbose'],
      setup: (s) => void s.addFault({ delayMs: 20_000, times: 1, match: (r) => r.kind?.kind === 'Service' }),
    });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(findingKeys(run), [TM101]);
    // The first attempt was given up before the server's 20 s answer was written.
    assert.deepEqual(run.server.requests.filter((r) => r.path === '/api/v1/services').map((r) => r.status), [0, 200]);
    assert.deepEqual(retryLines(run.stderr), ['tunnelmesh: GET /api/v1/services?limit=500: ETIMEDOUT, trying again in 200 ms']);
  });

  test('an API server that stalls on one kind: two attempts, then incomplete with the timeout named', async () => {
    const run = await liveRun({
      objects: demo(),
      extraArgs: ['--request-timeout', '800ms'],
      setup: (s) => void s.addFault({ delayMs: 20_000, match: (r) => r.kind?.kind === 'PeerAuthentication' }),
    });
    assert.equal(run.code, 0, run.stderr);
    const entry = run.json.incomplete.find((e) => e.kind === 'PeerAuthentication');
    assert.equal(entry?.reason, 'error');
    assert.match(entry?.message ?? '', /no answer within 800 ms/);
    assert.deepEqual(run.server.requests.filter((r) => r.path.endsWith('/peerauthentications')).map((r) => r.status), [0, 0], 'two attempts, neither waited out');
    assert.deepEqual(findingKeys(run), [], 'what the client sends depends on PeerAuthentications: unknown, not TM101');
  });

  for (const scope of [['-A'], ['-n', 'app']]) {
    test(`an API server that answers nothing in time (${scope.join(' ')}): exit 3, one line, two attempts per request, no second phase`, async () => {
      // 2 s: dozens of TLS handshakes at once on a loaded machine must fit, or the server looks unreachable.
      const run = await liveRun({ objects: demo(), scope, extraArgs: ['--request-timeout', '2s'], server: { latencyMs: 20_000 } });
      assert.equal(run.code, 3, run.stderr);
      const lines = stderrLines(run);
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0] ?? '', /^tunnelmesh: nothing could be collected from context "tunnelmesh-test" \(https:\/\/127\.0\.0\.1:\d+\): .*no answer within 2000 ms/);
      assertErrorDocument(run, 3);
      const perUrl = new Map<string, number>();
      for (const r of run.server.requests) perUrl.set(r.url, (perUrl.get(r.url) ?? 0) + 1);
      // With -n, phase 2 asks again for some of phase 1's lists: not of a server that answered nothing.
      assert.deepEqual([...new Set(perUrl.values())], [2], 'each request tried twice, none more');
      assert.ok(run.server.requests.every((r) => r.status === 0), 'none waited out');
    });
  }

  test('a server that accepts connections but never speaks TLS: unreachable after one timeout, nothing retried', async () => {
    const silent = await startSilentServer();
    try {
      const kubeconfig = writeKubeconfig({ url: silent.url, caPem: testPki().caPem, token: 'never-sent-0123456789' });
      for (const scope of [['-A'], ['-n', 'app']]) {
        const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, ...scope, '--request-timeout', '800ms', '--verbose']);
        assert.equal(run.code, 3, run.stderr);
        assert.deepEqual(stderrLines(run).filter((l) => !l.includes(': GET ')), [`tunnelmesh: cannot reach the cluster of context "tunnelmesh-test" at ${silent.url}: no TLS session within 800 ms`]);
        assert.deepEqual(retryLines(run.stderr), [], 'not tried again');
        assert.doesNotMatch(run.stderr, /attempt 2/);
      }
    } finally {
      await silent.close();
    }
  });

  test('an unknown host: exit 3 at once, one DNS lookup for all the parallel lists (kubectl: one)', async () => {
    const kubeconfig = writeKubeconfig({ url: 'https://tunnelmesh-test.invalid:6443', caPem: testPki().caPem, token: 'never-sent-0123456789' });
    const original = dns.promises.lookup;
    const asked: string[] = [];
    dns.promises.lookup = ((hostname: string, ...rest: unknown[]) => {
      asked.push(hostname);
      return (original as (...a: unknown[]) => Promise<unknown>)(hostname, ...rest);
    }) as typeof dns.promises.lookup;
    try {
      for (const scope of [['-A'], ['-n', 'app']]) {
        asked.length = 0;
        const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, ...scope]);
        assert.equal(run.code, 3, run.stderr);
        assert.deepEqual(stderrLines(run), ['tunnelmesh: cannot reach the cluster of context "tunnelmesh-test" at https://tunnelmesh-test.invalid:6443: getaddrinfo ENOTFOUND tunnelmesh-test.invalid']);
        assert.deepEqual(asked, ['tunnelmesh-test.invalid'], `${scope.join(' ')}: one lookup`);
      }
    } finally {
      dns.promises.lookup = original;
    }
  });

  for (const [name, fault] of [
    ['a connection reset mid-body', { resetConnection: true }],
    ['a truncated body', { truncateBody: true }],
    ['a body that is not JSON', { invalidJson: true }],
  ] as const) {
    test(`${name} is retried like a transport fault`, async () => {
      const run = await liveRun({ objects: demo(), setup: (s) => void s.addFault({ ...fault, times: 1, match: (r) => r.kind?.kind === 'Pod' && !r.query.get('labelSelector') }) });
      assert.equal(podListStatuses(run).length, 2, 'one retry');
      assert.equal(run.code, 1, run.stderr);
      assert.deepEqual(findingKeys(run), [TM101]);
      assert.deepEqual(run.json.incomplete, []);
    });
  }

  test('a body that is never JSON: incomplete, named, and the edge is not judged', async () => {
    const run = await liveRun({ objects: demo(), setup: (s) => void s.addFault({ invalidJson: true, match: (r) => r.kind?.kind === 'PeerAuthentication' }) });
    assert.equal(run.code, 0, run.stderr);
    const entry = run.json.incomplete.find((e) => e.kind === 'PeerAuthentication');
    assert.match(entry?.message ?? '', /invalid JSON/);
    assert.deepEqual(findingKeys(run), []);
    assertCleanStderr(run);
  });

  test('expired credentials (401): exit 3, one line naming the context and the server (bin/tunnelmesh)', async () => {
    const run = await liveRun({ objects: demo(), kubeconfig: { auth: 'wrong-token' }, subprocess: true });
    assert.equal(run.code, 3);
    assertErrorDocument(run, 3);
    const lines = stderrLines(run);
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0] ?? '', /^tunnelmesh: authentication failed for context "tunnelmesh-test" \(https:\/\/127\.0\.0\.1:\d+\): Unauthorized — the token of user "tunnelmesh-test-wrong-token" was refused .*; check with: kubectl --context tunnelmesh-test auth whoami$/);
  });

  test('a fatal answer stops the other requests and their retries: the process exits at once (bin/tunnelmesh)', async () => {
    // Pods are throttled for 5 s; every other list gets 401. Without stopping, the retry keeps the process alive.
    const run = await liveRun({
      objects: demo(),
      kubeconfig: { auth: 'wrong-token' },
      subprocess: true,
      setup: (s) => {
        s.addFault({ status: 429, retryAfterSeconds: 5, match: (r) => r.kind?.kind === 'Pod' });
        // The 401s come a little later, so that the pod lists are asked (and throttled) first.
        s.addFault({ delayMs: 300, match: (r) => r.kind?.kind !== 'Pod' });
      },
    });
    assert.equal(run.code, 3, run.stderr);
    assert.equal(stderrLines(run).length, 1, run.stderr);
    // Without stopping, the retry keeps the process alive and asks again; the server, closed
    // only after the process ended, would have logged it.
    const podLists = run.server.requests.filter((r) => /\/pods$/.test(r.path));
    assert.ok(podLists.length > 0 && podLists.every((r) => r.status === 429), 'the 429s were answered');
    assert.equal(new Set(podLists.map((r) => r.url)).size, podLists.length, 'no pod list was asked twice: its retry died with the run');
  });

  test('a client certificate the server does not trust: exit 3, one line', async () => {
    const run = await liveRun({ objects: demo(), kubeconfig: { auth: 'untrusted-client-cert' } });
    assert.equal(run.code, 3, run.stderr);
    assert.equal(stderrLines(run).length, 1, run.stderr);
    assert.match(run.stderr, /^tunnelmesh: authentication failed for context "tunnelmesh-test" \(https:\/\/127\.0\.0\.1:\d+\)/);
    assert.ok(untrustedClientCert().certPem.length > 0);
  });

  test('a server nobody listens on: exit 3, one line naming the context and the server, not retried (bin/tunnelmesh)', async () => {
    const url = await closedPortUrl();
    const server = await startApiServer({});
    const kubeconfig = writeKubeconfig({ url, caPem: server.caPem, token: server.token });
    await server.close();
    // Through KUBECONFIG this time, as most users point at their cluster.
    const run = await runAsUser(['doctor', '-A'], { env: { KUBECONFIG: kubeconfig } });
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stdout, '');
    const lines = run.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, run.stderr);
    assert.equal(lines[0], `tunnelmesh: cannot reach the cluster of context "tunnelmesh-test" at ${url}: connect ECONNREFUSED ${url.replace('https://', '')}`);
    const inProcess = await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '--verbose']);
    assert.equal(inProcess.code, 3);
    assert.match(inProcess.stderr, /→ ECONNREFUSED/);
    assert.deepEqual(retryLines(inProcess.stderr), [], 'refused connections are not retried');
    assert.doesNotMatch(inProcess.stderr, /attempt 2/);
  });

  test('a server certificate from an unknown CA: exit 3, one TLS line', async () => {
    const server = await startApiServer({});
    const kubeconfig = writeKubeconfig({ url: server.url, caPem: untrustedClientCert().certPem, token: server.token });
    try {
      const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A']);
      assert.equal(run.code, 3, run.stderr);
      assert.equal(stderrLines(run).length, 1, run.stderr);
      assert.match(run.stderr, /^tunnelmesh: cannot reach the cluster of context "tunnelmesh-test" at https:\/\/127\.0\.0\.1:\d+: TLS: /);
    } finally {
      await server.close();
    }
  });

  test('403 on kinds no verdict needs: a partial report with the finding, and incomplete naming them', async () => {
    const run = await liveRun({ objects: demo(), server: { forbidden: [{ kind: 'Deployment' }, { kind: 'ReplicaSet' }, { kind: 'Ingress' }] } });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(findingKeys(run), [TM101]);
    assert.deepEqual(
      run.json.incomplete.map((e) => `${e.kind} ${e.reason}`).sort(),
      ['Deployment forbidden', 'Ingress forbidden', 'ReplicaSet forbidden'],
    );
    assert.match(run.json.incomplete[0]?.message ?? '', /is forbidden: User "system:serviceaccount:ci:tunnelmesh" cannot list/);
    assert.equal(stderrLines(run).filter((l) => l.startsWith('tunnelmesh: warning: could not list')).length, 3);
  });

  test('403 on the kinds a verdict needs: that verdict is unknown, never reported healthy', async () => {
    for (const forbidden of [[{ kind: 'PeerAuthentication' }], [{ kind: 'DestinationRule', namespace: 'cloudflare-operator-system' }]]) {
      const run = await liveRun({ objects: demo(), scope: ['-n', 'app'], server: { forbidden } });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(findingKeys(run), [], `${forbidden[0]?.kind}: TM101 cannot be decided`);
      assert.ok(run.json.incomplete.some((e) => e.kind === forbidden[0]?.kind && e.reason === 'forbidden'));
      assert.ok(
        run.json.notes.some((n) => n.startsWith('edge to app/sg-cloud-gateway:9091 not judged') && n.includes('could not be listed')),
        run.json.notes.join('\n'),
      );
    }
  });

  test('RoleBindings in three namespaces only (no cluster-wide list at all): -n app still finds TM101', async () => {
    // What deploy/rbac.yaml's ClusterRole bound by RoleBindings in app, the operator's namespace and istio-system allows.
    const namespaced = KINDS.filter((k) => k.namespaced).map((k) => ({ kind: k.kind, namespace: 'shop' }));
    const clusterScoped = KINDS.filter((k) => !k.namespaced).map((k) => ({ kind: k.kind }));
    const run = await liveRun({ objects: demo(), scope: ['-n', 'app'], server: { forbidden: [...namespaced, ...clusterScoped] } });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(findingKeys(run), [TM101]);
    assert.deepEqual(
      run.json.incomplete.map((e) => `${e.kind}${e.labelSelector ? ` labelled ${e.labelSelector}` : ''}${e.filter ? ` ${e.filter}` : ''} ${e.reason}`).sort(),
      [
        'ClusterTunnel forbidden',
        'ConfigMap labelled cloudflare-operator.io/type=tunnel-config forbidden',
        'DaemonSet running cloudflared forbidden',
        'Deployment running cloudflared forbidden',
        'GatewayClass forbidden',
        'IngressClass forbidden',
        'Namespace forbidden',
        'Pod labelled cloudflare-operator.io/app=cloudflared forbidden',
        'StatefulSet running cloudflared forbidden',
      ],
    );
    // The wider search for hand-written connectors was refused: said, with where was searched.
    assert.ok(
      run.json.notes.some((n) => /running cloudflared could not be searched cluster-wide \(forbidden\): tunnels were looked for in .*app.*cloudflare-operator-system.*a hand-written cloudflared in another namespace would be missed/.test(n)),
      run.json.notes.join('\n'),
    );
  });

  test('403 on everything: nothing could be collected, exit 3', async () => {
    const run = await liveRun({ objects: demo(), server: { forbidden: [...new Set(KINDS.map((k) => k.kind))].map((kind) => ({ kind })) } });
    assert.equal(run.code, 3, run.stderr);
    assert.equal(stderrLines(run).length, 1, run.stderr);
    assert.match(run.stderr, /^tunnelmesh: nothing could be collected from context "tunnelmesh-test" \(https:\/\/127\.0\.0\.1:\d+\): \w+: .*forbidden/);
  });

  test('absent CRD groups (Istio, the operator): said so, and what can be judged is judged', async () => {
    const run = await liveRun({
      objects: demo().filter((o) => !o.apiVersion.includes('istio.io') && !o.apiVersion.includes('cloudflare-operator.io')),
      server: { absentGroups: ['security.istio.io', 'networking.istio.io', 'networking.cloudflare-operator.io'] },
    });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(findingKeys(run), [TM101], 'no PeerAuthentication or DestinationRule exists: auto mTLS still decides');
    assert.deepEqual(run.json.incomplete, []);
    for (const group of ['security.istio.io', 'networking.istio.io', 'networking.cloudflare-operator.io']) {
      assert.match(run.stderr, new RegExp(`warning: API group ${group.replace(/\./g, '\\.')} is not installed`));
    }
  });

  test('CRDs served only at an older version are found there', async () => {
    const run = await liveRun({ objects: demo(), server: { groupVersions: { 'networking.istio.io': ['v1alpha3'], 'security.istio.io': ['v1beta1'] } } });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(run.json.incomplete, []);
    assert.ok(run.server.requests.some((r) => r.path === '/apis/networking.istio.io/v1alpha3/destinationrules' && r.status === 200));
  });

  /** The demo plus 520 unrelated pods in app that sort before the gateway's: those end up on page 2. */
  const manyPods = (prefix: string): ReturnType<typeof demo> => [
    ...demo(),
    ...Array.from({ length: 520 }, (_, i) => pod('app', `${prefix}-filler-${String(i).padStart(3, '0')}`, { sidecar: 'none', labels: { app: 'filler' } })) as never[],
  ];

  test('an expired continue token (410) mid-list: the list starts again, once, and is whole', async () => {
    const run = await liveRun({ objects: manyPods('aaa'), setup: (s) => void s.addFault({ expireContinue: true, times: 1, match: (r) => isPodList(r.path) }) });
    const pages = run.server.requests.filter((r) => r.path === '/api/v1/pods' && !r.query.labelSelector);
    assert.deepEqual(pages.map((r) => [r.status, Boolean(r.query.continue)]), [[200, false], [410, true], [200, false], [200, true]]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(findingKeys(run), [TM101], 'the gateway pods sort after the fillers: on page 2');
    assert.deepEqual(run.json.incomplete, []);
  });

  test('a continue token that expires again after the relist: incomplete, not a half list', async () => {
    const run = await liveRun({ objects: manyPods('aaa'), setup: (s) => void s.addFault({ expireContinue: true, times: 2, match: (r) => isPodList(r.path) }) });
    assert.equal(run.code, 0, run.stderr);
    const entry = run.json.incomplete.find((e) => e.kind === 'Pod');
    assert.equal(entry?.reason, 'error');
    assert.match(entry?.message ?? '', /continue parameter is too old/);
    assert.deepEqual(findingKeys(run), []);
    // Page 1 held only fillers: kept as if whole, it would say the tunnel has no cloudflared pod at all.
    assert.ok(run.json.notes.some((n) => n.includes('but Pods could not be listed (error)')), run.json.notes.join('\n'));
  });
});
