// `-o sarif`: SARIF 2.1.0 as GitHub code scanning reads it. Every result has a relative
// artifact URI and a start line (GitHub drops results without them): the object's file and
// line for manifests, `k8s/<context>/<namespace>/<Kind>/<name>` line 1 for live objects, plus
// a logical location `Kind/ns/name` and our own fingerprint, so an alert keeps its identity
// across runs. The line is that of the field at fault when it can be found (a Service port's
// entry, an annotation), and chart templates are mapped to repository paths with
// --chart-dir / --source-root. GitHub does not show helpUri (VS Code's viewer does), so each
// rule's help text is written out in full as well. A run that fails (exit 2 or 3) still
// writes a log: no results, `executionSuccessful: false` and the error as a notification.

import { createHash } from 'node:crypto';
import type { Location, Log, Notification, ReportingDescriptor, Result, Run } from 'sarif';
import { formatRef, refOf, type ObjectRef } from '../core/k8s.js';
import { RULES } from '../rules/index.js';
import { summarize } from '../rules/run.js';
import type { SuppressedFinding } from '../rules/suppress.js';
import type { Finding, RuleMeta, Severity } from '../rules/types.js';
import type { ReportInput, RunFailure } from './json.js';
import { fileUri, logicalName, type Artifact, type Locator } from './locate.js';
import { familyOf, ruleDocsUrl, suppressHint } from './rule-docs.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const FINGERPRINT_KEY = 'tunnelmesh/v1';

export interface SarifOptions {
  version: string;
  /** The project's home (package.json `homepage`): helpUri and informationUri point into it. */
  homepage?: string;
}

const ISTIO_KINDS = new Set(['PeerAuthentication', 'DestinationRule', 'VirtualService', 'Gateway', 'ServiceEntry', 'Sidecar']);
const TUNNEL_KINDS = new Set(['Ingress', 'IngressClass', 'TunnelIngressClassConfig', 'TunnelBinding', 'HTTPRoute']);

/** Tags GitHub shows and filters by: the family, and which side of the path the rule reads. */
export function ruleTags(meta: RuleMeta): string[] {
  const tags = ['tunnelmesh', 'kubernetes', familyOf(meta.code).tag];
  if (meta.code.startsWith('TM1') || meta.code.startsWith('TM2') || meta.code.startsWith('TM4') || meta.inputs.some((k) => ISTIO_KINDS.has(k))) tags.push('istio');
  if (meta.code.startsWith('TM3') || meta.code === 'TM201' || meta.code === 'TM202' || meta.inputs.some((k) => TUNNEL_KINDS.has(k))) tags.push('cloudflare-tunnel');
  tags.push(meta.severity === 'error' ? 'outage' : meta.severity === 'warning' ? 'misconfiguration' : 'best-practice');
  return tags;
}

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'info' ? 'note' : s;
}

function ruleDescriptor(meta: RuleMeta, homepage: string | undefined): ReportingDescriptor {
  const text = [
    meta.summary,
    '',
    `Why it breaks: ${meta.description}`,
    '',
    `How to fix: ${meta.howToFix}`,
    '',
    `Suppress: ${suppressHint(meta.code)}`,
    '',
    `Details: tunnelmesh rules ${meta.code}`,
  ].join('\n');
  const markdown = [
    `**${meta.code} ${meta.name}** (${meta.severity})`,
    '',
    meta.summary,
    '',
    '**Why it breaks**',
    '',
    meta.description,
    '',
    '**How to fix**',
    '',
    meta.howToFix,
    '',
    `**Suppress**: ${suppressHint(meta.code)}`,
    '',
    homepage ? `Full page with an example: [docs/rules.md](${ruleDocsUrl(meta, homepage)}) or \`tunnelmesh rules ${meta.code}\`` : `Full page with an example: \`tunnelmesh rules ${meta.code}\``,
  ].join('\n');
  return {
    id: meta.code,
    name: meta.name,
    shortDescription: { text: meta.summary },
    fullDescription: { text: meta.description },
    ...(homepage ? { helpUri: ruleDocsUrl(meta, homepage) } : {}),
    help: { text, markdown },
    defaultConfiguration: { level: level(meta.severity) },
    properties: { tags: ruleTags(meta), precision: 'high', 'problem.severity': meta.severity === 'info' ? 'recommendation' : meta.severity, reads: meta.inputs },
  };
}

/** Stable across runs and line moves: rule, context, object and port. */
export function fingerprint(f: Finding, context: string | undefined): string {
  const parts = [f.code, context ?? '', f.resource.namespace ?? '', f.resource.kind, f.resource.name, f.port === undefined ? '' : String(f.port)];
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

function location(ref: ObjectRef, locator: Locator | undefined, id?: number, message?: string, at?: Artifact): Location {
  const art = at ??
    locator?.artifact(ref) ?? {
      uri: ['k8s', 'cluster', ref.namespace ?? '_cluster', ref.kind, ref.name].map(encodeURIComponent).join('/'),
      line: 1,
      placeholder: true,
    };
  return {
    ...(id !== undefined ? { id } : {}),
    physicalLocation: { artifactLocation: { uri: art.uri }, region: { startLine: art.line } },
    logicalLocations: [{ name: ref.name, fullyQualifiedName: logicalName(ref), kind: 'resource' }],
    ...(message ? { message: { text: message } } : {}),
  };
}

function resultText(f: Finding): string {
  const parts = [f.message];
  if (f.symptom) parts.push(`Symptom: ${f.symptom}.`);
  const fix = f.fixes[0];
  if (fix) parts.push(`Recommended fix: ${fix.title}.`);
  return parts.join(' ');
}

function result(f: Finding, ruleIndex: Map<string, number>, locator: Locator | undefined, suppressed?: SuppressedFinding['by']): Result {
  const at = locator?.locate(f);
  const primary = at?.ref ?? f.resource;
  // The resource itself is related when the field at fault is on another object.
  const related = [...(formatRef(primary) !== formatRef(f.resource) ? [f.resource] : []), ...(f.objects ?? []).map(refOf)]
    .filter((r) => formatRef(r) !== formatRef(primary))
    .filter((r, i, all) => all.findIndex((x) => formatRef(x) === formatRef(r)) === i)
    .slice(0, 10)
    .map((r, i) => location(r, locator, i + 1, formatRef(r)));
  const out: Result = {
    ruleId: f.code,
    level: level(f.severity),
    message: { text: resultText(f) },
    locations: [location(primary, locator, undefined, at?.field ? `${formatRef(primary)} ${at.field}` : undefined, at)],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(f, locator?.context) },
    properties: {
      resource: formatRef(f.resource),
      ...(f.port !== undefined ? { port: f.port } : {}),
      severity: f.severity,
      evidence: f.evidence,
      fixes: f.fixes.map((x) => ({ title: x.title, yaml: x.yaml })),
    },
  };
  const index = ruleIndex.get(f.code);
  if (index !== undefined) out.ruleIndex = index;
  if (related.length) out.relatedLocations = related;
  if (suppressed) {
    out.suppressions = [
      {
        kind: suppressed.source === 'annotation' ? 'inSource' : 'external',
        status: 'accepted',
        justification: suppressed.reason ? `${suppressed.reason} (${suppressed.origin})` : suppressed.origin,
      },
    ];
  }
  return out;
}

function driver(opts: SarifOptions, rules: ReportingDescriptor[]): Run['tool'] {
  return {
    driver: {
      name: 'tunnelmesh',
      version: opts.version,
      semanticVersion: opts.version,
      ...(opts.homepage ? { informationUri: opts.homepage } : {}),
      rules,
    },
  };
}

function log(run: Run): string {
  const doc: Log = { $schema: SARIF_SCHEMA, version: '2.1.0', runs: [run] };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * The log of a run that could not judge anything (exit 2 or 3): upload-sarif then shows the
 * error instead of failing on an empty file, and no alert is closed by an empty result list
 * that only means "not run".
 */
export function failureSarif(failure: RunFailure, opts: SarifOptions): string {
  const notification: Notification = {
    level: 'error',
    message: { text: `tunnelmesh: ${failure.message}` },
    descriptor: { id: `tunnelmesh/${failure.kind}` },
    properties: { exitCode: failure.exitCode },
  };
  if (failure.file !== undefined && failure.file !== '<stdin>') {
    notification.locations = [
      { physicalLocation: { artifactLocation: { uri: fileUri(failure.file) }, ...(failure.line !== undefined ? { region: { startLine: failure.line } } : {}) } },
    ];
  }
  return log({
    tool: driver(opts, RULES.map((r) => ruleDescriptor(r.meta, opts.homepage))),
    invocations: [{ executionSuccessful: false, exitCode: failure.exitCode, toolExecutionNotifications: [notification] }],
    results: [],
    properties: { error: failure },
  });
}

export function doctorSarif(input: ReportInput, opts: SarifOptions): string {
  const rules = RULES.map((r) => ruleDescriptor(r.meta, opts.homepage));
  // Findings from rules this build does not list (none today) still get a descriptor.
  for (const f of [...input.findings, ...(input.suppressed ?? []).map((s) => s.finding)]) {
    if (!rules.some((r) => r.id === f.code)) rules.push({ id: f.code, name: f.name, shortDescription: { text: f.name } });
  }
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const notifications: Notification[] = [
    ...input.incomplete.map(
      (e): Notification => ({
        level: 'warning',
        message: { text: `could not list ${e.kind}${e.namespace ? ` in ${e.namespace}` : ''}: ${e.reason}${e.message ? ` (${e.message})` : ''}; verdicts that need it are unknown` },
      }),
    ),
    ...input.notes.map((n): Notification => ({ level: 'note', message: { text: n } })),
  ];
  return log({
    tool: driver(opts, rules),
    invocations: [{ executionSuccessful: true, ...(notifications.length ? { toolExecutionNotifications: notifications } : {}) }],
    results: [
      ...input.findings.map((f) => result(f, ruleIndex, input.locator)),
      ...(input.suppressed ?? []).map((s) => result(s.finding, ruleIndex, input.locator, s.by)),
    ],
    properties: { summary: { ...summarize(input.findings), suppressed: input.suppressed?.length ?? 0 } },
  });
}
