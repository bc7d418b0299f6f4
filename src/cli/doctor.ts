// `tunnelmesh doctor`: collect → model → rules → report, and the exit code.

import { UsageError } from '../errors.js';
import { incompleteScope, type Snapshot } from '../collect/snapshot.js';
import { makeChalk, processIo, startSpinner, warn, type ColorMode, type Io } from './terminal.js';

const MAX_WARNINGS = 50;

export interface DoctorOptions {
  namespace?: string;
  allNamespaces?: boolean;
  filename?: string[];
  context?: string;
  kubeconfig?: string;
  output: 'table' | 'json';
  failOn: 'error' | 'warning' | 'info' | 'none';
  clusterDomain: string;
  tunnelNamespace?: string[];
  requestTimeout: string;
  maxInputSize: string;
  color: ColorMode;
  verbose?: boolean;
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--request-timeout ${text}: expected a duration such as 30s, 1500ms or 1m`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 'm' ? n * 60000 : n * 1000);
}

export interface Collected {
  snapshot: Snapshot;
  /** Findings scope (-n, or the context's namespace live); undefined = everything. */
  namespace?: string;
  title: string;
}

export async function collect(opts: DoctorOptions, spinnerEnabled: boolean, io: Io = processIo): Promise<Collected> {
  if (opts.namespace && opts.allNamespaces) throw new UsageError('-n and -A cannot be used together');
  if (opts.filename?.length) {
    const [{ collectFromFiles }, { parseSize }] = await Promise.all([import('../collect/files.js'), import('../collect/limits.js')]);
    const maxInputBytes = parseSize(opts.maxInputSize);
    if (maxInputBytes === undefined) throw new UsageError(`--max-input-size ${opts.maxInputSize}: expected a size such as 256Mi, 1Gi or 500000000`);
    const snapshot = await collectFromFiles(opts.filename, { maxInputBytes, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
    const title = `tunnelmesh doctor — ${snapshot.objects.length} objects from ${opts.filename.join(', ')}${opts.namespace ? ` (findings in namespace ${opts.namespace})` : ''}`;
    return opts.namespace ? { snapshot, namespace: opts.namespace, title } : { snapshot, title };
  }
  const spinner = await startSpinner('collecting from the cluster…', spinnerEnabled);
  try {
    const { collectLive } = await import('../collect/live.js');
    const result = await collectLive({
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context ? { context: opts.context } : {}),
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      allNamespaces: opts.allNamespaces === true,
      requestTimeoutMs: parseDuration(opts.requestTimeout),
      tunnelNamespaces: opts.tunnelNamespace ?? [],
      ...(opts.verbose ? { log: (m: string) => io.err(`tunnelmesh: ${m}\n`) } : {}),
    });
    const live = result.snapshot.live;
    const where = result.namespace ? `namespace ${result.namespace}` : 'all namespaces';
    const title = `tunnelmesh doctor — context ${live?.context} (${live?.server}), ${where}: ${result.snapshot.objects.length} objects`;
    return result.namespace ? { snapshot: result.snapshot, namespace: result.namespace, title } : { snapshot: result.snapshot, title };
  } finally {
    spinner.stop();
  }
}

export async function runDoctor(opts: DoctorOptions, io: Io = processIo): Promise<number> {
  const collected = await collect(opts, opts.output === 'table', io);
  const { snapshot } = collected;
  // A broken dump can skip thousands of objects: a screenful, then a count (--verbose: all).
  const shown = opts.verbose ? snapshot.warnings : snapshot.warnings.slice(0, MAX_WARNINGS);
  for (const w of shown) warn(w, io);
  const hidden = snapshot.warnings.length - shown.length;
  if (hidden > 0) warn(`${hidden} more warning${hidden === 1 ? '' : 's'} like these not shown (--verbose shows all)`, io);
  const [{ MeshModel }, { runRules, failsAt }] = await Promise.all([import('../model/model.js'), import('../rules/run.js')]);
  const model = new MeshModel(snapshot, { clusterDomain: opts.clusterDomain });
  const findings = runRules(model, collected.namespace ? { namespace: collected.namespace } : {});
  const notes = [...model.notes, ...edgeNotes(model, collected.namespace)];
  const incomplete = snapshot.incomplete.filter((e) => e.reason !== 'not-installed');
  for (const e of incomplete) warn(`could not ${e.name ? 'read' : 'list'} ${incompleteScope(e)}: ${e.reason}${e.message ? ` (${e.message})` : ''}`, io);
  const input = { findings, incomplete, notes };
  if (opts.output === 'json') {
    const { doctorJson } = await import('../report/json.js');
    io.out(doctorJson(input));
  } else {
    const { doctorTable } = await import('../report/table.js');
    io.out(doctorTable(input, { chalk: await makeChalk(opts.color), title: collected.title }));
  }
  return failsAt(findings, opts.failOn) ? 1 : 0;
}

/** What the report should say about edges it could not judge. */
function edgeNotes(model: import('../model/model.js').MeshModel, scope: string | undefined): string[] {
  const notes: string[] = [];
  for (const t of model.tunnels) {
    if (t.connectors.length === 0) notes.push(`${t.label}: ${t.connectorEvidence}; what its clients send cannot be judged`);
    for (const p of t.problems) notes.push(`${t.label}: ${p}`);
  }
  const unknown = new Map<string, string>();
  for (const e of model.tunnelEdges) {
    for (const c of e.clients) {
      for (const v of c.endpoints) {
        if (v.outcome === 'unknown') unknown.set(`${e.service.namespace}/${e.service.name}:${e.servicePort.port}`, v.why);
      }
    }
  }
  for (const [key, why] of unknown) notes.push(`edge to ${key} not judged: ${why}`);
  // With -n, rules that lead out of the namespace are not judged by design: no word about them.
  notes.push(...model.edgeGaps.filter((g) => scope === undefined || g.namespace === scope).map((g) => g.text));
  // ConfigMaps that could not be listed may hold tunnel configs: say so rather than "none found".
  const configMapGaps = model.snapshot.incomplete.filter((e) => e.kind === 'ConfigMap' && e.name === undefined);
  for (const e of configMapGaps) {
    notes.push(`tunnel configs in ConfigMaps ${e.namespace ? `in ${e.namespace}` : e.labelSelector ? `labelled ${e.labelSelector}` : 'cluster-wide'} could not be listed (${e.reason}): tunnels there are not judged`);
  }
  if (model.tunnels.length === 0) {
    notes.push(
      `no tunnel config ${configMapGaps.length ? 'seen' : 'found'} (operator tunnel-config-<id> ConfigMaps, or ConfigMaps holding a cloudflared config with ingress:); only tunnel-independent rules ran`,
    );
  }
  return notes;
}
