// Writes the planned fix files into DIR. A directory from an earlier --fix-out run is
// refreshed (its old fix files removed, so `kubectl apply -f DIR` never applies a stale fix);
// any other non-empty directory is refused.

import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { ALTERNATIVES_DIR, INDEX_FILE, INDEX_MARKER, OWN_FILE, SERVER_SIDE_DIR, type FixPlan } from '../report/fix-files.js';

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`--fix-out ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'not a directory' : (err as Error).message}`);
  }
}

/** Fails (exit 2) unless DIR is absent, empty, or an earlier --fix-out directory; run before collecting. */
export async function checkFixDir(dir: string): Promise<string[]> {
  const names = await entries(dir);
  if (names.length === 0) return names;
  const index = names.includes(INDEX_FILE) ? await readFile(join(dir, INDEX_FILE), 'utf8').catch(() => '') : '';
  if (!index.includes(INDEX_MARKER)) {
    throw new UsageError(`--fix-out ${dir}: the directory is not empty and was not written by tunnelmesh; name a new or empty directory`);
  }
  return names;
}

async function clearPrevious(dir: string): Promise<void> {
  if ((await checkFixDir(dir)).length === 0) return;
  for (const sub of ['', SERVER_SIDE_DIR, ALTERNATIVES_DIR]) {
    const path = sub ? join(dir, sub) : dir;
    for (const name of await entries(path)) {
      if (OWN_FILE.test(name)) await rm(join(path, name));
    }
  }
  await rm(join(dir, INDEX_FILE));
  const left = (await entries(dir)).filter((n) => /\.(ya?ml|json)$/i.test(n));
  if (left.length) {
    throw new UsageError(`--fix-out ${dir}: holds ${left.join(', ')}, which tunnelmesh did not write (kubectl apply -f ${dir} would apply them too)`);
  }
}

/** Writes the plan; returns the paths written (relative to DIR). */
export async function writeFixFiles(dir: string, plan: FixPlan): Promise<string[]> {
  await clearPrevious(dir);
  for (const file of plan.files) {
    const path = join(dir, file.path); // plan paths use '/', which join normalises
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
  }
  return plan.files.map((f) => f.path);
}
