// Mesh-wide settings that change verdicts: meshConfig from the `istio` ConfigMap.

import jsyaml from 'js-yaml';
import { loadYaml } from '../collect/limits.js';
import type { ConfigMap } from './k8s.js';

export interface MeshSettings {
  rootNamespace: string;
  enableAutoMtls: boolean;
  holdApplicationUntilProxyStarts: boolean;
  /** Where the settings came from, for evidence lines. */
  source: string;
  /** True when no mesh config was seen and Istio's defaults are assumed. */
  defaulted: boolean;
}

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';

export function defaultMeshSettings(): MeshSettings {
  return {
    rootNamespace: DEFAULT_ROOT_NAMESPACE,
    enableAutoMtls: true,
    holdApplicationUntilProxyStarts: false,
    source: "Istio's defaults (no istio ConfigMap in istio-system was seen)",
    defaulted: true,
  };
}

/** The istiod ConfigMap: `istio` (or `istio-<revision>`) in istio-system, key `mesh`. */
export function isMeshConfigMap(cm: ConfigMap): boolean {
  const name = cm.metadata.name;
  return (
    cm.metadata.namespace === DEFAULT_ROOT_NAMESPACE &&
    (name === 'istio' || name.startsWith('istio-')) &&
    typeof cm.data?.mesh === 'string'
  );
}

export function meshSettingsFrom(configMaps: ConfigMap[], warn: (m: string) => void): MeshSettings {
  const candidates = configMaps.filter(isMeshConfigMap);
  // The default revision's `istio` wins over revisioned ones.
  candidates.sort((a, b) => (a.metadata.name === 'istio' ? -1 : b.metadata.name === 'istio' ? 1 : 0));
  const cm = candidates[0];
  if (!cm) return defaultMeshSettings();
  let mesh: unknown;
  try {
    mesh = loadYaml(cm.data?.mesh ?? '');
  } catch (err) {
    const why = err instanceof jsyaml.YAMLException ? err.reason : (err as Error).message;
    warn(`ConfigMap istio-system/${cm.metadata.name}: key mesh cannot be read (${why}); Istio's defaults assumed`);
    return defaultMeshSettings();
  }
  const m = (typeof mesh === 'object' && mesh !== null ? mesh : {}) as Record<string, unknown>;
  const defaultConfig = (typeof m.defaultConfig === 'object' && m.defaultConfig !== null ? m.defaultConfig : {}) as Record<
    string,
    unknown
  >;
  return {
    rootNamespace: typeof m.rootNamespace === 'string' && m.rootNamespace ? m.rootNamespace : DEFAULT_ROOT_NAMESPACE,
    enableAutoMtls: m.enableAutoMtls !== false,
    holdApplicationUntilProxyStarts: defaultConfig.holdApplicationUntilProxyStarts === true,
    source: `ConfigMap istio-system/${cm.metadata.name} (key mesh)`,
    defaulted: false,
  };
}
