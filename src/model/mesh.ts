// Mesh-wide settings that change verdicts: meshConfig from the `istio` ConfigMap.

import type { ConfigMap } from '../core/k8s.js';
import { DEFAULT_ROOT_NAMESPACE, isMeshConfigMap, readMeshConfigMap, rootNamespaceOf } from '../core/wellknown.js';

export { DEFAULT_ROOT_NAMESPACE, isMeshConfigMap };

export interface MeshSettings {
  rootNamespace: string;
  enableAutoMtls: boolean;
  holdApplicationUntilProxyStarts: boolean;
  /** meshConfig outboundTrafficPolicy.mode (Istio's default ALLOW_ANY): what a sidecar does with a destination it does not know. */
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Where the settings came from, for evidence lines. */
  source: string;
  /** True when no mesh config was seen and Istio's defaults are assumed. */
  defaulted: boolean;
}


export function defaultMeshSettings(): MeshSettings {
  return {
    rootNamespace: DEFAULT_ROOT_NAMESPACE,
    enableAutoMtls: true,
    holdApplicationUntilProxyStarts: false,
    outboundTrafficPolicy: 'ALLOW_ANY',
    source: "Istio's defaults (no istio ConfigMap in istio-system was seen)",
    defaulted: true,
  };
}

export function meshSettingsFrom(configMaps: ConfigMap[], warn: (m: string) => void): MeshSettings {
  const found = readMeshConfigMap(configMaps);
  if (!found) return defaultMeshSettings();
  const name = found.configMap.metadata.name;
  if (!found.mesh) {
    warn(`ConfigMap istio-system/${name}: key mesh cannot be read (${found.error}); Istio's defaults assumed`);
    return defaultMeshSettings();
  }
  const m = found.mesh;
  const defaultConfig = (typeof m.defaultConfig === 'object' && m.defaultConfig !== null ? m.defaultConfig : {}) as Record<string, unknown>;
  return {
    rootNamespace: rootNamespaceOf(m),
    enableAutoMtls: m.enableAutoMtls !== false,
    holdApplicationUntilProxyStarts: defaultConfig.holdApplicationUntilProxyStarts === true,
    outboundTrafficPolicy: (m.outboundTrafficPolicy as { mode?: unknown } | undefined)?.mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY',
    source: `ConfigMap istio-system/${name} (key mesh)`,
    defaulted: false,
  };
}
