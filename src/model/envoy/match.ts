// Which pod each config dump belongs to. The dump says so itself in its bootstrap node (Istio's
// node id `sidecar~IP~POD.NS~NS.svc.cluster.local`, metadata NAME/NAMESPACE/LABELS); a live
// fetch or `NS/POD=FILE` says so from outside. A dump is compared only with the pod it is from,
// as that pod is now: a dump of a pod that is gone, was restarted (another IP) or has no sidecar
// in the input is not evidence about today's edges, and is reported instead of used.

import { mergeConfigDumps, type PodName, type ProxyConfigGap, type ProxyConfigInput } from '../../core/envoy-dump.js';
import type { PodView } from '../pods.js';
import { describePod, workloadOf } from '../pods.js';
import { readEnvoyDump, type EnvoyDump } from './dump.js';

export type DumpProblemKind = 'unmatched' | 'replaced' | 'no-sidecar' | 'not-a-sidecar' | 'conflict' | 'duplicate' | 'rejected-updates';

export interface DumpProblem {
  dump: EnvoyDump;
  kind: DumpProblemKind;
  /** The pod it was matched to, or that stands where it was. */
  pod?: PodView;
  message: string;
}

function podKey(p: PodName): string {
  return `${p.namespace}/${p.name}`;
}

function kinds(input: ProxyConfigInput): Set<string> {
  return new Set(input.dump.configs.map((c) => String(c['@type'] ?? '')));
}

/** `kubernetes://apis/apps/v1/namespaces/app/deployments/web` → {Deployment, web}. */
function ownerOf(owner: string | undefined): { kind: string; name: string } | undefined {
  const m = owner ? /\/namespaces\/[^/]+\/([^/]+)\/([^/]+)$/.exec(owner) : null;
  if (!m) return undefined;
  const plural = m[1] as string;
  const kind = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet', replicasets: 'ReplicaSet', jobs: 'Job', cronjobs: 'CronJob' }[plural];
  return kind ? { kind, name: m[2] as string } : undefined;
}

export class ProxyDumps {
  /** Every dump read, in input order. */
  readonly dumps: EnvoyDump[] = [];
  readonly problems: DumpProblem[] = [];
  private readonly byPod = new Map<PodView, EnvoyDump>();

  constructor(
    inputs: readonly ProxyConfigInput[],
    pods: readonly PodView[],
    /** Live fetches that did not return a dump. */
    readonly gaps: readonly ProxyConfigGap[] = [],
  ) {
    // Partial dumps of one pod (cluster, endpoint and listener dumps saved apart) are read as one.
    const grouped = new Map<string, ProxyConfigInput>();
    const order: ProxyConfigInput[] = [];
    for (const input of inputs) {
      const first = readEnvoyDump(input);
      const who = input.pod ?? first.node?.pod;
      const key = who ? podKey(who) : undefined;
      const earlier = key ? grouped.get(key) : undefined;
      if (earlier && [...kinds(input)].every((k) => !kinds(earlier).has(k) || k.endsWith('BootstrapConfigDump'))) {
        const merged: ProxyConfigInput = { ...earlier, source: `${earlier.source} + ${input.source}`, dump: mergeConfigDumps([earlier.dump, input.dump]) };
        grouped.set(key as string, merged);
        order[order.indexOf(earlier)] = merged;
        continue;
      }
      if (key && !earlier) grouped.set(key, input);
      order.push(input);
    }
    const byName = new Map(pods.filter((p) => !p.fromTemplate).map((p) => [podKey(p), p]));
    for (const input of order) {
      const dump = readEnvoyDump(input);
      this.dumps.push(dump);
      this.match(dump, byName, pods);
      if (dump.rejected.length) {
        const pod = [...this.byPod.entries()].find(([, d]) => d === dump)?.[0];
        this.problems.push({ dump, kind: 'rejected-updates', ...(pod ? { pod } : {}), message: `Envoy rejected ${dump.rejected.length} update${dump.rejected.length === 1 ? '' : 's'} (${dump.rejected.slice(0, 3).join('; ')}): it keeps running the configuration from before` });
      }
    }
  }

  /** The dump of this pod, when one matched it. */
  forPod(pod: PodView): EnvoyDump | undefined {
    return this.byPod.get(pod);
  }

  /** Pods with a matched dump. */
  get pods(): PodView[] {
    return [...this.byPod.keys()];
  }

  get requested(): boolean {
    return this.dumps.length > 0 || this.gaps.length > 0;
  }

  private match(dump: EnvoyDump, byName: Map<string, PodView>, pods: readonly PodView[]): void {
    const node = dump.node;
    if (node && (node.type === 'waypoint' || node.type === 'ztunnel')) {
      this.problems.push({ dump, kind: 'not-a-sidecar', message: `a ${node.type} proxy's dump (${node.id ?? 'no node id'}): tunnelmesh judges sidecars and gateways, not ambient proxies` });
      return;
    }
    const claimed = dump.input.pod;
    const said = node?.pod;
    const who = claimed ?? said;
    if (!who) {
      this.problems.push({ dump, kind: 'unmatched', message: 'the dump has no bootstrap node naming its pod (a partial dump such as istioctl proxy-config cluster -o json): pass it as NAMESPACE/POD=FILE' });
      return;
    }
    if (claimed && said && podKey(claimed) !== podKey(said)) {
      this.problems.push({ dump, kind: 'conflict', message: `given for Pod ${podKey(claimed)}, but its bootstrap node is Pod ${podKey(said)} (${node?.id ?? ''})` });
      return;
    }
    const pod = byName.get(podKey(who));
    if (!pod) {
      const template = this.templateFor(dump, who, pods);
      if (template) {
        this.attach(dump, template);
        return;
      }
      const successors = this.sameWorkload(dump, who, pods);
      this.problems.push(
        successors.length
          ? { dump, kind: 'replaced', pod: successors[0] as PodView, message: `Pod ${podKey(who)} is not in the input; ${formatOwner(successors[0] as PodView)} now runs ${successors.slice(0, 3).map((p) => p.name).join(', ')}: the dump is of a pod that has been replaced` }
          : { dump, kind: 'unmatched', message: `no Pod ${podKey(who)} is in the input${node?.id ? ` (node ${node.id})` : ''}` },
      );
      return;
    }
    if (pod.sidecar.state === 'absent') {
      this.problems.push({ dump, kind: 'no-sidecar', pod, message: `${describePod(pod)} has no Istio proxy in the input (${pod.sidecar.reason}), yet this is a dump of its proxy: the pod and the dump are not of the same moment` });
      return;
    }
    if (node?.ip && pod.podIP && node.ip !== pod.podIP && !node.instanceIps.includes(pod.podIP)) {
      this.problems.push({ dump, kind: 'replaced', pod, message: `the dump's proxy had IP ${node.ip}, ${describePod(pod)} has ${pod.podIP}: the pod was re-created under the same name after the dump was taken` });
      return;
    }
    this.attach(dump, pod);
  }

  private attach(dump: EnvoyDump, pod: PodView): void {
    const earlier = this.byPod.get(pod);
    if (earlier) this.problems.push({ dump: earlier, kind: 'duplicate', pod, message: `two dumps of ${describePod(pod)} (${earlier.input.source}, ${dump.input.source}): the later one is used` });
    this.byPod.set(pod, dump);
  }

  /** Offline manifests hold workload templates, not pods: a dump of one of the workload's pods stands for the template. */
  private templateFor(dump: EnvoyDump, who: PodName, pods: readonly PodView[]): PodView | undefined {
    const owner = ownerOf(dump.node?.owner);
    const workload = dump.node?.workloadName;
    return pods.find((p) => {
      if (!p.fromTemplate || p.namespace !== who.namespace) return false;
      const w = workloadOf(p);
      return owner ? w.kind === owner.kind && w.name === owner.name : workload !== undefined && w.name === workload;
    });
  }

  /** Pods of the workload the dump's pod belonged to (OWNER metadata, else the ReplicaSet-style name prefix). */
  private sameWorkload(dump: EnvoyDump, who: PodName, pods: readonly PodView[]): PodView[] {
    const owner = ownerOf(dump.node?.owner);
    const prefix = who.name.replace(/-[a-z0-9]{5}$/, '');
    return pods.filter((p) => {
      if (p.fromTemplate || p.namespace !== who.namespace) return false;
      if (owner) {
        const w = workloadOf(p);
        return w.name === owner.name && w.kind === owner.kind;
      }
      return prefix !== who.name && p.name.startsWith(`${prefix}-`) && /^[a-z0-9]{5}$/.test(p.name.slice(prefix.length + 1));
    });
  }
}

function formatOwner(p: PodView): string {
  const w = workloadOf(p);
  return `${w.kind} ${w.namespace}/${w.name}`;
}
