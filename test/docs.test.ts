// Rule documentation comes from the rule modules: docs/rules.md must match what
// `npm run docs` writes, every example must make its rule fire, and `tunnelmesh rules`
// shows the same catalogue.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { exampleFindings } from '../src/cli/rule-examples.js';
import { rulesMarkdown } from '../src/report/rule-docs.js';
import { RULES } from '../src/rules/index.js';
import { runCli } from './support/bin.js';

describe('rule documentation', () => {
  test('docs/rules.md is what npm run docs generates (run it after changing a rule)', () => {
    const committed = readFileSync(new URL('../docs/rules.md', import.meta.url), 'utf8');
    assert.ok(committed === rulesMarkdown(exampleFindings), 'docs/rules.md is stale: run npm run docs and commit the result');
  });

  test('every rule is documented, with its code, name, severity and help', () => {
    const md = rulesMarkdown(exampleFindings);
    for (const { meta } of RULES) {
      assert.ok(md.includes(`## ${meta.code} ${meta.name}`), `${meta.code} has a section`);
      assert.ok(md.includes(`**Severity:** ${meta.severity}`));
      assert.ok(md.includes(meta.howToFix), `${meta.code}: how to fix`);
    }
  });

  for (const rule of RULES.filter((r) => r.meta.example)) {
    test(`${rule.meta.code}'s example makes it fire, with a fix`, () => {
      const findings = exampleFindings(rule);
      assert.ok(findings.length > 0, `${rule.meta.code}: the example produces no finding`);
      assert.ok(findings.every((f) => f.code === rule.meta.code));
    });
  }
});

describe('tunnelmesh rules', () => {
  test('the catalogue lists every rule', () => {
    const res = runCli(['rules']);
    assert.equal(res.status, 0);
    for (const { meta } of RULES) assert.match(res.stdout, new RegExp(`${meta.code} .*${meta.severity}`));
  });

  test('one rule: meaning, why it breaks, how to fix, example with the real finding', () => {
    const res = runCli(['rules', 'tm101']);
    assert.equal(res.status, 0);
    for (const heading of ['Why it breaks', 'How to fix', 'Example', 'Suppress']) assert.match(res.stdout, new RegExp(`^${heading}$`, 'm'));
    assert.match(res.stdout, /tunnelmesh doctor -f example\.yaml reports:\n {4}ERROR TM101 Service app\/gateway :9091/);
    assert.match(res.stdout, /recommended fix: DestinationRule app\/gateway-9091-no-mtls/);
  });

  test('by name, as JSON, and an unknown code is a usage error', () => {
    const json = JSON.parse(runCli(['rules', 'mtls-to-uncaptured-port', '-o', 'json']).stdout) as Array<{ code: string }>;
    assert.deepEqual(json.map((r) => r.code), ['TM101']);
    const all = JSON.parse(runCli(['rules', '-o', 'json']).stdout) as Array<{ code: string }>;
    assert.equal(all.length, RULES.length);
    const bad = runCli(['rules', 'TM999']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^tunnelmesh: unknown rule TM999 \(known: TM101/);
  });

  test('-o markdown prints docs/rules.md', () => {
    assert.equal(runCli(['rules', '-o', 'markdown']).stdout, readFileSync(new URL('../docs/rules.md', import.meta.url), 'utf8'));
  });
});

describe('the project stands alone', () => {
  const root = resolve(new URL('..', import.meta.url).pathname);
  const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  test('README and docs link only to files in the repository, and every one exists', () => {
    for (const page of pages) {
      const text = readFileSync(join(root, page), 'utf8');
      assert.doesNotMatch(text, /\.\.\/shared|\/work\//, `${page} names a path outside the repository`);
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = (m[1] as string).split('#')[0] as string;
        if (/^[a-z]+:/i.test(m[1] as string) || target === '') continue; // a URL, or an anchor on the page
        const file = resolve(dirname(join(root, page)), target);
        assert.ok(!relative(root, file).startsWith('..'), `${page}: ${m[1]} leads out of the repository`);
        assert.ok(existsSync(file), `${page}: ${m[1]} does not exist`);
      }
    }
  });

  test('anchors into docs/*.md name headings that exist', () => {
    const slug = (h: string) => h.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
    for (const page of pages) {
      const text = readFileSync(join(root, page), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s:]*\.md)#([^)\s]+)\)/g)) {
        const target = readFileSync(resolve(dirname(join(root, page)), m[1] as string), 'utf8');
        const anchors = new Set(target.split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));
        assert.ok(anchors.has(m[2] as string), `${page}: #${m[2]} is not a heading of ${m[1]}`);
      }
    }
  });

  test('docs/cli.md documents every command, flag and output format of the CLI', () => {
    const doc = readFileSync(join(root, 'docs/cli.md'), 'utf8');
    for (const command of ['doctor', 'explain-protocol', 'why', 'rules', 'snapshot', 'completion']) {
      const help = runCli([command, '--help']).stdout;
      for (const flag of help.matchAll(/(?:^|\s)(--[a-z-]+)/g)) if (flag[1] !== '--help') assert.ok(doc.includes(flag[1] as string), `docs/cli.md: ${command} ${flag[1]}`);
    }
    for (const format of ['table', 'compact', 'json', 'yaml', 'sarif', 'codequality']) assert.ok(doc.includes(`-o ${format}`), `docs/cli.md: -o ${format}`);
  });
});
