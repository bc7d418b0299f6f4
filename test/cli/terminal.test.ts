// Terminal manners, through the built bin: colour only on a TTY and never with NO_COLOR
// (FORCE_COLOR honoured), the spinner only on an interactive stderr, --quiet, --verbose,
// completion scripts, and `kubectl tunnelmesh` through the kubectl-tunnelmesh bin.

import assert from 'node:assert/strict';
import { spawn as spawnAsync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import { BIN, cleanEnv, KUBECTL_BIN, loadManifests, ROOT, runCli, runCliAsync } from '../support/bin.js';
import { writeKubeconfig } from '../support/kubeconfig.js';

const ESC = /\u001b\[/;
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Runs the bin on a pseudo-terminal of 100 columns (util-linux `script`); stdout and stderr arrive merged. */
function onTty(args: string[], env: Record<string, string | undefined> = {}): Promise<{ status: number | null; output: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawnAsync('script', ['-qec', `stty cols 100 rows 40; ${quoted}`, '/dev/null'], { cwd: ROOT, env: cleanEnv({ CI: undefined, ...env }) });
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('close', (status) => resolve({ status, output }));
  });
}

describe('colour', () => {
  test('not a TTY: no colour', () => {
    const res = runCli(['doctor', '-f', 'fixtures/demo']);
    assert.equal(res.status, 1);
    assert.doesNotMatch(res.stdout, ESC);
    assert.doesNotMatch(res.stderr, ESC);
  });

  test('FORCE_COLOR colours a pipe; NO_COLOR wins over it; --color never and always win over both', () => {
    assert.match(runCli(['doctor', '-f', 'fixtures/demo'], { env: { FORCE_COLOR: '1' } }).stdout, ESC);
    assert.doesNotMatch(runCli(['doctor', '-f', 'fixtures/demo'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout, ESC);
    assert.doesNotMatch(runCli(['doctor', '-f', 'fixtures/demo'], { env: { FORCE_COLOR: '0' } }).stdout, ESC);
    assert.doesNotMatch(runCli(['doctor', '-f', 'fixtures/demo', '--color', 'never'], { env: { FORCE_COLOR: '3' } }).stdout, ESC);
    assert.match(runCli(['doctor', '-f', 'fixtures/demo', '--color', 'always'], { env: { NO_COLOR: '1' } }).stdout, ESC);
  });

  test('machine formats never carry colour, even forced', () => {
    for (const o of ['json', 'yaml', 'sarif']) assert.doesNotMatch(runCli(['doctor', '-f', 'fixtures/demo', '-o', o], { env: { FORCE_COLOR: '3' } }).stdout, ESC, o);
  });

  test('a TTY: colour; NO_COLOR on a TTY: none', { skip: !has('script') && 'util-linux script is not installed' }, async () => {
    const plain = await onTty(['doctor', '-f', 'fixtures/demo']);
    assert.equal(plain.status, 1);
    assert.match(plain.output, ESC);
    const noColor = await onTty(['doctor', '-f', 'fixtures/demo'], { NO_COLOR: '1' });
    assert.doesNotMatch(noColor.output, ESC);
  });
});

describe('spinner', () => {
  let server: ApiServer;
  let kubeconfig: string;
  before(async () => {
    server = await startApiServer({ objects: loadManifests('fixtures/demo'), latencyMs: 150 });
    kubeconfig = writeKubeconfig(server, { namespace: 'app' });
  });
  after(() => server.close());

  const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|collecting from the cluster/;

  test('stderr not a TTY: no spinner, no carriage returns', async () => {
    const res = await runCliAsync(['doctor', '--kubeconfig', kubeconfig]);
    assert.equal(res.status, 1, res.stderr);
    assert.doesNotMatch(res.stderr, SPINNER);
    assert.doesNotMatch(res.stderr, /\r/);
  });

  test('a TTY: the spinner shows for the table, not for -o json nor --quiet', { skip: !has('script') && 'util-linux script is not installed' }, async () => {
    const table = await onTty(['doctor', '--kubeconfig', kubeconfig]);
    assert.match(table.output, SPINNER);
    const json = await onTty(['doctor', '--kubeconfig', kubeconfig, '-o', 'json']);
    assert.doesNotMatch(json.output, SPINNER);
    const quiet = await onTty(['doctor', '--kubeconfig', kubeconfig, '-q']);
    assert.doesNotMatch(quiet.output, SPINNER);
  });
});

describe('--quiet and --verbose', () => {
  const BROKEN = `apiVersion: v1
kind: Service
metadata: {name: odd, namespace: app}
spec:
  ports: [{port: "eighty"}]
`;
  function input(): string {
    return `${BROKEN}---\n${runCli(['snapshot', '-f', 'fixtures/demo']).stdout}`;
  }

  test('--quiet: the table and the summary only; no evidence, no notes, no input warnings', () => {
    const loud = runCli(['doctor', '-f', '-'], { input: input() });
    assert.match(loud.stderr, /warning: .*Service app\/odd.*skipped/);
    assert.match(loud.stdout, /evidence:/);
    const quiet = runCli(['doctor', '-f', '-', '-q'], { input: input() });
    assert.equal(quiet.status, loud.status);
    assert.equal(quiet.stderr, '');
    assert.doesNotMatch(quiet.stdout, /evidence:|Notes:|fix 1/);
    assert.match(quiet.stdout, /│ error +│ TM101 │/);
    assert.match(quiet.stdout, /Summary: 1 error, 0 warnings, 0 info; \d+ of \d+ edges? judged\n$/);
  });

  test('--verbose: the config file, every phase with its time, and why the exit code is what it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-verbose-'));
    writeFileSync(join(dir, '.tunnelmesh.yaml'), 'suppress: [TM101]\n');
    const res = runCli(['doctor', '-f', join(ROOT, 'fixtures/demo'), '-v'], { cwd: dir });
    assert.match(res.stderr, /^tunnelmesh: config: \.tunnelmesh\.yaml \(1 suppressions, 0 severity overrides\)$/m);
    assert.match(res.stderr, /^tunnelmesh: collect: \d+ ms \(20 objects from 5 files\)$/m);
    assert.match(res.stderr, /^tunnelmesh: judge: \d+ ms \(\d+ pods, \d+ services, 1 tunnel configs; 0 findings; 3 of 3 edges judged\)$/m);
    assert.match(res.stderr, /^tunnelmesh: suppressed: TM101 Service app\/sg-cloud-gateway by \.tunnelmesh\.yaml suppress\[0\]$/m);
    assert.match(res.stderr, /^tunnelmesh: report: \d+ ms \(table\)$/m);
    assert.match(res.stderr, /^tunnelmesh: exit 0: no finding is at or above --fail-on error$/m);
  });
});

describe('completion', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    test(`${shell}: generated from the commands, and the shell parses it`, { skip: !has(shell) && `${shell} is not installed` }, () => {
      const res = runCli(['completion', shell]);
      assert.equal(res.status, 0);
      for (const word of ['doctor', 'rules', 'snapshot', 'fail-on', 'suppress', 'fix-out', 'sarif', 'TM101']) assert.ok(res.stdout.includes(word), `${shell}: ${word}`);
      const file = join(mkdtempSync(join(tmpdir(), 'tunnelmesh-completion-')), `c.${shell}`);
      writeFileSync(file, res.stdout);
      const check = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stderr);
    });
  }

  test('bash: completes commands, output formats and rule codes', () => {
    const script = runCli(['completion', 'bash']).stdout;
    const complete = (words: string[]): string =>
      spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tunnelmesh; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(complete(['tunnelmesh', 'sn']), 'snapshot');
    assert.equal(complete(['tunnelmesh', 'doctor', '-o', 's']), 'sarif');
    assert.equal(complete(['tunnelmesh', 'doctor', '--fail-on', '']), 'error warning info none');
    assert.match(complete(['tunnelmesh', 'rules', 'TM10']), /^TM101 TM102/);
  });

  test('an unknown shell is a usage error', () => {
    const res = runCli(['completion', 'powershell']);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /^tunnelmesh: command-argument value 'powershell' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish\./);
  });
});

describe('kubectl tunnelmesh', () => {
  test('the kubectl-tunnelmesh bin names itself kubectl tunnelmesh and works the same', () => {
    const help = runCli(['--help'], { bin: KUBECTL_BIN });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: kubectl tunnelmesh /);
    const res = runCli(['doctor', '-f', 'fixtures/demo', '-o', 'json'], { bin: KUBECTL_BIN });
    assert.equal(res.status, 1);
    assert.equal(res.stdout, runCli(['doctor', '-f', 'fixtures/demo', '-o', 'json']).stdout);
  });

  test('through kubectl itself, with the bin directory on PATH', { skip: !has('kubectl') && 'kubectl is not installed' }, () => {
    const env = cleanEnv({ PATH: `${dirname(KUBECTL_BIN)}:${dirname(process.execPath)}:${process.env.PATH}` });
    const res = spawnSync('kubectl', ['tunnelmesh', 'rules', 'TM101', '-o', 'json'], { cwd: ROOT, env, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as Array<{ code: string }>)[0]?.code, 'TM101');
    const bad = spawnSync('kubectl', ['tunnelmesh', 'doctor', '--bogus'], { cwd: ROOT, env, encoding: 'utf8' });
    assert.equal(bad.status, 2);
  });
});
