// `tunnelmesh rules [CODE]`: the catalogue, or one rule's page, from the rule modules.

import { UsageError } from '../errors.js';
import { RULES, ruleByCode } from '../rules/index.js';
import { makeChalk, outputWidth, type ColorMode } from './terminal.js';

export interface RulesOptions {
  output: 'text' | 'json' | 'markdown';
  color: ColorMode;
}

export async function runRulesCommand(code: string | undefined, opts: RulesOptions): Promise<number> {
  const [docs, { exampleFindings }] = await Promise.all([import('../report/rule-docs.js'), import('./rule-examples.js')]);
  const rule = code === undefined ? undefined : ruleByCode(code);
  if (code !== undefined && !rule) {
    throw new UsageError(`unknown rule ${code} (known: ${RULES.map((r) => r.meta.code).join(', ')})`);
  }
  if (opts.output === 'json') {
    process.stdout.write(docs.rulesJson(rule ? [rule] : undefined));
  } else if (opts.output === 'markdown') {
    process.stdout.write(rule ? docs.ruleMarkdown(rule, exampleFindings).join('\n') : docs.rulesMarkdown(exampleFindings));
  } else {
    const chalk = await makeChalk(opts.color);
    process.stdout.write(rule ? docs.rulePage(rule, chalk, exampleFindings) : docs.rulesTable(chalk, outputWidth() ?? 120));
  }
  return 0;
}
