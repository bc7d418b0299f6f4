// Rule documentation, generated from the rule modules (`meta`) and nothing else: the
// `tunnelmesh rules` table, one rule's page, `rules -o json`, and docs/rules.md. A rule's
// example is run through the real pipeline by the caller (src/cli/rule-examples.ts), so the page
// shows what doctor really says.

import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { formatRef } from '../core/k8s.js';
import { RULES } from '../rules/index.js';
import type { Finding, Rule, RuleMeta } from '../rules/types.js';
import { maxOf, pushAll } from '../core/arrays.js';
import { wrap } from './terminal-text.js';

/** What a rule's example makes doctor report (empty when it has none). */
export type ExampleFindings = (rule: Rule) => Finding[];

export const EXAMPLE_FILE = 'example.yaml';

const FAMILIES: Array<{ prefix: string; title: string; tag: string }> = [
  { prefix: 'TM1', title: 'mTLS on the path', tag: 'mtls' },
  { prefix: 'TM2', title: 'Sidecar presence and injection', tag: 'sidecar' },
  { prefix: 'TM3', title: 'Protocol along the tunnel', tag: 'protocol' },
  { prefix: 'TM4', title: 'References and duplicates', tag: 'references' },
  { prefix: 'TM5', title: "The proxies' own config (Envoy config dumps)", tag: 'envoy' },
];

export function familyOf(code: string): { title: string; tag: string } {
  return FAMILIES.find((f) => code.startsWith(f.prefix)) ?? { title: 'Other', tag: 'other' };
}

export function suppressHint(code: string): string {
  return `--suppress ${code} (or ${code}=Kind ns/name), the annotation tunnelmesh.io/suppress: "${code}" on the resource or another object the finding names, or suppress: [${code}] in .tunnelmesh.yaml`;
}

/** The example's manifests as shown (line numbers in findings refer to this text). */
export function exampleText(meta: RuleMeta): string {
  return (meta.example?.manifests ?? '').replace(/^\s*\n/, '').trimEnd() + '\n';
}

function sortedRules(): Rule[] {
  return [...RULES].sort((a, b) => (a.meta.code < b.meta.code ? -1 : a.meta.code > b.meta.code ? 1 : 0));
}

/** `tunnelmesh rules`: the catalogue as a table. */
export function rulesTable(c: ChalkInstance, width: number): string {
  const nameWidth = maxOf(RULES.map((r) => r.meta.name.length)) + 2;
  // Four columns and five borders fit the width (down to a 20-column summary).
  const summaryWidth = Math.max(20, Math.min(width, 160) - nameWidth - 22);
  const table = new Table({
    head: ['code', 'severity', 'name', 'fires when'].map((h) => c.bold(h)),
    style: { head: [], border: [] },
    colWidths: [7, 10, nameWidth, summaryWidth],
    wordWrap: true,
  });
  for (const { meta } of sortedRules()) table.push([meta.code, meta.severity, meta.name, meta.summary]);
  const hint = wrap('tunnelmesh rules CODE shows what a rule means, why it breaks, how to fix it and an example.', width).map((l) => c.dim(l));
  return `${table.toString()}\n${hint.join('\n')}\n`;
}

/** `tunnelmesh rules TM101`: one rule's page for the terminal. */
export function rulePage(rule: Rule, c: ChalkInstance, exampleFindings: ExampleFindings): string {
  const { meta } = rule;
  const out: string[] = [
    `${c.bold(`${meta.code} ${meta.name}`)} (${meta.severity}; ${familyOf(meta.code).title})`,
    '',
    meta.summary,
    '',
    c.bold('Why it breaks'),
    indent(meta.description),
    '',
    c.bold('How to fix'),
    indent(meta.howToFix),
    '',
    c.bold('Reads'),
    indent([...meta.inputs, ...(meta.extraInputs ?? [])].join(', ')),
    '',
  ];
  out.push(c.bold('Example'));
  if (meta.example) {
    out.push(indent(meta.example.description), '');
    out.push(indent(exampleText(meta).trimEnd(), '    '), '');
    const findings = exampleFindings(rule);
    out.push(indent(`tunnelmesh doctor -f ${EXAMPLE_FILE} reports:`));
    for (const f of findings) {
      out.push(indent(`${f.severity.toUpperCase()} ${f.code} ${formatRef(f.resource)}${f.port !== undefined ? ` :${f.port}` : ''}`, '    '));
      out.push(indent(f.message, '    '));
      const fix = f.fixes[0];
      if (fix) {
        out.push('', indent(`recommended fix: ${fix.title}`, '    '), indent(fix.yaml.trimEnd(), '      '));
      }
    }
  } else {
    out.push(indent('(this rule has no example yet)'));
  }
  out.push('', c.bold('Suppress'), indent(suppressHint(meta.code)), '');
  return `${out.join('\n')}\n`;
}

function indent(text: string, pad = '  '): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? '' : `${pad}${l}`))
    .join('\n');
}

/** `tunnelmesh rules -o json`. */
export function rulesJson(rules: readonly Rule[] = sortedRules()): string {
  const doc = rules.map(({ meta }) => ({
    code: meta.code,
    name: meta.name,
    severity: meta.severity,
    family: familyOf(meta.code).title,
    summary: meta.summary,
    description: meta.description,
    howToFix: meta.howToFix,
    inputs: meta.inputs,
    ...(meta.extraInputs ? { extraInputs: meta.extraInputs } : {}),
    example: meta.example ?? null,
  }));
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The anchor GitHub gives the rule's `## CODE name` heading in docs/rules.md. */
export function ruleAnchor(meta: Pick<RuleMeta, 'code' | 'name'>): string {
  return `${meta.code}-${meta.name}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
}

const anchor = ruleAnchor;

/** The rule's section of docs/rules.md in the repository (`homepage` of package.json). */
export function ruleDocsUrl(meta: Pick<RuleMeta, 'code' | 'name'>, homepage: string): string {
  return `${homepage.replace(/\/+$/, '')}/blob/main/docs/rules.md#${ruleAnchor(meta)}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** docs/rules.md, generated by `npm run docs`; a test fails when the file differs. */
export function rulesMarkdown(exampleFindings: ExampleFindings): string {
  const rules = sortedRules();
  const out: string[] = [
    '# tunnelmesh rules',
    '',
    '<!-- Generated by `npm run docs` from the rule modules (src/rules/catalog/*.ts). Do not edit by hand: test/docs.test.ts fails when this file is stale. -->',
    '',
    'Codes are a public contract: CI configs and suppressions name them, and they are never renumbered.',
    'Severity: **error** = traffic fails now; **warning** = fails under a likely condition or is silently ineffective; **info** = worth knowing.',
    'The same pages are in the CLI: `tunnelmesh rules` and `tunnelmesh rules CODE`.',
    '',
  ];
  for (const family of [...FAMILIES, { prefix: '', title: 'Other', tag: 'other' }]) {
    const members = rules.filter((r) => familyOf(r.meta.code).title === family.title);
    if (members.length === 0) continue;
    out.push(`## ${family.title}`, '', '| code | name | severity | fires when |', '|---|---|---|---|');
    for (const { meta } of members) out.push(`| [${meta.code}](#${anchor(meta)}) | ${meta.name} | ${meta.severity} | ${cell(meta.summary)} |`);
    out.push('');
  }
  for (const rule of rules) pushAll(out, ruleMarkdown(rule, exampleFindings));
  out.push(
    '## Suppressing findings',
    '',
    'Suppressed findings are still counted (`summary.suppressed` and the `suppressed` list in `-o json`, SARIF `suppressions`), and never decide the exit code.',
    '',
    '- `--suppress CODE` or `--suppress CODE=Kind ns/name` (globs: `--suppress "TM104=Service app/sg-*"`), repeatable.',
    '- The annotation `tunnelmesh.io/suppress: "TM104,TM207"` (or `"*"`) on the resource itself; for pod-template findings, on the workload or its pod template. Naming the codes, also on any other object the finding names (the DestinationRule of a TM103): the report says which object carried it; a `"*"` there counts only for findings about that object.',
    '- `.tunnelmesh.yaml`, found upward from the working directory (or `--config FILE`):',
    '',
    '```yaml',
    'failOn: warning            # like --fail-on; the flag wins',
    'suppress:',
    '  - TM105                  # same forms as --suppress',
    '  - code: TM104',
    '    kind: Service',
    '    namespace: app',
    '    name: sg-*',
    '    reason: actuator port scraped directly by Prometheus',
    'severity:',
    '  TM201: warning           # per-code severity override',
    '```',
    '',
    'Unknown codes and suppressions that matched no finding are reported on stderr.',
    '',
  );
  return out.join('\n');
}

export function ruleMarkdown(rule: Rule, exampleFindings: ExampleFindings): string[] {
  const { meta } = rule;
  const out: string[] = [
    `## ${meta.code} ${meta.name}`,
    '',
    `**Severity:** ${meta.severity} · **Family:** ${familyOf(meta.code).title} · **Reads:** ${[...meta.inputs, ...(meta.extraInputs ?? [])].join(', ')}`,
    '',
    meta.summary,
    '',
    '**Why it breaks.** ' + meta.description,
    '',
    '**How to fix.** ' + meta.howToFix,
    '',
  ];
  if (meta.example) {
    out.push('**Example.** ' + meta.example.description, '', '```yaml', exampleText(meta).trimEnd(), '```', '');
    out.push(`\`tunnelmesh doctor -f ${EXAMPLE_FILE}\` reports:`, '');
    for (const f of exampleFindings(rule)) {
      out.push(`> **${f.severity}** ${f.code} ${formatRef(f.resource)}${f.port !== undefined ? ` :${f.port}` : ''}: ${f.message}`, '');
      const fix = f.fixes[0];
      if (fix) out.push(`Recommended fix: ${fix.title}`, '', '```yaml', fix.yaml.trimEnd(), '```', '');
    }
  }
  out.push(`**Suppress.** ${suppressHint(meta.code)}`, '');
  return out;
}
