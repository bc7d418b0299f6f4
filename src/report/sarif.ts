// `-o sarif`: SARIF 2.1.0 as GitHub code scanning reads it. Every result has a relative
// artifact URI and a start line (GitHub drops results without them): the object's file and
// line for manifests, `k8s/<context>/<namespace>/<Kind>/<name>` line 1 for live objects, plus
// a logical location `Kind/ns/name` and our own fingerprint, so an alert keeps its identity
// across runs. GitHub does not show helpUri, so each rule's help text is written out in full.

import { createHash } from 'node:crypto';
import type { Location, Log, Notification, ReportingDescriptor, Result } from 'sarif';
import { formatRef, refOf, type ObjectRef } from '../core/k8s.js';
import { RULES } from '../rules/index.js';
import { summarize } from '../rules/run.js';
import type { SuppressedFinding } from '../rules/suppress.js';
import type { Finding, RuleMeta, Severity } from '../rules/types.js';
import type { ReportInput } from './json.js';
import { logicalName, type Locator } from './locate.js';
import { familyOf, suppressHint } from './rule-docs.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const FINGERPRINT_KEY = 'tunnelmesh/v1';

export interface SarifOptions {
  version: string;
}

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'info' ? 'note' : s;
}

function ruleDescriptor(meta: RuleMeta): ReportingDescriptor {
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
    `Full page with an example: \`tunnelmesh rules ${meta.code}\``,
  ].join('\n');
  return {
    id: meta.code,
    name: meta.name,
    shortDescription: { text: meta.summary },
    fullDescription: { text: meta.description },
    help: { text, markdown },
    defaultConfiguration: { level: level(meta.severity) },
    properties: { tags: ['tunnelmesh', 'kubernetes', 'istio', familyOf(meta.code).tag], reads: meta.inputs },
  };
}

/** Stable across runs and line moves: rule, context, object and port. */
export function fingerprint(f: Finding, context: string | undefined): string {
  const parts = [f.code, context ?? '', f.resource.namespace ?? '', f.resource.kind, f.resource.name, f.port === undefined ? '' : String(f.port)];
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

function location(ref: ObjectRef, locator: Locator | undefined, id?: number, message?: string): Location {
  const art = locator?.artifact(ref) ?? {
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
  const related = (f.objects ?? [])
    .map(refOf)
    .filter((r) => formatRef(r) !== formatRef(f.resource))
    .filter((r, i, all) => all.findIndex((x) => formatRef(x) === formatRef(r)) === i)
    .slice(0, 10)
    .map((r, i) => location(r, locator, i + 1, formatRef(r)));
  const out: Result = {
    ruleId: f.code,
    level: level(f.severity),
    message: { text: resultText(f) },
    locations: [location(f.resource, locator)],
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

export function doctorSarif(input: ReportInput, opts: SarifOptions): string {
  const rules = RULES.map((r) => ruleDescriptor(r.meta));
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
  const log: Log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'tunnelmesh',
            version: opts.version,
            semanticVersion: opts.version,
            rules,
          },
        },
        invocations: [{ executionSuccessful: true, ...(notifications.length ? { toolExecutionNotifications: notifications } : {}) }],
        results: [
          ...input.findings.map((f) => result(f, ruleIndex, input.locator)),
          ...(input.suppressed ?? []).map((s) => result(s.finding, ruleIndex, input.locator, s.by)),
        ],
        properties: { summary: { ...summarize(input.findings), suppressed: input.suppressed?.length ?? 0 } },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
