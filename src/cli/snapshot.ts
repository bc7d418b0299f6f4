// `tunnelmesh snapshot`: what doctor would judge, as one redacted YAML stream on stdout.

import type { ConfigMap } from '../core/k8s.js';
import { collect, packageVersion, type CollectOptions } from './doctor.js';
import { processIo, VerboseLog, warn, type Io } from './terminal.js';

export async function runSnapshot(opts: CollectOptions, io: Io = processIo): Promise<number> {
  const verbose = new VerboseLog(opts.verbose === true);
  const collected = await verbose.phase('collect', () => collect(opts, true, io), (c) => `${c.snapshot.objects.length} objects`);
  const { snapshot } = collected;
  for (const w of snapshot.warnings) warn(w, io);
  for (const e of snapshot.incomplete.filter((x) => x.reason !== 'not-installed')) {
    warn(`could not list ${e.kind}${e.namespace ? ` in ${e.namespace}` : ''}: ${e.reason}; the snapshot says so, and a replay judges it as unknown`, io);
  }
  if (snapshot.mode === 'files') {
    // Manifests may hold any ConfigMap; keep what the live collector keeps.
    const { keepConfigMap } = await import('../collect/live.js');
    const dropped = snapshot.objects.filter((o) => o.kind === 'ConfigMap' && !keepConfigMap(o as ConfigMap));
    if (dropped.length) verbose.log(`left out ${dropped.length} ConfigMaps that hold no tunnel or mesh config`);
    snapshot.objects = snapshot.objects.filter((o) => !dropped.includes(o));
  }
  const { renderSnapshot } = await import('../collect/snapshot-file.js');
  const text = await verbose.phase('render', () =>
    renderSnapshot(snapshot, { ...(collected.namespace ? { namespace: collected.namespace } : {}), version: packageVersion(), collectedAt: collectedAt() }),
  );
  io.out(text);
  return 0;
}

/** Now, or SOURCE_DATE_EPOCH (seconds) when set, as reproducible builds do: the same input then gives the same file. */
function collectedAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000).toISOString() : new Date().toISOString();
}
