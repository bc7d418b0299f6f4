// `tunnelmesh doctor`: collect → model → rules → report, and the exit code.

import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { incompleteScope, type Snapshot } from '../core/snapshot.js';
import type { TunnelEdge } from '../model/edges.js';
import type { RouteEdge } from '../model/routes.js';
import type { ReportInput } from '../report/json.js';
import type { FixesShown } from '../report/table.js';
import type { FailOn } from '../rules/run.js';
import { makeChalk, outputWidth, processIo, startSpinner, terminalSafe, VerboseLog, warn, type ColorMode, type Io } from './terminal.js';

/** A broken dump can skip thousands of objects: a screenful, then a count (--verbose: all). */
const MAX_WARNINGS = 50;

export type OutputFormat = 'table' | 'compact' | 'json' | 'yaml' | 'sarif' | 'codequality';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'compact', 'json', 'yaml', 'sarif', 'codequality'];

function packageJson(): { version: string; homepage?: string } {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; homepage?: string };
}

export function packageVersion(): string {
  return packageJson().version;
}

/** Where the project lives (SARIF helpUri, informationUri): package.json `homepage`. */
export function packageHomepage(): string | undefined {
  return packageJson().homepage;
}

export interface DoctorOptions {
  namespace?: string;
  allNamespaces?: boolean;
  filename?: string[];
  context?: string;
  kubeconfig?: string;
  output: OutputFormat;
  /** Unset: the config file's failOn, else error. */
  failOn?: FailOn;
  suppress?: string[];
  /** --config FILE; false for --no-config. */
  config?: string | false;
  fixOut?: string;
  /** Table: which fixes are printed in full (default: the recommended one). */
  fixes?: FixesShown;
  /** helm `# Source:` paths → repository paths (SARIF, code quality, JSON locations). */
  chartDir?: string;
  sourceRoot?: string;
  quiet?: boolean;
  clusterDomain: string;
  tunnelNamespace?: string[];
  requestTimeout: string;
  /** Largest input file or stream accepted (`256Mi`). */
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

export type CollectOptions = Pick<DoctorOptions, 'namespace' | 'allNamespaces' | 'filename' | 'context' | 'kubeconfig' | 'requestTimeout' | 'maxInputSize' | 'tunnelNamespace' | 'verbose'>;

export async function collect(opts: CollectOptions, spinnerEnabled: boolean, io: Io = processIo): Promise<Collected> {
  if (opts.namespace && opts.allNamespaces) throw new UsageError('-n and -A cannot be used together');
  if (opts.filename?.length) {
    const [{ collectFromFiles }, { parseSize }] = await Promise.all([import('../collect/files.js'), import('../core/limits.js')]);
    const maxInputBytes = parseSize(opts.maxInputSize);
    if (maxInputBytes === undefined) throw new UsageError(`--max-input-size ${opts.maxInputSize}: expected a size such as 256Mi, 1Gi or 500000000`);
    const snapshot = await collectFromFiles(opts.filename, { maxInputBytes, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
    const title = `tunnelmesh doctor — ${snapshot.objects.length} objects from ${opts.filename.map((f) => (f === '-' ? '<stdin>' : f)).join(', ')}${opts.namespace ? ` (findings in namespace ${opts.namespace})` : ''}`;
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
  const verbose = new VerboseLog(opts.verbose === true);
  // Config and flags first: a broken .tunnelmesh.yaml fails fast (exit 2), before any collection.
  const { resolvePolicy } = await import('./config.js');
  const { policy, failOn, config } = resolvePolicy({ ...(opts.suppress ? { suppress: opts.suppress } : {}), ...(opts.failOn ? { failOn: opts.failOn } : {}), ...(opts.config !== undefined ? { config: opts.config } : {}) }, warn);
  if (config) verbose.log(`config: ${config.file} (${config.suppressions.length} suppressions, ${Object.keys(config.severity).length} severity overrides${config.failOn ? `, failOn ${config.failOn}` : ''})`);
  if (opts.fixOut) await (await import('./fix-out.js')).checkFixDir(opts.fixOut);
  const human = opts.output === 'table';
  const collected = await verbose.phase('collect', () => collect(opts, human && !opts.quiet, io), (c) => describeCollected(c));
  const { snapshot } = collected;
  const chatter = opts.quiet ? () => undefined : (m: string) => warn(m, io);
  const shown = opts.verbose ? snapshot.warnings : snapshot.warnings.slice(0, MAX_WARNINGS);
  for (const w of shown) chatter(w);
  const hidden = snapshot.warnings.length - shown.length;
  if (hidden > 0) chatter(`${hidden} more warning${hidden === 1 ? '' : 's'} like these not shown (--verbose shows all)`);
  const [{ MeshModel }, { runRules, failsAt }, { applyPolicy }] = await Promise.all([
    import('../model/model.js'),
    import('../rules/run.js'),
    import('../rules/suppress.js'),
  ]);
  const model = await verbose.phase('model', () => new MeshModel(snapshot, { clusterDomain: opts.clusterDomain }), (m) => `${m.pods.length} pods, ${m.services.length} services, ${m.tunnels.length} tunnel configs`);
  const raw = await verbose.phase('rules', () => runRules(model, collected.namespace ? { namespace: collected.namespace } : {}), (f) => `${f.length} findings`);
  const judged = applyPolicy(raw, policy, { objects: snapshot.objects, ...(collected.namespace ? { namespace: collected.namespace } : {}) });
  for (const w of judged.warnings) warn(w, io);
  if (judged.suppressed.length) verbose.log(`suppressed: ${judged.suppressed.map((s) => `${s.finding.code} ${s.finding.resource.kind} ${s.finding.resource.namespace ?? ''}/${s.finding.resource.name} by ${s.by.origin}`).join('; ')}`);
  const notes = [...model.notes, ...edgeNotes(model, collected.namespace)];
  const incomplete = snapshot.incomplete.filter((e) => e.reason !== 'not-installed');
  for (const e of incomplete) chatter(`could not ${e.name ? 'read' : 'list'} ${incompleteScope(e)}: ${e.reason}${e.message ? ` (${e.message})` : ''}`);
  const { locatorFor } = await import('../report/locate.js');
  const input: ReportInput = { findings: judged.findings, suppressed: judged.suppressed, incomplete, notes, locator: locatorFor(snapshot, undefined, sourceMapOf(opts)) };
  const missing = opts.chartDir || opts.sourceRoot ? (input.locator?.missingTemplates?.() ?? []) : [];
  if (missing.length) warn(`${opts.chartDir ? `--chart-dir ${opts.chartDir}` : `--source-root ${opts.sourceRoot}`}: ${missing[0]}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''} not found: reports point at paths that are not in the repository`, io);
  const text = await verbose.phase('report', () => render(opts, input, collected.title), () => opts.output);
  io.out(text);
  if (opts.output === 'compact' && !opts.quiet) io.err(`tunnelmesh: ${await compactSummary(input)}\n`);
  if (opts.fixOut) await writeFixes(opts.fixOut, input, snapshot, opts.quiet === true);
  const fails = failsAt(judged.findings, failOn);
  verbose.log(`exit ${fails ? 1 : 0}: ${fails ? 'a finding is' : 'no finding is'} at or above --fail-on ${failOn}`);
  return fails ? 1 : 0;
}

function describeCollected(c: Collected): string {
  const files = new Set([...c.snapshot.positions.values()].map((p) => p.file));
  const from = c.snapshot.mode === 'files' ? `from ${files.size} file${files.size === 1 ? '' : 's'}` : `from context ${c.snapshot.live?.context}`;
  return `${c.snapshot.objects.length} objects ${from}${c.snapshot.incomplete.length ? `, ${c.snapshot.incomplete.length} lists incomplete` : ''}`;
}

export function sarifOptions(): { version: string; homepage?: string } {
  const { version, homepage } = packageJson();
  return homepage ? { version, homepage } : { version };
}

function sourceMapOf(opts: DoctorOptions): { chartDir?: string; sourceRoot?: string } {
  return { ...(opts.chartDir ? { chartDir: opts.chartDir } : {}), ...(opts.sourceRoot ? { sourceRoot: opts.sourceRoot } : {}) };
}

/** `-o compact` keeps stdout to finding lines: the totals, and what was not judged, on stderr. */
async function compactSummary(input: ReportInput): Promise<string> {
  const { summarize } = await import('../rules/run.js');
  const s = summarize(input.findings);
  const parts = [`${s.error} error${s.error === 1 ? '' : 's'}, ${s.warning} warning${s.warning === 1 ? '' : 's'}, ${s.info} info`];
  if (input.suppressed?.length) parts.push(`${input.suppressed.length} suppressed`);
  if (input.incomplete.length) parts.push(`${input.incomplete.length} list${input.incomplete.length === 1 ? '' : 's'} not collected (verdicts that need them are not judged)`);
  if (input.notes.length) parts.push(`${input.notes.length} note${input.notes.length === 1 ? '' : 's'} (-o table shows them)`);
  return parts.join('; ');
}

async function render(opts: DoctorOptions, input: ReportInput, title: string): Promise<string> {
  switch (opts.output) {
    case 'compact':
      return terminalSafe((await import('../report/compact.js')).doctorCompact(input));
    case 'json':
      return (await import('../report/json.js')).doctorJson(input);
    case 'yaml':
      return (await import('../report/yaml.js')).doctorYaml(input);
    case 'sarif':
      return (await import('../report/sarif.js')).doctorSarif(input, sarifOptions());
    case 'codequality':
      return (await import('../report/codequality.js')).doctorCodeQuality(input);
    default: {
      const { doctorTable } = await import('../report/table.js');
      const chalk = await makeChalk(opts.color);
      const width = outputWidth();
      const table = doctorTable(input, { chalk, title, brief: opts.quiet === true, fixes: opts.fixes ?? 'recommended', ...(width !== undefined ? { width } : {}) });
      return terminalSafe(table, chalk.level > 0);
    }
  }
}

async function writeFixes(dir: string, input: ReportInput, snapshot: Snapshot, quiet: boolean): Promise<void> {
  const [{ planFixFiles }, { writeFixFiles }, { ObjectIndex }] = await Promise.all([
    import('../report/fix-files.js'),
    import('./fix-out.js'),
    import('../rules/suppress.js'),
  ]);
  const plan = planFixFiles(input.findings, new ObjectIndex(snapshot.objects));
  await writeFixFiles(dir, plan);
  for (const c of plan.conflicts) warn(`--fix-out: the fix for ${c.finding} sets ${c.target} ${c.field} differently from ${c.keptIn}; not written (see ${dir}/README.md)`);
  const written = plan.files.filter((f) => f.path.endsWith('.yaml')).length;
  if (!quiet) process.stderr.write(`tunnelmesh: wrote ${written} fix file${written === 1 ? '' : 's'} and README.md to ${dir}\n`);
}

/** Service ports (`ns/name:port`) with an endpoint judged unknown, and why (the last reason seen). */
function unjudgedServicePorts(edges: Array<TunnelEdge | RouteEdge>): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of edges) {
    for (const c of e.clients) {
      for (const v of c.endpoints) if (v.outcome === 'unknown') out.set(`${e.service.namespace}/${e.service.name}:${e.servicePort.port}`, v.why);
    }
  }
  return out;
}

/** What the report should say about edges it could not judge. */
function edgeNotes(model: import('../model/model.js').MeshModel, scope: string | undefined): string[] {
  const notes: string[] = [];
  for (const t of model.tunnels) {
    if (t.connectors.length === 0) notes.push(`${t.label}: ${t.connectorEvidence}; what its clients send cannot be judged`);
    for (const p of t.problems) notes.push(`${t.label}: ${p}`);
  }
  const unknown = unjudgedServicePorts(model.tunnelEdges);
  for (const [key, why] of unknown) notes.push(`edge to ${key} not judged: ${why}`);
  for (const [key, why] of unjudgedServicePorts(model.routeEdges)) if (!unknown.has(key)) notes.push(`gateway route to ${key} not judged: ${why}`);
  for (const b of model.operator.backends) {
    if (b.cls.ours !== false && b.unserved) notes.push(`${b.label} ${b.host || '(no host)'}: no tunnel rule — ${b.unserved}`);
  }
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
