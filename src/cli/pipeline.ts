// The run every judging command shares: policy (flags and .tunnelmesh.yaml), collection (files or
// a live cluster), then `judge`. doctor and explain-protocol differ only in what they show.

import { readFileSync } from 'node:fs';
import { incompleteScope, type Snapshot } from '../core/snapshot.js';
import { UsageError } from '../errors.js';
import type { ExitPolicy, Judgement } from '../rules/judge.js';
import type { FailOn } from '../rules/run.js';
import { processIo, startSpinner, VerboseLog, warn, type Io } from './terminal.js';

/** A broken dump can skip thousands of objects: a screenful, then a count (--verbose: all). */
const MAX_WARNINGS = 50;

export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export interface CollectOptions {
  namespace?: string;
  allNamespaces?: boolean;
  filename?: string[];
  context?: string;
  kubeconfig?: string;
  tunnelNamespace?: string[];
  requestTimeout: string;
  /** Largest input file or stream accepted (`256Mi`). */
  maxInputSize: string;
  verbose?: boolean;
  /** Keeps each input file's text (for --fix-diff). */
  keepTexts?: Map<string, string>;
  /** `--proxy-config[=clients,targets]`: live, read the proxies' Envoy config dumps too. */
  proxyConfig?: boolean | string;
  /** `--proxy-config-file FILE…`: saved Envoy config dumps. */
  proxyConfigFile?: string[];
  /** For choosing the proxies worth a dump (the edges are judged for that). */
  clusterDomain?: string;
  /** The root namespace of --mesh-config, for what live collection lists there. */
  rootNamespace?: string;
}

/** `--proxy-config` (clients), `--proxy-config=clients,targets`. */
export function parseProxyRoles(value: string | boolean | undefined): Array<'clients' | 'targets'> | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true || value === '') return ['clients'];
  const roles = value.split(',').map((r) => r.trim().toLowerCase());
  const bad = roles.filter((r) => r !== 'clients' && r !== 'targets');
  if (bad.length) {
    throw new UsageError(`--proxy-config ${value}: expected clients, targets or clients,targets (not ${bad.join(', ')}); an argument right after --proxy-config is taken as its value: write --proxy-config=clients, or put it last`);
  }
  return [...new Set(roles)] as Array<'clients' | 'targets'>;
}

/** `--proxy-config-file`: saved dumps into the snapshot, each file capped like -f inputs. */
async function addProxyConfigFiles(snapshot: Snapshot, opts: CollectOptions): Promise<void> {
  if (!opts.proxyConfigFile?.length) return;
  const [{ readProxyConfigFiles }, { readText }, { parseSize }] = await Promise.all([import('../collect/envoy.js'), import('../collect/files.js'), import('../core/limits.js')]);
  const limit = parseSize(opts.maxInputSize);
  if (limit === undefined) throw new UsageError(`--max-input-size ${opts.maxInputSize}: expected a size such as 256Mi, 1Gi or 500000000`);
  const inputs = await readProxyConfigFiles(opts.proxyConfigFile, (file) => readText(file, limit));
  snapshot.proxyConfigs = [...(snapshot.proxyConfigs ?? []), ...inputs];
}

export interface JudgeRunOptions extends CollectOptions {
  /** Unset: the config file's failOn, else error. */
  failOn?: FailOn;
  failOnIncomplete?: boolean;
  suppress?: string[];
  /** --config FILE; false for --no-config. */
  config?: string | false;
  clusterDomain: string;
  quiet?: boolean;
  /** --mesh-config FILE. */
  meshConfig?: string;
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
  /** What was judged, for a report's first line. */
  title: string;
}

export async function collect(opts: CollectOptions, spinnerEnabled: boolean, io: Io = processIo): Promise<Collected> {
  if (opts.namespace && opts.allNamespaces) throw new UsageError('-n and -A cannot be used together');
  const roles = parseProxyRoles(opts.proxyConfig);
  if (opts.filename?.length) {
    if (roles) throw new UsageError('--proxy-config reads the proxies of a live cluster; with -f, pass saved dumps with --proxy-config-file FILE');
    const [{ collectFromFiles }, { parseSize }] = await Promise.all([import('../collect/files.js'), import('../core/limits.js')]);
    const maxInputBytes = parseSize(opts.maxInputSize);
    if (maxInputBytes === undefined) throw new UsageError(`--max-input-size ${opts.maxInputSize}: expected a size such as 256Mi, 1Gi or 500000000`);
    const snapshot = await collectFromFiles(opts.filename, { maxInputBytes, ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(opts.keepTexts ? { keepTexts: opts.keepTexts } : {}) });
    await addProxyConfigFiles(snapshot, opts);
    const title = `${snapshot.objects.length} objects from ${opts.filename.map((f) => (f === '-' ? '<stdin>' : f)).join(', ')}${opts.namespace ? ` (findings in namespace ${opts.namespace})` : ''}`;
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
      ...(opts.rootNamespace ? { rootNamespace: opts.rootNamespace } : {}),
      ...(opts.verbose ? { log: (m: string) => io.err(`tunnelmesh: ${m}\n`) } : {}),
      ...(roles
        ? {
            // Which proxies matter is known once the edges are: a model of what was collected says.
            proxyConfig: {
              select: async (snapshot: Snapshot, namespace: string | undefined) => {
                const [{ MeshModel }, { proxyConfigTargets }] = await Promise.all([import('../model/model.js'), import('../model/envoy/select.js')]);
                return proxyConfigTargets(new MeshModel(snapshot, { clusterDomain: opts.clusterDomain ?? 'cluster.local' }), roles, namespace);
              },
            },
          }
        : {}),
    });
    await addProxyConfigFiles(result.snapshot, opts);
    const live = result.snapshot.live;
    const where = result.namespace ? `namespace ${result.namespace}` : 'all namespaces';
    const title = `context ${live?.context} (${live?.server}), ${where}: ${result.snapshot.objects.length} objects`;
    return result.namespace ? { snapshot: result.snapshot, namespace: result.namespace, title } : { snapshot: result.snapshot, title };
  } finally {
    spinner.stop();
  }
}

function describeCollected(c: Collected): string {
  const files = new Set([...c.snapshot.positions.values()].map((p) => p.file));
  const from = c.snapshot.mode === 'files' ? `from ${files.size} file${files.size === 1 ? '' : 's'}` : `from context ${c.snapshot.live?.context}`;
  return `${c.snapshot.objects.length} objects ${from}${c.snapshot.incomplete.length ? `, ${c.snapshot.incomplete.length} lists incomplete` : ''}`;
}

export interface JudgedRun {
  collected: Collected;
  judgement: Judgement;
  exit: ExitPolicy;
}

/**
 * Policy first (a broken .tunnelmesh.yaml fails fast, exit 2, before any request), then the
 * objects, then one judgement; what the input and the policy had to say goes to stderr.
 */
export async function collectAndJudge(opts: JudgeRunOptions, spinner: boolean, verbose: VerboseLog, io: Io = processIo): Promise<JudgedRun> {
  const { resolvePolicy } = await import('./config.js');
  const policyFlags = { ...(opts.suppress ? { suppress: opts.suppress } : {}), ...(opts.failOn ? { failOn: opts.failOn } : {}), ...(opts.failOnIncomplete ? { failOnIncomplete: true } : {}), ...(opts.config !== undefined ? { config: opts.config } : {}) };
  const { policy, failOn, failOnIncomplete, config } = resolvePolicy(policyFlags, (m) => warn(m, io));
  if (config) verbose.log(`config: ${config.file} (${config.suppressions.length} suppressions, ${Object.keys(config.severity).length} severity overrides${config.failOn ? `, failOn ${config.failOn}` : ''}${config.failOnIncomplete ? ', failOnIncomplete' : ''})`);
  // --mesh-config before any request: a bad file is exit 2 at once.
  const meshConfig = opts.meshConfig === undefined ? undefined : await (await import('../collect/mesh-config.js')).readMeshConfigFile(opts.meshConfig);
  const root = meshConfig?.mesh.rootNamespace;
  const collected = await verbose.phase('collect', () => collect({ ...opts, ...(typeof root === 'string' && root ? { rootNamespace: root } : {}) }, spinner && !opts.quiet, io), describeCollected);
  const { snapshot } = collected;
  const chatter = opts.quiet ? () => undefined : (m: string) => warn(m, io);
  const shown = opts.verbose ? snapshot.warnings : snapshot.warnings.slice(0, MAX_WARNINGS);
  for (const w of shown) chatter(w);
  const hidden = snapshot.warnings.length - shown.length;
  if (hidden > 0) chatter(`${hidden} more warning${hidden === 1 ? '' : 's'} like these not shown (--verbose shows all)`);
  const { judge } = await import('../rules/judge.js');
  const judgement = await verbose.phase(
    'judge',
    () => judge(snapshot, { clusterDomain: opts.clusterDomain, policy, ...(meshConfig ? { meshConfig } : {}), ...(collected.namespace !== undefined ? { namespace: collected.namespace } : {}) }),
    (j) => `${j.model.pods.length} pods, ${j.model.services.length} services, ${j.model.tunnels.length} tunnel configs; ${j.findings.length} findings; ${j.scope.judged} of ${j.scope.edges} edges judged`,
  );
  for (const w of judgement.policyWarnings) warn(w, io);
  if (judgement.suppressed.length) verbose.log(`suppressed: ${judgement.suppressed.map((s) => `${s.finding.code} ${s.finding.resource.kind} ${s.finding.resource.namespace ?? ''}/${s.finding.resource.name} by ${s.by.origin}`).join('; ')}`);
  for (const e of judgement.incomplete) chatter(`could not ${e.name ? 'read' : 'list'} ${incompleteScope(e)}: ${e.reason}${e.message ? ` (${e.message})` : ''}`);
  return { collected, judgement, exit: { failOn, failOnIncomplete } };
}
