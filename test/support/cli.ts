// Runs the built CLI (bin/tunnelmesh → dist/) as a user would: its own process, a clean
// environment (no KUBECONFIG, a throwaway HOME, no colour), and what comes out of it — exit
// code, stdout, stderr — for tests to assert on. `npm test` builds dist/ before the tests.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsyaml from 'js-yaml';
import { main } from '../../src/cli/main.js';
import type { KObject } from '../../src/core/k8s.js';
import { lazyTempDir } from './tmp.js';

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'tunnelmesh');
export const DEMO_DIR = join(ROOT, 'fixtures', 'demo');

export interface CliRun {
  /** null when the process was killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export interface CliOptions {
  /** Variables to set; undefined removes one. */
  env?: Record<string, string | undefined>;
  /** Start from this process's environment instead of a clean one (no KUBECONFIG, a throwaway HOME). */
  inheritEnv?: boolean;
  stdin?: string | Buffer;
  /** Kill the process after this long (default 30 s); `timedOut` tells. */
  timeoutMs?: number;
  /** Node flags before the script (e.g. --max-old-space-size=128). */
  nodeArgs?: string[];
}

/** A HOME without ~/.kube/config, so no test reads the machine's kubeconfig. */
const cleanHome = lazyTempDir('home');

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.cjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const base = opts.inheritEnv ? { ...process.env } : { PATH: process.env.PATH ?? '', HOME: cleanHome(), NO_COLOR: '1', CI: '1' };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...base, ...opts.env })) if (v !== undefined) env[k] = v;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], { env, cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started, timedOut });
    });
    child.stdin.on('error', () => undefined); // the CLI may exit before reading all of it
    child.stdin.end(opts.stdin ?? '');
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** bin/tunnelmesh with this process's environment (colour off unless asked for). */
export async function run(args: string[], opts: { env?: Record<string, string | undefined>; stdin?: string; nodeArgs?: string[] } = {}): Promise<RunResult> {
  const r = await runCli(args, { ...opts, inheritEnv: true, env: { NO_COLOR: '1', FORCE_COLOR: undefined, ...opts.env } });
  return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The same command line through `main()` in this process, its output captured: the real CLI
 * code (commander, collection, rules, reports, error handling) without a process start. Cheap
 * enough for dozens of cases; runCli proves the binary itself behaves the same.
 */
export async function runInProcess(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const started = Date.now();
  const code = await main(['node', 'tunnelmesh', ...args], { out: (t) => void out.push(t), err: (t) => void err.push(t) });
  return { code, stdout: out.join(''), stderr: err.join(''), ms: Date.now() - started, timedOut: false };
}

/** stderr without the blank tail, as lines. */
export function stderrLines(run: CliRun): string[] {
  return run.stderr.split('\n').filter((l) => l !== '');
}

/** Parses `-o json` output, failing with the run's stderr when it is not JSON. */
export function jsonOf(run: CliRun): {
  findings: Array<{ code: string; severity: string; resource: { kind: string; namespace?: string; name: string }; port: number | null; message: string }>;
  incomplete: Array<{ kind: string; namespace?: string; name?: string; labelSelector?: string; filter?: string; reason: string; message?: string }>;
  notes: string[];
  summary: Record<string, number>;
} {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  }
}

/** The objects of fixtures/demo (a cluster dump), ready to serve from the loopback API server. */
export function demoObjects(): KObject[] {
  const objects: KObject[] = [];
  for (const file of readdirSync(DEMO_DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of jsyaml.loadAll(readFileSync(join(DEMO_DIR, file), 'utf8'))) {
      if (doc && typeof doc === 'object') objects.push(doc as KObject);
    }
  }
  return objects;
}

/** Files of fixtures/demo with their text (for the property tests' seeds). */
export function demoTexts(): Array<{ name: string; text: string }> {
  return readdirSync(DEMO_DIR)
    .filter((f) => f.endsWith('.yaml') && statSync(join(DEMO_DIR, f)).isFile())
    .sort()
    .map((f) => ({ name: f, text: readFileSync(join(DEMO_DIR, f), 'utf8') }));
}

/**
 * A failed `-o json` run (exit 2 or 3) writes the error document and nothing else: `{"error":
 * {exitCode, kind, message, …}}`, whose message is the stderr line's (docs/cli.md).
 */
export function assertErrorDocument(run: CliRun, exitCode: number): { exitCode: number; kind: string; message: string; file?: string; line?: number } {
  let doc: { error?: { exitCode: number; kind: string; message: string } };
  try {
    doc = JSON.parse(run.stdout) as typeof doc;
  } catch {
    throw new Error(`exit ${run.code}: stdout is not the JSON error document:\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  }
  if (Object.keys(doc).join() !== 'error' || !doc.error) throw new Error(`not an error document (only "error" expected): ${run.stdout}`);
  if (doc.error.exitCode !== exitCode) throw new Error(`error.exitCode ${doc.error.exitCode}, expected ${exitCode}`);
  const line = stderrLines(run).filter((l) => !l.startsWith('tunnelmesh: warning:')).at(-1) ?? '';
  if (!line.endsWith(doc.error.message.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(-40))) {
    throw new Error(`error.message is not the stderr line:\n${doc.error.message}\n${line}`);
  }
  return doc.error;
}
