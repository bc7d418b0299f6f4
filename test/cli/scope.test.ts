// Scope honesty: a run that judged nothing is never green. A namespace that does not exist is a
// usage error (live: the API server says so; offline: no object of the input is in it); every run
// says how many edges it judged; --fail-on-incomplete turns "could not judge" into exit 1; and
// explain-protocol applies the same policy as doctor (.tunnelmesh.yaml included).

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { liveRun, strictObjects } from '../live/scenarios.js';
import { startApiServer } from '../support/apiserver.js';
import { DEMO_DIR, runInProcess } from '../support/cli.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import type { KObject } from '../../src/core/k8s.js';

/** doctor against the strict cluster with PeerAuthentications forbidden, in any output format. */
async function paForbidden(args: string[]) {
  const server = await startApiServer({ objects: strictObjects() as unknown as KObject[], forbidden: PA_FORBIDDEN });
  try {
    return await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server), '-A', ...args]);
  } finally {
    await server.close();
  }
}

const PA_FORBIDDEN = [{ kind: 'PeerAuthentication' }];

/** main() in a working directory of its own (the config file is found upward from there). */
async function runIn(cwd: string, args: string[]) {
  const before = process.cwd();
  process.chdir(cwd);
  try {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'tunnelmesh', ...args], { out: (t) => void out.push(t), err: (t) => void err.push(t) });
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.chdir(before);
  }
}

describe('a namespace that does not exist', () => {
  test('offline: exit 2, naming the namespaces the input has, with a did-you-mean', async () => {
    const typo = await runInProcess(['doctor', '-f', DEMO_DIR, '-n', 'App']);
    assert.equal(typo.code, 2);
    assert.equal(typo.stdout, '');
    assert.match(typo.stderr, /^tunnelmesh: namespace App does not exist \(no object of the input is in it\); did you mean app\? Namespaces: app, cloudflare-operator-system, istio-system, shop\n$/);
    const none = await runInProcess(['doctor', '-f', DEMO_DIR, '-n', 'nosuchns', '-o', 'json']);
    assert.equal(none.code, 2);
    assert.doesNotMatch(none.stderr, /did you mean/);
    const explain = await runInProcess(['explain-protocol', 'service/sg-cloud-gateway', '-f', DEMO_DIR, '-n', 'nosuchns']);
    assert.equal(explain.code, 2, 'explain-protocol too');
  });

  test('live: exit 2 when the API server has no such namespace', async () => {
    const run = await liveRun({ objects: strictObjects(), scope: ['-n', 'nosuchns'] });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^tunnelmesh: namespace nosuchns does not exist \(the API server lists 3 namespaces\)\. Namespaces: app, edge, istio-system$/m);
    const typo = await liveRun({ objects: strictObjects(), scope: ['-n', 'App'] });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean app\?/);
  });

  test('live, Namespaces not listable: one GET of the namespace decides (404 → exit 2)', async () => {
    const run = await liveRun({ objects: strictObjects(), scope: ['-n', 'nosuchns'], server: { forbidden: [{ kind: 'Namespace', verbs: ['list'] }] } });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /namespace nosuchns does not exist \(the API server answered 404 Not Found\)/);
  });
});

describe('judging nothing is never green', () => {
  test('every PeerAuthentication list forbidden: no "agrees with the mesh", the edges not judged are counted', async () => {
    const run = await liveRun({ objects: strictObjects(), server: { forbidden: PA_FORBIDDEN } });
    assert.equal(run.code, 0, 'findings decide the exit code unless --fail-on-incomplete');
    assert.deepEqual(run.json.summary.edges, { total: 1, judged: 0, notJudged: 1 });
    assert.equal(run.json.summary.incomplete, 1);
    const table = await paForbidden(['-o', 'table']);
    assert.doesNotMatch(table.stdout, /agrees with the mesh/);
    assert.match(table.stdout, /Summary: 0 errors, 0 warnings, 1 info; 0 of 1 edge judged, 1 not judged \(see notes\); 1 list incomplete\n$/);
  });

  test('--fail-on-incomplete: exit 1 (and failOnIncomplete in .tunnelmesh.yaml), in every format', async () => {
    for (const format of ['json', 'sarif', 'table']) {
      const run = await paForbidden(['--fail-on-incomplete', '-o', format]);
      assert.equal(run.code, 1, `${format}: ${run.stderr}`);
    }
    const healthy = await runInProcess(['doctor', '-f', DEMO_DIR, '-n', 'shop', '--fail-on-incomplete']);
    assert.equal(healthy.code, 0, `everything judged: the flag changes nothing\n${healthy.stdout}`);
    const dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-scope-'));
    writeFileSync(join(dir, '.tunnelmesh.yaml'), 'failOnIncomplete: true\n');
    const fromConfig = await runIn(dir, ['doctor', '-f', join(dir, 'missing-service.yaml'), '-o', 'json']).catch(() => undefined);
    assert.ok(fromConfig === undefined || fromConfig.code === 2, 'an unreadable file is still exit 2');
    writeFileSync(
      join(dir, 'tunnel.yaml'),
      [
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tunnel, namespace: edge}\ndata:\n  config.yaml: |\n    ingress:\n      - {hostname: a.example.com, service: "http://web.app.svc:80"}\n      - {service: "http_status:404"}\n',
        'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: app}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n',
      ].join('---\n'),
    );
    const unjudged = await runIn(dir, ['doctor', '-f', join(dir, 'tunnel.yaml'), '-o', 'json']);
    const doc = JSON.parse(unjudged.stdout);
    assert.ok(doc.summary.edges.notJudged > 0, `no cloudflared runs the config: its edge is not judged\n${doc.notes.join('\n')}`);
    assert.equal(unjudged.code, 1, 'failOnIncomplete from the config file');
    assert.equal((await runIn(dir, ['doctor', '-f', join(dir, 'tunnel.yaml'), '--no-config'])).code, 0);
  });
});

describe('explain-protocol applies the same policy as doctor', () => {
  test('TM101 suppressed in .tunnelmesh.yaml: both exit 0, and explain shows it as suppressed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-policy-'));
    writeFileSync(join(dir, '.tunnelmesh.yaml'), 'suppress:\n  - code: TM101\n    reason: tracked elsewhere\n');
    const doctor = await runIn(dir, ['doctor', '-f', DEMO_DIR]);
    assert.equal(doctor.code, 0, doctor.stderr);
    const explain = await runIn(dir, ['explain-protocol', 'ingress/spring-boot-admin', '-n', 'app', '-f', DEMO_DIR, '-o', 'json']);
    assert.equal(explain.code, 0, explain.stderr);
    const doc = JSON.parse(explain.stdout);
    assert.deepEqual(doc.findings.map((f: { code: string }) => f.code), []);
    assert.deepEqual(doc.suppressed.map((f: { code: string; suppressedBy: { origin: string } }) => [f.code, f.suppressedBy.origin]), [['TM101', '.tunnelmesh.yaml suppress[0]']]);
    const admin = doc.backends.find((b: { host: string }) => b.host === 'admin.example.com');
    assert.equal(admin.verdict, 'broken', 'a suppression hides a finding from the exit code, never turns the edge green');
    assert.deepEqual(admin.suppressedCodes, ['TM101']);
    const text = await runIn(dir, ['explain-protocol', 'ingress/spring-boot-admin', '-n', 'app', '-f', DEMO_DIR]);
    assert.match(text.stdout, /suppressed: TM101 \(error, \.tunnelmesh\.yaml suppress\[0\]\)/);
    assert.equal((await runIn(dir, ['explain-protocol', 'ingress/spring-boot-admin', '-n', 'app', '-f', DEMO_DIR, '--no-config'])).code, 1);
  });
});
