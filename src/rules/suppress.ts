// What the user chose not to see, and how severe they want each code to be: `--suppress`,
// `.tunnelmesh.yaml` and the `tunnelmesh.io/suppress` annotation, applied after runRules.
// Suppressed findings are kept (counted and listed), never silently dropped, and every
// suppression that names an unknown code or matches nothing is said out loud.

import { UsageError } from '../errors.js';
import { resolveOwner } from '../model/pods.js';
import { formatRef, refOf, type KObject, type ObjectRef, type Pod, type Workload } from '../core/k8s.js';
import { isWorkloadKind } from '../core/kinds.js';
import { RULES } from './index.js';
import { compareFindings } from './run.js';
import { SEVERITIES, type Finding, type Severity } from './types.js';

export const SUPPRESS_ANNOTATION = 'tunnelmesh.io/suppress';

export interface SuppressionRule {
  /** Code patterns (globs such as `TM1*`, or rule names); any of them matches. */
  codes: string[];
  kind?: string;
  namespace?: string;
  name?: string;
  reason?: string;
  /** Where it was written: `--suppress TM104` or `.tunnelmesh.yaml suppress[2]`. */
  origin: string;
  source: 'flag' | 'config';
}

export interface Policy {
  suppressions: SuppressionRule[];
  /** Per-code severity overrides (code → severity). */
  severity: Record<string, Severity>;
  /** Where the overrides were written, for warnings. */
  severityOrigin?: string;
}

export const EMPTY_POLICY: Policy = { suppressions: [], severity: {} };

export interface SuppressedBy {
  source: 'flag' | 'config' | 'annotation';
  /** `--suppress TM104`, `.tunnelmesh.yaml suppress[0]`, `annotation tunnelmesh.io/suppress on Service app/web`. */
  origin: string;
  reason?: string;
  /** An annotation on an object the finding names other than its resource: that object. */
  object?: ObjectRef;
}

export interface SuppressedFinding {
  finding: Finding;
  by: SuppressedBy;
}

export interface PolicyResult {
  /** What the report shows and the exit code judges, sorted. */
  findings: Finding[];
  suppressed: SuppressedFinding[];
  /** Unknown codes, suppressions that matched nothing. */
  warnings: string[];
}

/**
 * `CODE`, `CODE,CODE`, `CODE=Kind ns/name` or `CODE=Kind name` (cluster-scoped, or any
 * namespace). Every part may be a glob (`*`, `?`).
 */
export function parseSuppressSpec(text: string, origin: string, source: SuppressionRule['source']): SuppressionRule {
  const eq = text.indexOf('=');
  const codePart = (eq < 0 ? text : text.slice(0, eq)).trim();
  const codes = codePart
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (codes.length === 0) throw new UsageError(`${origin}: expected CODE or CODE=Kind ns/name (e.g. TM104=Service app/web)`);
  const rule: SuppressionRule = { codes, origin, source };
  if (eq < 0) return rule;
  const target = text.slice(eq + 1).trim().split(/\s+/).filter(Boolean);
  if (target.length !== 2) {
    throw new UsageError(`${origin}: expected CODE=Kind ns/name or CODE=Kind name after "=", found "${text.slice(eq + 1).trim()}"`);
  }
  const [kind, where] = target as [string, string];
  rule.kind = kind;
  const slash = where.indexOf('/');
  if (slash < 0) rule.name = where;
  else {
    rule.namespace = where.slice(0, slash);
    rule.name = where.slice(slash + 1);
    if (!rule.namespace || !rule.name) throw new UsageError(`${origin}: "${where}" is not ns/name`);
  }
  return rule;
}

/** Glob → RegExp (`*` any run, `?` one character), anchored. */
function globRegExp(glob: string, caseInsensitive: boolean): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, caseInsensitive ? 'i' : '');
}

function globMatch(glob: string | undefined, value: string | undefined, caseInsensitive = false): boolean {
  if (glob === undefined) return true;
  if (value === undefined) return glob === '*';
  return globRegExp(glob, caseInsensitive).test(value);
}

/** Does a code pattern name this rule (by code glob or exact name)? */
function codeMatches(pattern: string, code: string, name: string): boolean {
  return pattern === name || globMatch(pattern, code, true);
}

/** Patterns that name no rule of this build. */
export function unknownCodes(patterns: string[]): string[] {
  return patterns.filter((p) => !RULES.some((r) => codeMatches(p, r.meta.code, r.meta.name)));
}

/** Objects by `Kind/ns/name`, for annotations and owners. */
export class ObjectIndex {
  private index?: { byKey: Map<string, KObject>; workloads: Map<string, Workload> };
  private annotated?: boolean;

  /** Built on first use: most runs have no suppression that needs it. */
  constructor(private readonly objects: readonly KObject[]) {}

  private built(): { byKey: Map<string, KObject>; workloads: Map<string, Workload> } {
    if (!this.index) {
      const byKey = new Map<string, KObject>();
      const workloads = new Map<string, Workload>();
      for (const o of this.objects) {
        const key = refKey(o.kind, o.metadata.namespace, o.metadata.name);
        byKey.set(key, o);
        if (isWorkloadKind(o.kind)) workloads.set(key, o as Workload);
      }
      this.index = { byKey, workloads };
    }
    return this.index;
  }

  /** Does any object (or pod template) carry the suppression annotation at all? */
  anyAnnotated(): boolean {
    this.annotated ??= this.objects.some((o) => {
      if (o.metadata.annotations?.[SUPPRESS_ANNOTATION] !== undefined) return true;
      if (!isWorkloadKind(o.kind)) return false;
      const w = o as Workload;
      const template = o.kind === 'CronJob' ? w.spec?.jobTemplate?.spec?.template : w.spec?.template;
      return template?.metadata?.annotations?.[SUPPRESS_ANNOTATION] !== undefined;
    });
    return this.annotated;
  }

  get(ref: ObjectRef): KObject | undefined {
    return this.built().byKey.get(refKey(ref.kind, ref.namespace, ref.name));
  }

  /** The workload that owns a Pod (through its ReplicaSet or Job), when it can be told. */
  ownerOf(o: KObject): ObjectRef | undefined {
    if (o.kind !== 'Pod') return undefined;
    return resolveOwner(o as Pod, this.built().workloads);
  }
}

function refKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/** Codes listed in a `tunnelmesh.io/suppress` value: comma or space separated, or `*`. */
export function annotationCodes(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((c) => c.trim())
    .filter(Boolean);
}

interface AnnotationSource {
  object: KObject;
  where: string;
  codes: string[];
  /** The resource itself (or its template or owner): `*` counts only here. */
  primary: boolean;
}

/**
 * Where a finding's suppression annotation may be written: the resource, its pod template, its
 * owner, and every other object the finding names (the DestinationRule of a TM103, the
 * PeerAuthentication of a TM102). On those others only named codes count: a `*` on a
 * DestinationRule that many findings name should not silence them all.
 */
function annotationSources(f: Finding, index: ObjectIndex): AnnotationSource[] {
  const out: AnnotationSource[] = [];
  if (!index.anyAnnotated()) return out;
  const seen = new Set<string>();
  const add = (object: KObject, annotations: Record<string, string> | undefined, where: string, primary: boolean): void => {
    if (seen.has(where)) return;
    seen.add(where);
    const value = annotations?.[SUPPRESS_ANNOTATION];
    if (value !== undefined) out.push({ object, where, codes: annotationCodes(value), primary });
  };
  const resource = index.get(f.resource);
  if (resource) {
    add(resource, resource.metadata.annotations, formatRef(f.resource), true);
    if (isWorkloadKind(resource.kind)) {
      const w = resource as Workload;
      const template = resource.kind === 'CronJob' ? w.spec?.jobTemplate?.spec?.template : w.spec?.template;
      add(resource, template?.metadata?.annotations, `the pod template of ${formatRef(f.resource)}`, true);
    }
    const owner = index.ownerOf(resource);
    const ownerObject = owner ? index.get(owner) : undefined;
    if (ownerObject && owner) add(ownerObject, ownerObject.metadata.annotations, formatRef(owner), true);
  }
  const named = [...(f.objects ?? []).map(refOf), ...(f.field?.object ? [f.field.object] : [])];
  for (const ref of named) {
    const o = index.get(ref);
    if (o) add(o, o.metadata.annotations, formatRef(ref), false);
  }
  return out;
}

function ruleMatches(r: SuppressionRule, f: Finding, candidates: ObjectRef[]): boolean {
  if (!r.codes.some((c) => codeMatches(c, f.code, f.name))) return false;
  if (r.kind === undefined && r.namespace === undefined && r.name === undefined) return true;
  return candidates.some(
    (ref) =>
      globMatch(r.kind, ref.kind, true) &&
      globMatch(r.name, ref.name) &&
      (r.namespace === undefined || globMatch(r.namespace, ref.namespace)),
  );
}

export interface ApplyContext {
  objects: readonly KObject[];
  /** `-n`: suppressions for other namespaces are not "unused" in this run. */
  namespace?: string;
}

/** Severity overrides, then suppressions; returns the findings that count and those set aside. */
export function applyPolicy(findings: Finding[], policy: Policy, ctx: ApplyContext): PolicyResult {
  const warnings: string[] = [];
  const index = new ObjectIndex(ctx.objects);

  for (const code of Object.keys(policy.severity)) {
    if (unknownCodes([code]).length) warnings.push(`${policy.severityOrigin ?? 'severity'}: unknown rule code ${code} (see tunnelmesh rules)`);
  }
  const overridden = findings.map((f) => {
    const severity = overrideFor(policy.severity, f);
    return severity && severity !== f.severity ? { ...f, severity } : f;
  });

  for (const r of policy.suppressions) {
    for (const code of unknownCodes(r.codes)) warnings.push(`${r.origin}: unknown rule code ${code} (see tunnelmesh rules)`);
  }

  const used = new Set<SuppressionRule>();
  const annotationWarned = new Set<string>();
  const active: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const f of overridden) {
    const by = suppressionFor(f, policy, index, used, annotationWarned, warnings);
    if (by) suppressed.push({ finding: f, by });
    else active.push(f);
  }

  for (const r of policy.suppressions) {
    if (used.has(r) || unknownCodes(r.codes).length === r.codes.length) continue;
    if (ctx.namespace && r.namespace !== undefined && !globMatch(r.namespace, ctx.namespace)) continue;
    warnings.push(`${r.origin} matched no finding in this run`);
  }
  return { findings: active.sort(compareFindings), suppressed: suppressed.sort((a, b) => compareFindings(a.finding, b.finding)), warnings };
}

function overrideFor(overrides: Record<string, Severity>, f: Finding): Severity | undefined {
  for (const [code, severity] of Object.entries(overrides)) {
    if (codeMatches(code, f.code, f.name)) return severity;
  }
  return undefined;
}

function suppressionFor(
  f: Finding,
  policy: Policy,
  index: ObjectIndex,
  used: Set<SuppressionRule>,
  annotationWarned: Set<string>,
  warnings: string[],
): SuppressedBy | undefined {
  for (const source of annotationSources(f, index)) {
    const key = `${formatRef(refOf(source.object))}|${source.where}`;
    if (!annotationWarned.has(key)) {
      annotationWarned.add(key);
      for (const code of unknownCodes(source.codes.filter((c) => c !== '*'))) {
        warnings.push(`annotation ${SUPPRESS_ANNOTATION} on ${source.where}: unknown rule code ${code}`);
      }
      if (!source.primary && source.codes.includes('*')) {
        warnings.push(`annotation ${SUPPRESS_ANNOTATION}: "*" on ${source.where} suppresses only findings about that object; ${f.code} on ${formatRef(f.resource)} names it too: write "${f.code}" there to suppress that one`);
      }
    }
    if (source.codes.some((c) => (c === '*' && source.primary) || (c !== '*' && codeMatches(c, f.code, f.name)))) {
      return { source: 'annotation', origin: `annotation ${SUPPRESS_ANNOTATION} on ${source.where}`, ...(source.primary ? {} : { object: refOf(source.object) }) };
    }
  }
  if (policy.suppressions.length === 0) return undefined;
  const resource = index.get(f.resource);
  const owner = resource ? index.ownerOf(resource) : undefined;
  const candidates = owner ? [f.resource, owner] : [f.resource];
  // Every matching rule is marked used, so none is reported as matching nothing.
  let first: SuppressionRule | undefined;
  for (const r of policy.suppressions) {
    if (!ruleMatches(r, f, candidates)) continue;
    used.add(r);
    first ??= r;
  }
  if (!first) return undefined;
  return { source: first.source, origin: first.origin, ...(first.reason ? { reason: first.reason } : {}) };
}

/** `error|warning|info` or a UsageError naming where the value was written. */
export function parseSeverity(value: unknown, where: string): Severity {
  if (typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value)) return value as Severity;
  throw new UsageError(`${where}: expected one of ${SEVERITIES.join(', ')}, found ${JSON.stringify(value)}`);
}

/** Counts per code, for the one-line summary: `TM104 ×2, TM105 ×1`. */
export function suppressedByCode(suppressed: SuppressedFinding[]): string {
  const counts = new Map<string, number>();
  for (const s of suppressed) counts.set(s.finding.code, (counts.get(s.finding.code) ?? 0) + 1);
  return [...counts.entries()].map(([code, n]) => `${code} ×${n}`).join(', ');
}
