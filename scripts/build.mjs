// Builds dist/cli/main.cjs: the CLI bundled into one CommonJS file. Node loads one CommonJS
// file faster than the ~90 ES modules tsc emits, and faster than one ES module through the ESM
// loader (measured by `npm run bench`: `doctor -f fixtures/demo` 200 ms → 150 ms, `node -e 0`
// being 75 ms). The Kubernetes client stays external, loaded with import() on the live path
// only. Type-checking is `npm run typecheck`.

import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/main.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@kubernetes/client-node'],
  // The sources are ES modules that find package.json from import.meta.url.
  define: { 'import.meta.url': '__tunnelmeshModuleUrl' },
  banner: { js: "const __tunnelmeshModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});
