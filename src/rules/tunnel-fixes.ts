// Fixes on the Cloudflare side of an edge, made where the rule comes from: the Ingress
// annotations the operator's chain reads (levels 1–2), the Service port's appProtocol (level 4,
// which Istio reads too), or the cloudflared config that holds a hand-written rule.

import jsyaml from 'js-yaml';
import { loadYaml, parseJson } from '../core/limits.js';
import type { ConfigMap, ServicePort } from '../core/k8s.js';
import type { MeshModel } from '../model/model.js';
import { CF_ANNOTATION, INGRESS_RULE_PRIORITY } from '../model/operator.js';
import type { IngressBackendView } from '../model/operator-view.js';
import type { ServiceView } from '../model/services.js';
import type { TunnelConfig, TunnelRule } from '../model/tunnels.js';
import { editable, restartSteps, where } from './fixes.js';
import type { Fix } from './types.js';
import { writtenChangeFix, writtenRemoveFix } from './writer-fixes.js';
import { withComments } from './yaml.js';

/** What a rule should become: its scheme and originRequest settings to add. */
export interface RuleChange {
  scheme?: string;
  originRequest?: Record<string, unknown>;
}

/** originRequest keys the operator reads from Ingress annotations (and keeps on its ConfigMap path). */
const ORIGIN_REQUEST_ANNOTATIONS: Record<string, string> = {
  http2Origin: CF_ANNOTATION.http2Origin,
  noTLSVerify: CF_ANNOTATION.noTlsVerify,
};

/** The rule the operator writes for a backend, as its config.json holds it. */
export function operatorRule(b: IngressBackendView): Record<string, unknown> {
  return { hostname: b.host, ...(b.rulePath ? { path: b.rulePath } : {}), service: b.url, originRequest: b.originRequest, priority: INGRESS_RULE_PRIORITY };
}

/** A JSON merge patch of one object (null deletes a key; a list is replaced whole). `namespace` undefined: cluster-scoped. */
export function mergePatchFix(kind: string, namespace: string | undefined, name: string, doc: unknown, title: string, comments: string[]): Fix {
  return {
    title,
    yaml: withComments([...comments, `apply with: kubectl patch ${kind.toLowerCase()} ${name}${namespace ? ` -n ${namespace}` : ''} --type merge --patch-file <this file>`], doc),
    target: { kind, ...(namespace ? { namespace } : {}), name },
    apply: 'merge-patch',
  };
}

type IngressRules = NonNullable<IngressBackendView['ingress']['spec']['rules']>;
type IngressPath = NonNullable<NonNullable<IngressRules[number]['http']>['paths']>[number];

/**
 * An Ingress's spec.rules edited and sent as a merge patch (which replaces the list whole, so
 * every rule is repeated). `edit` gets a copy; rules left without paths are dropped.
 */
export function ingressRulesFix(model: MeshModel, b: IngressBackendView, edit: (rules: IngressRules) => void, title: string, why: string[]): Fix {
  const ingress = editable(b.ingress);
  const rules = structuredClone(ingress.spec.rules ?? []);
  edit(rules);
  const kept = rules.filter((r) => (r.http?.paths?.length ?? 0) > 0 || !r.http);
  const doc = { apiVersion: ingress.apiVersion, kind: 'Ingress', metadata: { name: ingress.metadata.name, namespace: b.namespace }, spec: { rules: kept } };
  return mergePatchFix('Ingress', b.namespace, ingress.metadata.name, doc, `${title} in Ingress ${b.namespace}/${ingress.metadata.name}${where(model, b.ingress)}`, [
    ...why,
    'a merge patch replaces spec.rules whole: every rule is repeated as it is',
  ]);
}

/** The path entry of a backend in a copy of its Ingress's rules. */
export function backendPath(rules: IngressRules, b: IngressBackendView): IngressPath | undefined {
  return rules[b.ruleIndex]?.http?.paths?.[b.pathIndex];
}

/** Ingress annotations as a JSON merge patch (null deletes an annotation). */
export function ingressAnnotationFix(model: MeshModel, b: IngressBackendView, annotations: Record<string, string | null>, title: string, comments: string[]): Fix {
  const ingress = b.ingress;
  const ns = ingress.metadata.namespace as string;
  const doc = { apiVersion: ingress.apiVersion, kind: 'Ingress', metadata: { name: ingress.metadata.name, namespace: ns, annotations } };
  return mergePatchFix('Ingress', ns, ingress.metadata.name, doc, `${title} on Ingress ${ns}/${ingress.metadata.name}${where(model, ingress)}`, comments);
}

/**
 * Annotations that make the operator's chain resolve `scheme` for this backend, keeping the
 * Ingress's other backends as they resolve today: an Ingress-wide `cloudflare.com/protocol`
 * (level 1) would override a per-port one, so it is replaced by per-port annotations.
 */
export function protocolAnnotations(model: MeshModel, b: IngressBackendView, scheme: string): { annotations: Record<string, string | null>; notes: string[] } {
  const annotations: Record<string, string | null> = {};
  const notes: string[] = [];
  const current = b.ingress.metadata.annotations ?? {};
  if (current[CF_ANNOTATION.protocol]) {
    annotations[CF_ANNOTATION.protocol] = null;
    notes.push(`${CF_ANNOTATION.protocol}=${current[CF_ANNOTATION.protocol]} applies to every backend and beats per-port annotations: it is removed, and the other backends keep their protocol through per-port annotations`);
    for (const other of model.operator.backends) {
      if (other.ingress !== b.ingress || other === b || !other.chain || other.port.port === b.port.port) continue;
      const key = `${CF_ANNOTATION.protocolPrefix}${other.port.port}`;
      if (!current[key] && annotations[key] === undefined) annotations[key] = other.chain.protocol;
    }
  }
  annotations[`${CF_ANNOTATION.protocolPrefix}${b.port.port}`] = scheme;
  if (model.operator.backends.some((o) => o.ingress === b.ingress && o !== b && o.port.port === b.port.port && o.serviceName !== b.serviceName)) {
    notes.push(`other backends of this Ingress on port ${b.port.port} get the same protocol (the annotation is keyed by port only)`);
  }
  return { annotations, notes };
}

export function ingressRuleFix(model: MeshModel, b: IngressBackendView, change: RuleChange, why: string[]): Fix {
  const { annotations, notes } = change.scheme ? protocolAnnotations(model, b, change.scheme) : { annotations: {} as Record<string, string | null>, notes: [] as string[] };
  for (const [key, value] of Object.entries(change.originRequest ?? {})) {
    const annotation = ORIGIN_REQUEST_ANNOTATIONS[key];
    if (annotation) annotations[annotation] = String(value);
  }
  const what = [change.scheme ? `protocol ${change.scheme} for port ${b.port.port}` : '', ...Object.keys(change.originRequest ?? {}).map((k) => `${k}: ${String(change.originRequest?.[k])}`)]
    .filter(Boolean)
    .join(', ');
  const comments = [...why, ...notes, 'the Cloudflare operator rewrites the tunnel rule when the Ingress changes'];
  if (change.originRequest) comments.push('originRequest annotations apply to every backend of this Ingress');
  return ingressAnnotationFix(model, b, annotations, `Set ${what}`, comments);
}

/** Set a Service port's appProtocol (Istio reads it, §8; so does the operator's level 4). */
export function appProtocolFix(model: MeshModel, svc: ServiceView, sp: ServicePort, appProtocol: string, why: string[]): Fix {
  const ports = svc.ports.map((p) => (p === sp ? { ...p, appProtocol } : p));
  const doc = { apiVersion: svc.object.apiVersion, kind: 'Service', metadata: { name: svc.name, namespace: svc.namespace }, spec: { ports } };
  return mergePatchFix(
    'Service',
    svc.namespace,
    svc.name,
    doc,
    `Declare appProtocol ${appProtocol} on port ${sp.port} of Service ${svc.namespace}/${svc.name}${where(model, svc.object)}`,
    [...why, 'a merge patch replaces the whole ports list: every port is repeated as it is, only this one gains appProtocol'],
  );
}

function changedService(service: string, scheme: string | undefined): string {
  return scheme ? service.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, `${scheme}://`) : service;
}

/** The rule as it should read, for a config that is not edited in place. */
export function changedRule(rule: TunnelRule, change: RuleChange): Record<string, unknown> {
  return {
    ...(rule.hostname ? { hostname: rule.hostname } : {}),
    ...(rule.path ? { path: rule.path } : {}),
    service: changedService(rule.service, change.scheme),
    ...(rule.originRequest || change.originRequest ? { originRequest: { ...(rule.originRequest ?? {}), ...(change.originRequest ?? {}) } } : {}),
  };
}

/** A cloudflared YAML config with its ingress list edited, as the full ConfigMap to apply. */
export function configMapEditFix(
  model: MeshModel,
  tunnel: TunnelConfig,
  edit: (ingress: Array<Record<string, unknown>>, config: Record<string, unknown>) => void,
  title: string,
  why: string[],
): Fix | undefined {
  const cm = tunnel.configMap;
  const text = cm?.data?.[tunnel.key];
  if (!cm || text === undefined) return undefined;
  const doc = parsedObject(() => loadYaml(text));
  if (!doc || !Array.isArray(doc.ingress)) return undefined;
  const ingress = doc.ingress as Array<Record<string, unknown>>;
  edit(ingress, doc);
  const fixed = editable(cm) as ConfigMap;
  fixed.data = { ...(fixed.data ?? {}), [tunnel.key]: jsyaml.dump(doc, { lineWidth: -1, noRefs: true }) };
  const restart = restartSteps(tunnel.connectors);
  return {
    title: `${title} in ${tunnel.label}${where(model, cm)}`,
    yaml: withComments(
      [
        ...why,
        `the ${tunnel.key} key is re-serialised: comments in it are not kept (--fix-diff keeps them)`,
        `apply with: kubectl apply -f <this file>`,
        ...(restart.length ? ['then restart cloudflared, which reads its config at start:', ...restart.map((r) => `  ${r.command}`)] : []),
      ],
      fixed,
    ),
    target: { kind: 'ConfigMap', namespace: tunnel.namespace, name: cm.metadata.name },
    steps: restart,
  };
}

/** What the rule should become, when it is neither an Ingress's nor in an editable config (an operator TunnelBinding, …). */
function sourceRuleFix(tunnel: TunnelConfig, rule: TunnelRule, change: RuleChange, why: string[]): Fix {
  const s = rule.source;
  const source = s ? `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}` : 'the object the operator built it from';
  return {
    title: `Change ${source} so that rule #${rule.index} of ${tunnel.label} reads as below`,
    yaml: withComments([...why, `${tunnel.label} is written by the Cloudflare operator: an edit there is overwritten, change ${source} instead`], changedRule(rule, change)),
    apply: 'manual',
    manualReason: 'writer-not-modelled',
  };
}

/**
 * Builds the fix on the object that writes a tunnel rule, for a rule the operator wrote from it
 * (`rule.source`). The Ingress writer is here; issue 17 adds TunnelBinding and HTTPRoute writers
 * by registering theirs. Undefined: the writer is not in the input (the rule is then edited where
 * it is held, or described).
 */
export type RuleWriterFix = (model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule, change: RuleChange, why: string[]) => Fix | undefined;

const RULE_WRITERS = new Map<string, RuleWriterFix>([['Ingress', (model, _tunnel, rule, change, why) => (rule.backend ? ingressRuleFix(model, rule.backend, change, why) : undefined)]]);

/** Registers the fix builder for rules written from objects of `kind` (a TunnelBinding, an HTTPRoute). */
export function registerRuleWriter(kind: string, build: RuleWriterFix): void {
  RULE_WRITERS.set(kind, build);
}

// TunnelBinding subjects and HTTPRoute backends: the fix edits the object that writes the rule (writer-fixes.ts).
const writtenFix: RuleWriterFix = (model, _tunnel, rule, change, why) => (rule.written ? writtenChangeFix(model, rule.written, change, why) : undefined);
registerRuleWriter('TunnelBinding', writtenFix);
registerRuleWriter('HTTPRoute', writtenFix);

/** One fix that changes a rule where it comes from. */
export function ruleChangeFix(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule, change: RuleChange, why: string[]): Fix {
  const writer = rule.backend ? 'Ingress' : rule.source?.kind;
  const fromWriter = writer ? RULE_WRITERS.get(writer)?.(model, tunnel, rule, change, why) : undefined;
  if (fromWriter) return fromWriter;
  if (tunnel.layout === 'cloudflared-yaml') {
    const title = `Rewrite rule #${rule.index} (${rule.hostname ?? '*'}) as ${changedService(rule.service, change.scheme)}${change.originRequest ? ` with originRequest ${JSON.stringify(change.originRequest)}` : ''}`;
    const fix = configMapEditFix(
      model,
      tunnel,
      (ingress) => {
        const r = ingress[rule.index];
        if (!r) return;
        if (change.scheme && typeof r.service === 'string') r.service = changedService(r.service, change.scheme);
        if (change.originRequest) r.originRequest = { ...((r.originRequest as Record<string, unknown> | undefined) ?? {}), ...change.originRequest };
      },
      title,
      why,
    );
    if (fix) return fix;
  }
  // The operator's config holds a rule whose writer is not in the input: edited in config.json, which the
  // operator pushes; its next reconcile of the writer rewrites it, so the writer must say the same.
  const source = rule.source;
  if (tunnel.layout === 'operator-json' && source && source.kind === 'Ingress') {
    const fix = operatorConfigFix(
      model,
      tunnel,
      source,
      (rules) => {
        const at = rules.findIndex((r) => (r.hostname ?? '') === (rule.hostname ?? '') && (r.path ?? '') === (rule.path ?? '') && r.service === rule.service);
        if (at >= 0) rules[at] = { ...rules[at], ...changedRule(rule, change) };
      },
      `Rewrite rule #${rule.index} (${rule.hostname ?? '*'}) as ${changedService(rule.service, change.scheme)}`,
      [...why, `the Ingresses of ${source.kind} source ${source.namespace ? `${source.namespace}/` : ''}${source.name} are not in the input: change them too, or the operator's next reconcile writes the rule back`],
    );
    if (fix) return fix;
  }
  return sourceRuleFix(tunnel, rule, change, why);
}

/**
 * The operator's config.json with the rules of one source edited, as the full ConfigMap. Applying it
 * makes the operator's tunnel-config controller push it; the operator writes the same on its next
 * reconcile of the source, so it only brings that forward.
 */
export function operatorConfigFix(
  model: MeshModel,
  tunnel: TunnelConfig,
  source: { kind: string; namespace?: string; name: string },
  edit: (rules: Array<Record<string, unknown>>) => void,
  title: string,
  why: string[],
): Fix | undefined {
  const cm = tunnel.configMap;
  const text = cm?.data?.['config.json'];
  if (!cm || text === undefined) return undefined;
  const json = parsedObject(() => parseJson(text)) as { sources?: Record<string, { kind?: string; namespace?: string; name?: string; rules?: Array<Record<string, unknown>> }> } | undefined;
  if (!json || (json.sources !== undefined && (typeof json.sources !== 'object' || json.sources === null || Array.isArray(json.sources)))) return undefined;
  json.sources ??= {};
  let entry = Object.values(json.sources).find((s) => s.kind === source.kind && (s.namespace ?? undefined) === source.namespace && s.name === source.name);
  if (!entry) {
    entry = { kind: source.kind, ...(source.namespace ? { namespace: source.namespace } : {}), name: source.name, rules: [] };
    json.sources[`${source.kind}/${source.namespace ? `${source.namespace}/` : ''}${source.name}`] = entry;
  }
  entry.rules ??= [];
  edit(entry.rules);
  const fixed = editable(cm) as ConfigMap;
  fixed.data = { ...(fixed.data ?? {}), 'config.json': JSON.stringify(json, null, 2) };
  return {
    title: `${title} in ${tunnel.label}${where(model, cm)}`,
    yaml: withComments([...why, 'apply with: kubectl apply -f <this file>  (the operator pushes the ConfigMap to Cloudflare; it writes the same on its next reconcile)'], fixed),
    target: { kind: 'ConfigMap', namespace: tunnel.namespace, name: cm.metadata.name },
  };
}

/** Remove a rule where it comes from: the Ingress path (a merge patch of spec.rules), the TunnelBinding subject or HTTPRoute backend, or the rule in a cloudflared YAML config. */
export function removeRuleFix(model: MeshModel, tunnel: TunnelConfig, rule: TunnelRule, why: string[]): Fix | undefined {
  const b = rule.backend;
  if (b) return ingressRulesFix(model, b, (rules) => void rules[b.ruleIndex]?.http?.paths?.splice(b.pathIndex, 1), `Remove ${b.host}${b.path ? ` ${b.path}` : ''}`, why);
  if (rule.written) return writtenRemoveFix(model, rule.written, why);
  if (tunnel.layout !== 'cloudflared-yaml') return undefined;
  return configMapEditFix(model, tunnel, (ingress) => void ingress.splice(rule.index, 1), `Remove rule #${rule.index} (${rule.hostname ?? '*'})`, why);
}

/**
 * A config re-read to edit it, through the same limits as collection (alias bombs, depth):
 * undefined when it cannot be read or is not a mapping — then no fix is offered.
 */
function parsedObject(parse: () => unknown): Record<string, unknown> | undefined {
  try {
    const value = parse();
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Ingress gateway Services in the input: a Service whose pods are Istio gateway proxies. */
function gatewayServices(model: MeshModel): ServiceView[] {
  return model.services.filter((s) => {
    const pods = model.backendsOf(s);
    return pods.length > 0 && pods.every((p) => p.sidecar.kind === 'gateway');
  });
}

/**
 * For a backend that speaks plaintext gRPC or HTTP/2 (h2c): cloudflared has no h2c, so no single
 * change of the tunnel rule or the Service makes the edge work — https:// toward a plaintext port
 * is a TLS handshake it cannot read (TM301), http:// is HTTP/1.1 (TM304). The fix says so and
 * describes the paths that do work, for a person to choose.
 */
export function noH2cFix(model: MeshModel, svc: ServiceView, sp: ServicePort, hostnames: string[], what: 'gRPC' | 'HTTP/2'): Fix {
  const gateways = gatewayServices(model);
  const gw = gateways[0];
  const host = hostnames[0] ?? '<hostname>';
  const lines = [
    `no single change makes this edge work: Service ${svc.namespace}/${svc.name} port ${sp.port} serves ${what} in plaintext, and cloudflared has no h2c`,
    `  (it speaks HTTP/2 to an origin only over TLS, with originRequest.http2Origin: true; https:// toward a plaintext port fails the handshake, http:// is HTTP/1.1)`,
    'what works, choose one:',
    `1. through the Istio ingress gateway, which speaks HTTP/2 to ${svc.name} inside the mesh: point the tunnel rule for ${host} at the gateway's TLS port`,
    `   (https://${gw ? `${gw.name}.${gw.namespace}.svc:${gw.ports.find((p) => p.port === 443)?.port ?? '<https port>'}` : '<gateway service>:<https port>'} with originRequest.http2Origin: true and originServerName: ${host}),`,
    `   add a Gateway server for ${host} (protocol HTTPS, tls mode SIMPLE with a certificate for it) and a VirtualService routing ${host} to ${svc.fqdn} port ${sp.port}`,
    gw ? `   (Service ${gw.namespace}/${gw.name} is an ingress gateway in the input)` : '   (no ingress gateway is in the input: install one, e.g. istio/gateway)',
    `2. make the application serve ${what} over TLS on port ${sp.port}: then declare appProtocol https on the port and use https:// with http2Origin: true (the alternatives below, together)`,
    `3. ${what === 'gRPC' ? 'serve gRPC-Web (HTTP/1.1) instead' : 'let the server accept HTTP/1.1 as well'} and keep http://`,
  ];
  return {
    title: `No single change: cloudflared cannot reach plaintext ${what} on Service ${svc.namespace}/${svc.name} port ${sp.port} — route it through the ingress gateway, or serve TLS`,
    yaml: lines.map((l) => `# ${l}\n`).join(''),
    apply: 'manual',
    manualReason: 'no-single-change',
  };
}
