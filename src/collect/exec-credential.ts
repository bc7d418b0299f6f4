// Exec credential plugins (kubeconfig `users[].user.exec`: aws eks get-token, gke-gcloud-auth-plugin,
// kubelogin…), run by @kubernetes/client-node's ExecAuth, with two things it lacks: a timeout (a
// plugin waiting for a browser login or a dead network would hang tunnelmesh for ever) and
// silence (ExecAuth puts the plugin's stderr in its error message, and V8's JSON.parse error
// quotes stdout; either may hold the token). ExecAuth keeps doing everything else — the
// kubeconfig's command, args and env, caching, reading status.token or the client certificate:
// only the step that starts the process is replaced (its `execFn`, child_process.spawn).

import { spawn, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import { PassThrough } from 'node:stream';
import { registerSecret } from '../core/redact.js';

/** An ExecCredential is a few KB; a plugin printing more is not printing one. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** What ExecAuth reads of the process it starts. */
interface ExecChild extends EventEmitter {
  stdout: PassThrough;
  stderr: PassThrough;
}

export type ExecFn = (command: string, args: readonly string[] | undefined, opts: SpawnOptions) => ExecChild;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A stand-in for child_process.spawn with ExecAuth's contract: the real plugin runs without
 * stdin, its stderr is drained and dropped, and after `timeoutMs` it is killed. ExecAuth sees
 * either the plugin's ExecCredential on stdout and exit 0, or an 'error' whose message is ours
 * (never the plugin's words). The credential is registered for redaction before ExecAuth has it.
 */
export function boundedExec(timeoutMs: number): ExecFn {
  return (command, args, opts) => {
    const facade = Object.assign(new EventEmitter(), { stdout: new PassThrough(), stderr: new PassThrough() });
    const name = basename(command);
    const chunks: Buffer[] = [];
    let size = 0;
    let problem: string | undefined;
    const child = spawn(command, [...(args ?? [])], { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      problem ??= `the exec credential plugin ${name} did not finish within ${timeoutMs} ms (--request-timeout)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_OUTPUT_BYTES) chunks.push(c);
      else if (!problem) {
        problem = `the exec credential plugin ${name} printed more than ${MAX_OUTPUT_BYTES} bytes`;
        child.kill('SIGKILL');
      }
    });
    child.stderr?.resume(); // read and dropped: a plugin's diagnostics may quote the token
    child.on('error', (err: NodeJS.ErrnoException) => {
      problem ??= err.code === 'ENOENT' ? `the exec credential plugin ${command} is not installed (not found on PATH)` : `cannot run the exec credential plugin ${name} (${err.code ?? 'error'})`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      if (!problem && code !== 0) problem = `the exec credential plugin ${name} failed (${signal ? `killed by ${signal}` : `exit code ${code}`}); its output is not shown, as it may hold credentials`;
      if (!problem) problem = checkCredential(text, name);
      if (problem) {
        facade.emit('error', new Error(problem));
        facade.stdout.end();
        facade.stderr.end();
        facade.emit('close', code ?? 1);
        return;
      }
      facade.stdout.once('end', () => facade.emit('close', 0));
      facade.stdout.end(text);
      facade.stderr.end();
    });
    return facade;
  };
}

/** undefined when `text` is an ExecCredential ExecAuth can use (its secrets registered); else why not. */
function checkCredential(text: string, name: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `the exec credential plugin ${name} did not print an ExecCredential (not JSON)`;
  }
  const status = isObject(value) ? value.status : undefined;
  if (!isObject(status)) return `the exec credential plugin ${name} printed JSON without an ExecCredential status`;
  for (const field of ['token', 'clientKeyData']) {
    const v = status[field];
    if (typeof v === 'string') registerSecret(v);
  }
  return undefined;
}
