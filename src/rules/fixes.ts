// Ready-to-apply fixes. They name the real objects, hosts and ports; they edit the object in
// force when there is one (a second DestinationRule or workload PeerAuthentication for the same
// host or pods would be merged away or ignored by Istio), and create a new one otherwise.

import { ANNOTATION } from '../model/capture.js';
import { clusterPolicy, effectivePolicy, soleRuleMatch, type IndexedRule, type RuleMatch } from '../model/destinationrule.js';
import type { DestinationRule, KObject, ObjectRef, PeerAuthentication, ServicePort, StringMap, TrafficPolicy, Workload } from '../core/k8s.js';
import type { MeshModel } from '../model/model.js';
import type { PodView } from '../model/pods.js';
import { PROXY_CONFIG_ANNOTATION, proxyConfigWithHold } from '../model/proxyconfig.js';
import type { ServiceView } from '../model/services.js';
import { INJECT_KEY } from '../model/sidecar.js';
import { findObject, objectsOfKindName } from '../core/snapshot.js';
import type { Fix, FixStep } from './types.js';
import { withComments } from './yaml.js';

const SYSTEM_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'ownerReferences'];
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A copy of an object fit to edit and apply: no status, no server-set metadata. */
export function editable<T extends KObject>(o: T): T {
  const copy = structuredClone(o) as T & { status?: unknown };
  delete copy.status;
  const meta = copy.metadata as unknown as Record<string, unknown>;
  for (const f of SYSTEM_METADATA) delete meta[f];
  const annotations = meta.annotations as StringMap | undefined;
  if (annotations) {
    delete annotations[LAST_APPLIED];
    if (Object.keys(annotations).length === 0) delete meta.annotations;
  }
  return copy;
}

function kubectlNs(ref: ObjectRef): string {
  return ref.namespace ? ` -n ${ref.namespace}` : '';
}

/** Delete an object the fix replaces or makes redundant. */
export function deleteStep(ref: ObjectRef): FixStep {
  return { kind: 'delete', target: ref, command: `kubectl delete ${ref.kind.toLowerCase()}${kubectlNs(ref)} ${ref.name}` };
}

/** RFC 6901 escaping of one JSON pointer segment. */
function pointerSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Remove one field: a JSON patch, which works on any field (annotate/label `KEY-` only reach the object's own metadata). */
export function removeFieldStep(ref: ObjectRef, path: string[]): FixStep {
  const pointer = `/${path.map(pointerSegment).join('/')}`;
  const simple = path.length === 3 && path[0] === 'metadata' && (path[1] === 'annotations' || path[1] === 'labels');
  const command = simple
    ? `kubectl ${path[1] === 'annotations' ? 'annotate' : 'label'} ${ref.kind.toLowerCase()}${kubectlNs(ref)} ${ref.name} ${path[2]}-`
    : `kubectl patch ${ref.kind.toLowerCase()}${kubectlNs(ref)} ${ref.name} --type json -p '[{"op":"remove","path":"${pointer}"}]'`;
  return { kind: 'remove-field', target: ref, path, command };
}

/** Workload kinds `kubectl rollout restart` accepts. */
const ROLLOUT_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/**
 * How to restart pods as kubectl accepts it: the owning workload's rollout restart; pods of a
 * ReplicaSet or Job without such a workload are deleted (their controller re-creates them); an
 * owner-less pod is deleted and re-created from its own manifest.
 */
export function restartSteps(pods: readonly PodView[]): FixStep[] {
  const steps = new Map<string, FixStep>();
  for (const p of pods) {
    const owner = p.owner;
    if (owner && ROLLOUT_KINDS.has(owner.kind)) {
      const target = ref(owner.kind, p.namespace, owner.name);
      steps.set(formatRefKey(target), { kind: 'restart', target, command: `kubectl rollout restart ${owner.kind.toLowerCase()}/${owner.name} -n ${p.namespace}` });
    } else if (owner) {
      const target = ref('Pod', p.namespace, p.name);
      steps.set(formatRefKey(target), { kind: 'restart', target, command: `kubectl delete pod ${p.name} -n ${p.namespace}  (${owner.kind} ${owner.name} creates a new one)` });
    } else {
      const target = ref('Pod', p.namespace, p.name);
      steps.set(formatRefKey(target), {
        kind: 'restart',
        target,
        command: `kubectl get pod ${p.name} -n ${p.namespace} -o yaml > ${p.name}.yaml && kubectl replace --force -f ${p.name}.yaml  (a Pod without an owner: deleted and created again from its own manifest)`,
      });
    }
  }
  return [...steps.values()];
}

function formatRefKey(r: ObjectRef): string {
  return `${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

/** ` (file.yaml:12)` when the object came from a file, else ''. */
export function where(model: MeshModel, o: KObject): string {
  const pos = model.positionOf(o);
  return pos ? ` (${pos.file}:${pos.line})` : '';
}

export function ref(kind: string, namespace: string, name: string): ObjectRef {
  return { kind, namespace, name };
}

/** apiVersion for new Istio objects: what the input already uses, else v1. */
export function istioApiVersion(model: MeshModel, kind: 'DestinationRule' | 'PeerAuthentication'): string {
  const seen = objectsOfKindName(model.snapshot, kind)[0];
  if (seen) return seen.apiVersion;
  return kind === 'DestinationRule' ? 'networking.istio.io/v1' : 'security.istio.io/v1';
}

export function dnsName(...parts: Array<string | number>): string {
  return parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/^-|-$/g, '');
}

function setPortTls(policy: TrafficPolicy, port: number, mode: string): TrafficPolicy {
  const settings = [...(policy.portLevelSettings ?? [])];
  const at = settings.findIndex((s) => s.port?.number === port);
  if (at >= 0) settings[at] = { ...settings[at], tls: { mode } };
  else settings.push({ port: { number: port }, tls: { mode } });
  return { ...policy, portLevelSettings: settings };
}

/**
 * DestinationRule setting `tls.mode` for Service ports, seen by the client(s) in question.
 * Edits the rule in force for an exact host; for a wildcard rule (e.g. `*.local` in the root
 * namespace) creates a host-specific rule that keeps the wildcard's policy for the other ports.
 * When a rule for the host exists but the client cannot see it (exportTo), a second rule beside it
 * would be a duplicate (TM403, and only one of them applies): the new rule goes to the client's
 * namespace, which the client looks up first; for any client, the hidden rule is edited and exported.
 */
export function destinationRuleTlsFix(
  model: MeshModel,
  svc: ServiceView,
  sp: ServicePort | ServicePort[],
  mode: string,
  match: RuleMatch | undefined,
  why: string,
  clientNamespace?: string,
  subset?: string,
): Fix {
  const ports = (Array.isArray(sp) ? sp : [sp]).map((p) => p.port);
  const portText = ports.join(', ');
  const setAll = (policy: TrafficPolicy): TrafficPolicy => ports.reduce((p, port) => setPortTls(p, port, mode), policy);
  if (match && match.host === svc.fqdn) {
    const { rule } = effectivePolicy(match);
    const dr = editable(rule) as DestinationRule;
    dr.spec.trafficPolicy = setAll(dr.spec.trafficPolicy ?? {});
    // A route to a subset uses the subset's policy over the rule's: set the port there too.
    for (const s of dr.spec.subsets ?? []) if (subset && s.name === subset && s.trafficPolicy) s.trafficPolicy = setAll(s.trafficPolicy);
    return {
      title: `Set tls.mode ${mode} for port ${portText} in DestinationRule ${rule.metadata.namespace}/${rule.metadata.name}${where(model, rule)}`,
      yaml: withComments([`edits the DestinationRule in force for ${svc.fqdn}: ${why}`, 'apply with: kubectl apply -f <this file>'], dr),
      target: ref('DestinationRule', rule.metadata.namespace as string, rule.metadata.name),
    };
  }
  const visible = new Set((clientNamespace ? model.destinationRules.candidates(clientNamespace, svc.fqdn, svc.namespace) : []).flatMap((s) => s.entries.flatMap((e) => e.rules)));
  const hidden = match
    ? []
    : model.destinationRules
        .rulesMatching(svc.fqdn)
        .filter((r) => r.host === svc.fqdn && !r.rule.spec.workloadSelector && r.rule.metadata.namespace === svc.namespace && !visible.has(r));
  const hiddenRule = hidden[0]?.rule;
  // The hidden rule already says what is needed for these ports: exporting it is the whole fix (for every client).
  const saysIt = hidden[0] !== undefined && ports.every((port) => clusterPolicy(soleRuleMatch(hidden[0] as IndexedRule, 'service-namespace'), port).tls?.mode === mode);
  if (hiddenRule && (!clientNamespace || saysIt)) {
    const dr = editable(hiddenRule) as DestinationRule;
    dr.spec.trafficPolicy = setAll(dr.spec.trafficPolicy ?? {});
    const was = hiddenRule.spec.exportTo?.join(', ') ?? '';
    dr.spec.exportTo = ['*'];
    return {
      title: `Set tls.mode ${mode} for port ${portText} in DestinationRule ${hiddenRule.metadata.namespace}/${hiddenRule.metadata.name}${where(model, hiddenRule)} and export it to every namespace`,
      yaml: withComments(
        [
          why,
          `DestinationRule ${hiddenRule.metadata.namespace}/${hiddenRule.metadata.name} is the rule for ${svc.fqdn}, but its exportTo (${was}) hides it from clients in other namespaces; a second rule for the host beside it would be a duplicate Istio does not merge`,
          'exported to every namespace, its other settings apply to those clients too: review them',
          'apply with: kubectl apply -f <this file>',
        ],
        dr,
      ),
      target: ref('DestinationRule', hiddenRule.metadata.namespace as string, hiddenRule.metadata.name),
    };
  }
  const inClientNs = hiddenRule !== undefined && clientNamespace !== undefined && clientNamespace !== svc.namespace;
  const namespace = match?.step === 'client-namespace' ? (match.rules[0]?.rule.metadata.namespace as string) : inClientNs ? (clientNamespace as string) : svc.namespace;
  const base: TrafficPolicy = match ? structuredClone(effectivePolicy(match).policy ?? {}) : {};
  const name = dnsName(svc.name, ...ports, mode === 'DISABLE' ? 'no-mtls' : mode);
  const dr = {
    apiVersion: istioApiVersion(model, 'DestinationRule'),
    kind: 'DestinationRule',
    metadata: { name, namespace },
    spec: { host: svc.fqdn, trafficPolicy: setAll(base), ...(inClientNs ? { exportTo: ['.'] } : {}) },
  };
  const comments = [why];
  if (match) {
    comments.push(
      `${match.rules.map((r) => `DestinationRule ${r.rule.metadata.namespace}/${r.rule.metadata.name}`).join(', ')} (host ${match.host}) applies today; this host-specific rule takes precedence and copies its trafficPolicy so the other ports keep their settings`,
    );
  }
  if (inClientNs) {
    comments.push(
      `DestinationRule ${hiddenRule?.metadata.namespace}/${hiddenRule?.metadata.name} for ${svc.fqdn} is not exported to namespace ${clientNamespace}; clients look up rules in their own namespace first, so this one applies to them (exportTo "." keeps it to that namespace)`,
    );
  }
  comments.push(`DestinationRule portLevelSettings use the Service port (${portText}), not the target port`, 'apply with: kubectl apply -f <this file>');
  return {
    title: `DestinationRule ${namespace}/${name}: tls.mode ${mode} for ${svc.fqdn} port ${portText}`,
    yaml: withComments(comments, dr),
    target: ref('DestinationRule', namespace, name),
  };
}

/** The workload object of a pod (its template or owner), when in the input. */
export function workloadObject(model: MeshModel, pod: PodView): Workload | undefined {
  if (pod.fromTemplate) return pod.object as Workload;
  const owner = pod.owner;
  if (!owner) return undefined;
  return findObject(model.snapshot, owner.kind, owner.namespace, owner.name) as Workload | undefined;
}

/** Labels that select exactly this workload's pods: its own selector, else the fallback (a Service's), else the pod's labels. */
export function workloadSelector(model: MeshModel, pod: PodView, fallback: StringMap | undefined): StringMap {
  const matchLabels = workloadObject(model, pod)?.spec?.selector?.matchLabels;
  if (matchLabels && Object.keys(matchLabels).length) return matchLabels;
  return fallback ?? stableLabels(pod.labels);
}

/** Labels set per pod or per rollout (by controllers or the injector) select nothing lasting. */
const VOLATILE_LABELS = /^(pod-template-hash|controller-revision-hash|pod-template-generation|statefulset\.kubernetes\.io\/pod-name|apps\.kubernetes\.io\/pod-index|batch\.kubernetes\.io\/.*|job-name|controller-uid|security\.istio\.io\/tlsMode|service\.istio\.io\/canonical-(name|revision))$/;

function stableLabels(labels: StringMap): StringMap {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !VOLATILE_LABELS.test(k)));
}

/**
 * Workload PeerAuthentication `portLevelMtls` for one target (container) port. Edits the
 * workload policy in force (Istio ignores all but the oldest); a new one sets no `mtls`, so
 * every other port keeps the namespace's mode.
 */
export function peerAuthPortFix(model: MeshModel, pod: PodView, targetPort: number, mode: string, existing: PeerAuthentication | undefined, svc: ServiceView | undefined, why: string): Fix {
  return peerAuthPortsFix(model, pod, { [String(targetPort)]: { mode } }, existing, svc?.selector, why);
}

/** Several target ports at once (see peerAuthPortFix). */
export function peerAuthPortsFix(
  model: MeshModel,
  pod: PodView,
  ports: Record<string, { mode?: string }>,
  existing: PeerAuthentication | undefined,
  fallbackSelector: StringMap | undefined,
  why: string,
): Fix {
  const keys = Object.keys(ports);
  const summary = keys.map((k) => `${k}: ${ports[k]?.mode ?? 'UNSET'}`).join(', ');
  if (existing) {
    const pa = editable(existing);
    pa.spec = { ...pa.spec, portLevelMtls: { ...(pa.spec?.portLevelMtls ?? {}), ...ports } };
    return {
      title: `Set portLevelMtls ${summary} in PeerAuthentication ${existing.metadata.namespace}/${existing.metadata.name}${where(model, existing)}`,
      yaml: withComments([`edits the workload PeerAuthentication in force for these pods: ${why}`, 'apply with: kubectl apply -f <this file>'], pa),
      target: ref('PeerAuthentication', existing.metadata.namespace as string, existing.metadata.name),
    };
  }
  const workload = pod.owner?.name ?? pod.name;
  const first = keys.length === 1 ? [keys[0] as string, ports[keys[0] as string]?.mode ?? 'ports'] : ['ports'];
  const name = dnsName(workload, 'port', ...first);
  const pa = {
    apiVersion: istioApiVersion(model, 'PeerAuthentication'),
    kind: 'PeerAuthentication',
    metadata: { name, namespace: pod.namespace },
    spec: { selector: { matchLabels: workloadSelector(model, pod, fallbackSelector) }, portLevelMtls: ports },
  };
  return {
    title: `PeerAuthentication ${pod.namespace}/${name}: port${keys.length === 1 ? '' : 's'} ${keys.length === 1 ? `${keys[0]} ${ports[keys[0] as string]?.mode}` : summary} for ${workload}`,
    yaml: withComments(
      [
        why,
        `portLevelMtls uses the target (container) port${keys.length === 1 ? '' : 's'} ${keys.join(', ')}, not the Service port; no mtls.mode is set, so the other ports keep the namespace's mode`,
        'apply with: kubectl apply -f <this file>',
      ],
      pa,
    ),
    target: ref('PeerAuthentication', pod.namespace, name),
  };
}

function workloadRef(model: MeshModel, pod: PodView): { kind: string; name: string; apiVersion: string; object?: Workload } {
  const w = workloadObject(model, pod);
  if (w) return { kind: w.kind, name: w.metadata.name, apiVersion: w.apiVersion, object: w };
  const owner = pod.owner ?? { kind: 'Deployment', name: pod.name };
  return { kind: owner.kind, name: owner.name, apiVersion: owner.kind === 'CronJob' || owner.kind === 'Job' ? 'batch/v1' : 'apps/v1' };
}

/** Parts of a pod template a patch sets (server-side apply merges maps and keyed lists). */
export interface TemplateFragment {
  metadata?: { labels?: StringMap; annotations?: StringMap };
  spec?: Record<string, unknown>;
}

/**
 * A server-side-apply patch of the pod template of the workload that owns `pod` (a Pod is
 * never patched: its owner's template is, and the pods restart to pick it up).
 */
export function templatePatch(model: MeshModel, pod: PodView, template: TemplateFragment, comments: string[]): Fix & { target: ObjectRef } {
  if (!pod.fromTemplate && !pod.owner) return recreatePod(model, pod, template, comments);
  const w = workloadRef(model, pod);
  const spec = w.kind === 'CronJob' ? { jobTemplate: { spec: { template } } } : { template };
  const doc = { apiVersion: w.apiVersion, kind: w.kind, metadata: { name: w.name, namespace: pod.namespace }, spec };
  const file = w.object ? where(model, w.object) : '';
  return {
    title: '',
    yaml: withComments(
      [
        ...comments,
        `patches the pod template of ${w.kind} ${pod.namespace}/${w.name}${file}; pods restart to pick it up`,
        'apply with: kubectl apply --server-side --field-manager=tunnelmesh -f <this file>  (or change the manifest that owns it)',
      ],
      doc,
    ),
    target: ref(w.kind, pod.namespace, w.name),
    apply: 'server-side',
  };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Maps merge key by key; anything else (lists included) replaces. */
function mergeInto(base: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    const current = base[k];
    if (isMap(v) && isMap(current)) mergeInto(current, v);
    else base[k] = structuredClone(v);
  }
}

/** What the injector and the scheduler added to a Pod: a re-created Pod goes through them again. */
const INJECTED_CONTAINERS = new Set(['istio-proxy', 'istio-init', 'istio-validation']);
const INJECTED_VOLUMES = /^(istio-|istiod-ca-cert$|workload-socket$|credential-socket$|workload-certs$)/;
const INJECTED_METADATA = /^(sidecar\.istio\.io\/status|security\.istio\.io\/tlsMode|service\.istio\.io\/canonical-(name|revision)|istio\.io\/rev|kubectl\.kubernetes\.io\/default-(logs-)?container|prometheus\.io\/(scrape|port|path))$/;

function asWritten(pod: KObject): KObject {
  const copy = editable(pod) as KObject & { spec: PodView['spec'] & { nodeName?: string } };
  const spec = copy.spec;
  spec.containers = spec.containers.filter((c) => !INJECTED_CONTAINERS.has(c.name));
  const init = (spec.initContainers ?? []).filter((c) => !INJECTED_CONTAINERS.has(c.name));
  if (init.length) spec.initContainers = init;
  else delete spec.initContainers;
  if (spec.volumes) spec.volumes = spec.volumes.filter((v) => !INJECTED_VOLUMES.test(v.name));
  delete spec.nodeName;
  for (const field of ['labels', 'annotations'] as const) {
    const map = copy.metadata[field];
    if (!map) continue;
    for (const k of Object.keys(map)) if (INJECTED_METADATA.test(k)) delete map[k];
  }
  return copy;
}

/** A Pod without an owner cannot be changed by a template: the Pod as written, edited, re-created. */
function recreatePod(model: MeshModel, pod: PodView, template: TemplateFragment, comments: string[]): Fix & { target: ObjectRef } {
  const copy = asWritten(pod.object);
  mergeInto(copy as unknown as Record<string, unknown>, template as Record<string, unknown>);
  return {
    title: '',
    yaml: withComments(
      [...comments, `Pod ${pod.namespace}/${pod.name} has no owning workload: re-create it with this spec${where(model, pod.object)}`, 'apply with: kubectl replace --force -f <this file>'],
      copy,
    ),
    target: ref('Pod', pod.namespace, pod.name),
    apply: 'replace',
  };
}

/** Take a port out of the sidecar's inbound exclusions (or add it to a non-`*` include list). */
export function captureFix(model: MeshModel, pod: PodView, port: number): Fix | undefined {
  const annotations: StringMap = {};
  const excl = pod.annotations[ANNOTATION.excludeInboundPorts];
  if (excl !== undefined && pod.inbound.exclude.ports.has(port)) {
    annotations[ANNOTATION.excludeInboundPorts] = excl
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s !== String(port))
      .join(',');
  }
  const incl = pod.annotations[ANNOTATION.includeInboundPorts];
  if (incl !== undefined && !pod.inbound.include.all && !pod.inbound.include.ports.has(port)) {
    annotations[ANNOTATION.includeInboundPorts] = [incl.trim(), String(port)].filter(Boolean).join(',');
  }
  if (Object.keys(annotations).length === 0) return undefined; // excluded by mesh defaults or istio-init only
  const fix = templatePatch(model, pod, { metadata: { annotations } }, [`let the sidecar capture port ${port} again, so Istio terminates mTLS for it`]);
  fix.title = `Stop excluding port ${port} from capture on ${fix.target.kind} ${pod.namespace}/${fix.target.name}`;
  return fix;
}

/** Inject a sidecar into the client workload, holding the app until the proxy is ready. */
export function injectSidecarFix(model: MeshModel, pod: PodView, why: string): Fix {
  const operatorManaged = Object.keys(pod.labels).some((k) => k.startsWith('cloudflare-operator.io/'));
  const comments = [why, 'holdApplicationUntilProxyStarts keeps cloudflared from dialing before the proxy is ready'];
  const nsLabels = model.namespaces.get(pod.namespace)?.metadata.labels;
  if (nsLabels?.['istio-injection'] && nsLabels['istio-injection'] !== 'enabled') {
    comments.push(`namespace ${pod.namespace} has istio-injection=${nsLabels['istio-injection']}, which a pod label cannot override: label the namespace istio-injection=enabled instead`);
  }
  if (operatorManaged) {
    comments.push('the Cloudflare operator owns this Deployment: put the same template metadata into the Tunnel/ClusterTunnel spec.deployPatch, or the operator reverts it');
  }
  const fix = templatePatch(
    model,
    pod,
    { metadata: { labels: { [INJECT_KEY]: 'true' }, annotations: { [PROXY_CONFIG_ANNOTATION]: proxyConfigWithHold(pod.annotations[PROXY_CONFIG_ANNOTATION]) } } },
    comments,
  );
  fix.title = `Inject an Istio sidecar into ${fix.target.kind} ${pod.namespace}/${fix.target.name}`;
  return fix;
}

/** Remove a DestinationRule's tls for a port (auto mTLS decides again). */
/**
 * Make the clients of one Service port send Istio mTLS again, in the rule that made them send
 * something else. A port entry without tls leaves the cluster to auto mTLS, but the endpoints'
 * tlsMode label still follows the top-level mode (Istio's mtls checker): with a top-level mode other
 * than ISTIO_MUTUAL only an explicit `tls.mode: ISTIO_MUTUAL` on the port brings mTLS back.
 */
export function dropDrTlsFix(model: MeshModel, rule: DestinationRule, port: number, _portLevel: boolean, why: string): Fix {
  const dr = editable(rule);
  const policy: TrafficPolicy = { ...(dr.spec.trafficPolicy ?? {}) };
  const topMode = policy.tls ? String(policy.tls.mode ?? 'DISABLE').toUpperCase() : undefined;
  const explicit = topMode !== undefined && topMode !== 'ISTIO_MUTUAL';
  const others = (policy.portLevelSettings ?? []).filter((s) => s.port?.number !== port);
  const entry = (policy.portLevelSettings ?? []).find((s) => s.port?.number === port);
  const { tls: _drop, ...rest } = entry ?? { port: { number: port } };
  policy.portLevelSettings = [...others, explicit ? { ...rest, tls: { mode: 'ISTIO_MUTUAL' } } : rest];
  dr.spec.trafficPolicy = policy;
  const how = explicit
    ? `the top-level tls.mode ${topMode} would still strip the endpoints' tlsMode label for an entry without tls, so port ${port} sets ISTIO_MUTUAL itself`
    : 'a portLevelSettings entry without tls falls back to auto mTLS';
  return {
    title: `${explicit ? 'Send Istio mTLS on' : 'Let auto mTLS decide'} port ${port} in DestinationRule ${rule.metadata.namespace}/${rule.metadata.name}${where(model, rule)}`,
    yaml: withComments([why, how, 'apply with: kubectl apply -f <this file>'], dr),
    target: ref('DestinationRule', rule.metadata.namespace as string, rule.metadata.name),
  };
}

/** The fix moves a tunnel hostname on purpose (to the Service that exists, a new hostname, or nowhere). */
export function rerouting(fix: Fix): Fix {
  return { ...fix, reroutes: true };
}

/** A fix's documents to bundle after another's (its own `apply with` line dropped: the bundle says how). */
export function bundled(fix: Fix): string {
  return `---\n${fix.yaml.replace(/^# apply with:.*\n/gm, '')}`;
}

/** Options of a fix besides its YAML: how it is applied and what must follow. */
export interface FixExtras {
  apply?: Fix['apply'];
  steps?: FixStep[];
}

/** The comment lines that tell the user the steps after applying (the same commands the steps carry). */
export function stepComments(steps: readonly FixStep[] | undefined): string[] {
  return (steps ?? []).filter((s) => s.kind !== 'restart').map((s) => `then: ${s.command}`);
}

function applyComment(mode: Fix['apply']): string {
  return mode === 'replace' ? 'apply with: kubectl replace --force -f <this file>' : 'apply with: kubectl apply -f <this file>';
}

/** An object in the input, edited and ready for `kubectl apply` (title says which, and where). */
export function editFix<T extends KObject>(model: MeshModel, o: T, edit: (copy: T) => void, title: string, comments: string[], extras: FixExtras = {}): Fix {
  const copy = editable(o);
  edit(copy);
  return {
    title: `${title}${where(model, o)}`,
    yaml: withComments([...comments, applyComment(extras.apply), ...stepComments(extras.steps)], copy),
    target: ref(o.kind, o.metadata.namespace as string, o.metadata.name),
    ...(extras.apply ? { apply: extras.apply } : {}),
    ...(extras.steps?.length ? { steps: extras.steps } : {}),
  };
}

/** A new object to create. */
export function createFix(title: string, comments: string[], doc: KObject | Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } }, extras: FixExtras = {}): Fix {
  return {
    title,
    yaml: withComments([...comments, applyComment(extras.apply), ...stepComments(extras.steps)], doc),
    target: ref(doc.kind, doc.metadata.namespace as string, doc.metadata.name),
    ...(extras.steps?.length ? { steps: extras.steps } : {}),
  };
}

/**
 * Restart a workload's pods the way `kubectl rollout restart` does (a changed restartedAt
 * annotation on the pod template). The value names the pods it replaces, so it is stable for
 * one state of the cluster and changes once they are gone.
 */
export function restartFix(model: MeshModel, pods: PodView[], why: string): Fix {
  const pod = pods[0] as PodView;
  const names = pods.map((p) => p.name).sort();
  const fix = templatePatch(model, pod, { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': `tunnelmesh: replaces ${names[0]}${names.length > 1 ? ` and ${names.length - 1} more` : ''}` } } }, [
    why,
    ...(pod.owner && ROLLOUT_KINDS.has(pod.owner.kind) ? [`same as: ${restartSteps([pod])[0]?.command}`] : pod.owner ? [] : ['the pod is re-created']),
  ]);
  fix.title = `Restart ${fix.target.kind} ${pod.namespace}/${fix.target.name}`;
  return fix;
}

/** A Service in the input with some of its ports rewritten (the whole list is applied). */
export function servicePortsFix(model: MeshModel, svc: ServiceView, edit: (sp: ServicePort) => ServicePort, title: string, comments: string[]): Fix {
  return editFix(model, svc.object, (copy) => void (copy.spec.ports = (copy.spec.ports ?? []).map(edit)), title, comments);
}
