// `tunnelmesh why '<log line>'`: which edges and findings explain one line of a log (cloudflared,
// an Envoy access log, a proxy error), ranked, each with its fix. Same collection, model, rules and
// policy as doctor; exit 1 when an explaining finding is at or above --fail-on, 0 otherwise (a line
// nothing explains is said so, never reported as fine).

import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { collect, type DoctorOptions } from './doctor.js';
import { makeChalk, processIo, warn, type ColorMode, type Io } from './terminal.js';

export interface WhyOptions extends Pick<DoctorOptions, 'namespace' | 'allNamespaces' | 'filename' | 'context' | 'kubeconfig' | 'requestTimeout' | 'maxInputSize' | 'tunnelNamespace' | 'verbose' | 'proxyConfig' | 'proxyConfigFile' | 'suppress' | 'config' | 'failOn'> {
  output: 'text' | 'json';
  color: ColorMode;
  clusterDomain: string;
}

/** One line is judged: the first that is not blank (a pasted block brings its neighbours along). */
function theLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
  if (line === undefined) throw new UsageError("why needs a log line, e.g. tunnelmesh why 'upstream connect error or disconnect/reset before headers. reset reason: connection termination' -f manifests/");
  return line.trim();
}

export async function runWhy(text: string, opts: WhyOptions, io: Io = processIo): Promise<number> {
  const line = theLine(text);
  const { resolvePolicy } = await import('./config.js');
  const { policy, failOn } = resolvePolicy({ ...(opts.suppress ? { suppress: opts.suppress } : {}), ...(opts.failOn ? { failOn: opts.failOn } : {}), ...(opts.config !== undefined ? { config: opts.config } : {}) }, (m) => warn(m, io));
  const collected = await collect({ ...opts }, opts.output === 'text', io);
  const { snapshot } = collected;
  for (const w of snapshot.warnings.slice(0, 50)) warn(w, io);
  const [{ MeshModel }, { runRules, failsAt }, { applyPolicy }, { explainLine }, { comparisonNotes }, report] = await Promise.all([
    import('../model/model.js'),
    import('../rules/run.js'),
    import('../rules/suppress.js'),
    import('../rules/why/explain.js'),
    import('../rules/envoy-agreement.js'),
    import('../report/why.js'),
  ]);
  const model = new MeshModel(snapshot, { clusterDomain: opts.clusterDomain });
  const raw = runRules(model, collected.namespace ? { namespace: collected.namespace } : {});
  const judged = applyPolicy(raw, policy, { objects: snapshot.objects, ...(collected.namespace ? { namespace: collected.namespace } : {}) });
  for (const w of judged.warnings) warn(w, io);
  const result = explainLine(model, judged.findings, judged.suppressed, line);
  const incomplete = snapshot.incomplete.filter((e) => e.reason !== 'not-installed');
  const extra = { notes: [...model.notes, ...comparisonNotes(model)], incomplete };
  if (opts.output === 'json') io.out(report.whyJson(result, extra));
  else io.out(report.whyText(result, await makeChalk(opts.color), `tunnelmesh why — ${collected.title.replace(/^tunnelmesh doctor — /, '')}`, extra));
  return failsAt(report.counted(result), failOn) ? 1 : 0;
}

/** Flags and action of `why` (collect flags come from main.ts, as for doctor). */
export function configureWhy(command: Command, io: Io, done: (exitCode: number) => void): Command {
  return command
    .description('which edges and findings explain a log line (cloudflared, an Envoy access log, a proxy error), ranked, each with its fix')
    .argument('<line>', "the log line, quoted: tunnelmesh why '503 UC upstream_reset_before_response_started{connection_termination}'")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--fail-on <severity>', 'exit 1 when an explaining finding is at or above this severity (default: failOn in .tunnelmesh.yaml, else error)').choices(['error', 'warning', 'info', 'none']))
    .option('--suppress <spec>', 'as doctor: suppressed findings are listed, not counted', (v: string, prev: string[] = []) => [...prev, v])
    .option('--config <file>', 'config file (default: .tunnelmesh.yaml found upward from the working directory)')
    .option('--no-config', 'ignore .tunnelmesh.yaml')
    .addOption(new Option('--color <when>', 'colour in text output').choices(['auto', 'always', 'never']).default('auto'))
    .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
    .action(async (line: string, opts: WhyOptions) => {
      done(await runWhy(line, opts, io));
    });
}
