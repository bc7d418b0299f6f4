// Mesh-wide settings that change verdicts: meshConfig from the `istio` ConfigMap, or from a file
// given with --mesh-config (a MeshConfig YAML as istioctl's --meshConfigFile, or that ConfigMap).

import type { ConfigMap } from '../core/k8s.js';
import { DEFAULT_ROOT_NAMESPACE, isMeshConfigMap, readMeshConfigMap, rootNamespaceOf } from '../core/wellknown.js';

export { DEFAULT_ROOT_NAMESPACE, isMeshConfigMap };

export interface MeshSettings {
  rootNamespace: string;
  enableAutoMtls: boolean;
  holdApplicationUntilProxyStarts: boolean;
  /** meshConfig outboundTrafficPolicy.mode (Istio's default ALLOW_ANY): what a sidecar does with a destination it does not know. */
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** meshConfig defaultDestinationRuleExportTo; undefined = Istio's default (`*`). */
  defaultDestinationRuleExportTo?: string[];
  /** Where the settings came from, for evidence lines. */
  source: string;
  /** True when no mesh config was seen and Istio's defaults are assumed. */
  defaulted: boolean;
}

/** A mesh config given on the command line (--mesh-config), already parsed. */
export interface GivenMeshConfig {
  mesh: Record<string, unknown>;
  /** `--mesh-config mesh.yaml`, for evidence lines. */
  source: string;
}

export const DEFAULTS_ASSUMED =
  "no mesh config in the input: Istio's defaults are assumed (rootNamespace istio-system, enableAutoMtls true, defaultDestinationRuleExportTo everyone); pass the cluster's with --mesh-config FILE";

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

export function settingsOf(m: Record<string, unknown>, source: string): MeshSettings {
  const defaultConfig = (typeof m.defaultConfig === 'object' && m.defaultConfig !== null ? m.defaultConfig : {}) as Record<string, unknown>;
  const exportTo = m.defaultDestinationRuleExportTo;
  const settings: MeshSettings = {
    rootNamespace: rootNamespaceOf(m),
    enableAutoMtls: m.enableAutoMtls !== false,
    holdApplicationUntilProxyStarts: defaultConfig.holdApplicationUntilProxyStarts === true,
    outboundTrafficPolicy: (m.outboundTrafficPolicy as { mode?: unknown } | undefined)?.mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY',
    source,
    defaulted: false,
  };
  if (Array.isArray(exportTo)) settings.defaultDestinationRuleExportTo = exportTo.filter((e): e is string => typeof e === 'string');
  return settings;
}

export function meshSettingsFrom(configMaps: ConfigMap[], warn: (m: string) => void): MeshSettings {
  const found = readMeshConfigMap(configMaps);
  if (!found) return defaultMeshSettings();
  const name = found.configMap.metadata.name;
  if (!found.mesh) {
    warn(`ConfigMap istio-system/${name}: key mesh cannot be read (${found.error}); Istio's defaults assumed`);
    return defaultMeshSettings();
  }
  return settingsOf(found.mesh, `ConfigMap istio-system/${name} (key mesh)`);
}
