// Names, labels and shapes that say what an object is for: the Istio mesh config, a tunnel
// config, the Cloudflare operator's connectors. Both the live collector (what to keep, where to
// look) and the model (what to judge) recognise objects by these, so they live below both.

import jsyaml from 'js-yaml';
import type { ConfigMap, PodSpec, StringMap } from './k8s.js';
import { LimitError, loadYaml } from './limits.js';

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
export const OPERATOR_NAMESPACE = 'cloudflare-operator-system';
/** The sidecar's container (classic: in containers; native: an init container that keeps running). */
export const PROXY_CONTAINER = 'istio-proxy';

export const OPERATOR_LABEL = {
  type: 'cloudflare-operator.io/type',
  tunnelId: 'cloudflare-operator.io/tunnel-id',
  podId: 'cloudflare-operator.io/id',
  podTunnel: 'cloudflare-operator.io/tunnel',
} as const;

/** Every cloudflared pod the operator runs carries this label: one cluster-wide list finds them all. */
export const CONNECTOR_SELECTOR = 'cloudflare-operator.io/app=cloudflared';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The istiod ConfigMap: `istio` (or `istio-<revision>`) in istio-system, key `mesh`. */
export function isMeshConfigMap(cm: ConfigMap): boolean {
  const name = cm.metadata.name;
  return cm.metadata.namespace === DEFAULT_ROOT_NAMESPACE && (name === 'istio' || name.startsWith('istio-')) && typeof cm.data?.mesh === 'string';
}

export interface CloudflaredYaml {
  ingress: unknown[];
  originRequest?: Record<string, unknown>;
  tunnel?: string;
}

/**
 * Is this ConfigMap key's text a cloudflared config (a mapping with an `ingress:` list)? Text
 * that looks like one (an `ingress:` line) but cannot be read gives the reason instead.
 */
export function parseCloudflaredYaml(text: string): CloudflaredYaml | { error: string; refused: boolean } | undefined {
  // A top-level `ingress:` line, or the key in JSON syntax (valid YAML, which cloudflared reads too).
  if (!/^ingress\s*:/m.test(text) && !/^\s*\{[\s\S]*["']?ingress["']?\s*:/.test(text)) return undefined;
  let doc: unknown;
  try {
    doc = loadYaml(text);
  } catch (err) {
    const reason = err instanceof jsyaml.YAMLException ? err.reason : (err as Error).message;
    return { error: `looks like a cloudflared config (ingress:) but cannot be read: ${reason}`, refused: isRefusal(err) };
  }
  if (!isObject(doc) || !Array.isArray(doc.ingress)) return undefined;
  const out: CloudflaredYaml = { ingress: doc.ingress };
  if (isObject(doc.originRequest)) out.originRequest = doc.originRequest;
  if (typeof doc.tunnel === 'string') out.tunnel = doc.tunnel;
  return out;
}

/** tunnelmesh's own limits (alias bombs, nesting depth) — not a judgement of what cloudflared accepts. */
export function isRefusal(err: unknown): boolean {
  return err instanceof LimitError || (err instanceof jsyaml.YAMLException && /maxDepth/.test(err.reason ?? ''));
}

export function isOperatorConfig(cm: ConfigMap): boolean {
  return (
    typeof cm.data?.['config.json'] === 'string' &&
    (cm.metadata.labels?.[OPERATOR_LABEL.type] === 'tunnel-config' || cm.metadata.name.startsWith('tunnel-config-'))
  );
}

/** Does a ConfigMap hold a tunnel config (any layout)? Live collection keeps only these. */
export function isTunnelConfigMap(cm: ConfigMap): boolean {
  if (isOperatorConfig(cm)) return true;
  return Object.values(cm.data ?? {}).some((text) => parseCloudflaredYaml(text) !== undefined);
}


export interface MeshConfigText {
  /** The ConfigMap that holds it. */
  configMap: ConfigMap;
  /** The parsed `mesh` key (an empty object when it is empty); undefined when it cannot be read. */
  mesh?: Record<string, unknown>;
  /** Why it cannot be read. */
  error?: string;
}

/** The mesh config istiod uses among the ConfigMaps: the default revision's `istio`, else the first revision by name. */
export function readMeshConfigMap(configMaps: readonly ConfigMap[]): MeshConfigText | undefined {
  const candidates = configMaps.filter(isMeshConfigMap);
  candidates.sort((a, b) => (a.metadata.name === 'istio' ? -1 : b.metadata.name === 'istio' ? 1 : a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const configMap = candidates[0];
  if (!configMap) return undefined;
  try {
    const doc = loadYaml(configMap.data?.mesh ?? '');
    return { configMap, mesh: isObject(doc) ? doc : {} };
  } catch (err) {
    return { configMap, error: err instanceof jsyaml.YAMLException ? err.reason : (err as Error).message };
  }
}

/** meshConfig `rootNamespace`, Istio's default when unset. */
export function rootNamespaceOf(mesh: Record<string, unknown> | undefined): string {
  return typeof mesh?.rootNamespace === 'string' && mesh.rootNamespace ? mesh.rootNamespace : DEFAULT_ROOT_NAMESPACE;
}

/** Top-level MeshConfig fields (istio.io/api mesh/v1alpha1): a document made of these is a mesh config, not an object. */
const MESH_CONFIG_FIELDS = new Set([
  'rootNamespace', 'enableAutoMtls', 'defaultConfig', 'defaultDestinationRuleExportTo', 'defaultServiceExportTo', 'defaultVirtualServiceExportTo',
  'trustDomain', 'trustDomainAliases', 'meshMTLS', 'outboundTrafficPolicy', 'accessLogFile', 'accessLogEncoding', 'accessLogFormat', 'enableTracing',
  'extensionProviders', 'defaultProviders', 'localityLbSetting', 'discoverySelectors', 'ingressClass', 'ingressService', 'ingressControllerMode',
  'ingressSelector', 'enablePrometheusMerge', 'defaultHttpRetryPolicy', 'inboundTrafficPolicy', 'tlsDefaults', 'serviceSettings', 'caCertificates',
  'connectTimeout', 'protocolDetectionTimeout', 'dnsRefreshRate', 'h2UpgradePolicy', 'proxyListenPort', 'proxyInboundListenPort', 'proxyHttpPort',
]);

/** Does a document without `kind` look like a MeshConfig (istioctl --meshConfigFile), so the user meant --mesh-config? */
export function looksLikeMeshConfig(doc: unknown): string[] | undefined {
  if (!isObject(doc) || doc.kind !== undefined) return undefined;
  const keys = Object.keys(doc).filter((k) => MESH_CONFIG_FIELDS.has(k));
  return keys.length > 0 && keys.length * 2 >= Object.keys(doc).length ? keys : undefined;
}

const CLOUDFLARED_IMAGE = /(^|\/)cloudflared(:|@|$)/;

/**
 * A tunnel connector: the operator's label, or a container that runs the cloudflared image or
 * binary. Live collection looks for these in every namespace; the model reads their tunnels.
 */
export function runsCloudflared(spec: PodSpec, labels: StringMap): boolean {
  if (labels['cloudflare-operator.io/app'] === 'cloudflared') return true;
  return (spec.containers ?? []).some((c) => {
    if (c.name === PROXY_CONTAINER) return false;
    if (c.image && CLOUDFLARED_IMAGE.test(c.image.split('@')[0] ?? '')) return true;
    const argv0 = c.command?.[0] ?? c.args?.[0] ?? '';
    return /(^|\/)cloudflared$/.test(argv0);
  });
}
