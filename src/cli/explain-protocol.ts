// `tunnelmesh explain-protocol TARGET`: how each backend's protocol was decided along the tunnel
// and whether the path works. The same run as doctor (policy, collection, one judgement): this
// command only selects the backends the target names and shows them.

import { UsageError } from '../errors.js';
import type { Selected } from '../model/backends.js';
import type { JudgedBackend, Judgement } from '../rules/judge.js';
import type { FailOn } from '../rules/run.js';
import { collectAndJudge, type JudgeRunOptions } from './pipeline.js';
import { makeChalk, outputWidth, processIo, terminalSafe, VerboseLog, type ColorMode, type Io } from './terminal.js';
import { pushAll } from '../core/arrays.js';

export interface ExplainOptions extends JudgeRunOptions {
  output: 'text' | 'json' | 'yaml';
  failOn?: FailOn;
  color: ColorMode;
}

export type Target =
  | { kind: 'ingress'; name: string }
  | { kind: 'tunnelbinding'; name: string }
  | { kind: 'httproute'; name: string }
  | { kind: 'service'; name: string; port?: string }
  | { kind: 'url'; host: string; path: string };

const USAGE = 'TARGET is ingress/NAME, tunnelbinding/NAME, httproute/NAME, service/NAME[:PORT], or a hostname or URL served by a tunnel (https://a.example.com/x)';

export function parseTarget(text: string): Target {
  const typed = /^([a-z]+)\/(.+)$/i.exec(text);
  if (typed && !text.includes('://')) {
    const kind = (typed[1] as string).toLowerCase();
    const rest = typed[2] as string;
    if (['ingress', 'ingresses', 'ing'].includes(kind)) return { kind: 'ingress', name: rest };
    if (['tunnelbinding', 'tunnelbindings'].includes(kind)) return { kind: 'tunnelbinding', name: rest };
    if (['httproute', 'httproutes'].includes(kind)) return { kind: 'httproute', name: rest };
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
export async function backendsFor(j: Judgement, target: Target, namespace: string | undefined): Promise<{ label: string; selected: Array<Selected<JudgedBackend>> }> {
  const { backendService, selectForIngress, selectForUrl, writerBackends } = await import('../model/backends.js');
  const { model } = j;
  if (target.kind === 'tunnelbinding') {
    // Both groups (the operator's and adyanth's); `-n` chooses among namespaces.
    const bindings = model.operator.bindings.filter((b) => b.binding.metadata.name === target.name);
    const b = pick(`tunnelbinding/${target.name}`, bindings, namespace);
    return { label: `tunnelbinding/${target.name}`, selected: writerBackends(j.backends, b.binding, []).selected.map((backend) => ({ backend })) };
  }
  if (target.kind === 'httproute') {
    const routes = model.snapshot.objects.filter((o) => o.kind === 'HTTPRoute' && o.metadata.name === target.name).map((o) => ({ o, namespace: o.metadata.namespace as string }));
    const { o } = pick(`httproute/${target.name}`, routes, namespace);
    const { selected, alone } = writerBackends(j.backends, o, model.routeEdges);
    const out: Array<Selected<JudgedBackend>> = selected.map((backend) => ({ backend }));
    // An Istio gateway's hop no tunnel rule in the input reaches: shown alone, with the routes' own verdicts.
    const judged = j.routes.filter((r) => alone.includes(r.route));
    if (judged.length) {
      const verdict = judged.some((r) => r.verdict === 'broken') ? 'broken' : judged.some((r) => r.verdict === 'unknown') ? 'unknown' : 'ok';
      out.push({
        backend: {
          view: { onward: alone },
          findings: [...new Set(judged.flatMap((r) => r.findings))],
          suppressed: [...new Set(judged.flatMap((r) => r.suppressed))],
          verdict,
          missing: verdict === 'broken' ? [] : [...new Set(judged.flatMap((r) => r.missing))],
          isEdge: true,
          namespace: judged[0]?.namespace as string,
        },
      });
    }
    return { label: `httproute/${target.name}`, selected: out };
  }
  if (target.kind === 'ingress') {
    const ingresses = model.snapshot.objects.filter((o) => o.kind === 'Ingress' && o.metadata.name === target.name).map((o) => ({ o, namespace: o.metadata.namespace as string }));
    const { o } = pick(`ingress/${target.name}`, ingresses, namespace);
    return { label: `ingress/${target.name}`, selected: selectForIngress(model, j.backends, o as import('../core/k8s.js').Ingress) };
  }
  if (target.kind === 'service') {
    const svc = pick(`service/${target.name}`, model.services.filter((s) => s.name === target.name), namespace);
    let port: number | undefined;
    if (target.port !== undefined) {
      const sp = svc.ports.find((p) => String(p.port) === target.port || p.name === target.port);
      if (!sp) throw new UsageError(`service/${target.name} in ${svc.namespace} has no port ${target.port} (ports: ${svc.ports.map((p) => (p.name ? `${p.port}/${p.name}` : String(p.port))).join(', ') || 'none'})`);
      port = sp.port;
    }
    const selected = j.backends
      .filter((b) => {
        const s = backendService(b.view);
        return s.namespace === svc.namespace && s.name === svc.name && (port === undefined || s.port === port);
      })
      .map((backend) => ({ backend }));
    return { label: `service/${target.name}${target.port ? `:${target.port}` : ''}`, selected };
  }
  const selected = selectForUrl(model, j.backends, target.host, target.path);
  if (selected.length === 0) throw new UsageError(`no tunnel rule in the input serves ${target.host}${target.path === '/' ? '' : target.path} (only catch-alls match it)`);
  return { label: `${target.host}${target.path}`, selected };
}

/** What a TunnelBinding or HTTPRoute target says beyond its backends: refused, unserved, served by another operator. */
function writerNotes(j: Judgement, target: Target, namespace: string | undefined, shown: number): string[] {
  const notes: string[] = [];
  if (target.kind === 'tunnelbinding') {
    for (const b of j.model.operator.bindings) {
      if (b.binding.metadata.name !== target.name || (namespace && b.namespace !== namespace)) continue;
      if (b.flavour === 'adyanth') notes.push(`${b.label} is of group networking.cfargotunnel.com: adyanth/cloudflare-operator serves it (config.yaml in a ConfigMap named after the tunnel); the Cloudflare operator (networking.cloudflare-operator.io) does not`);
      if (b.unserved) {
        notes.push(`${b.label}: no tunnel rule — ${b.unserved}`);
        const would = b.rules.filter((r) => r.service).map((r) => `${r.hostname || '(no hostname)'}${r.path ? ` ${r.path}` : ''} → ${r.service}`);
        if (would.length) notes.push(`once admitted, it would write: ${would.join('; ')}`);
      }
      if (b.rules.length === 0) notes.push(`${b.label} has no subjects`);
    }
  }
  if (target.kind === 'httproute' && shown === 0) notes.push(`httproute/${target.name} is attached to no Gateway of the Cloudflare operator or of Istio in the input`);
  return notes;
}

export async function runExplainProtocol(targetText: string, opts: ExplainOptions, io: Io = processIo): Promise<number> {
  const target = parseTarget(targetText);
  const verbose = new VerboseLog(opts.verbose === true);
  // A hostname may be served by a rule to any namespace: without -n, look everywhere.
  const allNamespaces = !opts.filename?.length && !opts.namespace && target.kind === 'url';
  const { collected, judgement, exit } = await collectAndJudge({ ...opts, allNamespaces }, opts.output === 'text', verbose, io);
  const { label, selected } = await backendsFor(judgement, target, collected.namespace);
  const [report, { exitCodeOf, exitReason }] = await Promise.all([import('../report/explain.js'), import('../rules/judge.js')]);
  const explained = report.explainBackends(selected, label);
  // What the model assumed (Istio's mesh defaults offline, a --mesh-config used live) holds for every backend.
  pushAll(explained.notes, judgement.model.notes);
  if (judgement.snapshot.mode === 'files' && selected.some((x) => x.backend.view.tunnel?.predicted)) {
    explained.notes.push('no tunnel config for some tunnels is in the input: their rules are predicted from the Ingresses, TunnelBindings and HTTPRoutes as the operator writes them');
  }
  pushAll(explained.notes, writerNotes(judgement, target, collected.namespace, selected.length));
  if (opts.output === 'json') io.out(report.explainJson(explained));
  else if (opts.output === 'yaml') io.out((await import('../report/yaml.js')).toYaml(report.explainDocument(explained)));
  else {
    const chalk = await makeChalk(opts.color);
    const width = outputWidth();
    io.out(terminalSafe(report.explainText(explained, chalk, `tunnelmesh explain-protocol ${label} — ${collected.title}`, width), chalk.level > 0));
  }
  // The same exit rule as doctor, over the findings about these backends.
  const scope = { incomplete: judgement.incomplete, scope: { ...judgement.scope, unjudged: explained.backends.filter((b) => b.verdict === 'unknown').length } };
  const code = exitCodeOf(explained.findings, scope, exit);
  verbose.log(`exit ${code}: ${exitReason(explained.findings, scope, exit)}`);
  return code;
}
