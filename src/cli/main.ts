// Command-line wiring only: flags, help, errors → exit codes. The work lives in the commands.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { isExitError } from '../errors.js';
import { configureExplainProtocol } from './explain-protocol.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** `kubectl tunnelmesh …` when run through the krew-style plugin name. */
function programName(argv1: string | undefined): string {
  return argv1 && basename(argv1).startsWith('kubectl-') ? 'kubectl tunnelmesh' : 'tunnelmesh';
}

function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function buildProgram(name: string): Command {
  const program = new Command();
  program
    .name(name)
    .description('Judges the Cloudflare Tunnel → Istio mesh path and prints ready-to-apply fixes.')
    .version(pkg.version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`tunnelmesh: ${text.replace(/^error: /, '').trimEnd()}\n`),
    });

  program
    .command('doctor')
    .description('judge every tunnel → Service → pod edge, live or from manifests')
    .option('-n, --namespace <namespace>', 'report findings about this namespace (evidence is collected wherever it lives)')
    .option('-A, --all-namespaces', 'all namespaces')
    .option('-f, --filename <path>', 'manifest file, directory (recursive) or - for stdin; repeatable; the cluster is not contacted', collectList)
    .option('--context <name>', 'kubeconfig context')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity').choices(['error', 'warning', 'info', 'none']).default('error'))
    .addOption(new Option('--color <when>', 'colour in table output').choices(['auto', 'always', 'never']).default('auto'))
    .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
    .option('--tunnel-namespace <namespace>', 'with -n: another namespace where cloudflared runs (repeatable)', collectList)
    .option('--request-timeout <duration>', 'per-request timeout against the API server', '30s')
    .option('-v, --verbose', 'say what is requested from the cluster, with timings')
    .action(async (opts) => {
      const { runDoctor } = await import('./doctor.js');
      process.exitCode = await runDoctor(opts);
    });

  configureExplainProtocol(program.command('explain-protocol'));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(programName(argv[1]));
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0; usage mistakes are exit 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isExitError(err)) {
      process.stderr.write(`tunnelmesh: ${err.message}\n`);
      return err.exitCode;
    }
    const verbose = argv.includes('-v') || argv.includes('--verbose');
    process.stderr.write(`tunnelmesh: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 70;
  }
}
