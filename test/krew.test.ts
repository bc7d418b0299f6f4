// deploy/krew/tunnelmesh.yaml is a plugin manifest krew accepts (its validation rules, read from
// krew's internal/index/validation/validate.go), and the archive `npm run krew` builds installs
// the way krew installs it: sha256 checked, unpacked, the manifest's file operations applied,
// bin linked, and the plugin runs from there — offline, and live through its own node_modules.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import { startApiServer, type ApiServer } from './support/apiserver.js';
import { loadManifests, ROOT } from './support/bin.js';
import { writeKubeconfig } from './support/kubeconfig.js';

interface Platform {
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values: string[] }> };
  uri?: string;
  sha256?: string;
  files?: Array<{ from?: string; to?: string }>;
  bin?: string;
}
interface Plugin {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { version?: string; shortDescription?: string; homepage?: string; platforms?: Platform[] };
}

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; homepage: string };

/** krew's ValidatePlugin and validatePlatform, rule by rule; returns the problems found. */
function krewProblems(name: string, p: Plugin): string[] {
  const problems: string[] = [];
  if (p.apiVersion !== 'krew.googlecontainertools.github.com/v1alpha2') problems.push(`apiVersion ${p.apiVersion}`);
  if (p.kind !== 'Plugin') problems.push(`kind ${p.kind}`);
  if (!/^[\w-]+$/.test(name)) problems.push(`unsafe name ${name}`);
  if (p.metadata?.name !== name) problems.push(`named ${p.metadata?.name}, file ${name}`);
  if (!p.spec.shortDescription) problems.push('no shortDescription');
  if (/[\r\n]/.test(p.spec.shortDescription ?? '')) problems.push('line break in shortDescription');
  if (!p.spec.platforms?.length) problems.push('no platform');
  // krew's semver.Parse: a leading v, then k8s.io/apimachinery's ParseSemantic.
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(p.spec.version ?? '')) problems.push(`version ${p.spec.version}`);
  for (const pl of p.spec.platforms ?? []) {
    if (!pl.uri) problems.push('platform without uri');
    if (!/^[a-f0-9]{64}$/.test(pl.sha256 ?? '')) problems.push(`sha256 ${pl.sha256}`);
    if (!pl.bin) problems.push('platform without bin');
    if (pl.files !== undefined && (pl.files.length === 0 || pl.files.some((f) => !f.from || !f.to))) problems.push('files: empty, or an operation without from/to');
    const sel = pl.selector;
    if (!sel || (!sel.matchLabels && !sel.matchExpressions?.length)) problems.push('empty selector');
    const keys = [...Object.keys(sel?.matchLabels ?? {}), ...(sel?.matchExpressions ?? []).map((e) => e.key)];
    for (const k of keys) if (k !== 'os' && k !== 'arch') problems.push(`selector key ${k}`);
  }
  return problems;
}

const run = (file: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(file, args, { cwd: tmpdir(), env: { ...process.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });

describe('krew', () => {
  test('deploy/krew/tunnelmesh.yaml passes krew validation, for this version, from the project home', () => {
    const file = join(ROOT, 'deploy/krew/tunnelmesh.yaml');
    const plugin = jsyaml.load(readFileSync(file, 'utf8')) as Plugin;
    assert.deepEqual(krewProblems(basename(file, '.yaml'), plugin), []);
    assert.equal(plugin.spec.version, `v${PKG.version}`);
    assert.equal(plugin.spec.homepage, PKG.homepage);
    const pl = plugin.spec.platforms![0]!;
    assert.equal(pl.uri, `${PKG.homepage}/releases/download/v${PKG.version}/tunnelmesh-v${PKG.version}-krew.tar.gz`);
    assert.equal(pl.bin, 'bin/kubectl-tunnelmesh');
  });

  test('the validation above does reject what krew rejects', () => {
    const good = jsyaml.load(readFileSync(join(ROOT, 'deploy/krew/tunnelmesh.yaml'), 'utf8')) as Plugin;
    const bad = structuredClone(good);
    bad.spec.version = '0.1.0';
    bad.spec.platforms![0]!.sha256 = 'abc';
    bad.spec.platforms![0]!.selector = { matchLabels: { distro: 'debian' } };
    assert.deepEqual(krewProblems('tunnelmesh', bad), ['version 0.1.0', 'sha256 abc', 'selector key distro']);
    assert.deepEqual(krewProblems('other', good), ['named tunnelmesh, file other']);
  });

  describe('the archive npm run krew builds, installed as krew installs it', () => {
    let server: ApiServer;
    let work: string;
    let plugin: Plugin;
    let linked: string;
    before(async () => {
      server = await startApiServer({ objects: loadManifests('fixtures/demo') });
      work = mkdtempSync(join(tmpdir(), 'tunnelmesh-krew-'));
      execFileSync(process.execPath, [join(ROOT, 'scripts/krew.mjs'), '--out', join(work, 'out')], { cwd: ROOT, stdio: 'ignore' });
      plugin = jsyaml.load(readFileSync(join(work, 'out/tunnelmesh.yaml'), 'utf8')) as Plugin;
      const pl = plugin.spec.platforms![0]!;
      const archive = join(work, 'out', basename(pl.uri!));
      assert.equal(createHash('sha256').update(readFileSync(archive)).digest('hex'), pl.sha256, 'krew checks the sha256 first');
      // Unpack, then apply the file operations into the install directory (krew's moveAllFiles).
      const unpacked = join(work, 'unpacked');
      const installed = join(work, 'store/tunnelmesh', pl.sha256!);
      mkdirSync(unpacked, { recursive: true });
      mkdirSync(installed, { recursive: true });
      execFileSync('tar', ['-xzf', archive, '-C', unpacked]);
      for (const op of pl.files ?? []) {
        assert.equal(op.from, '*');
        for (const entry of readdirSync(unpacked)) renameSync(join(unpacked, entry), join(installed, op.to ?? '.', entry));
      }
      // krew links the bin into ~/.krew/bin under the plugin's kubectl name.
      mkdirSync(join(work, 'krew-bin'));
      linked = join(work, 'krew-bin', 'kubectl-tunnelmesh');
      symlinkSync(join(installed, pl.bin!), linked);
      accessSync(linked, constants.X_OK);
    });
    after(() => server.close());

    test('the generated manifest passes krew validation too', () => {
      assert.deepEqual(krewProblems('tunnelmesh', plugin), []);
    });

    test('it runs as kubectl tunnelmesh, offline', async () => {
      const help = await run(linked, ['--help']);
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /^Usage: kubectl tunnelmesh /);
      const res = await run(linked, ['doctor', '-f', join(ROOT, 'fixtures/demo'), '-o', 'compact']);
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stdout, /^ERROR TM101 Service\/app\/sg-cloud-gateway:9091 /);
    });

    test('live, the Kubernetes client comes from the archive (no repository on the way)', async () => {
      const kubeconfig = writeKubeconfig(server, { namespace: 'app' });
      const res = await run(linked, ['doctor', '-o', 'compact'], { KUBECONFIG: kubeconfig, NODE_PATH: '' });
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stdout, /^ERROR TM101 Service\/app\/sg-cloud-gateway:9091 /m);
      assert.ok(!work.startsWith(ROOT), 'installed outside the repository, so its node_modules are not found');
    });
  });
});
