// Command-line wiring only: flags, help, errors → exit codes. The work lives in the commands.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { isExitError } from '../errors.js';
import { OUTPUT_FORMATS } from './doctor.js';
import { processIo, type Io } from './terminal.js';

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
    .option('--request-timeout <duration>', 'per-request timeout against the API server', '30s')
    .option('--max-input-size <size>', 'with -f: refuse a file (or stdin) larger than this (e.g. 512Mi)', '256Mi')
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
    .option('--chart-dir <dir>', 'with --fix-diff: the chart a `helm template` stream was rendered from (`# Source: <chart>/templates/x.yaml` is DIR/templates/x.yaml)')
    .option('-q, --quiet', 'only the findings table and the summary; no warnings about the input')
    .action(async (opts) => {
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
    .addOption(new Option('-o, --output <format>', 'output format (the exit code is the same for all)').choices(['text', 'json']).default('text'))
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
      done(await runSnapshot(opts));
    });

  program
    .command('completion')
    .description('print a shell completion script: source <(tunnelmesh completion bash)')
    .addArgument(new Argument('<shell>', 'shell').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('./completion.js');
      io.out(completionScript(shell, program));
    });

  return program;
}

/** Runs one command line; returns the exit code (the caller sets it on the process). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(programName(argv[1]), io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0; usage mistakes are exit 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isExitError(err)) {
      io.err(`tunnelmesh: ${err.message}\n`);
      return err.exitCode;
    }
    const verbose = argv.includes('-v') || argv.includes('--verbose');
    io.err(`tunnelmesh: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    if (verbose && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    return 70;
  }
}
