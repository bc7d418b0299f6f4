// The pod's ProxyConfig (`proxy.istio.io/config`, YAML or JSON, over meshConfig.defaultConfig)
// and what it says about the application/proxy start order (holdApplicationUntilProxyStarts).

import jsyaml from 'js-yaml';
import { loadYaml } from '../core/limits.js';
import type { Container } from '../core/k8s.js';
import type { MeshSettings } from './mesh.js';
import type { PodView } from './pods.js';
import { PROXY_CONTAINER } from './sidecar.js';

export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';
export const NATIVE_SIDECAR_ANNOTATION = 'sidecar.istio.io/nativeSidecar';

export type ParsedProxyConfig = { ok: true; config: Record<string, unknown> } | { ok: false; error: string };

/** The annotation's value: a ProxyConfig as YAML (JSON is YAML too); undefined = not set. */
export function parseProxyConfig(value: string | undefined): ParsedProxyConfig | undefined {
  if (value === undefined) return undefined;
  try {
    const doc: unknown = loadYaml(value);
    if (doc === undefined || doc === null) return { ok: true, config: {} };
    if (typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, error: 'not a mapping' };
    return { ok: true, config: doc as Record<string, unknown> };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0] ?? 'not valid YAML' };
  }
}

export interface HoldDecision {
  held: boolean;
  /** Where the answer came from, for evidence. */
  source: string;
  /** A running pod not held although its annotation or the mesh now asks for it (created before). */
  stale?: boolean;
}

/** Istio's injector adds `postStart: pilot-agent wait` to istio-proxy when it holds the app. */
function hasWaitHook(c: Container | undefined): boolean {
  const lifecycle = (c as (Container & { lifecycle?: { postStart?: { exec?: { command?: unknown } } } }) | undefined)?.lifecycle;
  const command = lifecycle?.postStart?.exec?.command;
  return Array.isArray(command) && command.some((a) => typeof a === 'string' && /pilot-agent/.test(a)) && command.includes('wait');
}

/**
 * Does the application wait for the proxy? A running pod shows it (the injector's postStart
 * hook on istio-proxy); a template is predicted from its annotation, else the mesh default.
 */
export function holdApplication(pod: PodView, mesh: MeshSettings): HoldDecision {
  const annotation = pod.annotations[PROXY_CONFIG_ANNOTATION];
  const parsed = parseProxyConfig(annotation);
  if (!pod.fromTemplate) {
    const proxy = pod.spec.containers.find((c) => c.name === PROXY_CONTAINER);
    if (hasWaitHook(proxy)) return { held: true, source: 'istio-proxy has the injector\'s postStart hook "pilot-agent wait"' };
    const configured = parsed?.ok && parsed.config.holdApplicationUntilProxyStarts === true ? `annotation ${PROXY_CONFIG_ANNOTATION}` : mesh.holdApplicationUntilProxyStarts ? mesh.source : undefined;
    return {
      held: false,
      ...(configured ? { stale: true } : {}),
      source: configured
        ? `istio-proxy has no postStart "pilot-agent wait" hook although ${configured} asks for it: the pod was created before the setting (restart it)`
        : 'istio-proxy has no postStart "pilot-agent wait" hook',
    };
  }
  if (parsed?.ok && typeof parsed.config.holdApplicationUntilProxyStarts === 'boolean') {
    return { held: parsed.config.holdApplicationUntilProxyStarts, source: `annotation ${PROXY_CONFIG_ANNOTATION}: holdApplicationUntilProxyStarts ${parsed.config.holdApplicationUntilProxyStarts}` };
  }
  const bad = parsed && !parsed.ok ? `annotation ${PROXY_CONFIG_ANNOTATION} cannot be parsed (${parsed.error}; the injector rejects the pod); ` : '';
  return {
    held: mesh.holdApplicationUntilProxyStarts,
    source: `${bad}meshConfig.defaultConfig.holdApplicationUntilProxyStarts ${mesh.holdApplicationUntilProxyStarts} (${mesh.defaulted ? "Istio's default" : mesh.source})`,
  };
}

/**
 * The `proxy.istio.io/config` value with holdApplicationUntilProxyStarts turned on, keeping
 * whatever else the pod's annotation set.
 */
export function proxyConfigWithHold(current: string | undefined): string {
  const parsed = parseProxyConfig(current);
  const config = parsed?.ok ? { ...parsed.config } : {};
  config.holdApplicationUntilProxyStarts = true;
  // YAML flow style: what Istio parses, and it reads without JSON's escaped quotes.
  return jsyaml.dump(config, { flowLevel: 0, lineWidth: -1 }).trim();
}
