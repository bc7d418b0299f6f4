// `doctor --fix-diff FILE`: loads the yaml (Document API) and diff libraries only here — neither
// `--version` nor an ordinary run pays for them — and writes the patch planned by
// src/report/fix-diff.ts, saying on stderr what could not be placed in a file.

import { readFileSync, writeFileSync } from 'node:fs';
import { lazyImport } from '../collect/lazy-import.js';
import type { KObject } from '../core/k8s.js';
import type { Snapshot } from '../core/snapshot.js';
import { UsageError } from '../errors.js';
import type { FixDiffLibraries } from '../report/fix-diff.js';
import type { Finding } from '../rules/types.js';
import { warn, type Io } from './terminal.js';

export interface FixDiffOptions {
  findings: Finding[];
  snapshot: Snapshot;
  texts: Map<string, string>;
  chartDir?: string;
  rejudge: (objects: KObject[]) => Finding[];
  quiet: boolean;
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function writeFixDiff(file: string, opts: FixDiffOptions, io: Io): Promise<void> {
  const [yaml, diff, { planFixDiff }] = await Promise.all([lazyImport<FixDiffLibraries['yaml']>('yaml'), lazyImport<FixDiffLibraries['diff']>('diff'), import('../report/fix-diff.js')]);
  const result = planFixDiff(
    { yaml, diff },
    {
      findings: opts.findings,
      objects: opts.snapshot.objects,
      positions: opts.snapshot.positions,
      texts: opts.texts,
      ...(opts.chartDir ? { chartDir: opts.chartDir } : {}),
      root: process.cwd(),
      rejudge: opts.rejudge,
      readFile: readIfThere,
    },
  );
  try {
    writeFileSync(file, result.patch);
  } catch (err) {
    throw new UsageError(`--fix-diff ${file}: ${(err as Error).message}`);
  }
  for (const u of result.unplaced) warn(`--fix-diff: not in the patch: ${u}`, io);
  for (const c of result.conflicts) warn(`--fix-diff: ${c}`, io);
  if (result.steps.length) warn(`--fix-diff: after applying the change, run: ${[...new Set(result.steps)].join('; ')}`, io);
  if (!opts.quiet) io.err(`tunnelmesh: wrote a patch of ${result.files.length} file${result.files.length === 1 ? '' : 's'} to ${file} (git apply ${file})\n`);
}
