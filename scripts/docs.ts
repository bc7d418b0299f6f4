// `npm run docs`: regenerates docs/rules.md from the rule modules. test/docs.test.ts fails
// when the committed file differs from what this writes.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exampleFindings } from '../src/cli/rule-examples.js';
import { rulesMarkdown } from '../src/report/rule-docs.js';

const target = fileURLToPath(new URL('../docs/rules.md', import.meta.url));
writeFileSync(target, rulesMarkdown(exampleFindings));
process.stdout.write(`wrote ${target}\n`);
