// Envoy config dumps into the Snapshot: saved files (`--proxy-config-file`), and live through
// the API server's pod proxy subresource (`--proxy-config`): a GET of
// /api/v1/namespaces/NS/pods/NAME:15000/proxy/config_dump?include_eds (RBAC: get on pods/proxy).
// Bounded: a few pods, each answer capped in bytes, read a few at a time, and pruned as soon as
// it is parsed (core/envoy-dump.ts) so a 50 MB dump does not stay in memory.
//
// Stock Istio binds Envoy's admin listener to localhost (tools/packaging/common/envoy_bootstrap.json:
// `admin.address` is `{{ .localhost }}`, pkg/bootstrap/config.go option.Localhost), which the API
// server's proxy cannot reach: such pods answer 503 "error trying to reach service … connection
// refused". That is said per pod, with how to save the dump instead (istioctl uses port-forward,
// which a GET-only reader cannot).

import { existsSync } from 'node:fs';
import { InputError, UsageError } from '../errors.js';
import {
  CONFIG_DUMP_PATH,
  ENVOY_ADMIN_PORT,
  isConfigDump,
  pruneConfigDump,
  readDumpWrapper,
  type PodName,
  type ProxyConfigGap,
  type ProxyConfigInput,
} from '../core/envoy-dump.js';
import { formatSize } from '../core/limits.js';
import { getJson, NetworkError, type ApiConnection } from './http.js';
import { parseText } from './parse.js';

/** One dump's answer: a real sidecar in a large mesh is 10–50 MB with endpoints. */
export const MAX_DUMP_BYTES = 64 * 1024 * 1024;
/** Pods whose dumps one run fetches (clients first, then targets). */
export const MAX_DUMPS = 16;
/** Fetched at the same time: each answer may be large. */
const CONCURRENCY = 2;
const ONLY_THROTTLING: ReadonlySet<number> = new Set([429]);

/** How to get a dump when the pod proxy cannot reach Envoy's admin port. */
export function saveDumpHint(pod: PodName): string {
  return `save it with istioctl proxy-config all ${pod.name}.${pod.namespace} -o json > ${pod.name}.json (or kubectl exec -n ${pod.namespace} ${pod.name} -c istio-proxy -- pilot-agent request GET '${CONFIG_DUMP_PATH}') and pass --proxy-config-file ${pod.namespace}/${pod.name}=${pod.name}.json`;
}

/** `NS/POD=FILE` names the pod of a dump that lacks a bootstrap node; a plain path lets the dump say whose it is. */
export function parseDumpSpec(spec: string): { file: string; pod?: PodName } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)=(.+)$/.exec(spec);
  if (!m) return { file: spec };
  return { file: m[5] as string, pod: { namespace: m[1] as string, name: m[3] as string } };
}

/** Dumps from the documents of one file: raw config dumps (JSON or YAML) or `kind: EnvoyConfigDump` wrappers. */
export function dumpsFromText(name: string, text: string, pod?: PodName): ProxyConfigInput[] {
  const out: ProxyConfigInput[] = [];
  for (const doc of parseText(text, name)) {
    const where = `${name}${doc.line > 1 ? `:${doc.line}` : ''}`;
    const wrapped = readDumpWrapper(doc.value);
    const dump = wrapped ? wrapped.dump : doc.value;
    if (!isConfigDump(dump)) {
      if (doc.value === null || doc.value === undefined) continue;
      throw new InputError(name, doc.line, 'not an Envoy config dump (expected {"configs": [...]} as istioctl proxy-config all -o json or the admin config_dump write it)');
    }
    const who = pod ?? wrapped?.pod;
    out.push({ source: where, live: false, ...(who ? { pod: who } : {}), dump: pruneConfigDump(dump) });
  }
  if (out.length === 0) throw new InputError(name, undefined, 'no Envoy config dump in the file');
  return out;
}

/** `--proxy-config-file`: every file read, capped like -f inputs. */
export async function readProxyConfigFiles(specs: readonly string[], readText: (file: string) => Promise<{ name: string; text: string }>): Promise<ProxyConfigInput[]> {
  const out: ProxyConfigInput[] = [];
  for (const spec of specs) {
    // A file whose name looks like NS/POD=FILE is still that file.
    const { file, pod } = existsSync(spec) ? { file: spec, pod: undefined } : parseDumpSpec(spec);
    if (!file) throw new UsageError(`--proxy-config-file ${spec}: no file`);
    const { name, text } = await readText(file);
    out.push(...dumpsFromText(name, text, pod));
  }
  return out;
}

export interface ProxyFetchResult {
  inputs: ProxyConfigInput[];
  gaps: ProxyConfigGap[];
}

/** The pod proxy path of a pod's Envoy admin config dump. */
export function proxyConfigPath(pod: PodName, port = ENVOY_ADMIN_PORT): string {
  return `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}:${port}/proxy/${CONFIG_DUMP_PATH}`;
}

function gapFor(pod: PodName, status: number, message: string | undefined): ProxyConfigGap {
  const said = message ? `: ${message.slice(0, 200)}` : '';
  if (status === 403) return { pod, reason: 'forbidden', message: `get on pods/proxy is not granted (HTTP 403${said}); deploy/rbac.yaml has it as the optional ClusterRole tunnelmesh-proxy-config` };
  if (status === 404) return { pod, reason: 'not-found', message: `the pod or its admin port was not found (HTTP 404${said}): it was deleted since it was listed, or has no sidecar` };
  if (status === 502 || status === 503) {
    return { pod, reason: 'unreachable', message: `the API server could not reach Envoy's admin port ${ENVOY_ADMIN_PORT} (HTTP ${status}${said}): the pod is not ready, or its admin listener is bound to localhost as in stock Istio; ${saveDumpHint(pod)}` };
  }
  return { pod, reason: 'error', message: `HTTP ${status}${said}` };
}

/**
 * Fetches each pod's dump (GET only), at most MAX_DUMPS, CONCURRENCY at a time. Failures are
 * gaps (said in the report and in `incomplete`), never a reason to stop the run.
 */
export async function fetchProxyConfigs(conn: ApiConnection, pods: readonly PodName[], limits: { maxDumps?: number; maxBytes?: number } = {}): Promise<ProxyFetchResult> {
  const maxDumps = limits.maxDumps ?? MAX_DUMPS;
  const maxBytes = limits.maxBytes ?? MAX_DUMP_BYTES;
  const inputs: Array<ProxyConfigInput | undefined> = [];
  const gaps: ProxyConfigGap[] = [];
  const chosen = pods.slice(0, maxDumps);
  for (const pod of pods.slice(maxDumps)) gaps.push({ pod, reason: 'error', message: `not fetched: at most ${maxDumps} dumps are read per run; ${saveDumpHint(pod)}` });
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const pod = chosen[i];
      if (!pod) return;
      const path = proxyConfigPath(pod);
      try {
        // Only 429 is asked again: a 502/503 through the pod proxy is the pod's port refusing, which a retry does not change.
        const res = await getJson(conn, path, { maxBytes, retryStatuses: ONLY_THROTTLING });
        if (!res.ok) {
          gaps.push(res.status === 413 ? { pod, reason: 'too-large', message: `the dump is over ${formatSize(maxBytes)}; ${saveDumpHint(pod)}` } : gapFor(pod, res.status, res.message));
          continue;
        }
        if (!isConfigDump(res.body)) {
          gaps.push({ pod, reason: 'invalid', message: `the answer is not an Envoy config dump (is port ${ENVOY_ADMIN_PORT} Envoy's admin port?)` });
          continue;
        }
        inputs[i] = { source: `pods/${pod.name}:${ENVOY_ADMIN_PORT}/proxy (${pod.namespace})`, live: true, pod, dump: pruneConfigDump(res.body) };
      } catch (err) {
        if (err instanceof NetworkError && err.code === 'EABORTED') throw err;
        gaps.push({ pod, reason: 'error', message: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, chosen.length) }, worker));
  // Input order, whichever fetch finished first (the report must not depend on timing).
  const order = new Map(pods.map((p, i) => [`${p.namespace}/${p.name}`, i]));
  gaps.sort((a, b) => (order.get(`${a.pod.namespace}/${a.pod.name}`) ?? 0) - (order.get(`${b.pod.namespace}/${b.pod.name}`) ?? 0));
  return { inputs: inputs.filter((x): x is ProxyConfigInput => x !== undefined), gaps };
}
