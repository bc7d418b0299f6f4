// Builds dist/cli/main.cjs: the CLI bundled into one CommonJS file. Node loads one CommonJS
// file faster than the ~90 ES modules tsc emits, and faster than one ES module through the ESM
// loader (measured by `npm run bench`: `doctor -f fixtures/demo` 200 ms → 150 ms, `node -e 0`
// being 75 ms). The Kubernetes client stays external, loaded with import() on the live path
// only; so do yaml and diff, loaded by --fix-diff only. Type-checking is `npm run typecheck`.

import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/main.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // re2js is required on first use of a path regexp (src/model/goregexp.ts); yaml and diff only by --fix-diff.
  external: ['@kubernetes/client-node', 're2js', 'yaml', 'diff'],
  // The sources are ES modules that find package.json from import.meta.url.
  define: { 'import.meta.url': '__tunnelmeshModuleUrl' },
  banner: { js: "const __tunnelmeshModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// V8's code cache for the bundle, taken after a quiet run on the demo so the functions a run
// needs are in it (bin/start.cjs uses it; `doctor -f fixtures/demo` ~0.21 s → ~0.18 s, `node -e 0`
// being ~0.11 s). Without it everything still works, only slower: a failure here is a warning.
try {
  const require = createRequire(import.meta.url);
  const demo = fileURLToPath(new URL('../fixtures/demo', import.meta.url));
  const quiet = { out: () => undefined, err: () => undefined };
  await require('../bin/start.cjs').writeCache(['node', 'tunnelmesh', 'doctor', '-f', demo, '-o', 'json'], quiet);
} catch (err) {
  process.stderr.write(`build: no code cache written: ${err instanceof Error ? err.message : String(err)}\n`);
}
