// The edge resolver: for one client, Service port and endpoint pod, what the client sends
// (domain §4), whether the target's sidecar captures the port (§3), what it accepts (§5),
// and the outcome of the §5 table. Rules read these answers; none re-derives precedence.

import { ALWAYS_BYPASSED_INBOUND, isInboundCaptured, outboundBypass } from './capture.js';
import { drName, tlsForPort, type RuleMatch, type TlsSetting } from './destinationrule.js';
import type { ServicePort } from '../core/k8s.js';
import type { MeshIndex } from './indexes.js';
import { paName, type ServerMode } from './peerauth.js';
import { describePod, type PodView } from './pods.js';
import { resolveTargetPort, type ServiceView } from './services.js';
import { TLS_MODE_LABEL } from './sidecar.js';

/** What leaves the client: Istio mTLS, TLS with user settings, the app's own TLS, plaintext. */
export type Sends = 'ISTIO_MUTUAL' | 'MUTUAL' | 'SIMPLE' | 'PLAINTEXT' | 'APP_TLS' | 'HBONE' | 'UNKNOWN';

export type SendCause =
  | 'destination-rule'
  | 'auto-mtls'
  | 'auto-mtls-disabled'
  | 'namespace-disable'
  | 'no-tls-label'
  | 'workload-disable'
  | 'no-client-sidecar'
  | 'outbound-bypass'
  | 'ambient-client'
  | 'unknown';

export interface SendDecision {
  sends: Sends;
  cause: SendCause;
  steps: string[];
  /** The DestinationRule lookup result, when a rule matched the host. */
  match?: RuleMatch;
  tls?: TlsSetting;
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
  | 'no-endpoint'
  | 'unknown';

export interface EndpointVerdict {
  pod: PodView;
  targetPort?: number;
  targetPortNote?: string;
  /** Only meaningful when the target has a sidecar. */
  captured?: boolean;
  server?: ServerMode;
  sends: SendDecision;
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
  if (pod) {
    const sc = pod.sidecar;
    if (sc.state === 'unknown') {
      return { sends: 'UNKNOWN', cause: 'unknown', steps: [`${client.label}: sidecar unknown (${sc.reason})`] };
    }
    if (sc.state === 'absent') {
      if (sc.ambient) {
        return { sends: 'HBONE', cause: 'ambient-client', steps: [`${client.label} is in ambient mode: ztunnel carries its traffic (HBONE)`] };
      }
      const sends = schemeSends(scheme);
      return {
        sends,
        cause: 'no-client-sidecar',
        steps: [`${client.label} has no sidecar (${sc.reason}): it sends what its URL says (${sends === 'APP_TLS' ? 'its own TLS' : 'plaintext'})`],
      };
    }
    steps.push(sc.kind === 'gateway' ? `${client.label} is an Istio gateway proxy (${sc.reason})` : `${client.label} has a sidecar (${sc.reason})`);
    const dialPort = svc.headless ? targetPort : sp.port;
    const bypass = outboundBypass(pod.outbound, dialPort, svc.headless ? target.podIP : svc.clusterIP);
    if (bypass.bypass) {
      const sends = schemeSends(scheme);
      return { sends, cause: 'outbound-bypass', steps: [...steps, `${bypass.why}: the connection skips the sidecar`] };
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
 * §4 steps 1–3 depend on the client, the Service and its port only: the same for every endpoint
 * behind it. Decided once per (client, Service port) and shared (a large cluster has thousands
 * of endpoints per decision); `final` is set when these steps already decide.
 */
interface ServicePart {
  steps: readonly string[];
  match?: RuleMatch;
  final?: Omit<SendDecision, 'steps' | 'match'>;
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
  const decided = (d: Omit<SendDecision, 'steps' | 'match'>): ServicePart => (match ? { steps, match, final: d } : { steps, final: d });
  // A rule in a namespace looked up before the one that matched would have won: those must all have been seen.
  const drUnknown = destinationRulesUnseen(model, match?.step, client?.namespace, svc.namespace);
  if (drUnknown) {
    const matched = match ? `${match.rules.map((r) => drName(r.rule)).join(' + ')} matches (${stepLabel(match.step)}), but ` : '';
    steps.push(`${matched}DestinationRules ${drUnknown}: a rule${match ? ' looked up before it' : ''} setting tls cannot be ruled out`);
    return { steps, final: { sends: 'UNKNOWN', cause: 'unknown' } };
  }
  // 1. A DestinationRule that sets tls for this port wins.
  if (match) {
    const tls = tlsForPort(match, sp.port, subset);
    const names = match.rules.map((r) => drName(r.rule)).join(' + ');
    steps.push(`${names} applies (${stepLabel(match.step)}, host ${match.host})`);
    if (tls.mode) {
      const sends = sendsFromMode(tls.mode);
      steps.push(`${tls.where}.mode=${tls.mode}: the client sends ${describeSends(sends)}`);
      return { steps, match, final: { sends, cause: 'destination-rule', tls } };
    }
    steps.push(tls.where);
  } else {
    steps.push(
      client
        ? `no DestinationRule for ${svc.fqdn} is visible from namespace ${client.namespace}`
        : `no DestinationRule for ${svc.fqdn} is exported from ${svc.namespace} or ${model.mesh.rootNamespace}`,
    );
  }
  // 2. Auto mTLS switched off mesh-wide.
  if (model.meshUnseen) {
    steps.push(`${model.meshUnseen}: whether enableAutoMtls is on cannot be decided`);
    return decided({ sends: 'UNKNOWN', cause: 'unknown' });
  }
  if (!model.mesh.enableAutoMtls) {
    steps.push(`meshConfig enableAutoMtls=false (${model.mesh.source}): plaintext`);
    return decided({ sends: 'PLAINTEXT', cause: 'auto-mtls-disabled' });
  }
  steps.push(`enableAutoMtls=true (${model.mesh.defaulted ? "Istio's default" : model.mesh.source})`);
  const paUnknown = peerAuthUnseen(model, svc.namespace);
  if (paUnknown) {
    steps.push(`PeerAuthentications ${paUnknown}: auto mTLS cannot be decided`);
    return decided({ sends: 'UNKNOWN', cause: 'unknown' });
  }
  // 3. Mesh-wide or namespace-wide DISABLE for the Service's namespace.
  const nsMode = model.peerAuth.namespaceMode(svc.namespace);
  if (nsMode.mode === 'DISABLE') {
    steps.push(`${nsMode.steps.at(-1) ?? 'namespace mode'} → DISABLE for namespace ${svc.namespace}: plaintext to the whole Service`);
    return decided({ sends: 'PLAINTEXT', cause: 'namespace-disable' });
  }
  return match ? { steps, match } : { steps };
}

/** §4 steps 1–6 for a client whose sidecar handles the connection. */
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
  if (part.final) return match ? { ...part.final, steps, match } : { ...part.final, steps };
  const withMatch = (d: Omit<SendDecision, 'match'>): SendDecision => (match ? { ...d, match } : d);
  // 4. The endpoint's tlsMode label.
  const sc = target.sidecar;
  if (sc.state === 'unknown') {
    steps.push(`${describePod(target)}: sidecar unknown (${sc.reason})`);
    return withMatch({ sends: 'UNKNOWN', cause: 'unknown', steps });
  }
  if (!sc.tlsModeLabel) {
    steps.push(`${describePod(target)} has no label ${TLS_MODE_LABEL}=istio: plaintext`);
    return withMatch({ sends: 'PLAINTEXT', cause: 'no-tls-label', steps });
  }
  steps.push(`${describePod(target)} has ${TLS_MODE_LABEL}=istio${sc.predicted ? ' (added by the injector)' : ''}`);
  // 5. The endpoint's own policy for the target port.
  const server = model.peerAuth.effectiveMode(target.namespace, target.labels, targetPort);
  if (server.mode === 'DISABLE' && (server.decidedBy === 'workload' || server.decidedBy === 'port')) {
    const pa = server.workloadPolicy;
    steps.push(`${pa ? paName(pa) : 'workload policy'} makes port ${targetPort} DISABLE: plaintext to this endpoint`);
    return withMatch({ sends: 'PLAINTEXT', cause: 'workload-disable', steps });
  }
  // 6. Auto mTLS.
  steps.push('auto mTLS: Istio mTLS');
  return withMatch({ sends: 'ISTIO_MUTUAL', cause: 'auto-mtls', steps });
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
  if (tp.port === undefined) {
    const sends: SendDecision = { sends: 'UNKNOWN', cause: 'unknown', steps: [] };
    return {
      pod: target,
      sends,
      outcome: 'no-endpoint',
      why: `${describePod(target)} has no container port named "${tp.missingName}": Kubernetes gives it no endpoint for port ${sp.port}`,
    };
  }
  const port = tp.port;
  if (ALWAYS_BYPASSED_INBOUND.has(port)) {
    const sends: SendDecision = { sends: 'UNKNOWN', cause: 'unknown', steps: [] };
    return { pod: target, targetPort: port, sends, outcome: 'unknown', why: `port ${port} is one of the sidecar's own ports, not the application's` };
  }
  const sends = decideSends(model, client, svc, sp, target, port, scheme);
  const base: EndpointVerdict = { pod: target, targetPort: port, sends, outcome: 'unknown', why: '' };
  if (tp.via) base.targetPortNote = tp.via;
  const sc = target.sidecar;
  const paUnknown = peerAuthUnseen(model, target.namespace);
  const server = model.peerAuth.effectiveMode(target.namespace, target.labels, port);
  const done = (outcome: Outcome, why: string, extra?: Pick<EndpointVerdict, 'captured' | 'server'>): EndpointVerdict => {
    base.outcome = outcome;
    base.why = why;
    if (extra?.captured !== undefined) base.captured = extra.captured;
    if (extra?.server !== undefined) base.server = extra.server;
    return base;
  };

  if (sends.sends === 'UNKNOWN') return done('unknown', `what the client sends cannot be decided${sends.steps.length ? `: ${sends.steps.at(-1)}` : ''}`);
  if (sc.state === 'unknown') return done('unknown', `sidecar of ${describePod(target)} unknown: ${sc.reason}`);
  const mtls = sends.sends === 'ISTIO_MUTUAL';

  if (sc.state === 'absent') {
    if (sc.ambient) {
      if (sends.sends === 'HBONE') return done('ok', 'ztunnel to ztunnel (HBONE)');
      if (sends.sends === 'PLAINTEXT' || sends.sends === 'APP_TLS') {
        if (paUnknown) return done('unknown', `PeerAuthentications ${paUnknown}`);
        if (server.mode === 'STRICT') {
          return done('plaintext-to-strict', `ztunnel enforces STRICT on ${describePod(target)} and receives ${describeSends(sends.sends)}`, { server });
        }
        return done('ok', `ztunnel accepts ${describeSends(sends.sends)} (${server.mode})`, { server });
      }
      return done('unknown', 'a sidecar client to an ambient pod is not judged (sidecar–ambient interoperation depends on the Istio version)');
    }
    if (mtls) return done('mtls-to-no-sidecar', `${describePod(target)} has no sidecar: the application receives an Istio mTLS handshake`);
    return done('ok', `${describePod(target)} has no sidecar and receives ${describeSends(sends.sends)}`);
  }
  if (sc.kind === 'gateway') {
    return mtls ? done('unknown', 'Istio mTLS to a gateway listener is not judged') : done('ok', 'a gateway listener receives the connection');
  }
  if (sends.sends === 'HBONE') return done('unknown', 'an ambient client to a sidecar pod is not judged');
  const captured = isInboundCaptured(target.inbound, port);
  if (!captured) {
    // What the policy says for the port, though no sidecar enforces it there (views show both).
    const said = paUnknown ? {} : { server };
    if (mtls) {
      return done('mtls-to-uncaptured', `port ${port} of ${describePod(target)} is not captured (${target.inbound.source}): the application receives the mTLS handshake`, { captured, ...said });
    }
    return done('ok', `port ${port} is not captured: the application receives ${describeSends(sends.sends)} directly`, { captured, ...said });
  }
  if (paUnknown) return done('unknown', `PeerAuthentications ${paUnknown}`, { captured });
  if (mtls) {
    if (server.mode === 'DISABLE') {
      return done('mtls-to-disabled-port', `the sidecar does not terminate mTLS on port ${port} (PeerAuthentication DISABLE): the application receives the handshake`, { captured, server });
    }
    return done('ok', `the sidecar terminates mTLS (${server.mode})`, { captured, server });
  }
  if (server.mode === 'STRICT') {
    return done('plaintext-to-strict', `the sidecar of ${describePod(target)} requires mTLS on port ${port} (STRICT) and receives ${describeSends(sends.sends)}`, { captured, server });
  }
  return done('ok', `the sidecar accepts ${describeSends(sends.sends)} (${server.mode})`, { captured, server });
}
