// A rule's example (manifests in its metadata) run through the same pipeline as doctor, so the
// documentation shows what doctor really says about it.

import { collectFromTexts } from '../collect/files.js';
import { EXAMPLE_FILE, exampleText } from '../report/rule-docs.js';
import { judge } from '../rules/judge.js';
import type { Finding, Rule } from '../rules/types.js';

export function exampleFindings(rule: Rule): Finding[] {
  if (!rule.meta.example) return [];
  const snapshot = collectFromTexts([{ name: EXAMPLE_FILE, text: exampleText(rule.meta) }]);
  return judge(snapshot, { rules: [rule] }).findings;
}
