// Live collection: kubeconfig through @kubernetes/client-node (contexts, auth plugins, TLS),
// then paginated GET lists of raw JSON, all in parallel. GET only; Secrets are never asked for.
// `-n` limits findings, not evidence: root-namespace policies, the tunnels' cloudflared pods and
// configs, and DestinationRules in the clients' namespaces are collected wherever they live.

import { setMaxListeners } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type https from 'node:https';
import jsyaml from 'js-yaml';
import { ClusterError, UsageError } from '../errors.js';
import { registerSecret } from '../core/redact.js';
import { boundedExec, type ExecFn } from './exec-credential.js';
import { checkKubeconfigFile, loginHint } from './kubeconfig-check.js';
import { lazyImport } from './lazy-import.js';
import type { ConfigMap, KObject, PodSpec } from '../core/k8s.js';
import { unknownNamespaceMessage } from '../core/names.js';
import { CONNECTOR_SELECTOR, DEFAULT_ROOT_NAMESPACE, isMeshConfigMap, isTunnelConfigMap, OPERATOR_LABEL, OPERATOR_NAMESPACE, readMeshConfigMap, rootNamespaceOf, runsCloudflared } from '../core/wellknown.js';
import { cachedLookup, getJson, NetworkError, UNREACHABLE_CODES, type ApiConnection, type ApiResult } from './http.js';
import { DEFAULT_MAX_INPUT_BYTES, formatSize } from '../core/limits.js';
import { apiVersionOf, GATEWAY_API_GATEWAY, kindInfo, kindOfObject, KINDS, resourcePath, type KindInfo } from '../core/kinds.js';
import { addObjects, emptySnapshot, type IncompleteEntry, type ListedScope, type Snapshot } from '../core/snapshot.js';
import { normalizeObject } from './validate.js';
import { pushAll } from '../core/arrays.js';
import { ENVOY_DUMP_KIND, type PodName } from '../core/envoy-dump.js';
import { fetchProxyConfigs } from './envoy.js';

export { OPERATOR_NAMESPACE };
const PAGE_SIZE = 500;
/**
 * Pages one list may take, whatever the server says: 1,000,000 items at the default page size
 * (far past any cluster's limits). A server that keeps sending continue tokens on empty pages is
 * stopped here; one that sends items is stopped sooner by the byte cap.
 */
const MAX_LIST_ITEMS = 1_000_000;

export interface LiveOptions {
  kubeconfig?: string;
  context?: string;
  /** `-n`; undefined = the context's namespace. */
  namespace?: string;
  allNamespaces: boolean;
  requestTimeoutMs: number;
  /** Extra namespaces where tunnels (cloudflared and its configs) live. */
  tunnelNamespaces?: string[];
  /** Items per list request (`limit`); the API server pages with `continue`. */
  pageSize?: number;
  /** Bytes one list (all its pages) may take from the API server (--max-list-size); past it the kind is incomplete. */
  maxListBytes?: number;
  log?: (message: string) => void;
  /**
   * `--proxy-config`: once the objects are in, which pods' Envoy config dumps to fetch through
   * the pod proxy subresource (the caller judges the edges to know which proxies matter).
   */
  proxyConfig?: { select: (snapshot: Snapshot, namespace: string | undefined) => PodName[] | Promise<PodName[]> };
  /** The root namespace of a mesh config given on the command line (--mesh-config), used instead of the cluster's. */
  rootNamespace?: string;
}

export interface LiveResult {
  snapshot: Snapshot;
  /** The namespace findings are scoped to (undefined with -A). */
  namespace?: string;
}

interface ListTarget {
  info: KindInfo;
  /** undefined = all namespaces (or a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string;
  /** A GET of this one object rather than a list. */
  name?: string;
  /** Keep only some items (said in the scope, e.g. `running cloudflared`): the rest are dropped as they arrive. */
  filter?: { text: string; keep: (item: RawObject) => boolean };
}

/** Workload kinds a hand-written connector runs as; searched cluster-wide with -n (bare Pods are not). */
const CONNECTOR_WORKLOADS = ['Deployment', 'DaemonSet', 'StatefulSet'] as const;

const RUNNING_CLOUDFLARED = 'running cloudflared';

/** A hand-written connector: its pod template runs the cloudflared image or binary. */
function workloadRunsCloudflared(item: RawObject): boolean {
  const template = (item.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } } | undefined)?.template;
  return template?.spec !== undefined && typeof template.spec === 'object' && runsCloudflared(template.spec, template.metadata?.labels ?? {});
}

/** Loads the kubeconfig the way kubectl does, with the errors kubectl users expect. */
async function loadKubeConfig(opts: LiveOptions) {
  const k8s = await lazyImport<typeof import('@kubernetes/client-node')>('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const file = opts.kubeconfig;
  try {
    if (file) {
      if (!existsSync(file)) throw new UsageError(`kubeconfig ${file}: no such file`);
      checkKubeconfigFile(file);
      kc.loadFromFile(file);
    } else {
      const envPath = process.env.KUBECONFIG;
      const homeConfig = join(homedir(), '.kube', 'config');
      const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
      // loadFromDefault silently falls back to http://localhost:8080 when nothing is found.
      if (!envPath && !existsSync(homeConfig) && !inCluster) {
        throw new ClusterError('no kubeconfig found (KUBECONFIG, ~/.kube/config) and not running in a cluster; use -f to read manifests');
      }
      const listed = (envPath ?? '').split(delimiter).filter((f) => f && existsSync(f));
      if (envPath) for (const f of listed) checkKubeconfigFile(f, 'KUBECONFIG file', listed.length === 1);
      else if (existsSync(homeConfig)) checkKubeconfigFile(homeConfig);
      kc.loadFromDefault();
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ClusterError) throw err;
    throw new UsageError(`cannot read kubeconfig${file ? ` ${file}` : ''}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (opts.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(opts.context)) {
      throw new UsageError(`context "${opts.context}" is not in the kubeconfig (contexts: ${names.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(opts.context);
  }
  const contextName = kc.getCurrentContext();
  if (!contextName) {
    const names = kc.getContexts().map((c) => c.name);
    throw new UsageError(`the kubeconfig has no current-context: pass --context NAME or run kubectl config use-context NAME (contexts: ${names.join(', ') || 'none'})`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ClusterError(`context "${contextName}" has no cluster in the kubeconfig`);
  if (cluster.server.startsWith('http://') && !cluster.skipTLSVerify) {
    throw new ClusterError(
      `cluster ${cluster.server} uses plain http, which @kubernetes/client-node refuses unless the cluster entry sets insecure-skip-tls-verify: true (as kubectl proxy kubeconfigs need)`,
    );
  }
  const contextNamespace = kc.getContextObject(contextName)?.namespace ?? 'default';
  const user = kc.getCurrentUser();
  if (user) {
    // Before anything can fail: every output path is scrubbed of these from now on.
    for (const secret of [user.token, user.password, user.keyData && Buffer.from(user.keyData, 'base64').toString('utf8'), user.keyData]) registerSecret(secret);
    applyTokenFile(user, kubeconfigFiles(opts));
  }
  boundExecPlugins(kc, opts.requestTimeoutMs);
  const requestOptions: https.RequestOptions = {};
  // Said after every 401: whose credentials were refused and how to renew them.
  const authHint = loginHint(kc.getCurrentUser(), contextName);
  try {
    // The plugins are bounded by boundedExec; this bounds the library's own steps too.
    await withTimeout(kc.applyToHTTPSOptions(requestOptions), opts.requestTimeoutMs + 1000, `no credentials within ${opts.requestTimeoutMs} ms`);
  } catch (err) {
    // No credentials were obtained (a plugin failed or hung): nothing was refused yet, so no 401 hint.
    throw new ClusterError(`authentication failed for context "${contextName}" (${cluster.server}): ${(err as Error).message.split('\n')[0]}`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(requestOptions.headers ?? {})) {
    if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
  }
  if (requestOptions.auth) {
    headers.Authorization = `Basic ${Buffer.from(requestOptions.auth).toString('base64')}`;
    registerSecret(headers.Authorization.slice('Basic '.length));
  }
  if (headers.Authorization) registerSecret(headers.Authorization.replace(/^\S+\s+/, ''));
  if (requestOptions.key) registerSecret(Buffer.isBuffer(requestOptions.key) ? requestOptions.key : String(requestOptions.key));
  return { contextName, server: cluster.server, contextNamespace, agent: requestOptions.agent as https.Agent | undefined, headers, authHint };
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * ExecAuth (one of the KubeConfig's built-in authenticators, not exported) starts plugins with
 * its `execFn`: swap in the bounded, silent one. Should a later client-node drop the field,
 * withTimeout above still ends the wait (test/live/auth.test.ts fails first).
 */
function boundExecPlugins(kc: import('@kubernetes/client-node').KubeConfig, timeoutMs: number): void {
  const authenticators = (kc as unknown as { authenticators?: Array<{ execFn?: ExecFn }> }).authenticators ?? [];
  for (const a of authenticators) if (typeof a.execFn === 'function') a.execFn = boundedExec(timeoutMs);
}

/** The kubeconfig files kubectl would read, in its order (the first that defines a user wins). */
function kubeconfigFiles(opts: LiveOptions): string[] {
  if (opts.kubeconfig) return [opts.kubeconfig];
  const env = process.env.KUBECONFIG;
  if (env) return env.split(delimiter).filter(Boolean);
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

/**
 * kubectl's `tokenFile` user key (client-go AuthInfo.TokenFile), which @kubernetes/client-node
 * does not read (it knows only `token-file`): the token is the file's content, trimmed, and
 * the file wins over `token` when both are set, as in client-go's bearer round tripper. A
 * relative path is relative to the kubeconfig that names it.
 */
function applyTokenFile(user: import('@kubernetes/client-node').User, files: string[]): void {
  for (const file of files) {
    let doc: unknown;
    try {
      doc = jsyaml.load(readFileSync(file, 'utf8'));
    } catch {
      continue; // the library read it already and said what it thought
    }
    const users = (doc as { users?: unknown } | null)?.users;
    if (!Array.isArray(users)) continue;
    const entry = users.find((u) => (u as { name?: unknown } | null)?.name === user.name) as { user?: { tokenFile?: unknown } } | undefined;
    if (!entry) continue;
    const tokenFile = entry.user?.tokenFile;
    if (typeof tokenFile !== 'string' || tokenFile === '') return;
    const path = isAbsolute(tokenFile) ? tokenFile : join(dirname(file), tokenFile);
    let token: string;
    try {
      token = readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new ClusterError(`the kubeconfig user "${user.name}" reads its token from ${path}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    registerSecret(token);
    (user as { token?: string }).token = token;
    return;
  }
}

export async function collectLive(opts: LiveOptions): Promise<LiveResult> {
  const kc = await loadKubeConfig(opts);
  const namespace = opts.allNamespaces ? undefined : (opts.namespace ?? kc.contextNamespace);
  const log = opts.log ?? (() => undefined);
  const conn: ApiConnection = {
    server: kc.server,
    agent: kc.agent,
    headers: kc.headers,
    timeoutMs: opts.requestTimeoutMs,
    lookup: cachedLookup(),
    onRequest: ({ path, status, ms, attempt }) => log(`GET ${path} → ${status} (${ms} ms${attempt > 1 ? `, attempt ${attempt}` : ''})`),
    onRetry: ({ path, waitMs, why }) => log(`GET ${path}: ${why}, trying again in ${waitMs} ms`),
  };
  // A fatal answer (401, unreachable) ends the run: stop the other requests and their retries.
  const stop = new AbortController();
  // Every request in flight listens on it; the default cap of 10 would print a leak warning.
  setMaxListeners(0, stop.signal);
  conn.signal = stop.signal;
  const collector = new Collector(conn, kc.contextName, kc.server, opts.pageSize ?? PAGE_SIZE, opts.maxListBytes ?? DEFAULT_MAX_INPUT_BYTES, kc.authHint);
  const all = async (work: Array<Promise<void>>): Promise<void> => {
    try {
      await Promise.all(work);
    } catch (err) {
      stop.abort();
      throw err;
    }
  };
  const snapshot = emptySnapshot('live');
  snapshot.live = { context: kc.contextName, server: kc.server };

  // Phase 1: the scope, the cluster-scoped kinds, the mesh config and tunnel discovery.
  const targets: ListTarget[] = [];
  for (const info of KINDS) {
    if (!info.namespaced) targets.push({ info });
    else targets.push({ info, ...(namespace ? { namespace } : {}) });
  }
  const rootGuess = DEFAULT_ROOT_NAMESPACE;
  const extraNamespaces = new Set<string>();
  if (namespace) {
    for (const kind of ROOT_KINDS) {
      if (namespace !== rootGuess) targets.push({ info: kindInfo(kind) as KindInfo, namespace: rootGuess });
    }
    for (const ns of [OPERATOR_NAMESPACE, ...(opts.tunnelNamespaces ?? [])]) if (ns !== namespace) extraNamespaces.add(ns);
    // Connectors and operator configs anywhere, found by their labels.
    targets.push({ info: kindInfo('Pod') as KindInfo, labelSelector: CONNECTOR_SELECTOR });
    targets.push({ info: kindInfo('ConfigMap') as KindInfo, labelSelector: `${OPERATOR_LABEL.type}=tunnel-config` });
    // Hand-written connectors anywhere: workloads whose pods run cloudflared (no label finds
    // them, and no selector matches an image); only those are kept, their namespaces listed next.
    const filter = { text: RUNNING_CLOUDFLARED, keep: (item: RawObject) => item.metadata?.namespace === namespace || workloadRunsCloudflared(item) };
    for (const kind of CONNECTOR_WORKLOADS) targets.push({ info: kindInfo(kind) as KindInfo, filter });
  }
  for (const ns of extraNamespaces) pushAll(targets, tunnelNamespaceTargets(ns));
  const meshConfig = collector.getMeshConfig();
  await all([...targets.map((t) => collector.list(t)), meshConfig]);

  if (namespace) await collector.checkNamespace(namespace);

  if (namespace) {
    // Phase 2: what phase 1 pointed at — the real root namespace, the clients' namespaces.
    const phase2: ListTarget[] = [];
    const mesh = { rootNamespace: opts.rootNamespace ?? rootNamespaceOf(readMeshConfigMap(collector.configMaps())?.mesh) };
    if (mesh.rootNamespace !== rootGuess && mesh.rootNamespace !== namespace) {
      for (const kind of ROOT_KINDS) phase2.push({ info: kindInfo(kind) as KindInfo, namespace: mesh.rootNamespace });
    }
    const clientNamespaces = new Set([...collector.podNamespaces(), ...collector.connectorWorkloadNamespaces()].filter((ns) => ns !== namespace && !extraNamespaces.has(ns)));
    for (const ns of clientNamespaces) pushAll(phase2, tunnelNamespaceTargets(ns));
    for (const ns of extraNamespaces) {
      for (const kind of ['DestinationRule', 'VirtualService', 'PeerAuthentication'] as const) phase2.push({ info: kindInfo(kind) as KindInfo, namespace: ns });
    }
    // Gateways that the VirtualServices in scope bind to elsewhere (`istio-system/public`): their
    // proxies are those routes' clients, with the DestinationRules of their namespace.
    const rootNamespaces = new Set([rootGuess, mesh.rootNamespace]);
    for (const ns of collector.gatewayNamespaces()) {
      if (ns === namespace) continue;
      phase2.push({ info: kindInfo('Gateway') as KindInfo, namespace: ns });
      if (clientNamespaces.has(ns) || extraNamespaces.has(ns)) continue; // their Pods and DestinationRules are listed already
      phase2.push({ info: kindInfo('Pod') as KindInfo, namespace: ns });
      if (!rootNamespaces.has(ns)) phase2.push({ info: kindInfo('DestinationRule') as KindInfo, namespace: ns });
    }
    // TunnelIngressClassConfigs the IngressClasses point at, where they live.
    for (const ns of collector.classConfigNamespaces()) {
      if (ns !== namespace && !extraNamespaces.has(ns) && !clientNamespaces.has(ns)) phase2.push({ info: kindInfo('TunnelIngressClassConfig') as KindInfo, namespace: ns });
    }
    // TunnelGatewayClassConfigs the GatewayClasses point at.
    for (const ns of collector.gatewayConfigNamespaces()) {
      if (ns !== namespace && !extraNamespaces.has(ns) && !clientNamespaces.has(ns)) phase2.push({ info: kindInfo('TunnelGatewayClassConfig') as KindInfo, namespace: ns });
    }
    // Gateway API Gateways that the HTTPRoutes in scope attach to elsewhere: an Istio one's proxies
    // are those routes' clients (with the DestinationRules of their namespace); the operator's has
    // its tunnel there. The Service Istio generates for it is what tunnel rules point at.
    for (const ns of collector.routeParentNamespaces()) {
      if (ns === namespace) continue;
      phase2.push({ info: kindInfo(GATEWAY_API_GATEWAY) as KindInfo, namespace: ns });
      if (clientNamespaces.has(ns) || extraNamespaces.has(ns)) continue;
      phase2.push({ info: kindInfo('Pod') as KindInfo, namespace: ns }, { info: kindInfo('Service') as KindInfo, namespace: ns });
      if (!rootNamespaces.has(ns)) phase2.push({ info: kindInfo('DestinationRule') as KindInfo, namespace: ns });
    }
    await all(phase2.map((t) => collector.list(t)));
  }

  if (collector.successes === 0) {
    throw new ClusterError(`nothing could be collected from context "${kc.contextName}" (${kc.server}): ${collector.firstFailure ?? 'every request failed'}`);
  }
  const objects: KObject[] = [];
  for (const raw of collector.objects()) {
    const o = normalizeObject(raw, `${raw.kind ?? 'object'} from the API`, { defaultNamespace: 'default', isNamespaced: (k, v) => kindOfObject(k, v)?.namespaced ?? true }, (m) => snapshot.warnings.push(m));
    if (o) objects.push(o);
  }
  addObjects(snapshot, objects, (o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`);
  pushAll(snapshot.incomplete, collector.incomplete);
  pushAll(snapshot.warnings, collector.notes);
  snapshot.listed = collector.listed;
  if (opts.proxyConfig) {
    const pods = await opts.proxyConfig.select(snapshot, namespace);
    const fetched = await fetchProxyConfigs(conn, pods);
    snapshot.proxyConfigs = [...(snapshot.proxyConfigs ?? []), ...fetched.inputs];
    snapshot.proxyConfigGaps = fetched.gaps;
    for (const g of fetched.gaps) {
      snapshot.incomplete.push({ kind: ENVOY_DUMP_KIND, namespace: g.pod.namespace, name: g.pod.name, reason: g.reason === 'forbidden' ? 'forbidden' : 'error', message: g.message.slice(0, 300) });
    }
    log(`proxy config: ${fetched.inputs.length} of ${pods.length} dumps read`);
  }
  return namespace ? { snapshot, namespace } : { snapshot };
}

/** In a namespace where tunnels live: their pods, workloads, configs and the clients' DestinationRules. */
function tunnelNamespaceTargets(ns: string): ListTarget[] {
  return (
    [
      'Pod',
      'ConfigMap',
      'Deployment',
      'ReplicaSet',
      'DestinationRule',
      'VirtualService',
      'PeerAuthentication',
      'Sidecar',
      'TunnelIngressClassConfig',
      'TunnelGatewayClassConfig',
      'Tunnel',
    ] as const
  ).map((kind) => ({
    info: kindInfo(kind) as KindInfo,
    namespace: ns,
  }));
}

/** Root-namespace policies that apply mesh-wide (the mesh-default Sidecar among them). */
const ROOT_KINDS = ['PeerAuthentication', 'DestinationRule', 'VirtualService', 'ServiceEntry', 'Sidecar'] as const;

type RawObject = Record<string, unknown> & { kind?: string; apiVersion?: string; metadata?: { name?: string; namespace?: string } };

class Collector {
  successes = 0;
  firstFailure?: string;
  readonly incomplete: IncompleteEntry[] = [];
  readonly listed: ListedScope[] = [];
  readonly notes: string[] = [];
  private readonly byKey = new Map<string, RawObject>();
  /** Group → the version that answered (so later lists skip the versions that 404). */
  private readonly groupVersion = new Map<string, Promise<string | undefined>>();
  private readonly notInstalled = new Set<string>();
  /** Requests the server answered at all (any status). */
  private answered = 0;
  /** Set when a request went unanswered before any was answered: the server is silent, later requests fail at once. */
  private silence?: string;

  constructor(
    private readonly conn: ApiConnection,
    private readonly context: string,
    private readonly server: string,
    private readonly pageSize: number,
    private readonly maxListBytes: number,
    private readonly authHint: string,
  ) {}

  objects(): RawObject[] {
    return [...this.byKey.values()];
  }

  configMaps(): ConfigMap[] {
    return this.objects().filter((o) => o.kind === 'ConfigMap') as unknown as ConfigMap[];
  }

  /** Namespaces IngressClass parameters name (default: the operator namespace). */
  classConfigNamespaces(): string[] {
    const classes = this.objects().filter((o) => o.kind === 'IngressClass') as Array<RawObject & { spec?: { parameters?: { kind?: string; namespace?: string } } }>;
    return [...new Set(classes.filter((c) => c.spec?.parameters?.kind === 'TunnelIngressClassConfig').map((c) => c.spec?.parameters?.namespace || OPERATOR_NAMESPACE))];
  }

  /** Namespaces GatewayClass parametersRefs name for TunnelGatewayClassConfigs (the operator requires one). */
  gatewayConfigNamespaces(): string[] {
    const classes = this.objects().filter((o) => o.kind === 'GatewayClass') as Array<RawObject & { spec?: { parametersRef?: { kind?: string; namespace?: string } } }>;
    return [...new Set(classes.filter((c) => c.spec?.parametersRef?.kind === 'TunnelGatewayClassConfig').map((c) => c.spec?.parametersRef?.namespace).filter((n): n is string => typeof n === 'string' && n !== ''))];
  }

  /** Namespaces of the Gateways HTTPRoutes attach to (parentRef namespace, else the route's). */
  routeParentNamespaces(): string[] {
    const out = new Set<string>();
    for (const o of this.objects()) {
      if (o.kind !== 'HTTPRoute') continue;
      const refs = (o.spec as { parentRefs?: unknown } | undefined)?.parentRefs;
      if (!Array.isArray(refs)) continue;
      for (const r of refs) {
        const ns = (r as { namespace?: unknown } | null)?.namespace;
        if (typeof ns === 'string' && ns) out.add(ns);
      }
    }
    return [...out];
  }

  /** Namespaces named by VirtualServices' `gateways: [ns/name]`. */
  gatewayNamespaces(): string[] {
    const out = new Set<string>();
    for (const o of this.objects()) {
      if (o.kind !== 'VirtualService') continue;
      const gateways = (o.spec as { gateways?: unknown } | undefined)?.gateways;
      if (!Array.isArray(gateways)) continue;
      for (const g of gateways) {
        const slash = typeof g === 'string' ? g.indexOf('/') : -1;
        if (slash > 0) out.add((g as string).slice(0, slash));
      }
    }
    return [...out];
  }

  /** Namespaces of the workloads found running cloudflared by the cluster-wide search. */
  connectorWorkloadNamespaces(): string[] {
    const kinds = new Set<string>(CONNECTOR_WORKLOADS);
    return [...new Set(this.objects().filter((o) => kinds.has(o.kind ?? '') && workloadRunsCloudflared(o)).map((o) => o.metadata?.namespace ?? ''))].filter(Boolean).sort();
  }

  /**
   * `-n NS` must name a namespace that exists: a typo would judge nothing and pass. The Namespace
   * list says so when it was allowed; else one GET; when neither may be read, the run goes on.
   */
  async checkNamespace(namespace: string): Promise<void> {
    const namespaces = this.objects().filter((o) => o.kind === 'Namespace').map((o) => o.metadata?.name ?? '');
    if (this.listed.some((l) => l.kind === 'Namespace' && l.name === undefined)) {
      if (!namespaces.includes(namespace)) throw new UsageError(unknownNamespaceMessage(namespace, namespaces, `the API server lists ${namespaces.length} namespaces`));
      return;
    }
    const info = kindInfo('Namespace') as KindInfo;
    const target: ListTarget = { info, name: namespace };
    const res = await this.fetch(resourcePath(info, 'v1', undefined, namespace), target, this.maxListBytes);
    if (res?.status === 404) throw new UsageError(unknownNamespaceMessage(namespace, [], 'the API server answered 404 Not Found'));
    // A 200 that is not that Namespace says nothing either way: the run goes on.
    if (res?.ok && notTheObject(res.body, 'Namespace', namespace) === undefined) {
      this.markListed(target);
      this.keep(info, 'v1', res.body as RawObject);
    }
  }

  podNamespaces(): string[] {
    return [...new Set(this.objects().filter((o) => o.kind === 'Pod').map((o) => o.metadata?.namespace ?? ''))].filter(Boolean);
  }

  /** The istiod mesh config (a GET; a missing one means Istio's defaults). */
  async getMeshConfig(): Promise<void> {
    const info = kindInfo('ConfigMap') as KindInfo;
    const target: ListTarget = { info, namespace: DEFAULT_ROOT_NAMESPACE, name: 'istio' };
    const res = await this.fetch(resourcePath(info, 'v1', DEFAULT_ROOT_NAMESPACE, 'istio'), target, this.maxListBytes);
    if (!res) return;
    if (res.ok) {
      const wrong = notTheObject(res.body, 'ConfigMap', 'istio');
      if (wrong) {
        this.fail(target, 'error', `the istio mesh config could not be read (the API server answered 200 with ${wrong})`);
        return;
      }
    }
    if (res.ok || res.status === 404) this.markListed(target);
    if (res.ok) {
      this.keep(info, 'v1', res.body as RawObject);
    } else if (res.status === 404) {
      this.notes.push(`no ConfigMap istio in ${DEFAULT_ROOT_NAMESPACE}: Istio's mesh defaults assumed (rootNamespace istio-system, enableAutoMtls true, defaultDestinationRuleExportTo everyone)`);
    } else {
      this.fail(target, res.status === 403 ? 'forbidden' : 'error', `the istio mesh config could not be read (${res.message ?? `HTTP ${res.status}`})`);
    }
  }

  async list(target: ListTarget): Promise<void> {
    const { info } = target;
    if (this.notInstalled.has(info.group)) {
      this.markListed(target);
      return;
    }
    const versions = await this.versionsFor(info);
    for (const version of versions) {
      const outcome = await this.listVersion(target, version);
      if (outcome === 'ok') {
        this.successes++;
        this.markListed(target);
        return;
      }
      if (outcome === 'not-found') continue;
      return; // forbidden or failed: recorded
    }
    if (info.crd) {
      // Not installed: none of those exist, which is as good as a list that came back empty.
      this.markListed(target);
      if (!this.notInstalled.has(info.group)) {
        this.notInstalled.add(info.group);
        this.notes.push(`API group ${info.group} is not installed (${info.kind} and its kin): none of those exist`);
      }
      return;
    }
    this.fail(target, 'error', `the API server does not serve ${info.plural}`);
  }

  private markListed(target: ListTarget): void {
    const scope: ListedScope = { kind: target.info.id };
    if (target.namespace) scope.namespace = target.namespace;
    if (target.labelSelector) scope.labelSelector = target.labelSelector;
    if (target.name) scope.name = target.name;
    if (target.filter) scope.filter = target.filter.text;
    this.listed.push(scope);
  }

  /** Versions worth trying: the one a sibling list already found, else all, preferred first. */
  private async versionsFor(info: KindInfo): Promise<string[]> {
    const known = await this.groupVersion.get(`${info.group}/${info.id}`);
    return known ? [known] : info.versions;
  }

  private async listVersion(target: ListTarget, version: string): Promise<'ok' | 'not-found' | 'failed'> {
    const { info, namespace, labelSelector } = target;
    const basePath = resourcePath(info, version, namespace);
    let items: RawObject[] = [];
    let continueToken: string | undefined;
    let relisted = false;
    /** Tokens of this list so far: one sent twice is a loop. */
    let tokens = new Set<string>();
    let pages = 0;
    /** How many pages the list can still need, from metadata.remainingItemCount (selector-free lists carry it). */
    let pageBudget = Math.ceil(MAX_LIST_ITEMS / this.pageSize);
    let bytes = 0;
    for (;;) {
      const query = new URLSearchParams({ limit: String(this.pageSize) });
      if (labelSelector) query.set('labelSelector', labelSelector);
      if (continueToken) query.set('continue', continueToken);
      const res = await this.fetch(`${basePath}?${query.toString()}`, target, this.maxListBytes - bytes);
      if (!res) return 'failed';
      if (!res.ok) {
        if (res.status === 404 && !continueToken) return 'not-found';
        if (res.status === 410 && continueToken && !relisted) {
          // The continue token expired mid-list: start the list again, once.
          relisted = true;
          continueToken = undefined;
          items = [];
          tokens = new Set();
          pages = 0;
          bytes = 0;
          pageBudget = Math.ceil(MAX_LIST_ITEMS / this.pageSize);
          continue;
        }
        this.fail(target, res.status === 403 ? 'forbidden' : 'error', res.message ?? `HTTP ${res.status}`);
        return 'failed';
      }
      const page = listPage(res.body, info.kind);
      if (typeof page === 'string') {
        this.fail(target, 'error', `the API server answered 200 with ${page}`);
        return 'failed';
      }
      pages++;
      bytes += res.bytes;
      for (const item of page.items) items.push(item);
      if (page.remaining !== undefined) pageBudget = Math.min(pageBudget, pages + Math.max(page.remaining, 1));
      continueToken = page.continueToken;
      if (!continueToken) break;
      if (tokens.has(continueToken)) {
        this.fail(target, 'error', `the API server sent the same continue token twice (page ${pages}): the list would never end`);
        return 'failed';
      }
      tokens.add(continueToken);
      if (pages >= pageBudget) {
        const said = page.remaining !== undefined ? ` (its remainingItemCount said ${page.remaining} more)` : '';
        this.fail(target, 'error', `the API server sent more pages than the list can have${said}: stopped after ${pages} pages of ${this.pageSize}`);
        return 'failed';
      }
    }
    if (!this.groupVersion.has(`${info.group}/${info.id}`)) this.groupVersion.set(`${info.group}/${info.id}`, Promise.resolve(version));
    for (const item of items) if (!target.filter || (typeof item === 'object' && item !== null && target.filter.keep(item))) this.keep(info, version, item);
    return 'ok';
  }

  private keep(info: KindInfo, version: string, item: RawObject): void {
    if (typeof item !== 'object' || item === null) return;
    // Built-in list items carry no kind/apiVersion; custom resources do.
    item.kind = info.kind;
    if (typeof item.apiVersion !== 'string') item.apiVersion = apiVersionOf(info, version);
    if (info.kind === 'ConfigMap' && !keepConfigMap(item as unknown as ConfigMap)) return;
    const key = `${info.id}/${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
    this.byKey.set(key, item);
  }

  private fail(target: ListTarget, reason: IncompleteEntry['reason'], message: string): void {
    const scope = target.labelSelector ? `cluster-wide list with labelSelector ${target.labelSelector}: ` : '';
    const entry: IncompleteEntry = { kind: target.info.id, reason, message: `${scope}${message}`.slice(0, 300) };
    if (target.namespace) entry.namespace = target.namespace;
    if (target.labelSelector) entry.labelSelector = target.labelSelector;
    if (target.name) entry.name = target.name;
    if (target.filter) entry.filter = target.filter.text;
    const same = (e: IncompleteEntry): boolean =>
      e.kind === entry.kind && e.namespace === entry.namespace && e.labelSelector === entry.labelSelector && e.name === entry.name && e.filter === entry.filter && e.reason === entry.reason;
    if (!this.incomplete.some(same)) this.incomplete.push(entry);
    this.firstFailure ??= `${target.info.id}: ${message}`;
  }

  /**
   * One GET with the run-ending answers turned into a ClusterError (exit 3): 401, and a
   * cluster that cannot be reached at all. Any other network failure (after retries) is
   * recorded against the target and gives undefined.
   */
  private async fetch(path: string, target: ListTarget, maxBytes: number): Promise<ApiResult | undefined> {
    if (this.silence !== undefined) {
      this.fail(target, 'error', this.silence);
      return undefined;
    }
    let res: ApiResult;
    try {
      res = await getJson(this.conn, path, { maxBytes });
    } catch (err) {
      if (err instanceof NetworkError && UNREACHABLE_CODES.has(err.code)) {
        throw new ClusterError(`cannot reach the cluster of context "${this.context}" at ${this.server}: ${err.message}`);
      }
      if (err instanceof NetworkError && err.code === 'ETIMEDOUT' && this.answered === 0) this.silence = err.message;
      this.fail(target, 'error', (err as Error).message);
      return undefined;
    }
    this.answered++;
    if (!res.ok && res.tooLarge) {
      const raise = `${Math.ceil((this.maxListBytes * 4) / 1024 ** 2)}Mi`;
      this.fail(target, 'error', `the list is larger than --max-list-size ${formatSize(this.maxListBytes)} (raise it with --max-list-size ${raise})`);
      return undefined;
    }
    if (!res.ok && res.status === 401) {
      throw new ClusterError(`authentication failed for context "${this.context}" (${this.server}): ${res.message ?? 'Unauthorized'} — ${this.authHint}`);
    }
    return res;
  }
}

interface ListPage {
  items: RawObject[];
  continueToken?: string;
  remaining?: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a 200 body is, in a few words, when it is not what was asked for. */
function describeBody(body: unknown): string {
  if (body === null) return 'null';
  if (Array.isArray(body)) return body.length === 0 ? '[] (a JSON array)' : `a JSON array of ${body.length}`;
  if (typeof body !== 'object') return `a JSON ${typeof body}`;
  const o = body as Record<string, unknown>;
  if (o.kind === 'Status') return `a Status object${typeof o.reason === 'string' && o.reason ? ` (${o.reason})` : ''}`;
  if (Object.keys(o).length === 0) return '{}';
  return typeof o.kind === 'string' ? `a ${o.kind}` : 'an object without kind';
}

/**
 * A list page of `kind`, or why the body is not one (a 200 that is not a `<Kind>List` with an
 * `items` array of objects is never taken for an empty list: errors would vanish).
 */
function listPage(body: unknown, kind: string): ListPage | string {
  if (!isPlainObject(body) || body.kind === 'Status') return describeBody(body);
  const expected = `${kind}List`;
  if (body.kind !== expected) return `${describeBody(body)} where a ${expected} was asked for`;
  if (!Array.isArray(body.items)) return `a ${expected} whose items is ${body.items === undefined ? 'missing' : JSON.stringify(body.items)}`;
  const bad = body.items.findIndex((i) => !isPlainObject(i));
  if (bad >= 0) return `a ${expected} whose item #${bad + 1} is ${describeBody(body.items[bad])}`;
  const meta = isPlainObject(body.metadata) ? body.metadata : {};
  const page: ListPage = { items: body.items as RawObject[] };
  // Typed lists name the token `_continue` in client-node's models; the raw JSON says `continue`.
  const token = typeof meta.continue === 'string' ? meta.continue : typeof meta._continue === 'string' ? meta._continue : '';
  if (token) page.continueToken = token;
  if (typeof meta.remainingItemCount === 'number' && Number.isInteger(meta.remainingItemCount) && meta.remainingItemCount >= 0) page.remaining = meta.remainingItemCount;
  return page;
}

/** Why a 200 body is not the named object of `kind`; undefined when it is. */
function notTheObject(body: unknown, kind: string, name: string): string | undefined {
  if (!isPlainObject(body) || body.kind === 'Status') return describeBody(body);
  if (body.kind !== kind) return `${describeBody(body)} where a ${kind} was asked for`;
  const meta = isPlainObject(body.metadata) ? body.metadata : {};
  if (meta.name !== name) return `a ${kind} named ${typeof meta.name === 'string' ? meta.name : 'nothing'} where ${name} was asked for`;
  return undefined;
}

/**
 * Only tunnel configs and the mesh config are kept: other ConfigMaps may hold anything,
 * and nothing tunnelmesh judges is in them.
 */
export function keepConfigMap(cm: ConfigMap): boolean {
  if (typeof cm.data !== 'object' || cm.data === null) return false;
  return isMeshConfigMap(cm) || isTunnelConfigMap(cm);
}
