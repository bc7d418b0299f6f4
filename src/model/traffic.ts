// The edge resolver: for one client, Service port and endpoint pod, what the client sends
// (domain §4), whether the target's sidecar captures the port (§3), what it accepts (§5),
// and the outcome of the §5 table. Rules read these answers; none re-derives precedence.

import { ALWAYS_BYPASSED_INBOUND, isInboundCaptured, outboundBypass } from './capture.js';
import { clusterPolicy, endpointTlsMode, entryName, type EndpointTlsMode, type RuleMatch, type TlsSetting } from './destinationrule.js';
import type { ServicePort } from '../core/k8s.js';
import type { MeshIndex } from './indexes.js';
import { paName, type ServerMode } from './peerauth.js';
import { describePod, type PodView } from './pods.js';
import { resolveTargetPort, type ServiceView } from './services.js';
import { TLS_MODE_LABEL } from './sidecar.js';

/** What leaves the client: Istio mTLS, TLS with user settings, the app's own TLS, plaintext. */
export type Sends = 'ISTIO_MUTUAL' | 'MUTUAL' | 'SIMPLE' | 'PLAINTEXT' | 'APP_TLS' | 'HBONE' | 'BLACKHOLE' | 'UNKNOWN';

export type SendCause =
  | 'destination-rule'
  | 'auto-mtls'
  | 'auto-mtls-disabled'
  | 'namespace-disable'
  | 'no-tls-label'
  | 'workload-disable'
  /** Stage B: a DestinationRule tls mode ISTIO_MUTUAL keeps the endpoint's tlsMode label (the cluster itself is auto). */
  | 'dr-keeps-label'
  /** Stage B: another DestinationRule tls mode strips every endpoint's tlsMode label. */
  | 'dr-strips-label'
  /** A headless (ORIGINAL_DST) Service: one decision for all its endpoints. */
  | 'headless'
  | 'no-client-sidecar'
  | 'outbound-bypass'
  | 'ambient-client'
  | 'not-visible'
  | 'passthrough'
  | 'unknown';

/** Where the decision was made: the client (no sidecar, bypass), the cluster (stage A) or the endpoint's tlsMode (stage B). */
export type DecidingStage = 'client' | 'cluster' | 'endpoint';

export interface SendDecision {
  sends: Sends;
  cause: SendCause;
  steps: string[];
  decidedBy: DecidingStage;
  /** One line naming the stage that decided, e.g. "cluster: auto mTLS (the port entry has no tls); endpoint: tlsMode stripped: DR top-level DISABLE". */
  summary: string;
  /** The DestinationRule lookup result, when a rule matched the host. */
  match?: RuleMatch;
  tls?: TlsSetting;
  /** Stage B: the DestinationRule mode that kept or stripped the endpoint's tlsMode label (causes dr-keeps-label, dr-strips-label). */
  endpointMode?: EndpointTlsMode;
  /** A condition under which the verdict changes (offline IP ranges). */
  condition?: string;
}

export interface ClientContext {
  /** A representative pod of the client workload; undefined = any meshed client. */
  pod?: PodView;
  namespace?: string;
  /** How the client is named in findings. */
  label: string;
  /** The DestinationRule subset the client's route selects (VirtualService `destination.subset`): its trafficPolicy can override tls. */
  subset?: string;
}

export type Outcome =
  | 'ok'
  | 'mtls-to-uncaptured'
  | 'mtls-to-disabled-port'
  | 'mtls-to-no-sidecar'
  | 'plaintext-to-strict'
  | 'blackhole'
  | 'no-endpoint'
  | 'unknown';

export interface EndpointVerdict {
  pod: PodView;
  targetPort?: number;
  targetPortNote?: string;
  /** The target's sidecar captures the target port (set whenever the target has a sidecar). */
  captured?: boolean;
  /** What the target's sidecar (or ztunnel) accepts on the target port (set when it has one and its PeerAuthentications were seen). */
  server?: ServerMode;
  sends: SendDecision;
  /** What the client puts on the wire to this endpoint (sends.sends); sends.decidedBy says which stage decided. */
  clientSends: Sends;
  outcome: Outcome;
  /** Why the outcome, in one line. */
  why: string;
}

function schemeSends(scheme: string | undefined): Sends {
  return scheme === 'https' || scheme === 'wss' ? 'APP_TLS' : 'PLAINTEXT';
}

function sendsFromMode(mode: string | undefined): Sends {
  switch (mode) {
    case 'ISTIO_MUTUAL':
      return 'ISTIO_MUTUAL';
    case 'MUTUAL':
      return 'MUTUAL';
    case 'SIMPLE':
      return 'SIMPLE';
    default:
      return 'PLAINTEXT';
  }
}

/**
 * Domain §4. `scheme` is what the client application speaks (the tunnel rule's scheme); it
 * decides what a client without a sidecar, or bypassing it, puts on the wire.
 */
export function decideSends(
  model: MeshIndex,
  client: ClientContext,
  svc: ServiceView,
  sp: ServicePort,
  target: PodView,
  targetPort: number,
  scheme?: string,
): SendDecision {
  const steps: string[] = [];
  const pod = client.pod;
  const atClient = (sends: Sends, cause: SendCause, line: string, summary: string): SendDecision => ({ sends, cause, steps: [...steps, line], decidedBy: 'client', summary: `client: ${summary}` });
  if (pod) {
    const sc = pod.sidecar;
    if (sc.state === 'unknown') return atClient('UNKNOWN', 'unknown', `${client.label}: sidecar unknown (${sc.reason})`, 'sidecar unknown');
    if (sc.state === 'absent') {
      if (sc.ambient) return atClient('HBONE', 'ambient-client', `${client.label} is in ambient mode: ztunnel carries its traffic (HBONE)`, 'ambient (ztunnel)');
      const sends = schemeSends(scheme);
      return atClient(sends, 'no-client-sidecar', `${client.label} has no sidecar (${sc.reason}): it sends what its URL says (${sends === 'APP_TLS' ? 'its own TLS' : 'plaintext'})`, 'no sidecar');
    }
    steps.push(sc.kind === 'gateway' ? `${client.label} is an Istio gateway proxy (${sc.reason})` : `${client.label} has a sidecar (${sc.reason})`);
    const dialPort = svc.headless ? targetPort : sp.port;
    const bypass = outboundBypass(pod.outbound, dialPort, svc.headless ? target.podIP : svc.clusterIP);
    if (bypass.bypass) return atClient(schemeSends(scheme), 'outbound-bypass', `${bypass.why}: the connection skips the sidecar`, 'outbound traffic bypasses the sidecar');
    // A Sidecar resource may hide the Service from this proxy (gateways never use one).
    if (sc.kind !== 'gateway') {
      const sidecar = sidecarVisibility(model, pod, svc, sp, scheme);
      if (sidecar?.decision) return atClient(sidecar.decision.sends, sidecar.decision.cause, sidecar.line, sidecar.decision.summary);
      if (sidecar) steps.push(sidecar.line);
    }
    const decision = decideMeshedSends(model, { namespace: pod.namespace, labels: pod.labels }, svc, sp, target, targetPort, steps, client.subset);
    if (bypass.maybe) decision.condition = bypass.maybe;
    return decision;
  }
  if (client.namespace === undefined) {
    steps.push('any meshed client (no particular one)');
    return decideMeshedSends(model, undefined, svc, sp, target, targetPort, steps, client.subset);
  }
  return decideMeshedSends(model, { namespace: client.namespace }, svc, sp, target, targetPort, steps, client.subset);
}

/**
 * What the proxy's Sidecar resource says about the Service (visibility.ts): a line for the
 * evidence, and the decision when it hides it; undefined when no Sidecar applies.
 */
function sidecarVisibility(
  model: MeshIndex,
  pod: PodView,
  svc: ServiceView,
  sp: ServicePort,
  scheme: string | undefined,
): { line: string; decision?: { sends: Sends; cause: SendCause; summary: string } } | undefined {
  const unseen = model.incompleteFor('Sidecar', [pod.namespace]) ?? model.rootUnseen('Sidecar');
  if (unseen) return { line: `Sidecar resources ${unseen}: which Services its proxy sees cannot be decided`, decision: { sends: 'UNKNOWN', cause: 'unknown', summary: 'Sidecar resources not seen' } };
  const v = model.sidecars.visibility(pod.namespace, pod.labels, svc, sp.port);
  if (!v) return undefined;
  if (v.visible) return { line: v.why };
  const name = `Sidecar ${v.sidecar.metadata.namespace}/${v.sidecar.metadata.name}`;
  if (v.mode === 'REGISTRY_ONLY') return { line: v.why, decision: { sends: 'BLACKHOLE', cause: 'not-visible', summary: `${name} hides the Service (REGISTRY_ONLY: BlackHoleCluster)` } };
  const sends = schemeSends(scheme);
  return { line: `${v.why}; it sends ${describeSends(sends)}`, decision: { sends, cause: 'passthrough', summary: `${name} hides the Service (ALLOW_ANY: passthrough)` } };
}

/**
 * Stage A (the cluster) depends on the client, the Service port and the subset only: the same
 * for every endpoint behind it. Decided once per (client, Service port, subset) and shared (a
 * large cluster has thousands of endpoints per decision); `final` is set when the cluster already
 * decides for every endpoint, else `endpointMode` carries what stage B reads.
 */
interface ServicePart {
  steps: readonly string[];
  match?: RuleMatch;
  final?: Omit<SendDecision, 'steps' | 'match'>;
  /** Stage B: the DestinationRule tls mode the endpoint mTLS checker reads (undefined: none). */
  endpointMode?: EndpointTlsMode;
  /** "cluster: auto mTLS (…)" for the summary line. */
  cluster: string;
}

const serviceParts = new WeakMap<MeshIndex, Map<string, ServicePart>>();

function servicePart(
  model: MeshIndex,
  client: { namespace: string; labels?: Record<string, string> } | undefined,
  svc: ServiceView,
  sp: ServicePort,
  subset: string | undefined,
): ServicePart {
  let cache = serviceParts.get(model);
  if (!cache) {
    cache = new Map();
    serviceParts.set(model, cache);
  }
  // Client labels only matter to DestinationRules with a workloadSelector.
  const clientKey = client ? `${client.namespace}\u0001${model.destinationRules.hasWorkloadSelectors && client.labels ? JSON.stringify(client.labels) : ''}` : '\u0002';
  const key = `${clientKey}\u0000${svc.namespace}/${svc.name}\u0000${sp.port}\u0000${subset ?? ''}`;
  let part = cache.get(key);
  if (!part) {
    part = decideServicePart(model, client, svc, sp, subset);
    Object.freeze(part.steps);
    cache.set(key, part);
  }
  return part;
}

/** What Istio's BestEffortInferServiceMTLSMode sees of a passthrough Service: its endpoints' tlsMode labels. */
function passthroughEndpoints(model: MeshIndex, svc: ServiceView, sp: ServicePort): { unknown?: string; plaintext?: string; count: number } {
  let count = 0;
  for (const pod of model.backendsOf(svc)) {
    if (resolveTargetPort(sp, pod).port === undefined) continue; // no endpoint for this port
    count++;
    const sc = pod.sidecar;
    if (sc.state === 'unknown') return { unknown: `${describePod(pod)}: sidecar unknown (${sc.reason})`, count };
    // Istio counts an endpoint as plaintext when its label is absent or `disabled` (GetTLSModeFromEndpointLabels).
    const label = sc.tlsModeLabel ? 'istio' : pod.labels[TLS_MODE_LABEL];
    if (label === undefined || label === 'disabled') {
      return { plaintext: `${describePod(pod)} has ${label === undefined ? `no ${TLS_MODE_LABEL} label` : `${TLS_MODE_LABEL}=disabled`}`, count };
    }
  }
  return count === 0 ? { plaintext: `no endpoint of port ${sp.port} is known yet`, count } : { count };
}

function decideServicePart(
  model: MeshIndex,
  client: { namespace: string; labels?: Record<string, string> } | undefined,
  svc: ServiceView,
  sp: ServicePort,
  subset: string | undefined,
): ServicePart {
  const steps: string[] = [];
  const match = client
    ? model.destinationRules.lookup(client, svc.fqdn, svc.namespace)
    : model.destinationRules.lookupForAnyClient(svc.fqdn, svc.namespace);
  const decided = (cluster: string, d: Omit<SendDecision, 'steps' | 'match' | 'decidedBy' | 'summary'>): ServicePart => {
    const final = { ...d, decidedBy: 'cluster' as const, summary: cluster };
    return match ? { steps, match, final, cluster } : { steps, final, cluster };
  };
  const unknown = (): ServicePart => ({ steps, final: { sends: 'UNKNOWN', cause: 'unknown', decidedBy: 'cluster', summary: 'cluster: unknown' }, cluster: 'cluster: unknown' });
  // A rule in a namespace looked up before the one that matched would have won: those must all have been seen.
  const drUnknown = destinationRulesUnseen(model, match?.step, client?.namespace, svc.namespace);
  if (drUnknown) {
    const matched = match ? `${entryName(match.entry)} matches (${stepLabel(match.step)}), but ` : '';
    steps.push(`${matched}DestinationRules ${drUnknown}: a rule${match ? ' looked up before it' : ''} setting tls cannot be ruled out`);
    return unknown();
  }
  // Stage A: the cluster's tls — the DR's, merged subset > DR, a port entry replacing the top level.
  let endpointMode: EndpointTlsMode | undefined;
  let passthroughLb = false;
  let inferPassthrough = false;
  let why: string;
  if (match) {
    const others = match.others.length ? `; ${listNames(match.others.map(entryName))} for the same host ${match.others.length === 1 ? 'is' : 'are'} not applied (exportTo differs: the newest rule wins)` : '';
    steps.push(`${entryName(match.entry)} applies (${stepLabel(match.step)}, host ${match.host})${others}`);
    const cp = clusterPolicy(match, sp.port, subset);
    if (cp.tls) {
      const mode = cp.tls.mode as string;
      const sends = sendsFromMode(mode);
      steps.push(`cluster: ${cp.tls.where}.mode=${mode}: the client sends ${describeSends(sends)} to every endpoint`);
      return decided(`cluster: tls ${mode} (${cp.tls.where})`, { sends, cause: 'destination-rule', tls: cp.tls });
    }
    steps.push(`cluster: ${cp.where}`);
    why = /has no tls/.test(cp.where) ? 'the port entry has no tls' : 'the DestinationRule sets no tls';
    endpointMode = endpointTlsMode(match, sp.port, subset);
    passthroughLb = cp.passthroughLb;
    inferPassthrough = cp.inferPassthrough;
  } else {
    why = 'no DestinationRule';
    steps.push(
      client
        ? `no DestinationRule for ${svc.fqdn} is visible from namespace ${client.namespace}`
        : `no DestinationRule for ${svc.fqdn} is exported from ${svc.namespace} or ${model.mesh.rootNamespace}`,
    );
  }
  if (model.meshUnseen) {
    steps.push(`${model.meshUnseen}: whether enableAutoMtls is on cannot be decided`);
    return unknown();
  }
  if (!model.mesh.enableAutoMtls) {
    steps.push(`cluster: meshConfig enableAutoMtls=false (${model.mesh.source}): plaintext`);
    return decided(`cluster: plaintext (${why}; enableAutoMtls=false)`, { sends: 'PLAINTEXT', cause: 'auto-mtls-disabled' });
  }
  steps.push(`enableAutoMtls=true (${model.mesh.defaulted ? "Istio's default" : model.mesh.source})`);
  const paUnknown = peerAuthUnseen(model, svc.namespace);
  if (paUnknown) {
    steps.push(`PeerAuthentications ${paUnknown}: auto mTLS cannot be decided`);
    return unknown();
  }
  const passthrough = svc.headless ? 'headless Service (clusterIP None)' : inferPassthrough ? 'loadBalancer PASSTHROUGH' : undefined;
  if (passthrough) {
    // BestEffortInferServiceMTLSMode: a passthrough Service is mTLS only if every endpoint is labelled.
    const eps = passthroughEndpoints(model, svc, sp);
    if (eps.unknown) {
      steps.push(`${passthrough}: Istio decides for all its endpoints at once, and ${eps.unknown}`);
      return unknown();
    }
    if (eps.plaintext) {
      steps.push(`cluster: ${passthrough}: Istio decides auto mTLS for the whole Service from its endpoints, and ${eps.plaintext}: plaintext to every endpoint`);
      return decided(`cluster: plaintext to every endpoint (${passthrough}, ${why}; an endpoint lacks tlsMode istio)`, { sends: 'PLAINTEXT', cause: 'headless' });
    }
  }
  // Mesh-wide or namespace-wide DISABLE for the Service's namespace (workload and port levels ignored).
  const nsMode = model.peerAuth.namespaceMode(svc.namespace);
  if (nsMode.mode === 'DISABLE') {
    steps.push(`cluster: ${nsMode.steps.at(-1) ?? 'namespace mode'} → DISABLE for namespace ${svc.namespace}: auto mTLS is off for the whole Service (plaintext)`);
    return decided(`cluster: plaintext (${why}; namespace ${svc.namespace} is DISABLE)`, { sends: 'PLAINTEXT', cause: 'namespace-disable' });
  }
  if (svc.headless || passthroughLb) {
    const what = svc.headless ? 'headless Service' : 'loadBalancer PASSTHROUGH';
    steps.push(
      `cluster: auto mTLS on an ORIGINAL_DST cluster (${what}): no per-endpoint tlsMode match, so Istio mTLS to every endpoint${eps(passthrough)}; workload and port-level PeerAuthentications are not consulted`,
    );
    return decided(`cluster: Istio mTLS to every endpoint (${what}, ${why})`, { sends: 'ISTIO_MUTUAL', cause: 'headless' });
  }
  steps.push('cluster: auto mTLS (Istio mTLS to endpoints whose tlsMode label is istio, plaintext to the others)');
  const part: ServicePart = { steps, cluster: `cluster: auto mTLS (${why})` };
  if (match) part.match = match;
  if (endpointMode) part.endpointMode = endpointMode;
  return part;
}

function eps(passthrough: string | undefined): string {
  return passthrough ? ' (every endpoint is labelled tlsMode istio)' : '';
}

function listNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** §4 stage B per endpoint, after the cluster left it to auto mTLS. */
function decideMeshedSends(
  model: MeshIndex,
  client: { namespace: string; labels?: Record<string, string> } | undefined,
  svc: ServiceView,
  sp: ServicePort,
  target: PodView,
  targetPort: number,
  steps: string[],
  subset?: string,
): SendDecision {
  const part = servicePart(model, client, svc, sp, subset);
  for (const step of part.steps) steps.push(step);
  const match = part.match;
  if (part.final) {
    if (part.final.sends !== 'UNKNOWN') steps.push(`decided: ${part.final.summary}`);
    return match ? { ...part.final, steps, match } : { ...part.final, steps };
  }
  const result = (sends: Sends, cause: SendCause, endpoint: string): SendDecision => {
    const summary = `${part.cluster}; endpoint: ${endpoint}`;
    steps.push(`decided: ${summary}`);
    const d: SendDecision = { sends, cause, steps, decidedBy: 'endpoint', summary };
    if (match) d.match = match;
    if ((cause === 'dr-keeps-label' || cause === 'dr-strips-label') && part.endpointMode) d.endpointMode = part.endpointMode;
    return d;
  };
  const sc = target.sidecar;
  if (sc.state === 'unknown') {
    steps.push(`${describePod(target)}: sidecar unknown (${sc.reason})`);
    const d: SendDecision = { sends: 'UNKNOWN', cause: 'unknown', steps, decidedBy: 'endpoint', summary: `${part.cluster}; endpoint: unknown` };
    if (match) d.match = match;
    return d;
  }
  const labelled = sc.tlsModeLabel;
  const labelText = labelled ? `${describePod(target)} has ${TLS_MODE_LABEL}=istio${sc.predicted ? ' (added by the injector)' : sc.state === 'absent' ? ' but no sidecar' : ''}` : `${describePod(target)} has no label ${TLS_MODE_LABEL}=istio`;
  // Stage B: the endpoint mTLS checker — a DestinationRule mode, when set, decides alone.
  const mode = part.endpointMode;
  if (mode) {
    if (mode.mode === 'ISTIO_MUTUAL') {
      if (!labelled) {
        steps.push(`endpoint: ${mode.where}.mode=ISTIO_MUTUAL keeps the tlsMode label, but ${labelText}: plaintext`);
        return result('PLAINTEXT', 'no-tls-label', `tlsMode absent (${describePod(target)})`);
      }
      steps.push(`endpoint: ${mode.where}.mode=ISTIO_MUTUAL keeps the tlsMode label (${labelText}), whatever its PeerAuthentication says: Istio mTLS`);
      return result('ISTIO_MUTUAL', 'dr-keeps-label', `tlsMode kept: DR ${mode.portLevel ? 'port-level' : 'top-level'} ISTIO_MUTUAL`);
    }
    steps.push(`endpoint: ${mode.where}.mode=${mode.mode} strips the tlsMode label from every endpoint: plaintext`);
    return result('PLAINTEXT', 'dr-strips-label', `tlsMode stripped: DR ${mode.portLevel ? 'port-level' : 'top-level'} ${mode.mode}`);
  }
  if (!labelled) {
    steps.push(`endpoint: ${labelText}: plaintext`);
    return result('PLAINTEXT', 'no-tls-label', `tlsMode absent (${describePod(target)})`);
  }
  // The endpoint's own policy for the target port (workload and port levels included).
  const server = model.peerAuth.effectiveMode(target.namespace, target.labels, targetPort);
  if (server.mode === 'DISABLE') {
    const pa = server.workloadPolicy;
    steps.push(`endpoint: ${labelText}, but ${pa ? paName(pa) : 'its policy'} makes target port ${targetPort} DISABLE: the label is stripped, plaintext to this endpoint`);
    return result('PLAINTEXT', 'workload-disable', `tlsMode stripped: ${pa ? paName(pa) : 'PeerAuthentication'} DISABLE for port ${targetPort}`);
  }
  steps.push(`endpoint: ${labelText}: Istio mTLS${sc.state === 'absent' ? ' (nobody terminates it)' : ''}`);
  return result('ISTIO_MUTUAL', 'auto-mtls', `tlsMode istio kept (${describePod(target)})`);
}

/**
 * DestinationRule lookup goes client namespace → Service namespace → root namespace, first hit
 * wins (§6): every namespace before the step that matched (all three when none did) must have
 * been seen, and the root namespace must be known when it is reached.
 */
function destinationRulesUnseen(model: MeshIndex, step: RuleMatch['step'] | undefined, clientNs: string | undefined, svcNs: string): string | undefined {
  const order: Array<[RuleMatch['step'], string | undefined]> = [
    ['client-namespace', clientNs],
    ['service-namespace', svcNs],
  ];
  for (const [at, ns] of order) {
    if (at === step) return undefined;
    const why = model.incompleteFor('DestinationRule', [ns]);
    if (why) return why;
  }
  return model.rootUnseen('DestinationRule');
}

/** What a target accepts needs its namespace's and the root namespace's PeerAuthentications. */
function peerAuthUnseen(model: MeshIndex, namespace: string): string | undefined {
  return model.incompleteFor('PeerAuthentication', [namespace]) ?? model.rootUnseen('PeerAuthentication');
}

function stepLabel(step: RuleMatch['step']): string {
  return step === 'client-namespace'
    ? "in the client's namespace"
    : step === 'service-namespace'
      ? "exported from the Service's namespace"
      : 'exported from the root namespace';
}

export function describeSends(s: Sends): string {
  switch (s) {
    case 'ISTIO_MUTUAL':
      return 'Istio mTLS';
    case 'MUTUAL':
      return 'mutual TLS with its own certificates';
    case 'SIMPLE':
      return 'TLS (originated by the sidecar)';
    case 'APP_TLS':
      return "the application's own TLS";
    case 'PLAINTEXT':
      return 'plaintext';
    case 'HBONE':
      return 'HBONE (ztunnel mTLS)';
    case 'BLACKHOLE':
      return 'nothing (BlackHoleCluster)';
    case 'UNKNOWN':
      return 'unknown';
  }
}

/** Judges one client → Service port → endpoint pod (the §5 outcome table). */
export function judgeEndpoint(
  model: MeshIndex,
  client: ClientContext,
  svc: ServiceView,
  sp: ServicePort,
  target: PodView,
  scheme?: string,
): EndpointVerdict {
  const tp = resolveTargetPort(sp, target);
  const nothing = (): SendDecision => ({ sends: 'UNKNOWN', cause: 'unknown', steps: [], decidedBy: 'client', summary: 'not decided' });
  if (tp.port === undefined) {
    const sends = nothing();
    return {
      pod: target,
      sends,
      clientSends: 'UNKNOWN',
      outcome: 'no-endpoint',
      why: `${describePod(target)} has no container port named "${tp.missingName}": Kubernetes gives it no endpoint for port ${sp.port}`,
    };
  }
  const port = tp.port;
  if (ALWAYS_BYPASSED_INBOUND.has(port)) {
    return { pod: target, targetPort: port, sends: nothing(), clientSends: 'UNKNOWN', outcome: 'unknown', why: `port ${port} is one of the sidecar's own ports, not the application's` };
  }
  const sends = decideSends(model, client, svc, sp, target, port, scheme);
  const base: EndpointVerdict = { pod: target, targetPort: port, sends, clientSends: sends.sends, outcome: 'unknown', why: '' };
  if (tp.via) base.targetPortNote = tp.via;
  const sc = target.sidecar;
  const paUnknown = peerAuthUnseen(model, target.namespace);
  const server = model.peerAuth.effectiveMode(target.namespace, target.labels, port);
  // What the target side is, whatever the outcome: views read these instead of recomputing them.
  if (sc.state === 'present' && sc.kind !== 'gateway') base.captured = isInboundCaptured(target.inbound, port);
  if (!paUnknown && ((sc.state === 'present' && sc.kind !== 'gateway') || (sc.state === 'absent' && sc.ambient))) base.server = server;
  const done = (outcome: Outcome, why: string): EndpointVerdict => {
    base.outcome = outcome;
    base.why = why;
    return base;
  };

  if (sends.sends === 'UNKNOWN') return done('unknown', `what the client sends cannot be decided${sends.steps.length ? `: ${sends.steps.at(-1)}` : ''}`);
  if (sends.sends === 'BLACKHOLE') return done('blackhole', `the client's sidecar does not know Service ${svc.namespace}/${svc.name} and its outbound policy is REGISTRY_ONLY: BlackHoleCluster answers 502 (TCP: reset)`);
  if (sc.state === 'unknown') return done('unknown', `sidecar of ${describePod(target)} unknown: ${sc.reason}`);
  const mtls = sends.sends === 'ISTIO_MUTUAL';

  if (sc.state === 'absent') {
    if (sc.ambient) {
      if (sends.sends === 'HBONE') return done('ok', 'ztunnel to ztunnel (HBONE)');
      if (sends.sends === 'PLAINTEXT' || sends.sends === 'APP_TLS') {
        if (paUnknown) return done('unknown', `PeerAuthentications ${paUnknown}`);
        if (server.mode === 'STRICT') return done('plaintext-to-strict', `ztunnel enforces STRICT on ${describePod(target)} and receives ${describeSends(sends.sends)}`);
        return done('ok', `ztunnel accepts ${describeSends(sends.sends)} (${server.mode})`);
      }
      return done('unknown', 'a sidecar client to an ambient pod is not judged (sidecar–ambient interoperation depends on the Istio version)');
    }
    if (mtls) {
      const labelOnly = sends.cause === 'auto-mtls' && sc.tlsModeLabel ? ` (it is labelled ${TLS_MODE_LABEL}=istio, so auto mTLS sends it Istio mTLS)` : '';
      return done('mtls-to-no-sidecar', `${describePod(target)} has no sidecar${labelOnly}: the application receives an Istio mTLS handshake`);
    }
    return done('ok', `${describePod(target)} has no sidecar and receives ${describeSends(sends.sends)}`);
  }
  if (sc.kind === 'gateway') {
    return mtls ? done('unknown', 'Istio mTLS to a gateway listener is not judged') : done('ok', 'a gateway listener receives the connection');
  }
  if (sends.sends === 'HBONE') return done('unknown', 'an ambient client to a sidecar pod is not judged');
  if (!base.captured) {
    if (mtls) return done('mtls-to-uncaptured', `port ${port} of ${describePod(target)} is not captured (${target.inbound.source}): the application receives the mTLS handshake`);
    return done('ok', `port ${port} is not captured: the application receives ${describeSends(sends.sends)} directly`);
  }
  if (paUnknown) return done('unknown', `PeerAuthentications ${paUnknown}`);
  if (mtls) {
    if (server.mode === 'DISABLE') {
      return done('mtls-to-disabled-port', `the sidecar does not terminate mTLS on port ${port} (PeerAuthentication DISABLE): the application receives the handshake`);
    }
    return done('ok', `the sidecar terminates mTLS (${server.mode})`);
  }
  if (server.mode === 'STRICT') {
    return done('plaintext-to-strict', `the sidecar of ${describePod(target)} requires mTLS on port ${port} (STRICT) and receives ${describeSends(sends.sends)}`);
  }
  return done('ok', `the sidecar accepts ${describeSends(sends.sends)} (${server.mode})`);
}
