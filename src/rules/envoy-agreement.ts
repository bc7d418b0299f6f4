// Ground truth from the proxies: every judged edge (tunnel rules, gateway routes) compared with
// the Envoy config dumps in the input. Client side: what the client's proxy (cloudflared's
// sidecar, the ingress gateway) sends to each endpoint — its outbound cluster's transport
// socket, its `tlsMode-istio` socket match and the endpoint's tlsMode metadata. Target side:
// what the target's inbound listener does with the target port — its filter chains, the TLS
// they terminate. Each comparison either agrees (evidence for the findings of the edge), or
// disagrees (TM501 client, TM502 target: what Envoy does, what that can mean), or could not be
// made (and says why). Computed once per model; rules and views read the same answers.

import { formatRef, refOf, type KObject } from '../core/k8s.js';
import { ANNOTATION, inboundCapture, isInboundCaptured } from '../model/capture.js';
import { drName } from '../model/destinationrule.js';
import type { ClientVerdicts } from '../model/edges.js';
import {
  describeDump,
  describeInbound,
  envoySendsTo,
  inboundFor,
  outboundClusterName,
  type EnvoyCluster,
  type EnvoyDump,
  type InboundAnswer,
  type WireSends,
} from '../model/envoy/dump.js';
import type { MeshModel } from '../model/model.js';
import { paName } from '../model/peerauth.js';
import { describePod, type PodView } from '../model/pods.js';
import { describeSends, type EndpointVerdict, type Sends } from '../model/traffic.js';
import { hitEdges, isRouteEdge, type PathEdge } from './edge-hits.js';
import type { Finding } from './types.js';

export type Side = 'client' | 'target';
export type Agreement = 'agrees' | 'disagrees' | 'not-compared' | 'informs';

export interface EnvoyComparison {
  side: Side;
  edge: PathEdge;
  client: ClientVerdicts;
  endpoint: EndpointVerdict;
  /** The pod whose proxy's dump was read: a client pod, or the target pod. */
  pod: PodView;
  dump: EnvoyDump;
  result: Agreement;
  /** What Envoy does, in one sentence fragment. */
  envoy: string;
  /** What the configuration says, in one sentence fragment. */
  predicted: string;
  /** The evidence line: `Envoy agrees (dump of Pod …): …`. */
  line: string;
  /** For a disagreement: what it can mean, most likely first. */
  meanings: string[];
  /** Envoy's behaviour makes the edge fail although the configuration says it works. */
  missedFailure?: boolean;
  /** The configuration says the edge fails; with what Envoy does, it works. */
  falseAlarm?: boolean;
  cluster?: EnvoyCluster;
}

const cache = new WeakMap<MeshModel, EnvoyComparison[]>();

/** Every comparison of the model's edges with its dumps (none when the input holds no dump). */
export function envoyComparisons(model: MeshModel): EnvoyComparison[] {
  let out = cache.get(model);
  if (!out) {
    out = compareAll(model);
    cache.set(model, out);
  }
  return out;
}

/** The comparisons for one judged endpoint of one client on one edge. */
export function comparisonsFor(model: MeshModel, hit: { edge: PathEdge; endpoint: EndpointVerdict }): EnvoyComparison[] {
  if (!model.proxyDumps.requested) return [];
  return envoyComparisons(model).filter((c) => c.edge === hit.edge && c.endpoint === hit.endpoint);
}

function compareAll(model: MeshModel): EnvoyComparison[] {
  const dumps = model.proxyDumps;
  if (dumps.dumps.length === 0) return [];
  const out: EnvoyComparison[] = [];
  const edges: PathEdge[] = [...model.tunnelEdges, ...model.routeEdges];
  for (const edge of edges) {
    for (const client of edge.clients) {
      const clientDumps = client.group.pods.flatMap((pod) => {
        const dump = dumps.forPod(pod);
        return dump ? [{ pod, dump }] : [];
      });
      for (const endpoint of client.endpoints) {
        for (const { pod, dump } of clientDumps) {
          const c = compareClient(model, edge, client, endpoint, pod, dump);
          if (c) out.push(c);
        }
        const targetDump = dumps.forPod(endpoint.pod);
        if (targetDump) {
          const c = compareTarget(model, edge, client, endpoint, targetDump);
          if (c) out.push(c);
        }
      }
    }
  }
  return out;
}

// ---- client side -----------------------------------------------------------------------------

function wire(s: WireSends | Sends): string {
  return s === 'UNKNOWN' ? 'something tunnelmesh cannot classify' : describeSends(s as Sends);
}

function dumpLabel(dump: EnvoyDump): string {
  const taken = dump.input.live ? 'read live by this run' : `from ${dump.input.source}`;
  return `dump of ${describeDump(dump)}, ${taken}${dump.newestUpdate ? `, newest update ${dump.newestUpdate}` : ''}`;
}

function endpointAddress(endpoint: EndpointVerdict): string {
  return `${endpoint.pod.podIP ?? describePod(endpoint.pod)}:${endpoint.targetPort ?? '?'}`;
}

function compareClient(model: MeshModel, edge: PathEdge, client: ClientVerdicts, endpoint: EndpointVerdict, pod: PodView, dump: EnvoyDump): EnvoyComparison | undefined {
  const base = { side: 'client' as const, edge, client, endpoint, pod, dump };
  const sends = endpoint.sends;
  if (endpoint.outcome === 'no-endpoint' || endpoint.targetPort === undefined) return undefined;
  const notCompared = (why: string): EnvoyComparison => ({
    ...base,
    result: 'not-compared',
    envoy: why,
    predicted: describeSends(sends.sends),
    line: `Envoy not compared (${dumpLabel(dump)}): ${why}`,
    meanings: [],
  });
  if (sends.cause === 'outbound-bypass') return notCompared(`the connection bypasses the sidecar (${sends.steps.at(-1) ?? 'outbound exclusion'}), so no cluster of it is used`);
  if (sends.cause === 'no-client-sidecar' || sends.cause === 'ambient-client') return undefined; // the pod has no proxy: TM503 speaks of the dump
  if (!dump.hasClusters) return notCompared('the dump holds no clusters (ClustersConfigDump)');
  const svc = edge.service;
  const subset = isRouteEdge(edge) ? edge.subset : undefined;
  const name = outboundClusterName(edge.servicePort.port, subset, svc.fqdn);
  const cluster = dump.clusters.get(name);
  const predicted = `${describeSends(sends.sends)} (${causeText(endpoint)})`;
  if (!cluster) {
    // Istio's outbound listener sends a destination it has no cluster for to PassthroughCluster
    // (plaintext, outboundTrafficPolicy ALLOW_ANY) or BlackHoleCluster (REGISTRY_ONLY).
    const envoy = `has no cluster ${name}: connections to ${svc.namespace}/${svc.name}:${edge.servicePort.port}${subset ? ` subset ${subset}` : ''} leave through PassthroughCluster in plaintext (or BlackHoleCluster under outboundTrafficPolicy REGISTRY_ONLY)`;
    const failure = wireOutcome(model, endpoint, 'PLAINTEXT');
    return {
      ...base,
      result: 'disagrees',
      envoy,
      predicted,
      line: `Envoy disagrees (${dumpLabel(dump)}): it ${envoy}; the configuration says the client sends ${predicted}${failure ? `: in plaintext, ${failure}` : ''}`,
      meanings: [
        ...staleness(model, dump, undefined, endpoint, sends.match?.rules.map((r) => r.rule) ?? []),
        `the Service is not visible to this proxy: a Sidecar resource whose egress hosts leave it out, or the Service's networking.istio.io/exportTo`,
        ...(subset ? [`no DestinationRule this proxy sees defines subset ${subset} (the route then answers 503 NC)`] : []),
        `the dump was filtered (istioctl proxy-config cluster --fqdn …), or taken from another cluster`,
      ],
      missedFailure: failure !== undefined && endpoint.outcome === 'ok',
    };
  }
  const answer = envoySendsTo(dump, cluster, endpoint.pod.podIP, endpoint.targetPort);
  const how = `cluster ${name}${cluster.warming ? ' (an update of it is warming)' : ''}, ${answer.how}`;
  if (answer.sends === 'UNKNOWN') return notCompared(`${how}: tunnelmesh does not know this transport socket`);
  const envoySays = answer.sends === 'DEPENDS' ? `sends ${wire(answer.withTlsMode as WireSends)} or ${wire(answer.withoutTlsMode as WireSends)} depending on the endpoint's tlsMode` : `sends ${wire(answer.sends)} to ${endpointAddress(endpoint)}`;
  if (sends.sends === 'UNKNOWN') {
    return {
      ...base,
      result: 'informs',
      envoy: envoySays,
      predicted,
      line: `Envoy (${dumpLabel(dump)}) ${envoySays} (${how}); the configuration alone could not decide: ${sends.steps.at(-1) ?? 'unknown'}`,
      meanings: [],
      cluster,
    };
  }
  const expected: WireSends = sends.sends === 'APP_TLS' ? 'SIMPLE' : (sends.sends as WireSends);
  const endpointNote = answer.endpointMissing ? ` (its endpoints do not include ${endpointAddress(endpoint)}: ${endpoint.pod.ready ? 'not pushed to this proxy yet' : 'the pod is not ready'})` : '';
  let envoyWire: WireSends;
  let assumption = '';
  if (answer.sends === 'DEPENDS') {
    const withTls = answer.withTlsMode as WireSends;
    const without = answer.withoutTlsMode as WireSends;
    // Auto mTLS per endpoint, as predicted: which endpoints keep tlsMode is the prediction's own step B.
    if (AUTO_CAUSES.has(sends.cause) && (withTls === expected || without === expected)) {
      return { ...base, result: 'agrees', envoy: envoySays, predicted, line: `Envoy agrees (${dumpLabel(dump)}): ${how}${endpointNote}`, meanings: [], cluster };
    }
    // Otherwise the endpoint metadata decides, and the dump does not hold it: the pod's label stands in for it.
    const labelled = endpoint.pod.sidecar.tlsModeLabel === true;
    envoyWire = labelled ? withTls : without;
    assumption = ` — taking the endpoint's tlsMode from the pod's label (${labelled ? 'tlsMode=istio' : 'none'}): Envoy sends it ${wire(envoyWire)}`;
  } else {
    envoyWire = answer.sends;
  }
  if (envoyWire === expected) {
    return {
      ...base,
      result: 'agrees',
      envoy: envoySays,
      predicted,
      line: `Envoy agrees (${dumpLabel(dump)}): ${how}${endpointNote}${assumption}${mechanismNote(cluster, sends.cause)}`,
      meanings: [],
      cluster,
    };
  }
  const failure = wireOutcome(model, endpoint, envoyWire);
  return {
    ...base,
    result: 'disagrees',
    envoy: answer.sends === 'DEPENDS' ? `sends ${wire(envoyWire)} to ${endpointAddress(endpoint)}${assumption ? ' (by the pod\'s tlsMode label)' : ''}` : envoySays,
    predicted,
    line: `Envoy disagrees (${dumpLabel(dump)}): ${how}${endpointNote}${assumption}; the configuration says ${predicted}${failure ? `: with what Envoy sends, ${failure}` : ''}`,
    meanings: clientMeanings(model, dump, cluster, endpoint),
    missedFailure: failure !== undefined && endpoint.outcome === 'ok',
    falseAlarm: failure === undefined && endpoint.outcome !== 'ok' && endpoint.outcome !== 'unknown',
    cluster,
  };
}

/** Causes decided at the endpoint (domain §4 stage B): the cluster is auto mTLS, the endpoint's tlsMode chooses. */
const AUTO_CAUSES: ReadonlySet<string> = new Set(['auto-mtls', 'no-tls-label', 'workload-disable', 'dr-keeps-label', 'dr-strips-label']);

/** Why the configuration says what it says, in a few words (the full chain is in the evidence). */
function causeText(v: EndpointVerdict): string {
  const s = v.sends;
  const dr = s.match?.rules[0]?.rule;
  switch (s.cause) {
    case 'destination-rule':
      return `${dr ? drName(dr) : 'a DestinationRule'} sets tls ${s.tls?.mode ?? ''}`.trim();
    case 'auto-mtls':
      return 'auto mTLS to an endpoint labelled tlsMode=istio';
    case 'no-tls-label':
      return `auto mTLS, and ${describePod(v.pod)} has no tlsMode=istio label`;
    case 'workload-disable':
      return `auto mTLS, and the workload PeerAuthentication of ${describePod(v.pod)} disables port ${v.targetPort}`;
    case 'namespace-disable':
      return `a namespace- or mesh-wide PeerAuthentication DISABLE for namespace ${v.pod.namespace}`;
    case 'auto-mtls-disabled':
      return 'enableAutoMtls is false and no DestinationRule sets tls';
    case 'dr-keeps-label':
      return `auto mTLS, and ${dr ? drName(dr) : 'a DestinationRule'}'s ISTIO_MUTUAL keeps the endpoint's tlsMode`;
    case 'dr-strips-label':
      return `auto mTLS, and ${dr ? drName(dr) : 'a DestinationRule'}'s tls mode strips the endpoints' tlsMode`;
    case 'headless':
      return 'a headless Service: one decision for all its endpoints';
    default:
      return s.steps.at(-1) ?? s.cause;
  }
}

/** When the wire result agrees but Envoy got there another way (auto mTLS where a DestinationRule sets ISTIO_MUTUAL). */
function mechanismNote(cluster: EnvoyCluster, cause: EndpointVerdict['sends']['cause']): string {
  const auto = cluster.matches.some((m) => m.match.tlsMode === 'istio');
  if (cause === 'destination-rule' && auto) return ' — by auto mTLS, not by the DestinationRule\'s tls socket the configuration sets (the proxy may not have received that DestinationRule yet)';
  if (AUTO_CAUSES.has(cause) && !auto && cluster.hasOwnSocket) {
    return ` — by the cluster's own socket (${cluster.builtFrom ?? 'no DestinationRule named'}), not by auto mTLS as the configuration says`;
  }
  return '';
}

/**
 * The failing rows of domain §5 for what Envoy sends instead of what was predicted: the reason
 * the edge fails with it, or undefined when it works (or cannot be told).
 */
function wireOutcome(model: MeshModel, v: EndpointVerdict, sends: WireSends): string | undefined {
  const pod = v.pod;
  const port = v.targetPort;
  if (port === undefined || pod.sidecar.state === 'unknown') return undefined;
  const mtls = sends === 'ISTIO_MUTUAL';
  if (pod.sidecar.state === 'absent') {
    return mtls && !pod.sidecar.ambient ? `${describePod(pod)} has no sidecar: the application receives an Istio mTLS handshake` : undefined;
  }
  if (pod.sidecar.kind === 'gateway') return undefined;
  if (!isInboundCaptured(pod.inbound, port)) return mtls ? `port ${port} of ${describePod(pod)} is not captured: the application receives an Istio mTLS handshake` : undefined;
  const mode = model.peerAuth.effectiveMode(pod.namespace, pod.labels, port).mode;
  if (mtls && mode === 'DISABLE') return `the sidecar does not terminate mTLS on port ${port} (DISABLE): the application receives the handshake`;
  if (!mtls && sends !== 'HBONE' && mode === 'STRICT') return `the sidecar of ${describePod(pod)} requires mTLS on port ${port} (STRICT) and resets ${wire(sends)}`;
  return undefined;
}

function created(o: KObject): string | undefined {
  return o.metadata.creationTimestamp;
}

/** Objects the comparison depends on that were created after the dump's part in question was last updated. */
function staleness(model: MeshModel, dump: EnvoyDump, updated: string | undefined, endpoint: EndpointVerdict, extra: KObject[]): string[] {
  const at = updated ?? dump.newestUpdate;
  const atMs = at ? Date.parse(at) : NaN;
  const out: string[] = [];
  if (dump.rejected.length) out.push(`Envoy rejected ${dump.rejected.length === 1 ? 'an update' : `${dump.rejected.length} updates`} (${dump.rejected[0]}): it still runs the configuration from before`);
  if (Number.isNaN(atMs)) return out;
  const pod = endpoint.pod;
  const relevant: KObject[] = [
    ...extra,
    ...model.peerAuth.meshPolicies(),
    ...model.peerAuth.namespacePolicies(pod.namespace),
    ...model.peerAuth.workloadPolicies(pod.namespace, pod.labels),
  ];
  const newer = relevant.filter((o) => {
    const t = created(o);
    return t !== undefined && Date.parse(t) > atMs;
  });
  for (const o of uniqueObjects(newer)) {
    out.push(`the dump predates ${formatRef(refOf(o))} (created ${created(o)}; this part of the dump was last updated ${at}): the proxy had not received it when the dump was taken — take a new dump once istioctl proxy-status shows it SYNCED`);
  }
  return out;
}

function uniqueObjects(list: KObject[]): KObject[] {
  return [...new Set(list)];
}

function clientMeanings(model: MeshModel, dump: EnvoyDump, cluster: EnvoyCluster, endpoint: EndpointVerdict): string[] {
  const match = endpoint.sends.match;
  const rules = match?.rules.map((r) => r.rule) ?? [];
  const out = staleness(model, dump, cluster.lastUpdated, endpoint, rules);
  if (cluster.warming) out.push('a newer version of this cluster is warming in Envoy (received, not yet in use)');
  const applied = rules.map((r) => drName(r).replace(/^DestinationRule /, ''));
  const built = cluster.builtFrom?.startsWith('DestinationRule ') ? cluster.builtFrom.slice('DestinationRule '.length) : undefined;
  if (built && !applied.includes(built)) {
    out.push(`Envoy's cluster was built from DestinationRule ${built}, while the configuration applies ${applied.length ? applied.join(' + ') : 'none'}: a DestinationRule not in the input, one the lookup order of domain §6 does not pick for this client, or a gap in tunnelmesh's model`);
  } else if (!built && applied.length) {
    out.push(`Envoy's cluster names no DestinationRule, while the configuration applies ${applied.join(' + ')}: the proxy has not received it, or does not see it (exportTo, a Sidecar resource)`);
  }
  out.push("an EnvoyFilter patching the cluster's transport socket (tunnelmesh does not read EnvoyFilters: kubectl get envoyfilters -A)");
  if (!built || applied.includes(built)) out.push("otherwise a gap in tunnelmesh's model of Istio: please report it with this dump");
  return out;
}

// ---- target side -----------------------------------------------------------------------------

const CAPTURE_KEYS = Object.values(ANNOTATION).filter((k) => k.includes('Inbound'));

function compareTarget(model: MeshModel, edge: PathEdge, client: ClientVerdicts, endpoint: EndpointVerdict, dump: EnvoyDump): EnvoyComparison | undefined {
  const pod = endpoint.pod;
  const port = endpoint.targetPort;
  if (port === undefined || pod.sidecar.state !== 'present' || pod.sidecar.kind === 'gateway') return undefined;
  const base = { side: 'target' as const, edge, client, endpoint, pod, dump };
  const label = dumpLabel(dump);
  if (!dump.hasListeners) {
    return { ...base, result: 'not-compared', envoy: 'no listeners in the dump', predicted: '', line: `Envoy not compared (${label}): the dump holds no listeners (ListenersConfigDump)`, meanings: [] };
  }
  const captured = isInboundCaptured(pod.inbound, port);
  const inbound = inboundFor(dump, port);
  if (!captured) return uncapturedTarget(base, dump, port, inbound, label);
  const server = endpoint.server ?? model.peerAuth.effectiveMode(pod.namespace, pod.labels, port);
  const predicted = `port ${port} captured and ${server.mode}`;
  if (!inbound) {
    const envoy = 'has no virtualInbound listener (interception mode NONE, or a Sidecar resource with ingress listeners)';
    return { ...base, result: 'disagrees', envoy, predicted, line: `Envoy disagrees (${label}): it ${envoy}; the configuration says ${predicted} (${server.steps.at(-1) ?? 'default'})`, meanings: ["a Sidecar resource's ingress listeners, or the pod's interception mode", "a gap in tunnelmesh's model"] };
  }
  const envoySays = describeInbound(inbound, port);
  const agrees = inbound.forPort && inbound.mode === server.mode;
  if (agrees) return { ...base, result: 'agrees', envoy: envoySays, predicted, line: `Envoy agrees (${label}): ${envoySays}, as ${server.steps.at(-1) ?? 'the PeerAuthentications'} say`, meanings: [] };
  const clientSends = endpoint.sends.sends;
  const mtls = clientSends === 'ISTIO_MUTUAL';
  const fails = clientSends === 'UNKNOWN' || clientSends === 'HBONE' ? undefined : mtls ? !inbound.acceptsMtls : !inbound.acceptsPlaintext;
  const failure = fails ? `: the client's ${describeSends(clientSends)} ${mtls ? 'is not terminated there' : 'is refused there'}` : '';
  const meanings = [
    ...staleness(model, dump, inbound.listener.lastUpdated, endpoint, []),
    ...(!inbound.forPort
      ? [`istiod built no chain for port ${port}: it does not know the pod serves that port for a Service (the Service or its targetPort changed after the dump, the pod is not an endpoint yet), or a Sidecar resource's ingress listeners leave it out`]
      : [`a PeerAuthentication not in the input (the pod's namespace or the root namespace not collected, or applied after the input was taken)`]),
    'an EnvoyFilter patching the inbound listener (tunnelmesh does not read EnvoyFilters: kubectl get envoyfilters -A)',
    "otherwise a gap in tunnelmesh's model of Istio: please report it with this dump",
  ];
  return {
    ...base,
    result: 'disagrees',
    envoy: envoySays,
    predicted,
    line: `Envoy disagrees (${label}): ${envoySays}; the configuration says ${predicted} (${server.steps.at(-1) ?? 'default'})${failure}`,
    meanings,
    missedFailure: fails === true && endpoint.outcome === 'ok',
    falseAlarm: fails === false && endpoint.outcome === 'plaintext-to-strict',
  };
}

/**
 * An uncaptured port: iptables never sends it to Envoy, which still holds chains for it (istiod
 * builds them from the Service's ports). The dump cannot show capture; its bootstrap annotations
 * say what pilot-agent started with, and a pod whose capture annotations changed since is running
 * with the old ones until it restarts.
 */
function uncapturedTarget(
  base: Pick<EnvoyComparison, 'side' | 'edge' | 'client' | 'endpoint' | 'pod' | 'dump'>,
  dump: EnvoyDump,
  port: number,
  inbound: InboundAnswer | undefined,
  label: string,
): EnvoyComparison {
  const pod = base.pod;
  const chains = inbound ? `${describeInbound(inbound, port)}, but iptables does not send port ${port} there` : `no inbound listener takes port ${port}`;
  const predicted = `port ${port} not captured (${pod.inbound.source})`;
  const annotations = dump.node?.annotations;
  const started = annotations && CAPTURE_KEYS.some((k) => annotations[k] !== undefined) ? inboundCapture(annotations, undefined) : undefined;
  if (!started) {
    return { ...base, result: 'informs', envoy: chains, predicted, line: `Envoy (${label}): ${chains}; capture is iptables' (istio-init or CNI), which a config dump does not show`, meanings: [] };
  }
  const keys = CAPTURE_KEYS.filter((k) => annotations?.[k] !== undefined).map((k) => `${k}=${annotations?.[k]}`).join(', ');
  if (!isInboundCaptured(started, port)) {
    return { ...base, result: 'agrees', envoy: chains, predicted, line: `Envoy agrees (${label}): its proxy started with ${keys}, which leaves port ${port} out of capture; ${chains}`, meanings: [] };
  }
  const envoy = `its proxy started with ${keys}, which captures port ${port}`;
  return {
    ...base,
    result: 'disagrees',
    envoy,
    predicted,
    line: `Envoy disagrees (${label}): ${envoy}; the pod now says ${predicted}`,
    meanings: [
      'the capture annotations were edited on the running pod: iptables keeps what the pod started with until it is re-created',
      'the dump is of an earlier pod of the same name',
    ],
  };
}

// ---- views -------------------------------------------------------------------------------------

/** Evidence lines for one judged endpoint: each comparison made for it. */
export function comparisonLines(model: MeshModel, hit: { edge: PathEdge; endpoint: EndpointVerdict }): string[] {
  return comparisonsFor(model, hit).map((c) => c.line);
}

const MAX_ENVOY_LINES = 6;

/**
 * The pipeline step that puts Envoy's word into the findings of judged edges: a finding about
 * a Service port reached by edges it names gets the comparisons of those edges (agreeing or
 * not), so TM101's evidence says whether cloudflared's proxy really sends the mTLS it predicts.
 * The TM5xx findings carry their own comparison.
 */
export function attachEnvoyEvidence(model: MeshModel, findings: Finding[]): void {
  if (!model.proxyDumps.requested) return;
  const all = envoyComparisons(model);
  if (all.length === 0) return;
  for (const f of findings) {
    if (f.code.startsWith('TM5') || !f.edges?.length || f.resource.kind !== 'Service') continue;
    const lines = all
      .filter((c) => f.edges?.includes(hitEdges([c])[0] as string) && c.edge.service.namespace === f.resource.namespace && c.edge.service.name === f.resource.name && (f.port === undefined || c.edge.servicePort.port === f.port))
      .map((c) => c.line);
    const distinct = [...new Set(lines)];
    f.evidence.push(...distinct.slice(0, MAX_ENVOY_LINES));
    if (distinct.length > MAX_ENVOY_LINES) f.evidence.push(`Envoy: ${distinct.length - MAX_ENVOY_LINES} more comparisons like these`);
  }
}

/** Summary for the report's notes: how many edges were compared, how many agree, what was not read. */
export function comparisonNotes(model: MeshModel): string[] {
  const dumps = model.proxyDumps;
  if (!dumps.requested) return [];
  const notes: string[] = [];
  for (const g of dumps.gaps) notes.push(`Envoy config of Pod ${g.pod.namespace}/${g.pod.name} not read (${g.reason}): ${g.message}; its edges are not compared with Envoy`);
  const all = envoyComparisons(model);
  const byResult = (r: Agreement): number => all.filter((c) => c.result === r).length;
  if (dumps.dumps.length) {
    const edges = new Set(all.filter((c) => c.result === 'agrees' || c.result === 'disagrees').map((c) => hitEdges([c])[0]));
    notes.push(
      `Envoy config dumps: ${dumps.pods.length} of ${dumps.dumps.length} matched a pod; ${all.length} comparison${all.length === 1 ? '' : 's'} on ${edges.size} edge${edges.size === 1 ? '' : 's'}: ${byResult('agrees')} agree, ${byResult('disagrees')} disagree, ${byResult('informs') + byResult('not-compared')} could not be judged either way`,
    );
    if (all.length === 0 && dumps.pods.length) notes.push('no judged edge has a client or target among the pods whose dumps were given: nothing was compared');
    notes.push(...edgeSummaries(all));
  }
  return notes;
}

const MAX_EDGE_NOTES = 10;

/** One note per compared edge: what Envoy said about it, and from whose dumps (the evidence lines are in the findings). */
function edgeSummaries(all: EnvoyComparison[]): string[] {
  const byEdge = new Map<string, EnvoyComparison[]>();
  for (const c of all) {
    if (c.result !== 'agrees' && c.result !== 'disagrees') continue;
    const key = hitEdges([c])[0] as string;
    byEdge.set(key, [...(byEdge.get(key) ?? []), c]);
  }
  const out: string[] = [];
  for (const list of [...byEdge.values()].slice(0, MAX_EDGE_NOTES)) {
    const first = list[0] as EnvoyComparison;
    const e = first.edge;
    const what = isRouteEdge(e) ? `${formatRef(refOf(e.route))} ${e.path}` : `${e.rule.hostname ?? '*'}${e.rule.path ? ` ${e.rule.path}` : ''}`;
    const disagree = list.filter((c) => c.result === 'disagrees');
    const pods = [...new Set(list.map((c) => `${c.side} ${describeDump(c.dump)}`))].join(', ');
    out.push(`Envoy ${disagree.length ? `disagrees (${disagree.length} of ${list.length} comparisons, see TM50x)` : 'agrees'} on ${what} → ${e.service.namespace}/${e.service.name}:${e.servicePort.port} (${pods})`);
  }
  if (byEdge.size > MAX_EDGE_NOTES) out.push(`Envoy: ${byEdge.size - MAX_EDGE_NOTES} more edges compared`);
  return out;
}
