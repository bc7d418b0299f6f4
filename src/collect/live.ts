// Live collection: kubeconfig through @kubernetes/client-node (contexts, auth plugins, TLS),
// then paginated GET lists of raw JSON, all in parallel. GET only; Secrets are never asked for.
// `-n` limits findings, not evidence: root-namespace policies, the tunnels' cloudflared pods and
// configs, and DestinationRules in the clients' namespaces are collected wherever they live.

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type https from 'node:https';
import { ClusterError, UsageError } from '../errors.js';
import type { ConfigMap, KObject } from '../model/k8s.js';
import { DEFAULT_ROOT_NAMESPACE, isMeshConfigMap, meshSettingsFrom } from '../model/mesh.js';
import { OPERATOR_NAMESPACE } from '../model/operator.js';
import { isTunnelConfigMap, OPERATOR_LABEL } from '../model/tunnels.js';
import { getJson, NetworkError, type ApiConnection } from './http.js';
import { apiVersionOf, kindInfo, KINDS, resourcePath, type KindInfo } from './kinds.js';
import { addObjects, emptySnapshot, type IncompleteEntry, type ListedScope, type Snapshot } from './snapshot.js';
import { normalizeObject } from './validate.js';

export { OPERATOR_NAMESPACE };
const PAGE_SIZE = 500;

export interface LiveOptions {
  kubeconfig?: string;
  context?: string;
  /** `-n`; undefined = the context's namespace. */
  namespace?: string;
  allNamespaces: boolean;
  requestTimeoutMs: number;
  /** Extra namespaces where tunnels (cloudflared and its configs) live. */
  tunnelNamespaces?: string[];
  log?: (message: string) => void;
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
}

/** Loads the kubeconfig the way kubectl does, with the errors kubectl users expect. */
async function loadKubeConfig(opts: LiveOptions) {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const file = opts.kubeconfig;
  try {
    if (file) {
      if (!existsSync(file)) throw new UsageError(`kubeconfig ${file}: no such file`);
      kc.loadFromFile(file);
    } else {
      const envPath = process.env.KUBECONFIG;
      const homeConfig = join(homedir(), '.kube', 'config');
      const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
      // loadFromDefault silently falls back to http://localhost:8080 when nothing is found.
      if (!envPath && !existsSync(homeConfig) && !inCluster) {
        throw new ClusterError('no kubeconfig found (KUBECONFIG, ~/.kube/config) and not running in a cluster; use -f to read manifests');
      }
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
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ClusterError(`context "${contextName}" has no cluster in the kubeconfig`);
  if (cluster.server.startsWith('http://') && !cluster.skipTLSVerify) {
    throw new ClusterError(
      `cluster ${cluster.server} uses plain http, which @kubernetes/client-node refuses unless the cluster entry sets insecure-skip-tls-verify: true (as kubectl proxy kubeconfigs need)`,
    );
  }
  const contextNamespace = kc.getContextObject(contextName)?.namespace ?? 'default';
  const requestOptions: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(requestOptions);
  } catch (err) {
    throw new ClusterError(`authentication failed for context "${contextName}" (${cluster.server}): ${(err as Error).message.split('\n')[0]}`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(requestOptions.headers ?? {})) {
    if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
  }
  if (requestOptions.auth) headers.Authorization = `Basic ${Buffer.from(requestOptions.auth).toString('base64')}`;
  return { contextName, server: cluster.server, contextNamespace, agent: requestOptions.agent as https.Agent | undefined, headers };
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
    onRequest: ({ path, status, ms, attempt }) => log(`GET ${path} → ${status} (${ms} ms${attempt > 1 ? `, attempt ${attempt}` : ''})`),
  };
  const collector = new Collector(conn, kc.contextName, kc.server);
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
    for (const kind of ['PeerAuthentication', 'DestinationRule', 'VirtualService', 'ServiceEntry'] as const) {
      if (namespace !== rootGuess) targets.push({ info: kindInfo(kind) as KindInfo, namespace: rootGuess });
    }
    for (const ns of [OPERATOR_NAMESPACE, ...(opts.tunnelNamespaces ?? [])]) if (ns !== namespace) extraNamespaces.add(ns);
    // Connectors and operator configs anywhere, found by their labels.
    targets.push({ info: kindInfo('Pod') as KindInfo, labelSelector: 'cloudflare-operator.io/app=cloudflared' });
    targets.push({ info: kindInfo('ConfigMap') as KindInfo, labelSelector: `${OPERATOR_LABEL.type}=tunnel-config` });
  }
  for (const ns of extraNamespaces) targets.push(...tunnelNamespaceTargets(ns));
  const meshConfig = collector.getMeshConfig();
  await Promise.all([...targets.map((t) => collector.list(t)), meshConfig]);

  if (namespace) {
    // Phase 2: what phase 1 pointed at — the real root namespace, the clients' namespaces.
    const phase2: ListTarget[] = [];
    const mesh = meshSettingsFrom(collector.configMaps().filter(isMeshConfigMap), () => undefined);
    if (mesh.rootNamespace !== rootGuess && mesh.rootNamespace !== namespace) {
      for (const kind of ['PeerAuthentication', 'DestinationRule', 'VirtualService', 'ServiceEntry'] as const) {
        phase2.push({ info: kindInfo(kind) as KindInfo, namespace: mesh.rootNamespace });
      }
    }
    const clientNamespaces = new Set(collector.podNamespaces().filter((ns) => ns !== namespace && !extraNamespaces.has(ns)));
    for (const ns of clientNamespaces) phase2.push(...tunnelNamespaceTargets(ns));
    for (const ns of extraNamespaces) {
      for (const kind of ['DestinationRule', 'VirtualService', 'PeerAuthentication'] as const) phase2.push({ info: kindInfo(kind) as KindInfo, namespace: ns });
    }
    // TunnelIngressClassConfigs the IngressClasses point at, where they live.
    for (const ns of collector.classConfigNamespaces()) {
      if (ns !== namespace && !extraNamespaces.has(ns) && !clientNamespaces.has(ns)) phase2.push({ info: kindInfo('TunnelIngressClassConfig') as KindInfo, namespace: ns });
    }
    await Promise.all(phase2.map((t) => collector.list(t)));
  }

  if (collector.successes === 0) {
    throw new ClusterError(`nothing could be collected from context "${kc.contextName}" (${kc.server}): ${collector.firstFailure ?? 'every request failed'}`);
  }
  const objects: KObject[] = [];
  for (const raw of collector.objects()) {
    const o = normalizeObject(raw, `${raw.kind ?? 'object'} from the API`, { defaultNamespace: 'default', isNamespaced: (k) => kindInfo(k)?.namespaced ?? true }, (m) => snapshot.warnings.push(m));
    if (o) objects.push(o);
  }
  addObjects(snapshot, objects, (o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`);
  snapshot.incomplete.push(...collector.incomplete);
  snapshot.warnings.push(...collector.notes);
  snapshot.listed = collector.listed;
  return namespace ? { snapshot, namespace } : { snapshot };
}

/** In a namespace where tunnels live: their pods, workloads, configs and the clients' DestinationRules. */
function tunnelNamespaceTargets(ns: string): ListTarget[] {
  return (['Pod', 'ConfigMap', 'Deployment', 'ReplicaSet', 'DestinationRule', 'VirtualService', 'PeerAuthentication', 'TunnelIngressClassConfig'] as const).map((kind) => ({
    info: kindInfo(kind) as KindInfo,
    namespace: ns,
  }));
}

type RawObject = Record<string, unknown> & { kind?: string; metadata?: { name?: string; namespace?: string } };

class Collector {
  successes = 0;
  firstFailure?: string;
  readonly incomplete: IncompleteEntry[] = [];
  readonly notes: string[] = [];
  /** Complete lists (label-selected lists are partial by design and not recorded). */
  readonly listed: ListedScope[] = [];
  private readonly byKey = new Map<string, RawObject>();
  /** Group → the version that answered (so later lists skip the versions that 404). */
  private readonly groupVersion = new Map<string, Promise<string | undefined>>();
  private readonly notInstalled = new Set<string>();

  constructor(
    private readonly conn: ApiConnection,
    private readonly context: string,
    private readonly server: string,
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

  podNamespaces(): string[] {
    return [...new Set(this.objects().filter((o) => o.kind === 'Pod').map((o) => o.metadata?.namespace ?? ''))].filter(Boolean);
  }

  /** The istiod mesh config (a GET; a missing one means Istio's defaults). */
  async getMeshConfig(): Promise<void> {
    const info = kindInfo('ConfigMap') as KindInfo;
    let res;
    try {
      res = await this.get(resourcePath(info, 'v1', DEFAULT_ROOT_NAMESPACE, 'istio'));
    } catch (err) {
      if (err instanceof ClusterError) throw err;
      this.incomplete.push({ kind: 'ConfigMap', namespace: DEFAULT_ROOT_NAMESPACE, reason: 'error', message: `the istio mesh config could not be read (${(err as Error).message}); Istio defaults assumed` });
      return;
    }
    if (res.ok) {
      this.successes++;
      this.keep(info, 'v1', res.body as RawObject);
    } else if (res.status === 403) {
      this.incomplete.push({ kind: 'ConfigMap', namespace: DEFAULT_ROOT_NAMESPACE, reason: 'forbidden', message: 'the istio mesh config could not be read; Istio defaults assumed' });
    } else if (res.status === 404) {
      this.notes.push(`no ConfigMap istio in ${DEFAULT_ROOT_NAMESPACE}: Istio's mesh defaults assumed (rootNamespace istio-system, enableAutoMtls true)`);
    }
  }

  async list(target: ListTarget): Promise<void> {
    const { info } = target;
    if (this.notInstalled.has(info.group)) return;
    const versions = await this.versionsFor(info);
    for (const version of versions) {
      const outcome = await this.listVersion(target, version);
      if (outcome === 'ok') {
        this.successes++;
        return this.recordListed(target);
      }
      if (outcome === 'not-found') continue;
      return; // forbidden or failed: recorded
    }
    if (info.crd) {
      this.recordListed(target); // not installed: none exist
      if (!this.notInstalled.has(info.group)) {
        this.notInstalled.add(info.group);
        this.notes.push(`API group ${info.group} is not installed (${info.kind} and its kin): none of those exist`);
      }
      return;
    }
    this.fail(target, 'error', `the API server does not serve ${info.plural}`);
  }

  private recordListed(target: ListTarget): void {
    if (target.labelSelector) return;
    this.listed.push(target.namespace === undefined || !target.info.namespaced ? { kind: target.info.kind } : { kind: target.info.kind, namespace: target.namespace });
  }

  /** Versions worth trying: the one a sibling list already found, else all, preferred first. */
  private async versionsFor(info: KindInfo): Promise<string[]> {
    const known = await this.groupVersion.get(`${info.group}/${info.kind}`);
    return known ? [known] : info.versions;
  }

  private async listVersion(target: ListTarget, version: string): Promise<'ok' | 'not-found' | 'failed'> {
    const { info, namespace, labelSelector } = target;
    const basePath = resourcePath(info, version, namespace);
    const items: RawObject[] = [];
    let continueToken: string | undefined;
    let relisted = false;
    for (;;) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (labelSelector) query.set('labelSelector', labelSelector);
      if (continueToken) query.set('continue', continueToken);
      let res;
      try {
        res = await this.get(`${basePath}?${query.toString()}`);
      } catch (err) {
        if (err instanceof ClusterError) throw err;
        this.fail(target, 'error', (err as Error).message);
        return 'failed';
      }
      if (!res.ok) {
        if (res.status === 401) {
          throw new ClusterError(`authentication failed for context "${this.context}" (${this.server}): ${res.message ?? 'Unauthorized'}`);
        }
        if (res.status === 404 && !continueToken) return 'not-found';
        if (res.status === 410 && continueToken && !relisted) {
          // The continue token expired mid-list: start the list again, once.
          relisted = true;
          continueToken = undefined;
          items.length = 0;
          continue;
        }
        this.fail(target, res.status === 403 ? 'forbidden' : 'error', res.message ?? `HTTP ${res.status}`);
        return 'failed';
      }
      const body = res.body as { items?: unknown; metadata?: { continue?: string } };
      if (Array.isArray(body.items)) items.push(...(body.items as RawObject[]));
      continueToken = body.metadata?.continue || undefined;
      if (!continueToken) break;
    }
    if (!this.groupVersion.has(`${info.group}/${info.kind}`)) this.groupVersion.set(`${info.group}/${info.kind}`, Promise.resolve(version));
    for (const item of items) this.keep(info, version, item);
    return 'ok';
  }

  private keep(info: KindInfo, version: string, item: RawObject): void {
    if (typeof item !== 'object' || item === null) return;
    // Built-in list items carry no kind/apiVersion; custom resources do.
    item.kind = info.kind;
    if (typeof item.apiVersion !== 'string') item.apiVersion = apiVersionOf(info, version);
    if (info.kind === 'ConfigMap' && !keepConfigMap(item as unknown as ConfigMap)) return;
    const key = `${info.kind}/${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
    this.byKey.set(key, item);
  }

  private fail(target: ListTarget, reason: IncompleteEntry['reason'], message: string): void {
    const scope = target.labelSelector ? `cluster-wide list with labelSelector ${target.labelSelector}: ` : '';
    const entry: IncompleteEntry = { kind: target.info.kind, reason, message: `${scope}${message}`.slice(0, 300) };
    if (target.namespace) entry.namespace = target.namespace;
    if (!this.incomplete.some((e) => e.kind === entry.kind && e.namespace === entry.namespace && e.reason === entry.reason)) {
      this.incomplete.push(entry);
    }
    this.firstFailure ??= `${target.info.kind}: ${message}`;
  }

  /** A GET; a cluster that cannot be reached at all ends the run (exit 3), whichever request finds out first. */
  private async get(path: string) {
    try {
      return await getJson(this.conn, path);
    } catch (err) {
      if (err instanceof NetworkError && (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'CERT')) {
        throw new ClusterError(`cannot reach the cluster of context "${this.context}" at ${this.server}: ${err.message}`);
      }
      throw err;
    }
  }
}

/**
 * Only tunnel configs and the mesh config are kept: other ConfigMaps may hold anything,
 * and nothing tunnelmesh judges is in them.
 */
function keepConfigMap(cm: ConfigMap): boolean {
  if (typeof cm.data !== 'object' || cm.data === null) return false;
  return isMeshConfigMap(cm) || isTunnelConfigMap(cm);
}
