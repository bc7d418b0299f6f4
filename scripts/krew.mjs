// `npm run krew`: the krew plugin archive and its manifest, for a release or a local install.
//
//   npm run krew                          # dist-krew/tunnelmesh-v<version>-krew.tar.gz + dist-krew/tunnelmesh.yaml
//   npm run krew -- --out DIR             # elsewhere
//   npm run krew -- --manifest deploy/krew/tunnelmesh.yaml   # also rewrite the committed manifest (at a release)
//
// The archive holds what the plugin runs: bin/, dist/ (the bundle; run `npm run build` first),
// package.json and the production dependencies in node_modules (the bundle leaves
// @kubernetes/client-node external, for live runs). It is reproducible (sorted entries, one
// mtime, numeric owner 0, gzip without a name or time), so the manifest's sha256 names exactly
// this tree. Krew installs it as it is: `kubectl krew install --manifest=dist-krew/tunnelmesh.yaml
// --archive=dist-krew/tunnelmesh-v<version>-krew.tar.gz`; once the archive is attached to the
// GitHub release v<version>, the manifest's uri downloads it.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function arg(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

/** Production packages (their directories, relative to the root), as npm resolves them. */
function productionPackages() {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && resolve(l) !== resolve(ROOT))
    .map((l) => relative(ROOT, l))
    .filter((l) => l.startsWith('node_modules'))
    .sort();
}

export function manifest({ version, homepage, archive, sha256 }) {
  return `# The krew plugin manifest of tunnelmesh (https://krew.sigs.k8s.io/docs/developer-guide/plugin-manifest/).
# Written by \`npm run krew\` (scripts/krew.mjs) with the sha256 of the archive it builds; at a
# release, attach that archive to the GitHub release v${version} and commit this file as written.
# Install without a release: kubectl krew install --manifest=dist-krew/tunnelmesh.yaml --archive=dist-krew/${archive}
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: tunnelmesh
spec:
  version: v${version}
  homepage: ${homepage}
  shortDescription: Judge the Cloudflare Tunnel to Istio mesh path and print fixes
  description: |
    tunnelmesh judges the path from a Cloudflare Tunnel connector (cloudflared) through a
    Kubernetes Service to the Istio-meshed pods behind it, the way Istio and cloudflared
    really behave: mTLS sent to ports the sidecar does not capture, plaintext to STRICT
    workloads, DestinationRules forcing mTLS nobody terminates, tunnel schemes the backend
    does not speak. Every finding comes with its evidence and a ready-to-apply fix.
    It only reads (GET, never Secrets): kubectl tunnelmesh doctor -n NAMESPACE.
  caveats: |
    tunnelmesh is a Node.js program: it needs node 20 or newer on PATH.
    Shell completion: source <(kubectl tunnelmesh completion bash)   (also zsh, fish)
  platforms:
    - selector:
        matchExpressions:
          - key: os
            operator: In
            values: [linux, darwin]
      uri: ${homepage}/releases/download/v${version}/${archive}
      sha256: ${sha256}
      files:
        - from: "*"
          to: .
      bin: bin/kubectl-tunnelmesh
`;
}

function main() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  if (!existsSync(join(ROOT, 'dist/cli/main.cjs'))) throw new Error('dist/cli/main.cjs is missing: run npm run build first');
  const out = resolve(arg('--out', join(ROOT, 'dist-krew')));
  mkdirSync(out, { recursive: true });
  const archive = `tunnelmesh-v${pkg.version}-krew.tar.gz`;
  const tarball = join(out, archive);
  const entries = ['bin', 'dist', 'package.json', ...productionPackages()];
  // V8's code cache is left out: it is specific to the build machine's Node (start.cjs runs without it).
  const tar = execFileSync('tar', ['--create', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--mode=u+rw,go+r,go-w', '--exclude=*.cache', ...entries], {
    cwd: ROOT,
    maxBuffer: 1024 ** 3,
  });
  const gz = execFileSync('gzip', ['-n', '-9'], { input: tar, maxBuffer: 1024 ** 3 });
  writeFileSync(tarball, gz);
  const sha256 = createHash('sha256').update(gz).digest('hex');
  const text = manifest({ version: pkg.version, homepage: pkg.homepage, archive, sha256 });
  writeFileSync(join(out, 'tunnelmesh.yaml'), text);
  const committed = arg('--manifest', undefined);
  if (committed) writeFileSync(resolve(committed), text);
  process.stdout.write(`${tarball}\n${join(out, 'tunnelmesh.yaml')}\nsha256 ${sha256}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
