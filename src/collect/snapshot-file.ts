// The `tunnelmesh snapshot` file: one YAML stream that `doctor -f` replays. Its first document
// (kind Snapshot, ignored by kubectl-style tools as an unknown kind) says where the objects came
// from, what was listed in full and what could not be collected, so a replay judges exactly what
// the live run judged: running pods only (not workload templates), the same `incomplete` kinds,
// and nothing the live run did not see counted as absent.

import jsyaml from 'js-yaml';
import type { KObject } from '../core/k8s.js';
import { KINDS } from '../core/kinds.js';
import { dumpWrapper } from '../core/envoy-dump.js';
import { redactObject } from './redact.js';
import type { IncompleteEntry, ListedScope, LiveOrigin, Snapshot } from '../core/snapshot.js';

export const SNAPSHOT_API_VERSION = 'tunnelmesh.io/v1alpha1';
export const SNAPSHOT_KIND = 'Snapshot';

export interface SnapshotHeader {
  live?: LiveOrigin;
  incomplete: IncompleteEntry[];
  /** Live: the lists the API server answered in full (absent in snapshots of older versions: then all is taken as seen). */
  listed?: ListedScope[];
}

/** The optional string fields of a scope, as written in the header. */
function scopeFields(e: Record<string, unknown>): Pick<ListedScope, 'namespace' | 'labelSelector' | 'name' | 'filter'> {
  const out: Pick<ListedScope, 'namespace' | 'labelSelector' | 'name' | 'filter'> = {};
  for (const key of ['namespace', 'labelSelector', 'name', 'filter'] as const) if (typeof e[key] === 'string') out[key] = e[key];
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The header of a snapshot file, or undefined when `value` is not one. */
export function readSnapshotHeader(value: unknown): SnapshotHeader | undefined {
  if (!isPlain(value) || value.kind !== SNAPSHOT_KIND || typeof value.apiVersion !== 'string' || !value.apiVersion.startsWith('tunnelmesh.io/')) {
    return undefined;
  }
  const source = isPlain(value.source) ? value.source : {};
  const header: SnapshotHeader = { incomplete: [] };
  if (source.mode === 'live' && typeof source.context === 'string') header.live = { context: source.context, server: '' };
  if (Array.isArray(value.incomplete)) {
    for (const e of value.incomplete) {
      if (!isPlain(e) || typeof e.kind !== 'string') continue;
      const reason = e.reason === 'forbidden' || e.reason === 'not-installed' ? e.reason : 'error';
      header.incomplete.push({ kind: e.kind, reason, ...scopeFields(e), ...(typeof e.message === 'string' ? { message: e.message } : {}) });
    }
  }
  if (header.live && Array.isArray(value.listed)) {
    header.listed = value.listed.filter((e): e is Record<string, unknown> => isPlain(e) && typeof e.kind === 'string').map((e) => ({ kind: e.kind as string, ...scopeFields(e) }));
  }
  return header;
}

const KIND_ORDER = new Map(KINDS.map((k, i) => [k.kind, i]));

function compareObjects(a: KObject, b: KObject): number {
  const ka = KIND_ORDER.get(a.kind) ?? KINDS.length;
  const kb = KIND_ORDER.get(b.kind) ?? KINDS.length;
  if (ka !== kb) return ka - kb;
  const na = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const nb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function compareScopes(a: ListedScope, b: ListedScope): number {
  const ka = `${a.kind}\u0000${a.namespace ?? ''}\u0000${a.labelSelector ?? ''}\u0000${a.name ?? ''}\u0000${a.filter ?? ''}`;
  const kb = `${b.kind}\u0000${b.namespace ?? ''}\u0000${b.labelSelector ?? ''}\u0000${b.name ?? ''}\u0000${b.filter ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export interface SnapshotFileOptions {
  /** Findings scope of the run (`-n`, or the context's namespace). */
  namespace?: string;
  version: string;
  /** ISO time; omitted in tests that compare files. */
  collectedAt?: string;
}

function dump(doc: unknown): string {
  return jsyaml.dump(doc, { lineWidth: -1, noRefs: true, quotingType: '"' });
}

/** The snapshot as a YAML stream, objects in a stable order, every one redacted. */
export function renderSnapshot(snapshot: Snapshot, opts: SnapshotFileOptions): string {
  const objects = [...snapshot.objects].sort(compareObjects).map(redactObject);
  const replay = `tunnelmesh doctor -f <this file>${opts.namespace ? ` -n ${opts.namespace}` : ''}`;
  const from = snapshot.live ? `context ${snapshot.live.context}` : 'manifests';
  const header = {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: SNAPSHOT_KIND,
    metadata: { name: 'snapshot' },
    source: {
      mode: snapshot.live ? 'live' : 'files',
      ...(snapshot.live ? { context: snapshot.live.context } : {}),
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      tunnelmesh: opts.version,
      ...(opts.collectedAt ? { collectedAt: opts.collectedAt } : {}),
      objects: objects.length,
      ...(snapshot.proxyConfigs?.length ? { envoyConfigDumps: snapshot.proxyConfigs.length } : {}),
    },
    incomplete: snapshot.incomplete.map((e) => ({ ...e })),
    ...(snapshot.listed ? { listed: [...snapshot.listed].map((l) => ({ ...l })).sort(compareScopes) } : {}),
  };
  const comments = [
    `tunnelmesh snapshot: ${objects.length} objects from ${from}`,
    'Secrets are never collected; only tunnel and mesh ConfigMaps are kept; managedFields and last-applied-configuration',
    'are dropped; tunnel tokens, credentials files and secret-looking env values are redacted.',
    `Replay: ${replay}`,
  ];
  // Envoy config dumps last, pruned already (no certificates, routes or secrets), so a replay compares with them too.
  const dumps = (snapshot.proxyConfigs ?? []).map((d) => dump(dumpWrapper(d)));
  const parts = [comments.map((c) => `# ${c}\n`).join('') + dump(header), ...objects.map(dump), ...dumps];
  return parts.map((p) => `---\n${p}`).join('');
}
