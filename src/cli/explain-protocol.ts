// `tunnelmesh explain-protocol TARGET`: how each backend's protocol was decided along the tunnel
// and whether the path works. Same collection, model and rules as doctor: one verdict, two views.

import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import type { BackendView } from '../model/backends.js';
import type { MeshModel } from '../model/model.js';
import { collect, type DoctorOptions } from './doctor.js';
import { makeChalk, outputWidth, processIo, terminalSafe, warn, type ColorMode, type Io } from './terminal.js';

export interface ExplainOptions {
  namespace?: string;
  filename?: string[];
  context?: string;
  kubeconfig?: string;
  output: 'text' | 'json' | 'yaml';
  failOn: DoctorOptions['failOn'];
  color: ColorMode;
  clusterDomain: string;
  tunnelNamespace?: string[];
  requestTimeout: string;
  maxInputSize: string;
  verbose?: boolean;
}

export type Target =
  | { kind: 'ingress'; name: string }
  | { kind: 'service'; name: string; port?: string }
  | { kind: 'url'; host: string; path: string };

const USAGE = 'TARGET is ingress/NAME, service/NAME[:PORT], or a hostname or URL served by a tunnel (https://a.example.com/x)';

export function parseTarget(text: string): Target {
  const typed = /^([a-z]+)\/(.+)$/i.exec(text);
  if (typed && !text.includes('://')) {
    const kind = (typed[1] as string).toLowerCase();
    const rest = typed[2] as string;
    if (['ingress', 'ingresses', 'ing'].includes(kind)) return { kind: 'ingress', name: rest };
    if (['service', 'services', 'svc'].includes(kind)) {
      const [name, port] = rest.split(':') as [string, string | undefined];
      if (!name) throw new UsageError(`${text}: no Service name (${USAGE})`);
      return port ? { kind: 'service', name, port } : { kind: 'service', name };
    }
    if (!kind.includes('.')) throw new UsageError(`${text}: unknown kind ${typed[1]} (${USAGE})`);
  }
  const withScheme = text.includes('://') ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`${text} doesn't have a hostname (${USAGE})`);
  }
  if (!url.hostname || (!text.includes('://') && !url.hostname.includes('.'))) throw new UsageError(`${text} doesn't have a hostname (${USAGE})`);
  return { kind: 'url', host: url.hostname.toLowerCase(), path: url.pathname || '/' };
}

function pick<T extends { namespace: string }>(what: string, found: T[], namespace: string | undefined): T {
  const scoped = namespace ? found.filter((x) => x.namespace === namespace) : found;
  if (scoped.length === 0) throw new UsageError(`${what} not found${namespace ? ` in namespace ${namespace}` : ' in the input'}`);
  if (scoped.length > 1) throw new UsageError(`${what} exists in several namespaces (${scoped.map((x) => x.namespace).join(', ')}): choose one with -n`);
  return scoped[0] as T;
}

/** The backends a target names; throws (exit 2) when the target does not exist. */
export async function backendsFor(model: MeshModel, target: Target, namespace: string | undefined): Promise<{ label: string; views: BackendView[] }> {
  const { allBackends, backendService, backendsForUrl } = await import('../model/backends.js');
  if (target.kind === 'ingress') {
    const ingresses = model.snapshot.objects.filter((o) => o.kind === 'Ingress' && o.metadata.name === target.name).map((o) => ({ o, namespace: o.metadata.namespace as string }));
    const { o } = pick(`ingress/${target.name}`, ingresses, namespace);
    return { label: `ingress/${target.name}`, views: allBackends(model).filter((v) => v.ingress?.ingress === o) };
  }
  if (target.kind === 'service') {
    const svc = pick(`service/${target.name}`, model.services.filter((s) => s.name === target.name), namespace);
    let port: number | undefined;
    if (target.port !== undefined) {
      const sp = svc.ports.find((p) => String(p.port) === target.port || p.name === target.port);
      if (!sp) throw new UsageError(`service/${target.name} in ${svc.namespace} has no port ${target.port} (ports: ${svc.ports.map((p) => (p.name ? `${p.port}/${p.name}` : String(p.port))).join(', ') || 'none'})`);
      port = sp.port;
    }
    const views = allBackends(model).filter((v) => {
      const s = backendService(v);
      return s.namespace === svc.namespace && s.name === svc.name && (port === undefined || s.port === port);
    });
    return { label: `service/${target.name}${target.port ? `:${target.port}` : ''}`, views };
  }
  const views = backendsForUrl(model, target.host, target.path);
  if (views.length === 0) throw new UsageError(`no tunnel rule in the input serves ${target.host}${target.path === '/' ? '' : target.path} (only catch-alls match it)`);
  return { label: `${target.host}${target.path}`, views };
}

export async function runExplainProtocol(targetText: string, opts: ExplainOptions, io: Io = processIo): Promise<number> {
  const target = parseTarget(targetText);
  const collectOptions: DoctorOptions = {
    ...opts,
    output: 'json',
    // A hostname may be served by a rule to any namespace: without -n, look everywhere.
    allNamespaces: !opts.filename?.length && !opts.namespace && target.kind === 'url',
  };
  const collected = await collect(collectOptions, opts.output === 'text', io);
  const { snapshot } = collected;
  for (const w of snapshot.warnings) warn(w, io);
  for (const e of snapshot.incomplete.filter((i) => i.reason !== 'not-installed')) warn(`could not list ${e.kind}${e.namespace ? ` in ${e.namespace}` : ''}: ${e.reason}`, io);
  const [{ MeshModel }, { runRules, failsAt }, report] = await Promise.all([import('../model/model.js'), import('../rules/run.js'), import('../report/explain.js')]);
  const model = new MeshModel(snapshot, { clusterDomain: opts.clusterDomain });
  const { label, views } = await backendsFor(model, target, collected.namespace);
  const explained = report.explainBackends(model, runRules(model), views, label);
  if (snapshot.mode === 'files' && views.some((v) => v.tunnel?.predicted)) {
    explained.notes.push('no tunnel config for some class configs is in the input: their rules are predicted from the Ingresses with the operator\'s chain');
  }
  if (opts.output === 'json') {
    io.out(report.explainJson(model, explained));
  } else if (opts.output === 'yaml') {
    io.out((await import('../report/yaml.js')).toYaml(report.explainDocument(model, explained)));
  } else {
    const where = snapshot.live ? `context ${snapshot.live.context} (${snapshot.live.server})` : `${snapshot.objects.length} objects from ${opts.filename?.join(', ')}`;
    const chalk = await makeChalk(opts.color);
    const width = outputWidth();
    io.out(terminalSafe(report.explainText(model, explained, chalk, `tunnelmesh explain-protocol ${label} — ${where}`, width), chalk.level > 0));
  }
  return failsAt(explained.findings, opts.failOn ?? 'error') ? 1 : 0;
}

const repeatable = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Flags and action of `explain-protocol`, on the command main.ts creates (so it inherits the program's error handling). */
export function configureExplainProtocol(command: Command, done: (exitCode: number) => void, io: Io = processIo): Command {
  return command
    .description('how each backend of an Ingress, Service or tunnel hostname gets its protocol, and whether the path works')
    .argument('<target>', 'ingress/NAME, service/NAME[:PORT], or a hostname or URL served by a tunnel')
    .option('-n, --namespace <namespace>', 'namespace of the target (evidence is collected wherever it lives)')
    .option('-f, --filename <path>', 'manifest file, directory (recursive) or - for stdin; repeatable; the cluster is not contacted', repeatable)
    .option('--context <name>', 'kubeconfig context')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)')
    .addOption(new Option('-o, --output <format>', 'output format (json and yaml are the same document)').choices(['text', 'json', 'yaml']).default('text'))
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a related finding is at or above this severity').choices(['error', 'warning', 'info', 'none']).default('error'))
    .addOption(new Option('--color <when>', 'colour in text output').choices(['auto', 'always', 'never']).default('auto'))
    .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
    .option('--tunnel-namespace <namespace>', 'another namespace where cloudflared runs (repeatable)', repeatable)
    .option('--request-timeout <duration>', 'per-request timeout against the API server', '30s')
    .option('--max-input-size <size>', 'with -f: refuse a file (or stdin) larger than this (e.g. 512Mi)', '256Mi')
    .option('-v, --verbose', 'say what is requested from the cluster, with timings')
    .action(async (target: string, opts: ExplainOptions) => {
      done(await runExplainProtocol(target, opts, io));
    });
}
