// Temporary directories for test support: made on first use, removed when the test process
// exits (they may hold private keys, kubeconfigs with tokens, or generated inputs).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A function giving one directory `tunnelmesh-<prefix>-*`, created when first asked for. */
export function lazyTempDir(prefix: string): () => string {
  let dir: string | undefined;
  return () => {
    if (!dir) {
      const created = mkdtempSync(join(tmpdir(), `tunnelmesh-${prefix}-`));
      dir = created;
      process.once('exit', () => rmSync(created, { recursive: true, force: true }));
    }
    return dir;
  };
}
