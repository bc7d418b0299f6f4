// What a target accepts (domain §5): PeerAuthentication scopes and their composition.

import type { MtlsMode, PeerAuthentication, StringMap } from '../core/k8s.js';
import { matchesLabels } from '../core/labels.js';
import type { PodView } from './pods.js';

export type Scope = 'mesh' | 'namespace' | 'workload' | 'ignored';

export const MODES: readonly MtlsMode[] = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];

export function modeOf(value: string | undefined): MtlsMode {
  const upper = (value ?? 'UNSET').toUpperCase();
  return (MODES as readonly string[]).includes(upper) ? (upper as MtlsMode) : 'UNSET';
}

/** Istio: a selector with no matchLabels (`selector: {}`) is no selector. */
export function hasSelector(pa: PeerAuthentication): boolean {
  return Object.keys(pa.spec?.selector?.matchLabels ?? {}).length > 0;
}

export function scopeOf(pa: PeerAuthentication, rootNamespace: string): Scope {
  const inRoot = pa.metadata.namespace === rootNamespace;
  if (hasSelector(pa)) return inRoot ? 'ignored' : 'workload';
  return inRoot ? 'mesh' : 'namespace';
}

/** Istio applies the oldest of several policies of one scope (ties: by name, then namespace). */
export function oldestFirst<T extends { metadata: { creationTimestamp?: string; name: string; namespace?: string } }>(
  items: T[],
): T[] {
  return [...items].sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    if (a.metadata.name !== b.metadata.name) return a.metadata.name < b.metadata.name ? -1 : 1;
    return (a.metadata.namespace ?? '') < (b.metadata.namespace ?? '') ? -1 : 1;
  });
}

export function paName(pa: PeerAuthentication): string {
  return `PeerAuthentication ${pa.metadata.namespace}/${pa.metadata.name}`;
}

export interface ServerMode {
  mode: Exclude<MtlsMode, 'UNSET'>;
  /** Each policy that contributed, in order, ending with the result. */
  steps: string[];
  /** The workload-level policy in force for the pod (fixes edit it rather than add a rival). */
  workloadPolicy?: PeerAuthentication;
  /** The level that decided: default, mesh, namespace, workload, or port. */
  decidedBy: 'default' | 'mesh' | 'namespace' | 'workload' | 'port';
}

export class PeerAuthIndex {
  private readonly mesh: PeerAuthentication[];
  private readonly byNamespace = new Map<string, PeerAuthentication[]>();
  private readonly workload = new Map<string, PeerAuthentication[]>();

  constructor(
    all: PeerAuthentication[],
    readonly rootNamespace: string,
  ) {
    const sorted = oldestFirst(all);
    this.mesh = sorted.filter((pa) => scopeOf(pa, rootNamespace) === 'mesh');
    for (const pa of sorted) {
      const ns = pa.metadata.namespace as string;
      const scope = scopeOf(pa, rootNamespace);
      const target = scope === 'namespace' ? this.byNamespace : scope === 'workload' ? this.workload : undefined;
      if (!target) continue;
      const list = target.get(ns) ?? [];
      list.push(pa);
      target.set(ns, list);
    }
  }

  /** All mesh-wide policies, oldest first (the first is in force). */
  meshPolicies(): PeerAuthentication[] {
    return this.mesh;
  }

  namespacePolicies(ns: string): PeerAuthentication[] {
    return ns === this.rootNamespace ? this.mesh : (this.byNamespace.get(ns) ?? []);
  }

  /** Workload-level policies whose selector matches the pod, oldest first. */
  workloadPolicies(ns: string, labels: StringMap): PeerAuthentication[] {
    return (this.workload.get(ns) ?? []).filter((pa) => matchesLabels(pa.spec?.selector?.matchLabels ?? {}, labels));
  }

  allWorkloadPolicies(ns: string): PeerAuthentication[] {
    return this.workload.get(ns) ?? [];
  }

  /** Answers are the same for every pod of a namespace (or workload and port): computed once, shared, frozen. */
  private readonly namespaceModes = new Map<string, ServerMode>();
  private readonly effectiveModes = new Map<string, ServerMode>();

  /** Mesh then namespace composition: the mode of a namespace before workload policies. */
  namespaceMode(ns: string): ServerMode {
    let cached = this.namespaceModes.get(ns);
    if (!cached) {
      cached = freeze(this.composeNamespace(ns));
      this.namespaceModes.set(ns, cached);
    }
    return cached;
  }

  private composeNamespace(ns: string): ServerMode {
    const steps: string[] = [];
    let mode: ServerMode['mode'] = 'PERMISSIVE';
    let decidedBy: ServerMode['decidedBy'] = 'default';
    const meshPa = this.mesh[0];
    if (meshPa) {
      const m = modeOf(meshPa.spec?.mtls?.mode);
      steps.push(`mesh-wide ${paName(meshPa)}: ${m}${this.tieNote(this.mesh)}`);
      if (m !== 'UNSET') {
        mode = m;
        decidedBy = 'mesh';
      }
    } else {
      steps.push(`no mesh-wide PeerAuthentication in ${this.rootNamespace}: PERMISSIVE (Istio's default)`);
    }
    if (ns !== this.rootNamespace) {
      const nsList = this.byNamespace.get(ns) ?? [];
      const nsPa = nsList[0];
      if (nsPa) {
        const m = modeOf(nsPa.spec?.mtls?.mode);
        steps.push(`namespace-wide ${paName(nsPa)}: ${m}${m === 'UNSET' ? ' (inherits)' : ''}${this.tieNote(nsList)}`);
        if (m !== 'UNSET') {
          mode = m;
          decidedBy = 'namespace';
        }
      }
    }
    return { mode, steps, decidedBy };
  }

  /** Effective mode for one target (container) port of one pod. */
  effectiveMode(ns: string, labels: StringMap, targetPort: number): ServerMode {
    const list = ns === this.rootNamespace ? [] : this.workloadPolicies(ns, labels);
    const pa = list[0];
    if (!pa) return this.namespaceMode(ns);
    const key = `${ns}\u0000${list.map((p) => p.metadata.name).join(',')}\u0000${targetPort}`;
    let cached = this.effectiveModes.get(key);
    if (!cached) {
      cached = freeze(this.composeWorkload(ns, list, pa, targetPort));
      this.effectiveModes.set(key, cached);
    }
    return cached;
  }

  private composeWorkload(ns: string, list: PeerAuthentication[], pa: PeerAuthentication, targetPort: number): ServerMode {
    const base = this.namespaceMode(ns);
    const result: ServerMode = { mode: base.mode, steps: [...base.steps], decidedBy: base.decidedBy };
    result.workloadPolicy = pa;
    const m = modeOf(pa.spec?.mtls?.mode);
    result.steps.push(`workload ${paName(pa)}: ${m}${m === 'UNSET' ? ' (inherits)' : ''}${this.tieNote(list)}`);
    if (m !== 'UNSET') {
      result.mode = m;
      result.decidedBy = 'workload';
    }
    const portMode = pa.spec?.portLevelMtls?.[String(targetPort)]?.mode;
    if (portMode !== undefined) {
      const pm = modeOf(portMode);
      result.steps.push(`${paName(pa)} portLevelMtls ${targetPort}: ${pm}${pm === 'UNSET' ? ' (inherits)' : ''}`);
      if (pm !== 'UNSET') {
        result.mode = pm;
        result.decidedBy = 'port';
      }
    }
    return result;
  }

  private tieNote(list: PeerAuthentication[]): string {
    if (list.length < 2) return '';
    const others = list.slice(1).map((p) => p.metadata.name);
    return ` (oldest of ${list.length}; ignored: ${others.join(', ')})`;
  }
}

/** A `portLevelMtls` key Istio accepts: a port number 1–65535. */
export function isValidPortKey(key: string): boolean {
  return /^\d+$/.test(key) && Number(key) >= 1 && Number(key) <= 65535;
}

/** Pods (or pod templates) in the policy's namespace that its selector matches. */
export function podsSelectedBy(pa: PeerAuthentication, podsInNamespace: readonly PodView[]): PodView[] {
  const selector = pa.spec?.selector?.matchLabels ?? {};
  return podsInNamespace.filter((p) => matchesLabels(selector, p.labels));
}

export function formatSelector(pa: PeerAuthentication): string {
  return Object.entries(pa.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function freeze(mode: ServerMode): ServerMode {
  Object.freeze(mode.steps);
  return Object.freeze(mode);
}
