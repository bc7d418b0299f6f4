// GET-only JSON requests to the API server, with the TLS agent and auth headers that
// @kubernetes/client-node's KubeConfig produced. Bounded retries for idempotent reads.

import type dns from 'node:dns';
import type http from 'node:http';
import type https from 'node:https';
import type { LookupFunction } from 'node:net';
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
  /** Called before each wait between attempts (for --verbose: the waits are counted, not timed). */
  onRetry?: (info: { path: string; waitMs: number; attempt: number; why: string }) => void;
  /** Resolves the server's host name; one lookup per run (see cachedLookup). */
  lookup?: LookupFunction;
  /** Set once any request got a TLS session (or, for http:, a connection): the server is there, if slow. */
  reached?: boolean;
}

export type ApiResult =
  | { ok: true; status: number; body: unknown; /** Length of the body as received. */ bytes: number }
  | { ok: false; status: number; reason?: string; message?: string; retryAfterSeconds?: number; /** The answer passed GetOptions.maxBytes (status 413). */ tooLarge?: true };

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
 * The cluster cannot be reached at all (refused, no route, unknown host, TLS not trusted, no
 * TLS session within the timeout): these do not heal in a second, and no other request will
 * fare better.
 */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT', 'ECONNECTTIMEOUT']);
/** Not worth asking again: the same request gets the same answer. */
const FINAL_CODES: ReadonlySet<string> = new Set(['EABORTED', 'EUNDECODABLE']);

export interface GetOptions {
  /**
   * An answer longer than this is cut off — reading stops there, memory stays bounded whatever
   * the server sends — and given as status 413 with `tooLarge` (never retried).
   */
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
      const waitMs = backoff(attempt, res.retryAfterSeconds);
      conn.onRetry?.({ path, waitMs, attempt, why: res.retryAfterSeconds !== undefined ? `HTTP ${res.status}, Retry-After ${res.retryAfterSeconds}` : `HTTP ${res.status}` });
      await sleep(waitMs, conn.signal);
    } catch (err) {
      const netErr = err instanceof NetworkError ? err : new NetworkError(String(err), 'EUNKNOWN');
      if (netErr.code !== 'EABORTED') conn.onRequest?.({ path, status: netErr.code, ms: Date.now() - started, attempt });
      const limit = netErr.code === 'ETIMEDOUT' ? MAX_TIMEOUT_ATTEMPTS : MAX_ATTEMPTS;
      if (UNREACHABLE_CODES.has(netErr.code) || FINAL_CODES.has(netErr.code) || attempt >= limit) throw netErr;
      const waitMs = backoff(attempt, undefined);
      conn.onRetry?.({ path, waitMs, attempt, why: netErr.code });
      await sleep(waitMs, conn.signal);
    }
  }
}

/**
 * A lookup for the requests' `lookup` option that asks the resolver once per host name and
 * answers every request from that one answer, failures included: each request would otherwise
 * run its own getaddrinfo in libuv's four-thread pool (dozens of parallel lists, an unknown
 * host taking seconds to fail, and the process kept alive by lookups nobody waits for).
 */
export function cachedLookup(): LookupFunction {
  const answers = new Map<string, Promise<dns.LookupAddress[]>>();
  return (hostname, options, callback) => {
    let answer = answers.get(hostname);
    if (!answer) {
      answer = lazyImport<{ default: typeof dns }>('node:dns').then((m) => m.default.promises.lookup(hostname, { all: true, verbatim: true }));
      answers.set(hostname, answer);
    }
    answer.then(
      (all) => {
        const family = typeof options.family === 'number' ? options.family : 0;
        const usable = family === 0 ? all : all.filter((a) => a.family === family);
        if (options.all) {
          (callback as (err: null, addresses: dns.LookupAddress[]) => void)(null, usable);
          return;
        }
        const first = usable[0];
        if (!first) callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
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

/** Sockets that completed their TCP (http:) or TLS (https:) setup once; the agent reuses them. */
const ESTABLISHED = new WeakSet<object>();

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
  /** A TLS session (or, for http:, a TCP connection) stood before the timeout: the server is there, only slow. */
  let connected = false;
  let tooLarge = false;
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
    if (timedOut && !connected && !conn.reached) return new NetworkError(`no ${url.protocol === 'http:' ? 'connection' : 'TLS session'} within ${conn.timeoutMs} ms`, 'ECONNECTTIMEOUT');
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
        ...(conn.lookup ? { lookup: conn.lookup } : {}),
      },
      (res) => {
        connected = true;
        conn.reached = true;
        const chunks: Buffer[] = [];
        let received = 0;
        const incomplete = (): NetworkError =>
          classify(Object.assign(new Error('the connection closed before the response was complete'), { code: 'ECONNRESET' }));
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (opts.maxBytes !== undefined && received > opts.maxBytes) {
            // Settled first: the close and error events that destroying the stream causes change nothing.
            tooLarge = true;
            chunks.length = 0;
            resolve({ ok: false, status: 413, message: `the answer is longer than ${opts.maxBytes} bytes`, tooLarge: true });
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
          if (tooLarge) return;
          if (!res.complete) {
            reject(incomplete());
            return;
          }
          try {
            resolve(decodeAnswer(res.statusCode ?? 0, Buffer.concat(chunks), res.headers['retry-after'], path));
          } catch (err) {
            // Thrown in an event handler, it would end the process with a raw stack trace.
            reject(err instanceof NetworkError ? err : new NetworkError(`the answer to ${path} cannot be decoded (${(err as Error).message})`, 'EUNDECODABLE'));
          }
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => reject(classify(e)));
    req.on('socket', (socket) => {
      if (ESTABLISHED.has(socket)) {
        connected = true; // a kept-alive socket: it connected for an earlier request
        return;
      }
      socket.once(url.protocol === 'http:' ? 'connect' : 'secureConnect', () => {
        ESTABLISHED.add(socket);
        connected = true;
        conn.reached = true;
      });
    });
    req.end();
  }).finally(settle);
}

/** Status and body → an ApiResult; throws NetworkError for a body that is not JSON (a transport fault: retried). */
function decodeAnswer(status: number, bytes: Buffer, retryAfter: string | string[] | undefined, path: string): ApiResult {
  if (status >= 200 && status < 300) {
    // Checked before parsing (see jsonTooDeepAt): asking again will not help.
    if (jsonTooDeepAt(bytes) >= 0) return { ok: false, status, message: `the response nests deeper than ${MAX_NESTING_DEPTH} levels` };
    const text = bytes.toString('utf8');
    try {
      return { ok: true, status, body: JSON.parse(text) as unknown, bytes: bytes.length };
    } catch {
      // A truncated or garbled body is a transport fault: retry like a reset.
      throw new NetworkError(`invalid JSON in the response to ${path}`, 'EBADBODY');
    }
  }
  return failure(status, bytes.toString('utf8'), retryAfter);
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
