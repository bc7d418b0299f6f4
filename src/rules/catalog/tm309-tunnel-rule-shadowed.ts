// TM309: a rule that can never match, because an earlier rule takes every request it would.

import { effectiveOriginRequest, isCatchAll } from '../../model/cloudflared.js';
import { punycodeAlias } from '../../model/hostnames.js';
import { ruleKey } from '../../model/edges.js';
import type { MeshModel } from '../../model/model.js';
import type { TunnelConfig, TunnelRule } from '../../model/tunnels.js';
import { ruleEvidence } from '../edge-hits.js';
import { backendPath, configMapEditFix, ingressRulesFix } from '../tunnel-fixes.js';
import { writtenHostFix } from '../writer-fixes.js';
import { rerouting } from '../fixes.js';
import type { Fix, FindingDraft, Rule } from '../types.js';
import { PODS, TUNNELS, kinds } from '../inputs.js';

/** A path regexp read as the shapes the operator and people write; `regex` when it is none of them. */
type LiteralShape =
  | { kind: 'contains'; lit: string; ci?: boolean } // `lit` or `lit.*`, unanchored
  | { kind: 'segment'; lit: string; ci?: boolean } // `lit(/.*)?$`: lit followed by the end or a `/`
  | { kind: 'exact'; lit: string; ci?: boolean } // `^lit$`
  | { kind: 'prefix'; lit: string; ci?: boolean }; // `^lit` or `^lit.*`

/** `ci`: a leading `(?i)` (Go's case-insensitive flag) makes the literal match in any case. */
type PathShape = { kind: 'any' } | LiteralShape | { kind: 'regex'; source: string };

const META = /[\\^$.|?*+()[\]{}]/;

function literal(s: string): string | undefined {
  return META.test(s) ? undefined : s;
}

export function pathShape(path: string | undefined): PathShape {
  if (!path) return { kind: 'any' };
  if (path.startsWith('(?i)')) {
    const inner = pathShape(path.slice(4));
    return inner.kind === 'any' ? inner : inner.kind === 'regex' ? { kind: 'regex', source: path } : { ...inner, ci: true };
  }
  const tries: Array<[RegExp, PathShape['kind']]> = [
    [/^\^(.*)\$$/, 'exact'],
    [/^\^(.*?)(?:\.\*)?$/, 'prefix'],
    [/^(.*)\(\/\.\*\)\?\$$/, 'segment'],
    [/^(.*?)(?:\.\*)?$/, 'contains'],
  ];
  for (const [re, kind] of tries) {
    const m = re.exec(path);
    const lit = m ? literal(m[1] as string) : undefined;
    if (m && lit !== undefined) return { kind, lit } as PathShape;
  }
  return { kind: 'regex', source: path };
}

/** Positions where `a` occurs in `b`. */
function occurrences(a: string, b: string): number[] {
  const out: number[] = [];
  for (let i = b.indexOf(a); i >= 0; i = b.indexOf(a, i + 1)) out.push(i);
  return out;
}

/** Does every request path the later shape matches also match the earlier one? (Sufficient conditions only.) */
export function pathSubsumes(earlier: PathShape, later: PathShape): boolean {
  if (earlier.kind === 'any') return true;
  if (later.kind === 'any') return false;
  if (earlier.kind === 'regex' || later.kind === 'regex') return earlier.kind === 'regex' && later.kind === 'regex' && earlier.source === later.source;
  // A case-insensitive later rule takes paths in any case: only a case-insensitive earlier one (or a literal without letters) covers them.
  if (later.ci && !earlier.ci && later.lit.toLowerCase() !== later.lit.toUpperCase()) return false;
  const a = earlier.ci ? earlier.lit.toLowerCase() : earlier.lit;
  const b = earlier.ci ? later.lit.toLowerCase() : later.lit;
  switch (earlier.kind) {
    case 'contains':
      return b.includes(a);
    case 'segment': {
      // Some occurrence of a in every matched path is followed by the end or '/'.
      const ends = later.kind === 'exact' || later.kind === 'segment';
      return occurrences(a, b).some((i) => b[i + a.length] === '/' || (ends && i + a.length === b.length));
    }
    case 'exact':
      return later.kind === 'exact' && a === b;
    case 'prefix':
      return (later.kind === 'exact' || later.kind === 'prefix') && b.startsWith(a);
  }
}

/**
 * Does every hostname the later rule matches also match the earlier one? cloudflared matches a
 * rule on its hostname and on its punycode alias: every form of the later must be covered by a
 * form of the earlier.
 */
function hostSubsumes(earlier: string | undefined, later: string | undefined): boolean {
  const forms = (h: string | undefined): Array<string | undefined> => {
    const alias = punycodeAlias(h);
    return alias ? [h, alias] : [h];
  };
  return forms(later).every((l) => forms(earlier).some((e) => hostCovers(e, l)));
}

function hostCovers(earlier: string | undefined, later: string | undefined): boolean {
  const e = earlier ?? '';
  const l = later ?? '';
  if (e === '' || e === '*') return true;
  if (e === l) return true;
  if (e.startsWith('*.') && l !== '' && l !== '*') return l.endsWith(e.slice(1));
  return false;
}

/** Same hostname, path, service and effective settings: a copy, whichever of the two takes the request. */
function sameRule(a: TunnelRule, b: TunnelRule): boolean {
  const settings = (r: TunnelRule): string => JSON.stringify(effectiveOriginRequest(r, undefined).settings);
  return a.hostname === b.hostname && a.path === b.path && a.service === b.service && settings(a) === settings(b);
}

function sourceOf(r: TunnelRule): string {
  const s = r.source;
  return s ? `${s.kind}/${s.namespace ? `${s.namespace}/` : ''}${s.name}` : '';
}

function describe(r: TunnelRule): string {
  return `#${r.index} ${r.hostname ?? '*'}${r.path ? ` path ${r.path}` : ''} → ${r.service}`;
}

/** cloudflared YAML: move the shadowed rule just before the rule that takes its requests. */
function reorderFix(model: MeshModel, tunnel: TunnelConfig, earlier: TunnelRule, later: TunnelRule): Fix | undefined {
  return configMapEditFix(
    model,
    tunnel,
    (ingress) => {
      const [moved] = ingress.splice(later.index, 1);
      if (moved) ingress.splice(earlier.index, 0, moved);
    },
    `Move rule ${describe(later)} before rule #${earlier.index}`,
    ['cloudflared takes the first rule that matches: the more specific rule has to come first'],
  );
}

/**
 * Operator rules: it orders one hostname's Ingress rules by path string (the empty path, from `/`,
 * first), not by specificity, so no annotation or order in the Ingress helps. The shadowed path
 * gets a hostname of its own.
 */
function splitHostFix(model: MeshModel, later: TunnelRule): Fix | undefined {
  const w = later.written;
  if (w) {
    const name = (w.serviceRef?.name ?? 'backend').replace(/[^a-z0-9-]/g, '-');
    if (!w.hostname || w.hostname.startsWith('*.')) return undefined;
    return writtenHostFix(model, w, `${name}-${w.hostname}`, [
      `cloudflared takes the first rule that matches, and the operator's order puts the broader rule for ${w.hostname} first`,
      `${name}-${w.hostname} is a suggestion: pick the hostname clients should use (the operator creates its DNS record)`,
    ]);
  }
  const b = later.backend;
  if (!b || !b.host) return undefined;
  const first = (b.serviceName ?? 'backend').replace(/[^a-z0-9-]/g, '-');
  const host = b.host.startsWith('*.') ? undefined : `${first}-${b.host}`;
  if (!host) return undefined;
  return ingressRulesFix(
    model,
    b,
    (rules) => {
      const path = backendPath(rules, b);
      if (!path) return;
      rules[b.ruleIndex]?.http?.paths?.splice(b.pathIndex, 1);
      rules.push({ host, http: { paths: [path] } });
    },
    `Serve ${b.host}${b.path ? ` ${b.path}` : ''} under its own hostname ${host}`,
    [
      `the operator sorts the rules of ${b.host} by path string, so the broader rule always comes first and takes these requests`,
      `${host} is a suggestion: pick the hostname clients should use (the operator creates its DNS record)`,
    ],
  );
}

export const tm309: Rule = {
  meta: {
    code: 'TM309',
    name: 'tunnel-rule-shadowed',
    severity: 'warning',
    summary: 'A rule can never match because an earlier rule for the same hostname matches every path it matches.',
    description:
      'cloudflared uses the first rule whose hostname (or its punycode alias) and (unanchored, Go) path regexp match. A later rule whose requests all match an earlier one is dead: ' +
      'a Unicode hostname and its xn-- form are one host, and a (?i) path covers every case. The Cloudflare ' +
      "operator orders one hostname's Ingress rules by path string, not by specificity: `/` (no path) and /api come before /api/v1, so on one hostname the broadest " +
      'path takes everything — the opposite of Ingress semantics (longest prefix wins).',
    howToFix:
      'In a hand-written config, move the specific rule before the broad one. With the operator, give the specific path a hostname of its own (or route the hostname to one ' +
      'backend that dispatches paths itself, such as an Istio gateway).',
    inputs: kinds(TUNNELS, 'Service', PODS),
  },
  check({ model }) {
    const findings: FindingDraft[] = [];
    for (const tunnel of model.tunnels) {
      const shapes = tunnel.rules.map((r) => pathShape(r.path));
      // Earlier rules by exact hostname, and the few whose hostname is a pattern: a later rule
      // is compared with those alone (thousands of hostnames would otherwise be n²).
      const byHost = new Map<string, number[]>();
      const patterns: number[] = [];
      tunnel.rules.forEach((later, j) => {
        // Keyed by the form cloudflared matches requests on (a Unicode hostname's punycode alias).
        const host = later.hostname === undefined ? undefined : (punycodeAlias(later.hostname) ?? later.hostname);
        const candidates = [...(host !== undefined ? (byHost.get(host) ?? []) : []), ...patterns].sort((a, b) => a - b);
        if (host === undefined || host.includes('*')) patterns.push(j);
        else byHost.set(host, [...(byHost.get(host) ?? []), j]);
        if (later.synthetic || (j === tunnel.rules.length - 1 && isCatchAll(later))) return;
        const i =
          candidates.find((k) => {
            const earlier = tunnel.rules[k] as TunnelRule;
            return !isCatchAll(earlier) && hostSubsumes(earlier.hostname, later.hostname) && pathSubsumes(shapes[k] as PathShape, shapes[j] as PathShape);
          }) ?? -1;
        if (i < 0) return;
        const earlier = tunnel.rules[i] as TunnelRule;
        // A copy of an earlier rule changes nothing (the operator repeats a TunnelBinding's rules under every binding of its tunnel).
        if ((later.written && later.written === earlier.written) || sameRule(earlier, later)) return;
        const operator = tunnel.layout !== 'cloudflared-yaml';
        const b = later.backend;
        const w = later.written;
        const fix = operator ? splitHostFix(model, later) : reorderFix(model, tunnel, earlier, later);
        const crossSource = operator && !!earlier.source && !!later.source && sourceOf(earlier) !== sourceOf(later);
        const why = crossSource
          ? ` (the operator orders a tunnel's rules by priority, then hostname: rules of one hostname from ${sourceOf(earlier)} and ${sourceOf(later)} come in no guaranteed order, and whichever is first takes the requests)`
          : operator
            ? " (the operator orders a hostname's rules by path string, not by specificity)"
            : '';
        findings.push({
          resource: b ? { kind: 'Ingress', namespace: b.namespace, name: b.ingress.metadata.name } : w ? { kind: w.writerKind, namespace: w.namespace, name: w.writer.metadata.name } : { kind: tunnel.object.kind, namespace: tunnel.namespace, name: tunnel.object.metadata.name },
          ...(b ? { port: b.port.port } : w?.serviceRef?.port !== undefined ? { port: w.serviceRef.port } : {}),
          message: `Tunnel rule ${describe(later)} in ${tunnel.label} never matches: rule ${describe(earlier)} comes first and matches every request it would${why}.`,
          symptom: `requests for ${later.hostname ?? 'every host'}${later.path ? ` ${later.path}` : ''} reach ${earlier.service} instead of ${later.service} (404s or the wrong application)`,
          evidence: [...ruleEvidence(tunnel, earlier), ...ruleEvidence(tunnel, later), 'cloudflared uses the first rule whose hostname and path regexp match (paths are unanchored)'],
          fixes: fix ? [rerouting(fix)] : [],
          namespaces: [tunnel.namespace, ...(b ? [b.namespace] : []), ...(w ? [w.namespace] : [])],
          objects: [b?.ingress ?? w?.writer ?? tunnel.object],
          edges: [ruleKey(tunnel, later)],
        });
      });
    }
    return findings;
  },
};
