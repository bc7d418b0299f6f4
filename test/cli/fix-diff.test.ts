// --fix-diff FILE: the recommended fixes as a unified diff of the user's own files, which
// `git apply` takes, keeping comments, key order and formatting; a `helm template` stream is
// mapped back to its chart with --chart-dir; new objects go to a new file beside the others; and
// the run after applying the patch has none of the findings it fixed.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { ROOT, runCli } from '../support/bin.js';
import { helmTemplate } from '../support/helm-lite.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A git repository holding copies of `paths` (relative to the project root), as a user's checkout. */
function repo(...paths: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-fixdiff-'));
  dirs.push(dir);
  for (const p of paths) cpSync(join(ROOT, p), join(dir, p.split('/').at(-1) as string), { recursive: true });
  git(dir, 'init', '-q', '.');
  git(dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '-A');
  git(dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'the user manifests');
  return dir;
}

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function codes(json: string): string[] {
  return (JSON.parse(json) as { findings: Array<{ code: string; severity: string; resource: { kind: string; namespace?: string; name: string }; port?: number | null }> }).findings
    .filter((f) => f.severity !== 'info')
    .map((f) => `${f.code} ${f.resource.kind} ${f.resource.namespace}/${f.resource.name}${f.port !== undefined && f.port !== null ? `:${f.port}` : ''}`);
}

describe('--fix-diff', () => {
  test('the demo: git apply takes the patch; the new DestinationRule goes to a new file beside the others; the run after has no finding', () => {
    const dir = repo('fixtures/demo');
    const res = runCli(['doctor', '-f', 'demo', '--fix-diff', 'fix.patch', '-o', 'json'], { cwd: dir });
    assert.equal(res.status, 1);
    assert.deepEqual(codes(res.stdout), ['TM101 Service app/sg-cloud-gateway:9091']);
    assert.match(res.stderr, /wrote a patch of 1 file to fix\.patch \(git apply fix\.patch\)/);
    const patch = readFileSync(join(dir, 'fix.patch'), 'utf8');
    assert.match(patch, /^diff --git a\/demo\/tunnelmesh-fixes\.yaml b\/demo\/tunnelmesh-fixes\.yaml\nnew file mode 100644\n--- \/dev\/null\n\+\+\+ b\/demo\/tunnelmesh-fixes\.yaml\n/);
    git(dir, 'apply', '--check', 'fix.patch');
    git(dir, 'apply', 'fix.patch');
    const again = runCli(['doctor', '-f', 'demo', '-o', 'json'], { cwd: dir });
    assert.deepEqual(codes(again.stdout), []);
    assert.equal(again.status, 0);
  });

  test('a rendered stream kept as a file: only the changed line of the document changes, its comment and key order stay', () => {
    const dir = repo('fixtures/ci/rendered.yaml');
    const res = runCli(['doctor', '-f', 'rendered.yaml', '--fix-diff', 'fix.patch', '-o', 'json'], { cwd: dir });
    const before = codes(res.stdout);
    assert.deepEqual(before, ['TM101 Service app/gateway:9091', 'TM105 Deployment app/gateway']);
    const patch = readFileSync(join(dir, 'fix.patch'), 'utf8');
    const hunk = /--- a\/rendered\.yaml\n\+\+\+ b\/rendered\.yaml\n([\s\S]*?)(?=diff --git|$)/.exec(patch)?.[1] ?? '';
    assert.deepEqual(
      hunk.split('\n').filter((l) => /^[-+]/.test(l)),
      ['-        traffic.istio.io/includeInboundPorts: "*"', '+        traffic.sidecar.istio.io/includeInboundPorts: "*"'],
      'one line replaced in place, with its quoting',
    );
    assert.match(hunk, / {8}# Prometheus scrapes the actuator directly, so it stays out of the mesh\.\n/, 'the comment above it is context, untouched');
    git(dir, 'apply', '--check', 'fix.patch');
    git(dir, 'apply', 'fix.patch');
    const again = runCli(['doctor', '-f', '.', '-o', 'json'], { cwd: dir });
    assert.deepEqual(codes(again.stdout), []);
  });

  test('a helm template stream with --chart-dir: the chart templates are patched (template actions untouched), and re-rendered the chart has none of the fixed findings', () => {
    const chart = join(ROOT, 'fixtures/chart/gateway');
    const rendered = readFileSync(join(ROOT, 'fixtures/chart/rendered.yaml'), 'utf8');
    assert.equal(helmTemplate(chart, { name: 'gateway', namespace: 'app' }), rendered, 'fixtures/chart/rendered.yaml is the chart rendered');
    const dir = repo('fixtures/chart/gateway');
    const res = runCli(['doctor', '-f', '-', '--chart-dir', 'gateway', '--fix-diff', 'fix.patch', '-o', 'json'], { cwd: dir, input: rendered });
    const fixed = codes(res.stdout);
    assert.deepEqual(fixed, ['TM101 Service app/gateway:9091', 'TM301 Service app/gateway:8080', 'TM105 Deployment app/gateway']);
    const patch = readFileSync(join(dir, 'fix.patch'), 'utf8');
    assert.deepEqual(
      [...patch.matchAll(/^\+\+\+ b\/(\S+)$/gm)].map((m) => m[1]),
      ['gateway/templates/deployment.yaml', 'gateway/templates/tunnel-config.yaml', 'gateway/templates/tunnelmesh-fixes.yaml'],
    );
    // The embedded cloudflared config is edited as a document too: its comments and the templated rule stay.
    assert.match(patch, /-        service: https:\/\/gateway\.app\.svc:8080\n\+        service: http:\/\/gateway\.app\.svc:8080\n/);
    assert.doesNotMatch(patch, /^[-+].*\{\{/m, 'no line holding a template action changes');
    assert.match(res.stderr, /after applying the change, run: kubectl rollout restart deployment\/cloudflared -n edge/);
    git(dir, 'apply', '--check', 'fix.patch');
    git(dir, 'apply', 'fix.patch');
    assert.match(readFileSync(join(dir, 'gateway/templates/tunnel-config.yaml'), 'utf8'), /# The public API\.\n/);
    const again = runCli(['doctor', '-f', '-', '-o', 'json'], { cwd: dir, input: helmTemplate(join(dir, 'gateway'), { name: 'gateway', namespace: 'app' }) });
    assert.deepEqual(codes(again.stdout).filter((c) => fixed.includes(c)), [], 'none of the fixed findings');
    assert.deepEqual(codes(again.stdout), [], 'and nothing new');
  });

  test('a helm stream on stdin without --chart-dir: the changes that cannot be placed are named, never dropped silently', () => {
    const dir = repo('fixtures/chart/gateway');
    const res = runCli(['doctor', '-f', '-', '--fix-diff', 'fix.patch', '-o', 'json'], { cwd: dir, input: readFileSync(join(ROOT, 'fixtures/chart/rendered.yaml'), 'utf8') });
    assert.match(res.stderr, /--fix-diff: not in the patch: Deployment app\/gateway: from chart template gateway\/templates\/deployment\.yaml \(give --chart-dir to map it to the chart\)/);
  });

  test('--fix-diff without -f is a usage error; --chart-dir alone maps the reports (issue 15)', () => {
    assert.equal(runCli(['doctor', '-f', 'fixtures/demo', '--chart-dir', 'x']).status, 1);
    const live = runCli(['doctor', '--fix-diff', 'x.patch'], { env: { KUBECONFIG: '/nonexistent' } });
    assert.equal(live.status, 2);
    assert.match(live.stderr, /--fix-diff needs the manifests it patches: give them with -f/);
  });
});
