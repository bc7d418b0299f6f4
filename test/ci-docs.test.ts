// docs/ci.md cannot drift: every tunnelmesh command line in its examples is run here, as
// written, in a workspace laid out like the CI job's (rendered manifests, a kubeconfig for a
// cluster — the loopback API server — named as the example names it).

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import { parseConfig } from '../src/cli/config.js';
import { startApiServer, type ApiServer } from './support/apiserver.js';
import { loadManifests, ROOT, runCliAsync } from './support/bin.js';
import { kubeconfigYaml } from './support/kubeconfig.js';

const DOC = readFileSync(new URL('../docs/ci.md', import.meta.url), 'utf8');
const RENDERED = join(ROOT, 'fixtures/ci/rendered.yaml');

/** Fenced code blocks of the doc, with their info string. */
function codeBlocks(markdown: string): Array<{ lang: string; body: string }> {
  const out: Array<{ lang: string; body: string }> = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push({ lang: m[1] ?? '', body: m[2] ?? '' });
  return out;
}

/** The shell lines that run tunnelmesh doctor/snapshot (YAML `run:` and list prefixes removed). */
function commandLines(): string[] {
  const lines: string[] = [];
  for (const block of codeBlocks(DOC)) {
    for (const raw of block.body.split('\n')) {
      const line = raw.trim().replace(/^run:\s*/, '').replace(/^-\s+/, '');
      if (/\btunnelmesh (doctor|snapshot)\b/.test(line)) lines.push(line);
    }
  }
  return lines;
}

/** Shell words with quotes and $VAR / "$VAR/x" expanded, enough for the doc's lines. */
function shellWords(text: string, env: Record<string, string>): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  const expand = (s: string) => s.replace(/\$(\w+)|\$\{(\w+)\}/g, (_m, a: string, b: string) => env[a ?? b] ?? '');
  for (let m = re.exec(text); m; m = re.exec(text)) words.push(m[2] !== undefined ? m[2] : expand(m[1] ?? m[3] ?? ''));
  return words;
}

interface Step {
  line: string;
  args: string[];
  stdinFrom?: string;
  stdoutTo?: string;
}

function parseLine(line: string, env: Record<string, string>): Step {
  const pipe = line.indexOf(' | ');
  const producer = pipe >= 0 ? line.slice(0, pipe) : undefined;
  let rest = pipe >= 0 ? line.slice(pipe + 3) : line;
  let stdoutTo: string | undefined;
  const redirect = /\s>\s*(\S+)\s*$/.exec(rest);
  if (redirect) {
    stdoutTo = shellWords(redirect[1]!, env)[0];
    rest = rest.slice(0, redirect.index);
  }
  const words = shellWords(rest, env);
  assert.equal(words[0], 'tunnelmesh', line);
  if (producer) assert.match(producer, /^(helm template|kustomize build) /, `only renderers feed tunnelmesh: ${line}`);
  return { line, args: words.slice(1), ...(producer ? { stdinFrom: RENDERED } : {}), ...(stdoutTo ? { stdoutTo } : {}) };
}

describe('docs/ci.md examples', () => {
  let server: ApiServer;
  let workspace: string;
  let env: Record<string, string>;
  before(async () => {
    server = await startApiServer({ objects: loadManifests('fixtures/demo') });
    workspace = mkdtempSync(join(tmpdir(), 'tunnelmesh-ci-'));
    const runnerTemp = join(workspace, '_temp');
    mkdirSync(runnerTemp);
    mkdirSync(join(workspace, 'rendered'));
    copyFileSync(RENDERED, join(workspace, 'rendered', 'gateway.yaml'));
    writeFileSync(join(runnerTemp, 'kubeconfig'), kubeconfigYaml(server, { contexts: [{ name: 'production', namespace: 'default' }] }), { mode: 0o600 });
    env = { RUNNER_TEMP: runnerTemp };
  });
  after(() => server.close());

  test('the doc has the GitHub, GitLab, live-gate and snapshot command lines', () => {
    const lines = commandLines();
    assert.ok(lines.some((l) => /^helm template .* \| tunnelmesh doctor -f - -o sarif > results\.sarif$/.test(l)), 'GitHub preflight');
    assert.ok(lines.some((l) => /-o codequality/.test(l)), 'GitLab code quality');
    assert.ok(lines.some((l) => /--kubeconfig .* --context production .*--fail-on error/.test(l)), 'live gate');
    assert.ok(lines.some((l) => /^tunnelmesh snapshot /.test(l)), 'snapshot');
  });

  test('every command line runs as written, in order, with the exit code and output CI expects', async () => {
    for (const line of commandLines()) {
      const step = parseLine(line, env);
      const res = await runCliAsync(step.args, { cwd: workspace, ...(step.stdinFrom ? { input: readFileSync(step.stdinFrom, 'utf8') } : {}) });
      if (step.stdoutTo) writeFileSync(join(workspace, step.stdoutTo), res.stdout);
      const snapshot = step.args[0] === 'snapshot';
      // The fixtures hold an error (TM101) in both the rendered chart and the cluster.
      assert.equal(res.status, snapshot ? 0 : 1, `${line}\n${res.stderr}`);
      assert.doesNotMatch(res.stderr, /internal error/);
      const format = step.args[step.args.indexOf('-o') + 1];
      if (step.args.includes('-o') && format !== 'table') {
        const out = JSON.parse(res.stdout) as unknown;
        if (format === 'sarif') assert.equal((out as { version: string }).version, '2.1.0');
        if (format === 'codequality') assert.ok(Array.isArray(out) && out.some((i: { check_name?: string }) => i.check_name?.startsWith('TM101')));
        if (format === 'json') assert.ok((out as { findings: Array<{ code: string }> }).findings.some((f) => f.code === 'TM101'));
      }
      if (snapshot) assert.equal((jsyaml.loadAll(res.stdout)[0] as { kind: string }).kind, 'Snapshot');
    }
    assert.ok(server.requests.some((r) => r.path.startsWith('/api/v1/namespaces/app/')), 'the live gate asked the cluster');
  });

  test('the .tunnelmesh.yaml example parses without a warning', () => {
    const block = codeBlocks(DOC).find((b) => b.body.startsWith('# .tunnelmesh.yaml'));
    assert.ok(block);
    const warnings: string[] = [];
    const config = parseConfig(block.body, '.tunnelmesh.yaml', (m) => warnings.push(m));
    assert.deepEqual(warnings, []);
    assert.equal(config.suppressions.length, 1);
    assert.equal(config.failOn, 'error');
  });

  test('the workflow examples are valid YAML', () => {
    for (const block of codeBlocks(DOC).filter((b) => b.lang === 'yaml')) assert.doesNotThrow(() => jsyaml.load(block.body));
  });
});
