// Fixes for tunnel rules the Cloudflare operator writes from a TunnelBinding subject or an
// HTTPRoute backend: the change is made to the object that writes the rule (the operator
// rewrites the tunnel config from it), never to the config. A TunnelBinding carries its
// subject's protocol, target, fqdn, path and TLS settings itself; an HTTPRoute rule's scheme
// comes only from the backend port's number (443 https, else http) and its originRequest from
// the TunnelGatewayClassConfig, so those fixes may change the Service's ports or that config too.
// Every fix is the complete edited objects, for `kubectl apply -f` (one or several documents).

import type { HTTPRoute, KObject, Service, ServicePort, TunnelBinding, TunnelBindingSubject, TunnelGatewayClassConfig } from '../core/k8s.js';
import type { MeshModel } from '../model/model.js';
import type { WrittenRule } from '../model/operator-sources.js';
import type { ServiceView } from '../model/services.js';
import { editable, where } from './fixes.js';
import type { Fix } from './types.js';
import { toYaml } from './yaml.js';

/** What a rule should become (tunnel-fixes.ts RuleChange). */
export interface WrittenChange {
  scheme?: string;
  originRequest?: Record<string, unknown>;
}

/** Schemes a subject's `protocol` takes (`tunnelValidProtoMap`); others need `target`. */
const SUBJECT_PROTOCOLS = new Set(['http', 'https', 'rdp', 'smb', 'ssh', 'tcp', 'udp']);
/** originRequest keys a subject (and a TunnelGatewayClassConfig's defaultOriginRequest) carry. */
const SUBJECT_SETTINGS: Record<string, string> = { http2Origin: 'http2Origin', noTLSVerify: 'noTlsVerify' };

function docsFix(model: MeshModel, title: string, why: string[], docs: KObject[], primary: KObject): Fix {
  const comments = [...why, 'apply with: kubectl apply -f <this file> (the Cloudflare operator rewrites the tunnel rule from it)'];
  const yaml = comments.map((c) => `# ${c}\n`).join('') + docs.map((d) => toYaml(d)).join('---\n');
  const ns = primary.metadata.namespace;
  return { title: `${title}${where(model, primary)}`, yaml, target: { kind: primary.kind, ...(ns ? { namespace: ns } : {}), name: primary.metadata.name } };
}

function ref(o: KObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

// ---- TunnelBinding ----------------------------------------------------------------------

function subjectOf(b: TunnelBinding, w: WrittenRule): TunnelBindingSubject | undefined {
  return w.at.kind === 'subject' ? b.subjects?.[w.at.subject] : undefined;
}

function bindingEdit(model: MeshModel, w: WrittenRule, edit: (s: TunnelBindingSubject, b: TunnelBinding) => boolean | void, title: string, why: string[]): Fix | undefined {
  const b = editable(w.writer as TunnelBinding);
  const s = subjectOf(b, w);
  if (!s) return undefined;
  if (edit(s, b) === false) return undefined;
  if (s.spec && Object.keys(s.spec).length === 0) delete s.spec;
  return docsFix(model, `${title} in ${w.label}`, why, [b], w.writer);
}

function withScheme(service: string, scheme: string): string {
  return service.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, `${scheme}://`);
}

// ---- HTTPRoute ------------------------------------------------------------------------------

/** `InferProtocolFromPort` */
function inferred(port: number): string {
  return ({ 443: 'https', 22: 'ssh', 3389: 'rdp', 139: 'smb', 445: 'smb' } as Record<number, string>)[port] ?? 'http';
}

function routeConfig(model: MeshModel, w: WrittenRule): TunnelGatewayClassConfig | undefined {
  if (w.at.kind !== 'backendRef') return undefined;
  const gw = w.at.gateway;
  return model.operator.gateways.find((g) => g.chain.namespace === gw.namespace && g.chain.gateway.metadata.name === gw.name)?.chain.config;
}

/**
 * A Service port the route can name so that the operator writes `scheme`: one with the same
 * target as the port used today whose number infers it, or one to add (443 for https).
 */
function portFor(svc: ServiceView, current: ServicePort | undefined, scheme: string): { port: ServicePort; added: boolean } | undefined {
  const target = current?.targetPort ?? current?.port;
  const same = svc.ports.find((p) => p !== current && (p.targetPort ?? p.port) === target && inferred(p.port) === scheme && (p.protocol ?? 'TCP') === 'TCP');
  if (same) return { port: same, added: false };
  if (!current) return undefined;
  const used = new Set(svc.ports.map((p) => p.port));
  const numbers = scheme === 'https' ? [443] : [typeof target === 'number' ? target : 0, 8080, 80, 8000, 8081].filter((n) => n > 0 && inferred(n) === 'http');
  const number = numbers.find((n) => !used.has(n));
  if (number === undefined) return undefined;
  const names = new Set(svc.ports.map((p) => p.name));
  let name = `${current.name ?? (current.appProtocol ? current.appProtocol.replace(/[^a-z0-9-]/g, '-') : 'tcp')}-tunnel`;
  while (names.has(name)) name = `${name}-${number}`;
  const port: ServicePort = { name, port: number, targetPort: target ?? number, protocol: 'TCP', ...(current.appProtocol ? { appProtocol: current.appProtocol } : {}) };
  return { port, added: true };
}

function routeEdit(route: HTTPRoute, w: WrittenRule, edit: (backend: NonNullable<HTTPRoute['spec']['rules']>[number]['backendRefs'] extends Array<infer B> | undefined ? B : never) => void): HTTPRoute | undefined {
  if (w.at.kind !== 'backendRef') return undefined;
  const r = editable(route);
  const backend = r.spec?.rules?.[w.at.rule]?.backendRefs?.[w.at.backend];
  if (!backend) return undefined;
  edit(backend);
  return r;
}

function routeChangeFix(model: MeshModel, w: WrittenRule, change: WrittenChange, why: string[]): Fix | undefined {
  const route = w.writer as HTTPRoute;
  const docs: KObject[] = [];
  const notes: string[] = [];
  const what: string[] = [];
  if (change.originRequest) {
    const config = routeConfig(model, w);
    if (!config) return undefined;
    const c = editable(config);
    c.spec ??= {};
    const d = { ...(c.spec.defaultOriginRequest ?? {}) };
    for (const [key, value] of Object.entries(change.originRequest)) {
      const field = SUBJECT_SETTINGS[key];
      if (field) d[field] = value;
    }
    c.spec.defaultOriginRequest = d;
    docs.push(c);
    what.push(`Set ${Object.entries(change.originRequest).map(([k, v]) => `${k}: ${String(v)}`).join(', ')} in ${ref(config)} defaultOriginRequest`);
    notes.push(`the operator writes an HTTPRoute rule's originRequest from ${ref(config)} spec.defaultOriginRequest only: it applies to every HTTPRoute of its Gateways`);
  }
  let scheme = change.scheme;
  if (scheme === 'ws') scheme = 'http';
  if (scheme === 'wss') scheme = 'https';
  if (scheme && scheme !== w.protocol.scheme) {
    const svc = w.svc;
    if (!svc || (scheme !== 'http' && scheme !== 'https')) return undefined;
    const found = portFor(svc, w.servicePort, scheme);
    if (!found) return undefined;
    if (found.added) {
      const s = editable(svc.object) as Service;
      s.spec.ports = [...(s.spec.ports ?? []), found.port];
      docs.push(s);
      notes.push(`Service ${svc.namespace}/${svc.name} gains port ${found.port.port} → targetPort ${String(found.port.targetPort)}: the operator writes ${scheme}:// for an HTTPRoute backend only from the port number (${scheme === 'https' ? '443' : 'any but 22, 139, 443, 445, 3389'})`);
    } else {
      notes.push(`Service ${svc.namespace}/${svc.name} port ${found.port.port} reaches the same target: the operator infers ${scheme}:// from that number`);
    }
    const edited = routeEdit(route, w, (backend) => {
      backend.port = found.port.port;
    });
    if (!edited) return undefined;
    docs.push(edited);
    what.push(`${what.length ? 'point' : 'Point'} ${w.label} at port ${found.port.port}${found.added ? ` (a new port of Service ${svc.namespace}/${svc.name})` : ''}`);
  }
  if (docs.length === 0) return undefined;
  const fix = docsFix(model, `${what.join('; ')}`, [...why, ...notes], docs, docs.at(-1) as KObject);
  // Another Service port of the same target: the rule's URL changes (the pods and their port do not).
  return scheme && scheme !== w.protocol.scheme ? { ...fix, reroutes: true } : fix;
}

// ---- entry points -----------------------------------------------------------------------

/** Change a written rule's scheme and originRequest in the object that writes it. */
export function writtenChangeFix(model: MeshModel, w: WrittenRule, change: WrittenChange, why: string[]): Fix | undefined {
  if (w.writerKind === 'HTTPRoute') return routeChangeFix(model, w, change, why);
  const b = editable(w.writer as TunnelBinding);
  const s = subjectOf(b, w);
  if (!s) return undefined;
  s.spec ??= {};
  const spec = s.spec;
  const parts: string[] = [];
  const notes: string[] = [];
  const scheme = change.scheme;
  if (scheme) {
    if (spec.target) spec.target = withScheme(spec.target, scheme);
    else if (SUBJECT_PROTOCOLS.has(scheme)) spec.protocol = scheme;
    else {
      spec.target = withScheme(w.service, scheme);
      notes.push(`a subject's protocol takes http, https, rdp, smb, ssh, tcp or udp only: ${scheme}:// needs spec.target`);
    }
    parts.push(spec.target ? `target ${spec.target}` : `protocol ${scheme}`);
  }
  for (const [key, value] of Object.entries(change.originRequest ?? {})) {
    const field = SUBJECT_SETTINGS[key];
    if (!field) return undefined; // a subject carries no other originRequest setting
    (spec as Record<string, unknown>)[field] = value;
    parts.push(`${field}: ${String(value)}`);
  }
  if (parts.length === 0) return undefined;
  return docsFix(model, `Set ${parts.join(', ')} in ${w.label}`, [...why, ...notes], [b], w.writer);
}

/** Point a written rule at another Service and port (TM305's did-you-mean). */
export function writtenRetargetFix(model: MeshModel, w: WrittenRule, svc: ServiceView, port: number, why: string[]): Fix | undefined {
  if (w.writerKind === 'HTTPRoute') {
    const route = w.writer as HTTPRoute;
    const edited = routeEdit(route, w, (backend) => {
      backend.name = svc.name;
      if (svc.namespace !== w.namespace) backend.namespace = svc.namespace;
      else delete backend.namespace;
      backend.port = port;
    });
    return edited ? docsFix(model, `Point ${w.label} at Service ${svc.namespace}/${svc.name} port ${port}`, why, [edited], route) : undefined;
  }
  return bindingEdit(
    model,
    w,
    (s) => {
      // A subject names a Service of the binding's namespace; anywhere else needs target.
      if (svc.namespace === w.namespace && !s.spec?.target && svc.ports[0]?.port === port) s.name = svc.name;
      else {
        s.spec ??= {};
        s.spec.target = `${w.protocol.scheme || 'http'}://${svc.name}.${svc.namespace}.svc:${port}`;
        if (!s.spec.fqdn) s.spec.fqdn = w.hostname;
      }
    },
    `Point ${w.label.replace(/^TunnelBinding \S+ /, '')} at Service ${svc.namespace}/${svc.name} port ${port}`,
    why,
  );
}

/** Remove what writes the rule: the subject, or the backendRef (the rule when it was its last). */
export function writtenRemoveFix(model: MeshModel, w: WrittenRule, why: string[]): Fix | undefined {
  if (w.writerKind === 'HTTPRoute') {
    if (w.at.kind !== 'backendRef') return undefined;
    const at = w.at;
    const route = editable(w.writer as HTTPRoute);
    const rule = route.spec?.rules?.[at.rule];
    if (!rule?.backendRefs) return undefined;
    rule.backendRefs.splice(at.backend, 1);
    if (rule.backendRefs.length === 0) route.spec.rules?.splice(at.rule, 1);
    return docsFix(model, `Remove ${w.label}`, why, [route], w.writer);
  }
  if (w.at.kind !== 'subject') return undefined;
  const at = w.at;
  const b = editable(w.writer as TunnelBinding);
  b.subjects?.splice(at.subject, 1);
  return docsFix(model, `Remove ${w.label}`, why, [b], w.writer);
}

/** Serve a written rule under a hostname of its own (TM309: the operator's order makes an earlier rule take its requests). */
export function writtenHostFix(model: MeshModel, w: WrittenRule, host: string, why: string[]): Fix | undefined {
  if (w.writerKind === 'TunnelBinding') {
    return bindingEdit(
      model,
      w,
      (s) => {
        s.spec ??= {};
        s.spec.fqdn = host;
      },
      `Serve it under its own hostname ${host} (fqdn)`,
      why,
    );
  }
  if (w.at.kind !== 'backendRef') return undefined;
  const at = w.at;
  const original = w.writer as HTTPRoute;
  const rule = original.spec?.rules?.[at.rule];
  const backend = rule?.backendRefs?.[at.backend];
  if (!rule || !backend) return undefined;
  const match = at.match !== undefined ? rule.matches?.[at.match] : undefined;
  const moved: HTTPRoute = {
    apiVersion: original.apiVersion,
    kind: 'HTTPRoute',
    metadata: { name: `${original.metadata.name}-${host.split('.')[0] ?? 'split'}`.slice(0, 63), namespace: original.metadata.namespace as string },
    spec: {
      ...(original.spec?.parentRefs ? { parentRefs: structuredClone(original.spec.parentRefs) } : {}),
      hostnames: [host],
      rules: [{ ...(match ? { matches: [structuredClone(match)] } : {}), backendRefs: [structuredClone(backend)] }],
    },
  };
  const edited = editable(original);
  const er = edited.spec?.rules?.[at.rule];
  if (!er) return undefined;
  // The other hostnames of the route keep the backend; only this hostname loses it.
  const others = (edited.spec.hostnames ?? []).filter((h) => h !== at.hostname);
  if (others.length > 0 && (edited.spec.hostnames?.length ?? 0) > 1) return docsFix(model, `Serve ${w.label} under its own hostname ${host} (a new HTTPRoute)`, why, [moved], original);
  er.backendRefs?.splice(at.backend, 1);
  if ((er.backendRefs?.length ?? 0) === 0) edited.spec.rules?.splice(at.rule, 1);
  return docsFix(model, `Serve ${w.label} under its own hostname ${host} (a new HTTPRoute; the backend leaves ${ref(original)})`, why, [edited, moved], original);
}

/** Drop a TunnelBinding subject's path (TM306: cloudflared cannot compile it). */
export function writtenPathFix(model: MeshModel, w: WrittenRule, why: string[]): Fix | undefined {
  if (w.writerKind !== 'TunnelBinding') return undefined;
  return bindingEdit(
    model,
    w,
    (s) => {
      if (!s.spec?.path) return false;
      delete s.spec.path;
      return true;
    },
    `Drop the path ${w.path ?? ''}`,
    why,
  );
}
