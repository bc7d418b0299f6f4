// docs/ci.md cannot drift: every job's shell lines are run here, as written, with bash — the
// install from a clean clone (`git clone` of this tree, `npm ci`, bin/ on PATH), then the
// tunnelmesh lines through the tunnelmesh that install put on PATH — in a workspace laid out
// like the job's: the user's chart in charts/, helm's output (fixtures/ci/rendered.yaml) where the
// job renders it, a kubeconfig for a cluster (the loopback API server) named as the job names it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import { parseConfig } from '../src/cli/config.js';
import { startApiServer, type ApiServer } from './support/apiserver.js';
import { loadManifests, ROOT } from './support/bin.js';
import { kubeconfigYaml } from './support/kubeconfig.js';

const DOC = readFileSync(new URL('../docs/ci.md', import.meta.url), 'utf8');
const RENDERED = join(ROOT, 'fixtures/ci/rendered.yaml');
const REPOSITORY = 'https://github.com/tunnelmesh/tunnelmesh.git';
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; homepage: string };

/** Fenced code blocks of the doc, with their info string. */
function codeBlocks(markdown: string): Array<{ lang: string; body: string }> {
  const out: Array<{ lang: string; body: string }> = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push({ lang: m[1] ?? '', body: m[2] ?? '' });
  return out;
}

/** The shell lines of a block: `run:` values, `run: |` bodies and `script:` items, comments dropped. */
function shellLines(body: string): string[] {
  const lines: string[] = [];
  for (const raw of body.split('\n')) {
    const line = raw.trim().replace(/^run:\s*(\|\s*)?/, '').replace(/^-\s+/, '').replace(/\s+#\s.*$/, '');
    if (/^(git clone|npm |echo |export PATH=|tunnelmesh |helm template|mkdir )/.test(line)) lines.push(line);
  }
  return lines;
}

interface Job {
  name: string;
  lines: string[];
}

/** Each YAML job (and the sh snippets, which continue the job before them or run in a clone). */
function jobs(): Job[] {
  return codeBlocks(DOC)
    .map((b, i) => ({ name: `${b.lang} block ${i + 1}: ${b.body.split('\n')[0]}`, lines: shellLines(b.body) }))
    .filter((j) => j.lines.length > 0);
}

interface Shell {
  status: number | null;
  stdout: string;
  stderr: string;
}

function bash(line: string, cwd: string, env: NodeJS.ProcessEnv, input?: string): Promise<Shell> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line], { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    if (input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // a command that does not read all of it
      child.stdin.end(input);
    }
  });
}

/** This working tree as a repository of its own, cloned as the jobs clone tunnelmesh. */
async function originOfThisTree(): Promise<string> {
  const origin = mkdtempSync(join(tmpdir(), 'tunnelmesh-origin-'));
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  const files = await bash('git ls-files -z --cached --others --exclude-standard', ROOT, env);
  for (const file of files.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(origin, file)), { recursive: true });
    cpSync(join(ROOT, file), join(origin, file));
  }
  const init = await bash('git init -q -b main && git add -A && git commit -qm "this tree"', origin, env);
  assert.equal(init.status, 0, init.stderr);
  return origin;
}

interface Workspace {
  dir: string;
  env: NodeJS.ProcessEnv;
}

describe('docs/ci.md jobs, run as written', () => {
  let server: ApiServer;
  let origin: string;
  let kubeconfig: string;
  const ran: string[] = [];
  const clones: string[] = [];
  before(async () => {
    server = await startApiServer({ objects: loadManifests('fixtures/demo') });
    kubeconfig = kubeconfigYaml(server, { contexts: [{ name: 'production', namespace: 'default' }] });
    origin = await originOfThisTree();
  });
  after(() => server.close());

  /** A job's runner: the user's repository (its chart, the rendered output of the render job), empty temp dirs. */
  function workspace(): Workspace {
    const dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-ci-'));
    cpSync(join(ROOT, 'fixtures/ci/charts'), join(dir, 'charts'), { recursive: true });
    mkdirSync(join(dir, 'rendered'));
    cpSync(RENDERED, join(dir, 'rendered', 'gateway.yaml'));
    for (const d of ['_temp', '_builds']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, '_github_path'), '');
    const env: NodeJS.ProcessEnv = { ...process.env, RUNNER_TEMP: join(dir, '_temp'), CI_BUILDS_DIR: join(dir, '_builds'), GITHUB_PATH: join(dir, '_github_path'), KUBECONFIG_DATA: kubeconfig, CI: 'true' };
    for (const k of ['KUBECONFIG', 'NO_COLOR', 'FORCE_COLOR', 'COLUMNS']) delete env[k];
    // The runner has node; npm uses its cache first (the job would download the same locked packages).
    env.PATH = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;
    env.npm_config_prefer_offline = 'true';
    env.npm_config_audit = 'false';
    env.npm_config_fund = 'false';
    return { dir, env };
  }

  /** Runs one shell line of a job, as the runner would; returns what it printed. */
  async function step(ws: Workspace, line: string): Promise<Shell> {
    ran.push(line);
    let command = line.replace(REPOSITORY, `file://${origin}`);
    let input: string | undefined;
    const render = /^helm template \S+ \S+ \| /.exec(command);
    if (render) {
      input = readFileSync(RENDERED, 'utf8'); // what helm template prints for charts/gateway
      command = command.slice(render[0].length);
    }
    if (/^helm template/.test(command) || /^mkdir /.test(command)) return { status: 0, stdout: '', stderr: '' }; // the render job: rendered/ is in place
    const res = await bash(command, ws.dir, ws.env, input);
    if (line.startsWith('git clone')) clones.push(command.split(' ').at(-1)!.replace(/"/g, '').replace(/\$(\w+)/g, (_m, v: string) => ws.env[v] ?? ''));
    // GitHub: lines appended to $GITHUB_PATH are on PATH for the next steps; GitLab: export in the script.
    const added = readFileSync(ws.env.GITHUB_PATH!, 'utf8').split('\n').filter(Boolean);
    if (line.startsWith('export PATH=')) ws.env.PATH = (await bash(`${command}; printf %s "$PATH"`, ws.dir, ws.env)).stdout;
    for (const p of added) if (!ws.env.PATH!.split(':').includes(p)) ws.env.PATH = `${p}:${ws.env.PATH}`;
    return res;
  }

  function checkTunnelmesh(line: string, res: Shell, ws: Workspace): void {
    const words = line.split(/\s+/);
    const format = words.includes('-o') ? words[words.indexOf('-o') + 1] : 'table';
    const snapshot = / snapshot /.test(` ${line} `) && !/doctor/.test(line);
    const passes = snapshot || words.includes('none');
    // The fixtures hold an error (TM101) in the rendered chart and in the cluster.
    assert.equal(res.status, passes ? 0 : 1, `${line}\n${res.stderr}`);
    assert.doesNotMatch(res.stderr, /internal error/);
    const redirect = /> (\S+)$/.exec(line)?.[1];
    const out = redirect ? readFileSync(join(ws.dir, redirect.replace(/"/g, '').replace(/\$(\w+)/g, (_m, v: string) => ws.env[v] ?? '')), 'utf8') : res.stdout;
    if (format === 'sarif') {
      const log = JSON.parse(out) as { version: string; runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }> }> };
      assert.equal(log.version, '2.1.0');
      for (const r of log.runs[0]!.results) {
        const uri = r.locations[0]!.physicalLocation.artifactLocation.uri;
        // --chart-dir: GitHub can attach every alert to a file of the repository.
        assert.ok(existsSync(join(ws.dir, uri)), `${r.ruleId}: ${uri} is a file of the repository`);
        assert.ok(r.locations[0]!.physicalLocation.region.startLine > 1, `${r.ruleId}: the line of the field, not of the object`);
      }
    }
    if (format === 'codequality') {
      const issues = JSON.parse(out) as Array<{ check_name: string; location: { path: string } }>;
      assert.ok(issues.some((i) => i.check_name.startsWith('TM101')));
      for (const i of issues) assert.ok(existsSync(join(ws.dir, i.location.path)), i.location.path);
    }
    if (format === 'compact') assert.match(out, /^ERROR TM101 Service\/app\/gateway:9091 /m);
    if (format === 'json') assert.ok((JSON.parse(out) as { findings: Array<{ code: string }> }).findings.some((f) => f.code === 'TM101'));
    if (snapshot) assert.equal((jsyaml.loadAll(out)[0] as { kind: string }).kind, 'Snapshot');
  }

  test('every job installs tunnelmesh from a clean clone and runs its tunnelmesh lines, with the exit codes CI expects', async () => {
    let previous: Workspace | undefined;
    for (const job of jobs()) {
      const installs = job.lines.some((l) => l.startsWith('git clone'));
      // sh snippets that run tunnelmesh continue the job before them (the snapshot after the live gate).
      const ws = installs || !previous ? workspace() : previous;
      if (job.lines.some((l) => l.startsWith('npm ci && npm pack'))) continue; // the tarball snippet: the next test
      for (const line of job.lines) {
        const res = await step(ws, line);
        if (/^tunnelmesh |\| tunnelmesh /.test(line)) {
          // The tunnelmesh on PATH is the clone's, not this repository's bin.
          const which = await bash('command -v tunnelmesh', ws.dir, ws.env);
          assert.ok(which.stdout.trim().startsWith(ws.dir), `${job.name}: tunnelmesh comes from the job's install (${which.stdout.trim()})`);
          checkTunnelmesh(line, res, ws);
        } else {
          assert.equal(res.status, 0, `${job.name}: ${line}\n${res.stderr}`);
        }
      }
      previous = ws;
    }
    assert.ok(server.requests.some((r) => r.path.startsWith('/api/v1/namespaces/app/')), 'the live gate asked the cluster');
    assert.ok(clones.length >= 3, 'the GitHub preflight, the GitLab job and the live gate each install');
    for (const c of clones) assert.ok(existsSync(join(c, 'dist/cli/main.cjs')), `npm ci built the bundle in ${c}`);
  });

  test('the doc has the install, GitHub, GitLab, live-gate and snapshot lines it promises', () => {
    const lines = jobs().flatMap((j) => j.lines);
    assert.ok(lines.some((l) => l.startsWith(`git clone --depth 1 --branch main ${REPOSITORY} `)), 'install from a clone');
    assert.ok(lines.some((l) => /^helm template .* \| tunnelmesh doctor -f - -o sarif --chart-dir charts\/gateway > results\.sarif$/.test(l)), 'GitHub preflight');
    assert.ok(lines.some((l) => /-o codequality/.test(l)), 'GitLab code quality');
    assert.ok(lines.some((l) => /-o compact/.test(l)), 'the job log');
    assert.ok(lines.some((l) => /--kubeconfig .* --context production .*--fail-on error/.test(l)), 'live gate');
    assert.ok(lines.some((l) => /^tunnelmesh snapshot /.test(l)), 'snapshot');
    assert.ok(!/npm install --global tunnelmesh(\s|$)/.test(DOC.split('Once the package is published')[0] ?? ''), 'nothing installs the unpublished package');
    assert.equal(PKG.homepage, REPOSITORY.replace(/\.git$/, ''));
  });

  test('the tarball: npm pack in a clone, npm install --global of the tarball, tunnelmesh on PATH', async (t) => {
    const snippet = jobs().find((j) => j.lines.some((l) => l.startsWith('npm ci && npm pack')));
    assert.ok(snippet, 'the doc shows the tarball install');
    const ws = workspace();
    const clone = join(ws.dir, 'tunnelmesh');
    assert.equal((await bash(`git clone -q --depth 1 file://${origin} ${clone}`, ws.dir, ws.env)).status, 0);
    const pack = await bash(snippet.lines[0]!, clone, ws.env);
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = `tunnelmesh-${PKG.version}.tgz`;
    assert.ok(existsSync(join(clone, tarball)), `npm pack wrote ${tarball}`);
    const prefix = join(ws.dir, '_global');
    const install = await bash(snippet.lines[1]!.replace(`./${tarball}`, join(clone, tarball)), ws.dir, { ...ws.env, npm_config_prefix: prefix });
    if (install.status !== 0 && /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(install.stderr)) {
      // Its runtime dependencies come from the registry (the doc says so): without one, there is nothing to prove here.
      t.skip('the npm registry cannot be reached from here');
      return;
    }
    assert.equal(install.status, 0, install.stderr);
    const res = await bash(`tunnelmesh doctor -f ${RENDERED} -o compact`, ws.dir, { ...ws.env, PATH: `${join(prefix, 'bin')}:${ws.env.PATH}` });
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stdout, /^ERROR TM101 /m);
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
