// Loads the bundled CLI (dist/cli/main.cjs) with V8's code cache when the build left one
// (dist/cli/main.cjs.cache, written by scripts/build.mjs after a run on the demo): compiling
// the bundle and its first-run functions is a fifth of a small run's time. A cache V8 rejects
// (another Node, other flags, a stale build) only costs the normal compile.

'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const BUNDLE = path.join(__dirname, '..', 'dist', 'cli', 'main.cjs');
const CACHE = `${BUNDLE}.cache`;

// The bundle's import() calls go through here (see src/collect/lazy-import.ts): inside
// vm.Script they would have no loader. Resolved from this file, next to the bundle's node_modules.
globalThis.__tunnelmeshImport = (specifier) => import(specifier);

function load(useCache) {
  let cachedData;
  try {
    cachedData = useCache ? fs.readFileSync(CACHE) : undefined;
  } catch {
    cachedData = undefined; // no cache: compile as usual
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(BUNDLE, 'utf8')), {
    filename: BUNDLE,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {}, filename: BUNDLE, id: BUNDLE };
  script.runInThisContext()(module.exports, Module.createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE));
  return { exports: module.exports, script };
}

/** Runs one command line and sets the exit code. */
function start(argv) {
  const { exports } = load(true);
  return exports.main(argv).then((code) => {
    process.exitCode = code;
  });
}

/** Build step: run a command line (the demo; `io` keeps it quiet) and keep the code V8 compiled for it. */
function writeCache(argv, io) {
  const { exports, script } = load(false);
  return exports.main(argv, io).then(() => {
    fs.writeFileSync(CACHE, script.createCachedData());
  });
}

module.exports = { start, writeCache };
