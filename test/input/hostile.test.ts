// Hostile or broken input through the CLI: unparseable YAML/JSON, binaries, other encodings,
// alias bombs and alias cycles, extreme nesting, huge files and endless streams, wrong shapes,
// unknown kinds and duplicates. Exit 2 with one `file:line` line for what cannot be read; a
// warning naming the object for what is skipped; never an internal error.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MAX_NESTING_DEPTH } from '../../src/core/limits.js';
import { toYaml } from '../support/build.js';
import { lazyTempDir } from '../support/tmp.js';
import { DEMO_DIR, demoTexts, jsonOf, runCli, runInProcess, stderrLines, type CliRun, assertErrorDocument } from '../support/cli.js';

const dir = lazyTempDir('hostile')();
let counter = 0;

function file(content: string | Buffer, ext = 'yaml'): string {
  const path = join(dir, `input-${++counter}.${ext}`);
  writeFileSync(path, content);
  return path;
}

const doctor = (...args: string[]): Promise<CliRun> => runInProcess(['doctor', '-o', 'json', ...args]);

/** Exit 2 and exactly one stderr line, `tunnelmesh: <file>:<line>: <reason>`. */
function assertRefused(run: CliRun, path: string, line: number | undefined, reason: RegExp, json = true): void {
  assert.equal(run.code, 2, `exit ${run.code}\n${run.stderr}`);
  // -o json (doctor()): the error document; the table: nothing on stdout.
  if (json) assertErrorDocument(run, 2);
  else assert.equal(run.stdout, '');
  const lines = stderrLines(run);
  assert.equal(lines.length, 1, run.stderr);
  const where = line === undefined ? `${path}` : `${path}:${line}`;
  assert.ok(lines[0]?.startsWith(`tunnelmesh: ${where}: `), `expected ${where} in: ${lines[0]}`);
  assert.match(lines[0] ?? '', reason);
}

const FQDN = 'sg-cloud-gateway.app.svc.cluster.local';

/**
 * The demo plus a DestinationRule for the gateway without tls: TM101 still fires, and its
 * recommended fix edits this rule, so the rule is cloned and dumped whole.
 */
function demoWithRule(spec: string, ext: 'yaml' | 'json' = 'yaml'): string[] {
  const rule = ext === 'yaml'
    ? `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: sg-cloud-gateway\n  namespace: app\nspec:\n  host: ${FQDN}\n${spec}`
    : spec;
  return ['-f', DEMO_DIR, '-f', file(rule, ext)];
}

describe('hostile and broken input', { concurrency: 4 }, () => {
  test('the demo with a plain DestinationRule in force: TM101, whose fix edits that rule', async () => {
    const run = await doctor(...demoWithRule('  trafficPolicy:\n    connectionPool:\n      tcp:\n        maxConnections: 100\n'));
    assert.equal(run.code, 1, run.stderr);
    const tm101 = jsonOf(run).findings.find((f) => f.code === 'TM101') as { fixes?: Array<{ title: string }> } | undefined;
    assert.match(tm101?.fixes?.[0]?.title ?? '', /in DestinationRule app\/sg-cloud-gateway/);
  });

  test('unparseable YAML: exit 2, file and line', async () => {
    const path = file('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n   namespace: b\n');
    assertRefused(await doctor('-f', path), path, 5, /invalid YAML: bad indentation/);
    const second = file('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [unclosed\n');
    assertRefused(await doctor('-f', second), second, 6, /invalid YAML/);
  });

  test('unparseable JSON: exit 2, file and line', async () => {
    // (A trailing comma is not an error: JSON that is not JSON may still be YAML, as kubectl reads it.)
    const path = file('{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {"name": "a" "namespace": "b"}\n}\n', 'json');
    assertRefused(await doctor('-f', path), path, 4, /invalid JSON/);
  });

  test('binary files, other encodings and broken UTF-8: exit 2 with what it is', async () => {
    const png = file(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
    assertRefused(await doctor('-f', png), png, 3, /binary file/);
    const utf16 = file(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('kind: Namespace\n', 'utf16le')]));
    assertRefused(await doctor('-f', utf16), utf16, 1, /UTF-16/);
    const latin1 = file(Buffer.concat([Buffer.from('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    assertRefused(await doctor('-f', latin1), latin1, 4, /not UTF-8 text/);
    const control = file('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\x07b\n');
    assertRefused(await doctor('-f', control), control, 4, /invalid YAML: .*non-printable/);
  });

  test('an alias bomb in a rule the fix would dump: refused at once, in bounded memory', async () => {
    const lol = Array(10).fill('lol').join(', ');
    const levels = [`      l0: &l0 [${lol}]`];
    for (let i = 1; i <= 9; i++) levels.push(`      l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
    const args = demoWithRule(`  trafficPolicy:\n    connectionPool:\n${levels.join('\n')}\n`);
    // Its own process with a small heap: 10^10 nodes would be walked by the dumper otherwise.
    const run = await runCli(['doctor', '-o', 'json', ...args], { nodeArgs: ['--max-old-space-size=192'], timeoutMs: 20_000 });
    assert.ok(!run.timedOut, 'hung');
    assertRefused(run, args[3] as string, 1, /document refused: YAML aliases expand it by more than 1,000,000 nodes \(an alias bomb\?\)/);
  });

  test('an alias that contains itself (a cycle): refused, not a stack overflow in the dumper', async () => {
    const args = demoWithRule('  trafficPolicy:\n    connectionPool: &loop\n      tcp:\n        again: *loop\n');
    assertRefused(await doctor(...args), args[3] as string, 1, /a YAML alias refers to a node that contains it \(a cycle\)/);
  });

  test('anchors used as intended (merge keys, shared blocks) are fine', async () => {
    const path = file(
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: app\n  labels: &labels {app: web, tier: front}\nspec:\n  selector: *labels\n  ports:\n  - &http {name: http, port: 80, targetPort: 8080}\n  - <<: *http\n    name: http-alt\n    port: 8081\n',
    );
    const run = await doctor('-f', path);
    assert.equal(run.code, 0, run.stderr);
  });

  test(`nesting deeper than ${MAX_NESTING_DEPTH} levels, YAML and JSON: refused with the line`, async () => {
    const yamlDeep = file(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    assertRefused(await doctor('-f', yamlDeep), yamlDeep, 5, /nested deeper than 256 levels/);
    let block = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nx:\n';
    for (let i = 1; i < 400; i++) block += `${' '.repeat(i)}k:\n`;
    const blockDeep = file(block);
    assertRefused(await doctor('-f', blockDeep), blockDeep, 259, /nested deeper than 256 levels/);
  });

  test('20 MB of unclosed `[` as JSON: refused before JSON.parse, in a 192 MB heap', async () => {
    // V8's JSON.parse keeps ~50 bytes a nesting level: it would need about 1 GB before failing,
    // and the small heap would end the process with an out-of-memory crash instead of exit 2.
    const path = file('['.repeat(20 * 1024 * 1024), 'json');
    const run = await runCli(['doctor', '-f', path], { nodeArgs: ['--max-old-space-size=192'], timeoutMs: 60_000 });
    assertRefused(run, path, 1, /nested deeper than 256 levels/, false);
  });

  test('deep JSON in a rule the fix would clone: refused, not an internal error', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const rule = `{\n"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",\n"metadata": {"name": "sg-cloud-gateway", "namespace": "app"},\n"spec": {"host": "${FQDN}", "trafficPolicy": {"connectionPool": ${deep}}}}\n`;
    const args = demoWithRule(rule, 'json');
    assertRefused(await doctor(...args), args[3] as string, 4, /nested deeper than 256 levels/);
  });

  test('bombs, cycles and deep nesting inside a tunnel config: that tunnel is not judged, and the report says why', async () => {
    const bomb = ['ingress:', '- hostname: a.example.com', '  service: http://web.app:80', '  originRequest: &o0 {a: [x, x, x, x, x, x, x, x, x, x]}'];
    for (let i = 1; i <= 8; i++) bomb.push(`- {service: http_status:404, originRequest: &o${i} [${Array(10).fill(`*o${i - 1}`).join(', ')}]}`);
    const configs = [
      { name: 'bomb', key: 'config.yaml', text: bomb.join('\n'), expect: /alias bomb/ },
      { name: 'deep', key: 'config.yaml', text: `ingress: ${'['.repeat(1000)}${']'.repeat(1000)}`, expect: /maxDepth/ },
      { name: 'deep-json', key: 'config.json', text: `{"tunnelId": "x", "sources": ${'['.repeat(1000)}${']'.repeat(1000)}}`, expect: /nested deeper than 256 levels/ },
    ];
    const objects = configs.map((c) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: c.key === 'config.json' ? `tunnel-config-${c.name}` : c.name, namespace: 'edge' },
      data: { [c.key]: c.text },
    }));
    const run = await doctor('-f', file(toYaml(objects as never)));
    assert.equal(run.code, 0, run.stderr);
    const notes = jsonOf(run).notes;
    for (const c of configs) {
      const label = `ConfigMap edge/${c.key === 'config.json' ? `tunnel-config-${c.name}` : c.name}`;
      assert.ok(notes.some((n) => n.startsWith(label) && c.expect.test(n)), `${label}: ${c.expect}\n${notes.join('\n')}`);
    }
  });

  test('a file over --max-input-size is refused before it is read; the flag raises the limit', async () => {
    const path = file(`${demoTexts().map((t) => t.text).join('\n---\n')}\n# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const refused = await doctor('-f', path, '--max-input-size', '1Mi');
    assertRefused(refused, path, undefined, /2(\.\d)? MiB, over the input size limit of 1 MiB \(raise it with --max-input-size 3Mi\)$/);
    const raised = await doctor('-f', path, '--max-input-size', '3Mi');
    assert.equal(raised.code, 1, raised.stderr);
    const bad = await doctor('-f', path, '--max-input-size', 'lots');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^tunnelmesh: --max-input-size lots: expected a size/);
  });

  test('an endless stream on stdin stops at the limit (bin/tunnelmesh)', async () => {
    const run = await runCli(['doctor', '-f', '-', '--max-input-size', '1Mi'], { stdin: Buffer.alloc(3 * 1024 * 1024, 0x61), nodeArgs: ['--max-old-space-size=128'] });
    assert.equal(run.code, 2, run.stderr);
    assert.equal(stderrLines(run).length, 1);
    assert.match(run.stderr, /^tunnelmesh: <stdin>: longer than the input size limit of 1 MiB/);
  });

  test('objects of the wrong shape are skipped with a warning naming them; the rest is judged', async () => {
    const broken = [
      'apiVersion: v1\nkind: Service\nmetadata: {name: broken-ports, namespace: app}\nspec: {ports: "80"}\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: no-containers, namespace: app}\nspec: {containers: {name: x}}\n',
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: odd, namespace: app}\nspec: {portLevelMtls: [9091]}\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 42, namespace: app}\n',
      '- just\n- a list\n',
      'plain scalar\n',
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {istio-injection: [enabled]}}\n',
    ];
    const path = file(broken.join('---\n'));
    const run = await doctor('-f', DEMO_DIR, '-f', path);
    assert.equal(run.code, 1, run.stderr);
    assert.ok(jsonOf(run).findings.some((f) => f.code === 'TM101'));
    for (const expected of [
      new RegExp(`${path}:1: Service app/broken-ports: spec.ports: expected a list`),
      new RegExp(`${path}:6: Pod app/no-containers: spec.containers: expected a list`),
      new RegExp(`${path}:11: PeerAuthentication app/odd: spec.portLevelMtls`),
      new RegExp(`${path}:16: ConfigMap has no metadata.name: skipped`),
      new RegExp(`${path}:20: a list is not a Kubernetes object: skipped`),
      new RegExp(`${path}:23: string "plain scalar" is not a Kubernetes object: skipped`),
      /Namespace x: label istio-injection: a list is not a string: ignored/,
    ]) {
      assert.match(run.stderr, expected);
    }
    assert.doesNotMatch(run.stderr, /internal error/);
  });

  test('thousands of broken objects: a screenful of warnings and a count, all of them with --verbose', async () => {
    const broken = Array.from({ length: 300 }, (_, i) => `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}, namespace: app}\nspec: {ports: x}\n`).join('---\n');
    const path = file(broken);
    const run = await doctor('-f', DEMO_DIR, '-f', path);
    assert.equal(run.code, 1, run.stderr);
    const warnings = stderrLines(run);
    assert.equal(warnings.length, 51);
    assert.match(warnings[50] ?? '', /^tunnelmesh: warning: 250 more warnings like these not shown \(--verbose shows all\)$/);
    const verbose = await doctor('-f', DEMO_DIR, '-f', path, '--verbose');
    assert.equal(stderrLines(verbose).filter((l) => l.includes('spec.ports: expected a list')).length, 300);
  });

  test('unknown kinds are ignored without a word; a file of nothing but them is not an error', async () => {
    const unknown = 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {deep: {x: 1}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: app}\ndata: {token: c2VjcmV0}\n';
    const run = await doctor('-f', DEMO_DIR, '-f', file(unknown));
    assert.equal(run.code, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /Widget|Secret/);
    const only = await doctor('-f', file(unknown));
    assert.equal(only.code, 0, only.stderr);
  });

  test('duplicates: the last one wins, with a warning naming both', async () => {
    const gateway = demoTexts().find((t) => t.name === '30-app.yaml');
    assert.ok(gateway);
    // The same Service again, now without port 9091: TM101 on it goes away.
    const service = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: sg-cloud-gateway\n  namespace: app\nspec:\n  selector: {app: sg-cloud-gateway}\n  ports:\n  - {name: http, port: 8080, targetPort: 8080}\n';
    const path = file(service);
    const run = await doctor('-f', DEMO_DIR, '-f', path);
    assert.ok(!jsonOf(run).findings.some((f) => f.code === 'TM101'), 'the later Service is used');
    assert.match(run.stderr, new RegExp(`Service app/sg-cloud-gateway \\(${path}:1\\): duplicate of Service app/sg-cloud-gateway \\(${DEMO_DIR}/30-app.yaml:\\d+\\); the later one is used`));
  });

  test('empty input, comments only, and documents with no objects: exit 2 "no Kubernetes objects found"', async () => {
    for (const content of ['', '# nothing\n', '---\n---\n', 'null\n']) {
      const path = file(content);
      const run = await doctor('-f', path);
      assertRefused(run, path, undefined, /no Kubernetes objects found/);
    }
  });
});
