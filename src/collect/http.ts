// GET-only JSON requests to the API server, with the TLS agent and auth headers that
// @kubernetes/client-node's KubeConfig produced. Bounded retries for idempotent reads.

import type http from 'node:http';
import type https from 'node:https';
import { lazyImport } from './lazy-import.js';
import { jsonTooDeepAt, MAX_NESTING_DEPTH } from '../core/limits.js';

export interface ApiConnection {
  server: string;
  agent: http.Agent | https.Agent | undefined;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Aborts every request in flight and every pending retry (a fatal error elsewhere ends the run). */
  signal?: AbortSignal;
  /** Called for every request made (for --verbose and the tests' request log). */
  onRequest?: (info: { path: string; status: number | string; ms: number; attempt: number }) => void;
}

export type ApiResult =
  | { ok: true; status: number; body: unknown }
  | { ok: false; status: number; reason?: string; message?: string; retryAfterSeconds?: number };

export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const MAX_ATTEMPTS = 4;
/** A request that got no answer in time is tried once more: four would make a hung server cost 4 × the timeout. */
const MAX_TIMEOUT_ATTEMPTS = 2;
const MAX_BACKOFF_MS = 8000;

/**
 * The cluster cannot be reached at all (refused, no route, unknown host, TLS not trusted):
 * these do not heal in a second, and no other request will fare better.
 */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT']);

export interface GetOptions {
  /** An answer longer than this is cut off and given as status 413 (the pod proxy's config dumps). */
  maxBytes?: number;
  /** Statuses worth asking again for (default 429 and 5xx); a pod proxy's 503 is the pod, not the API server. */
  retryStatuses?: ReadonlySet<number>;
}

/** One GET; retries 429/5xx (honouring Retry-After), resets, invalid bodies and timeouts a bounded number of times. */
export async function getJson(conn: ApiConnection, path: string, opts: GetOptions = {}): Promise<ApiResult> {
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    try {
      const res = await requestOnce(conn, path, opts);
      conn.onRequest?.({ path, status: res.status, ms: Date.now() - started, attempt });
      if (res.ok || !(opts.retryStatuses ?? RETRYABLE_STATUS).has(res.status) || attempt >= MAX_ATTEMPTS) return res;
      await sleep(backoff(attempt, res.retryAfterSeconds), conn.signal);
    } catch (err) {
      const netErr = err instanceof NetworkError ? err : new NetworkError(String(err), 'EUNKNOWN');
      if (netErr.code !== 'EABORTED') conn.onRequest?.({ path, status: netErr.code, ms: Date.now() - started, attempt });
      const limit = netErr.code === 'ETIMEDOUT' ? MAX_TIMEOUT_ATTEMPTS : MAX_ATTEMPTS;
      if (UNREACHABLE_CODES.has(netErr.code) || netErr.code === 'EABORTED' || attempt >= limit) throw netErr;
      await sleep(backoff(attempt, undefined), conn.signal);
    }
  }
}

function backoff(attempt: number, retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, MAX_BACKOFF_MS);
  return Math.min(200 * 2 ** (attempt - 1), MAX_BACKOFF_MS);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new NetworkError('aborted', 'EABORTED'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new NetworkError('aborted', 'EABORTED'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const TLS_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|DEPTH_ZERO/;

/**
 * node:http and node:https, loaded on first use: only live runs talk HTTP, and the bundled CLI
 * would otherwise load TLS for every offline run.
 */
let transportModules: Promise<{ http: typeof http; https: typeof https }> | undefined;
function transports(): Promise<{ http: typeof http; https: typeof https }> {
  transportModules ??= Promise.all([lazyImport<{ default: typeof http }>('node:http'), lazyImport<{ default: typeof https }>('node:https')]).then(([h, s]) => ({
    http: h.default,
    https: s.default,
  }));
  return transportModules;
}

async function requestOnce(conn: ApiConnection, path: string, opts: GetOptions = {}): Promise<ApiResult> {
  const url = new URL(path, conn.server.endsWith('/') ? conn.server : `${conn.server}/`);
  // Keep a server path prefix (`https://host/k8s/clusters/x`) in front of the API path.
  const base = new URL(conn.server);
  url.pathname = `${base.pathname.replace(/\/$/, '')}${path.split('?')[0]}`;
  const { http: plain, https: tls } = await transports();
  const lib = url.protocol === 'http:' ? plain : tls;
  // One controller per attempt, aborted by the timeout or by the run ending (AbortSignal.any
  // would do, from Node 20.3; engines says 20). Listeners and timer go when the attempt settles.
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, conn.timeoutMs);
  const stop = (): void => abort.abort();
  conn.signal?.addEventListener('abort', stop, { once: true });
  const settle = (): void => {
    clearTimeout(timer);
    conn.signal?.removeEventListener('abort', stop);
  };
  /** One error vocabulary for the request and the response stream (a timeout can strike in either). */
  const classify = (e: NodeJS.ErrnoException): NetworkError => {
    if (conn.signal?.aborted) return new NetworkError('aborted', 'EABORTED');
    if (timedOut) return new NetworkError(`no answer within ${conn.timeoutMs} ms`, 'ETIMEDOUT');
    if (TLS_ERRORS.test(e.code ?? '') || TLS_ERRORS.test(e.message)) return new NetworkError(`TLS: ${e.message}`, 'CERT');
    return new NetworkError(e.message, e.code ?? 'ECONNRESET');
  };
  return new Promise<ApiResult>((resolve, reject) => {
    if (conn.signal?.aborted) {
      reject(new NetworkError('aborted', 'EABORTED'));
      return;
    }
    const req = lib.request(
      url,
      {
        method: 'GET',
        agent: conn.agent,
        headers: { ...conn.headers, Accept: 'application/json', 'User-Agent': 'tunnelmesh' },
        signal: abort.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        const incomplete = (): NetworkError =>
          classify(Object.assign(new Error('the connection closed before the response was complete'), { code: 'ECONNRESET' }));
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (opts.maxBytes !== undefined && received > opts.maxBytes) {
            // Settled first: the close and error events that destroying the stream causes change nothing.
            resolve({ ok: false, status: 413, message: `the answer is longer than ${opts.maxBytes} bytes` });
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('close', () => {
          if (!res.complete) reject(incomplete());
        });
        res.on('error', (e) => reject(classify(e)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          if (!res.complete) {
            reject(incomplete());
            return;
          }
          if (status >= 200 && status < 300) {
            // Checked before parsing (see jsonTooDeepAt): asking again will not help.
            if (jsonTooDeepAt(bytes) >= 0) {
              resolve({ ok: false, status, message: `the response nests deeper than ${MAX_NESTING_DEPTH} levels` });
              return;
            }
            let body: unknown;
            try {
              body = JSON.parse(text);
            } catch {
              // A truncated or garbled body is a transport fault: retry like a reset.
              reject(new NetworkError(`invalid JSON in the response to ${path}`, 'EBADBODY'));
              return;
            }
            resolve({ ok: true, status, body });
            return;
          }
          resolve(failure(status, text, res.headers['retry-after']));
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => reject(classify(e)));
    req.end();
  }).finally(settle);
}

function failure(status: number, text: string, retryAfter: string | string[] | undefined): ApiResult {
  const out: ApiResult = { ok: false, status };
  try {
    const body = JSON.parse(text) as { reason?: unknown; message?: unknown };
    if (typeof body.reason === 'string') out.reason = body.reason;
    if (typeof body.message === 'string') out.message = body.message;
  } catch {
    if (text.trim()) out.message = text.trim().slice(0, 200);
  }
  const ra = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (ra && /^\d+$/.test(ra)) out.retryAfterSeconds = Number(ra);
  return out;
}
