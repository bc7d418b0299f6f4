// Command-line wiring only: flags, help, errors → exit codes. The work lives in the commands.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { ClusterError, InputError, isExitError, UsageError } from '../errors.js';
import type { RunFailure } from '../report/json.js';
import { OUTPUT_FORMATS } from './doctor.js';
import { processIo, redactedIo, terminalSafe, type Io } from './terminal.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** `kubectl tunnelmesh …` when run through the krew-style plugin name. */
function programName(argv1: string | undefined): string {
  return argv1 && basename(argv1).startsWith('kubectl-') ? 'kubectl tunnelmesh' : 'tunnelmesh';
}

function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Where objects come from: the same flags for every command that collects. */
function addCollectOptions(cmd: Command): Command {
  return cmd
    .option('-n, --namespace <namespace>', 'report findings about this namespace (evidence is collected wherever it lives)')
    .option('-A, --all-namespaces', 'all namespaces')
    .option('-f, --filename <path>', 'manifest file, directory (recursive) or - for stdin; repeatable; the cluster is not contacted', collectList)
    .option('--context <name>', 'kubeconfig context')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--tunnel-namespace <namespace>', 'with -n: another namespace where cloudflared runs (repeatable)', collectList)
    .option('--request-timeout <duration>', 'per-request timeout against the API server (also bounds exec credential plugins, and the wait for a writer on a named pipe given to -f)', '30s')
    .option('--max-input-size <size>', 'with -f: refuse a file (or stdin) larger than this (e.g. 512Mi)', '256Mi')
    .option('--max-list-size <size>', 'live: the most one list (all its pages) may take from the API server; past it that kind is incomplete', '256Mi')
    .option('--proxy-config [roles]', "live: also read the Envoy config of the client proxies (clients; clients,targets adds the targets') through the API server's pod proxy (get on pods/proxy) and compare it with the verdicts")
    .option('--proxy-config-file <file...>', 'saved Envoy config dumps (istioctl proxy-config all POD -o json, or :15000/config_dump), NAMESPACE/POD=FILE for one without a bootstrap node; compared with the verdicts')
    .option('-v, --verbose', 'say what is requested, with timings');
}

/** How findings become an exit code and what is set aside: the same for every command that judges. */
function addJudgeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity (default: failOn in .tunnelmesh.yaml, else error)').choices(['error', 'warning', 'info', 'none']))
    .option('--fail-on-incomplete', 'exit 1 when a kind could not be listed or an edge could not be judged (also failOnIncomplete in .tunnelmesh.yaml)')
    .option('--suppress <spec>', 'hide findings: CODE or CODE=Kind ns/name, globs allowed (repeatable; still counted)', collectList)
    .option('--config <file>', 'config file (default: .tunnelmesh.yaml found upward from the working directory)')
    .option('--no-config', 'ignore .tunnelmesh.yaml')
    .addOption(new Option('--color <when>', 'colour in human output').choices(['auto', 'always', 'never']).default('auto'))
    .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
    .option('--mesh-config <file>', "Istio mesh config to judge with (MeshConfig YAML, the istio ConfigMap, or an IstioOperator); live, it replaces the cluster's");
}

export function buildProgram(name: string, io: Io = processIo, done: (exitCode: number) => void = () => undefined): Command {
  const program = new Command();
  program
    .name(name)
    .description('Judges the Cloudflare Tunnel → Istio mesh path and prints ready-to-apply fixes.')
    .version(pkg.version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(`tunnelmesh: ${text.replace(/^error: /, '').trimEnd()}\n`),
    });

  addJudgeOptions(addCollectOptions(program.command('doctor').description('judge every tunnel → Service → pod edge, live or from manifests')))
    .addOption(new Option('-o, --output <format>', 'output format (the exit code is the same for all)').choices(OUTPUT_FORMATS).default('table'))
    .option('--fix-out <dir>', 'write each proposed fix as a YAML file, with an index, into this directory')
    .option('--fix-diff <file>', 'write the recommended fixes as a unified diff of the -f files (git apply FILE), comments and layout kept')
    .addOption(new Option('--fixes <which>', 'table: fixes printed in full (the others are named; -o json carries all)').choices(['recommended', 'all', 'none']).default('recommended'))
    .option('--chart-dir <dir>', "the chart's directory in the repository: helm's # Source: <chart>/templates/x.yaml is DIR/templates/x.yaml (SARIF, code quality, JSON locations, --fix-diff)")
    .option('--source-root <dir>', "the directory that holds the chart directories: # Source: <chart>/templates/x.yaml is DIR/<chart>/templates/x.yaml (reports)")
    .option('-q, --quiet', 'only the findings table and the summary; no warnings about the input')
    .action(async (opts) => {
      if (opts.chartDir && opts.sourceRoot) throw new UsageError('--chart-dir and --source-root are alternatives: give one');
      const { runDoctor } = await import('./doctor.js');
      done(await runDoctor(opts, io));
    });

  addJudgeOptions(
    addCollectOptions(
      program
        .command('explain-protocol')
        .description('how each backend of an Ingress, Service or tunnel hostname gets its protocol, and whether the path works')
        .argument('<target>', 'ingress/NAME, service/NAME[:PORT], or a hostname or URL served by a tunnel'),
    ),
  )
    .addOption(new Option('-o, --output <format>', 'output format (the exit code is the same for all; json and yaml are the same document)').choices(['text', 'json', 'yaml']).default('text'))
    .action(async (target: string, opts) => {
      const { runExplainProtocol } = await import('./explain-protocol.js');
      done(await runExplainProtocol(target, opts, io));
    });

  addJudgeOptions(
    addCollectOptions(
      program
        .command('why')
        .description('which edges and findings explain a log line (cloudflared, an Envoy access log, a proxy error), ranked, each with its fix')
        .argument('<line>', "the log line, quoted: tunnelmesh why '503 UC upstream_reset_before_response_started{connection_termination}'"),
    ),
  )
    .addOption(new Option('-o, --output <format>', 'output format (the exit code is the same for both)').choices(['text', 'json']).default('text'))
    .action(async (line: string, opts) => {
      const { runWhy } = await import('./why.js');
      done(await runWhy(line, opts, io));
    });

  program
    .command('rules')
    .description('the rule catalogue, or one rule: what it means, why it breaks, how to fix it, an example')
    .argument('[code]', 'rule code or name, e.g. TM101')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .addOption(new Option('--color <when>', 'colour').choices(['auto', 'always', 'never']).default('auto'))
    .action(async (code: string | undefined, opts) => {
      const { runRulesCommand } = await import('./rules.js');
      done(await runRulesCommand(code, opts));
    });

  addCollectOptions(program.command('snapshot').description('the collected objects as one YAML stream for offline replay (doctor -f) or a bug report; never Secrets, tokens redacted'))
    .action(async (opts) => {
      const { runSnapshot } = await import('./snapshot.js');
      done(await runSnapshot(opts, io));
    });

  program
    .command('completion')
    .description('print a shell completion script: source <(tunnelmesh completion bash)')
    .addArgument(new Argument('<shell>', 'shell').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('./completion.js');
      io.out(completionScript(shell, program));
    });

  // What the completion scripts ask for explain-protocol's TARGET (not listed in --help).
  addCollectOptions(program.command('__targets', { hidden: true }).description('explain-protocol targets in the input, one a line'))
    .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
    .action(async (opts) => {
      const { runTargets } = await import('./completion.js');
      done(await runTargets(opts, io));
    });

  return program;
}

/** Commands whose `-o` may name a machine format that must stay a valid document on failure. */
const DOCUMENT_FORMATS: Record<string, readonly string[]> = {
  doctor: ['json', 'yaml', 'sarif', 'codequality'],
  'explain-protocol': ['json', 'yaml'],
  why: ['json'],
};

/**
 * The command and machine format a command line asks for, read with the command's own option
 * table (so `-f -o` is a file named -o): known even when parsing stopped at another mistake.
 */
export function requestedDocument(program: Command, argv: string[]): { command: string; format: string } | undefined {
  const args = argv.slice(2);
  const at = args.findIndex((a) => !a.startsWith('-'));
  const name = at < 0 ? undefined : args[at];
  const command = program.commands.find((c) => c.name() === name);
  if (!command || !name || !DOCUMENT_FORMATS[name]) return undefined;
  let format: string | undefined;
  for (let i = at + 1; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') break;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq >= 0 ? arg.slice(0, eq) : /^-[^-]./.test(arg) ? arg.slice(0, 2) : arg;
    const option = command.options.find((o) => o.short === flag || o.long === flag);
    if (!option || !(option.required || option.optional)) continue;
    const inline = eq >= 0 ? arg.slice(eq + 1) : flag !== arg ? arg.slice(2) : undefined;
    const value = inline ?? args[++i];
    if (option.attributeName() === 'output' && value !== undefined) format = value;
  }
  return format && DOCUMENT_FORMATS[name].includes(format) ? { command: name, format } : undefined;
}

function failureOf(err: unknown, exitCode: number): RunFailure {
  if (err instanceof InputError) return { exitCode, kind: 'input', message: err.message, file: err.file, ...(err.line !== undefined ? { line: err.line } : {}) };
  if (err instanceof ClusterError) return { exitCode, kind: 'cluster', message: err.message };
  if (err instanceof UsageError || err instanceof CommanderError) return { exitCode, kind: 'usage', message: err.message.replace(/^error: /, '').trim() };
  return { exitCode, kind: 'internal', message: `internal error: ${(err as Error)?.message ?? String(err)}` };
}

/** The document a failed run still writes in the format asked for (docs/cli.md). */
async function failureDocumentText(wanted: { command: string; format: string }, failure: RunFailure): Promise<string> {
  const json = await import('../report/json.js');
  const doc = json.failureDocument(failure);
  switch (wanted.format) {
    case 'sarif': {
      const [{ failureSarif }, { sarifOptions }] = await Promise.all([import('../report/sarif.js'), import('./doctor.js')]);
      return failureSarif(failure, sarifOptions());
    }
    case 'codequality':
      return (await import('../report/codequality.js')).failureCodeQuality(failure);
    case 'yaml':
      return (await import('../report/yaml.js')).toYaml(doc);
    default:
      return `${JSON.stringify(doc, null, 2)}\n`;
  }
}

/** Runs one command line; returns the exit code (the caller sets it on the process). */
export async function main(argv: string[], unsafeIo: Io = processIo): Promise<number> {
  const io = redactedIo(unsafeIo);
  let exitCode = 0;
  let wroteOut = false;
  const tracked: Io = {
    out: (text) => {
      wroteOut = true;
      io.out(text);
    },
    err: (text) => io.err(text),
  };
  const program = buildProgram(programName(argv[1]), tracked, (code) => {
    exitCode = code;
  });
  if (argv.length <= 2) {
    // A bare `tunnelmesh` asks what it can do: the help, exit 0, as kubectl and helm answer
    // (commander's default is the help on stderr with exit 1, which scripts would read as a failure).
    program.outputHelp();
    return 0;
  }
  let failed: { err: unknown; exitCode: number };
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0; usage mistakes are exit 2.
      if (err.exitCode === 0) return 0;
      failed = { err, exitCode: 2 };
    } else if (isExitError(err)) {
      io.err(`tunnelmesh: ${terminalSafe(err.message)}\n`);
      failed = { err, exitCode: err.exitCode };
    } else {
      const verbose = argv.includes('-v') || argv.includes('--verbose');
      io.err(`tunnelmesh: internal error: ${terminalSafe((err as Error)?.message ?? String(err))}\n`);
      if (verbose && err instanceof Error && err.stack) io.err(`${terminalSafe(err.stack)}\n`);
      failed = { err, exitCode: 70 };
    }
  }
  // Machine formats stay valid documents: CI uploads them whatever the exit code.
  const wanted = requestedDocument(program, argv);
  if (wanted && !wroteOut) io.out(await failureDocumentText(wanted, failureOf(failed.err, failed.exitCode)));
  return failed.exitCode;
}
