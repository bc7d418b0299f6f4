// Runs the built CLI (bin/tunnelmesh → dist) as a user would, synchronously or not: a child
// process with its own stdin, stdout and stderr, no TTY, a clean colour environment unless a test sets one.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsyaml from 'js-yaml';
import type { KObject } from '../../src/core/k8s.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/tunnelmesh', import.meta.url));
export const KUBECTL_BIN = fileURLToPath(new URL('../../bin/kubectl-tunnelmesh', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  bin?: string;
}

/** The environment minus colour and CI switches, plus `extra` (undefined removes a variable). */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // COLUMNS too: a developer's shell may export it, and the table wraps to it.
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'KUBECONFIG', 'COLUMNS']) delete env[k];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runCli(args: string[], opts: CliOptions = {}): CliResult {
  const res = spawnSync(process.execPath, [opts.bin ?? BIN, ...args], {
    input: opts.input ?? '',
    cwd: opts.cwd ?? ROOT,
    env: cleanEnv(opts.env),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Same as runCli, without blocking the event loop (for tests that serve the API in-process). */
export function runCliAsync(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The objects of a manifest directory or file, for the loopback API server. */
export function loadManifests(...paths: string[]): KObject[] {
  const out: KObject[] = [];
  for (const path of paths) {
    const full = join(ROOT, path);
    const files = statSync(full).isDirectory() ? readdirSync(full).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(full, f)) : [full];
    for (const file of files) {
      for (const doc of jsyaml.loadAll(readFileSync(file, 'utf8'))) {
        if (doc && typeof doc === 'object') out.push(doc as KObject);
      }
    }
  }
  return out;
}
