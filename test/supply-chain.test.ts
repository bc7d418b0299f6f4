// Supply-chain hygiene that a test can hold: no install-time scripts of our own (prepare only
// compiles), every dependency pinned by the lockfile with an integrity hash, the lockfile in
// step with package.json, and no runtime dependency that runs install scripts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from './support/cli.js';

interface LockPackage {
  version?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages: Record<string, LockPackage> };

describe('supply chain', () => {
  test('no install-time scripts of our own; prepare only compiles', () => {
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'postprepare']) {
      assert.equal(pkg.scripts[hook], undefined, `package.json runs "${hook}" on install`);
    }
    assert.equal(pkg.scripts.prepare, 'npm run build');
    assert.equal(pkg.scripts.build, 'node scripts/build.mjs');
    // The build bundles local sources with esbuild: nothing fetched, nothing run.
    assert.doesNotMatch(readFileSync(join(ROOT, 'scripts/build.mjs'), 'utf8'), /fetch\(|node:https?|child_process|http:\/\/|https:\/\//);
  });

  test('the lockfile pins every package with an integrity hash, in step with package.json', () => {
    assert.ok(lock.lockfileVersion >= 2);
    const root = lock.packages[''];
    assert.ok(root);
    assert.deepEqual(root.dependencies, pkg.dependencies, 'npm ci would refuse: dependencies differ from the lockfile');
    assert.deepEqual(root.devDependencies, pkg.devDependencies, 'npm ci would refuse: devDependencies differ from the lockfile');
    const entries = Object.entries(lock.packages).filter(([path, p]) => path !== '' && !p.link);
    assert.ok(entries.length > 50);
    for (const [path, p] of entries) {
      assert.match(p.version ?? '', /^\d+\.\d+\.\d+/, `${path}: no pinned version`);
      assert.match(p.integrity ?? '', /^sha(512|384|256)-/, `${path}: no integrity hash`);
    }
  });

  test('no runtime dependency runs an install script (dev tools may: esbuild, through tsx)', () => {
    const runtime = Object.entries(lock.packages).filter(([path, p]) => path !== '' && !p.dev && p.hasInstallScript);
    assert.deepEqual(runtime.map(([path]) => path), []);
  });
});
