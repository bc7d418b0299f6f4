// `tunnelmesh doctor`: collect → model → rules → report, and the exit code.

import { UsageError } from '../errors.js';
import type { Snapshot } from '../collect/snapshot.js';
import { makeChalk, startSpinner, warn, type ColorMode } from './terminal.js';

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

export async function collect(opts: DoctorOptions, spinnerEnabled: boolean): Promise<Collected> {
  if (opts.namespace && opts.allNamespaces) throw new UsageError('-n and -A cannot be used together');
  if (opts.filename?.length) {
    const { collectFromFiles } = await import('../collect/files.js');
    const snapshot = await collectFromFiles(opts.filename, opts.namespace ? { namespace: opts.namespace } : {});
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
      ...(opts.verbose ? { log: (m: string) => process.stderr.write(`tunnelmesh: ${m}\n`) } : {}),
    });
    const live = result.snapshot.live;
    const where = result.namespace ? `namespace ${result.namespace}` : 'all namespaces';
    const title = `tunnelmesh doctor — context ${live?.context} (${live?.server}), ${where}: ${result.snapshot.objects.length} objects`;
    return result.namespace ? { snapshot: result.snapshot, namespace: result.namespace, title } : { snapshot: result.snapshot, title };
  } finally {
    spinner.stop();
  }
}

export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const collected = await collect(opts, opts.output === 'table');
  const { snapshot } = collected;
  for (const w of snapshot.warnings) warn(w);
  const [{ MeshModel }, { runRules, failsAt }] = await Promise.all([import('../model/model.js'), import('../rules/run.js')]);
  const model = new MeshModel(snapshot, { clusterDomain: opts.clusterDomain });
  const findings = runRules(model, collected.namespace ? { namespace: collected.namespace } : {});
  const notes = [...model.notes, ...edgeNotes(model)];
  const incomplete = snapshot.incomplete.filter((e) => e.reason !== 'not-installed');
  for (const e of incomplete) warn(`could not list ${e.kind}${e.namespace ? ` in ${e.namespace}` : ''}: ${e.reason}${e.message ? ` (${e.message})` : ''}`);
  const input = { findings, incomplete, notes };
  if (opts.output === 'json') {
    const { doctorJson } = await import('../report/json.js');
    process.stdout.write(doctorJson(input));
  } else {
    const { doctorTable } = await import('../report/table.js');
    process.stdout.write(doctorTable(input, { chalk: await makeChalk(opts.color), title: collected.title }));
  }
  return failsAt(findings, opts.failOn) ? 1 : 0;
}

/** What the report should say about edges it could not judge. */
function edgeNotes(model: import('../model/model.js').MeshModel): string[] {
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
  for (const b of model.operator.backends) {
    if (b.cls.ours !== false && b.unserved) notes.push(`${b.label} ${b.host || '(no host)'}: no tunnel rule — ${b.unserved}`);
  }
  if (model.tunnels.length === 0) notes.push('no tunnel config found (operator tunnel-config-<id> ConfigMaps, or ConfigMaps holding a cloudflared config with ingress:); only tunnel-independent rules ran');
  return notes;
}
