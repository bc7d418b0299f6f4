// Every output format gives the same exit code for the same input and threshold, and
// `helm template`-style multi-document input works on stdin.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import { runCli } from '../support/bin.js';

const FORMATS = ['table', 'json', 'yaml', 'sarif', 'codequality'] as const;
const RENDERED = readFileSync(new URL('../../fixtures/ci/rendered.yaml', import.meta.url), 'utf8');

interface Case {
  name: string;
  args: string[];
  input?: string;
  exit: number;
}

const CASES: Case[] = [
  { name: 'an error finding fails at the default threshold', args: ['-f', '-'], input: RENDERED, exit: 1 },
  { name: '--fail-on none never fails on findings', args: ['-f', '-', '--fail-on', 'none'], input: RENDERED, exit: 0 },
  { name: 'the error suppressed: the warning left passes at error', args: ['-f', '-', '--suppress', 'TM101'], input: RENDERED, exit: 0 },
  { name: 'the error suppressed: the warning left fails at warning', args: ['-f', '-', '--suppress', 'TM101', '--fail-on', 'warning'], input: RENDERED, exit: 1 },
  { name: 'a warning passes at error (fixed chart)', args: ['-f', 'fixtures/ci/fixed'], exit: 0 },
  { name: 'a warning fails at warning (fixed chart)', args: ['-f', 'fixtures/ci/fixed', '--fail-on', 'warning'], exit: 1 },
  { name: 'a warning fails at info (fixed chart)', args: ['-f', 'fixtures/ci/fixed', '--fail-on', 'info'], exit: 1 },
  { name: 'unreadable input is exit 2', args: ['-f', 'fixtures/ci/no-such-file.yaml'], exit: 2 },
  { name: 'invalid YAML is exit 2', args: ['-f', '-'], input: 'apiVersion: v1\nkind: [Service\n', exit: 2 },
  { name: 'a bad --suppress is exit 2', args: ['-f', '-', '--suppress', 'TM101=Service'], input: RENDERED, exit: 2 },
  { name: 'a bad --fail-on is exit 2', args: ['-f', '-', '--fail-on', 'sometimes'], input: RENDERED, exit: 2 },
];

describe('exit codes are the same in every output format', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const got = FORMATS.map((format) => {
        const res = runCli(['doctor', ...c.args, '-o', format], c.input === undefined ? {} : { input: c.input });
        return { format, status: res.status, stderr: res.stderr };
      });
      for (const g of got) assert.equal(g.status, c.exit, `-o ${g.format}: exit ${g.status}, expected ${c.exit}\n${g.stderr}`);
      if (c.exit === 2) {
        for (const g of got) assert.match(g.stderr, /^tunnelmesh: /, `-o ${g.format}: one tunnelmesh: line`);
      }
    });
  }
});

describe('machine formats on stdout are clean and parse', () => {
  test('json, yaml, sarif and codequality parse; yaml is the json document', () => {
    const out = Object.fromEntries(FORMATS.map((f) => [f, runCli(['doctor', '-f', '-', '-o', f], { input: RENDERED })]));
    const json = JSON.parse(out.json!.stdout) as { findings: Array<{ code: string; location: unknown }>; summary: Record<string, unknown> };
    assert.deepEqual(jsyaml.load(out.yaml!.stdout), json);
    assert.deepEqual(json.findings.map((f) => f.code), ['TM101', 'TM105']);
    assert.deepEqual(json.summary, { error: 1, warning: 1, info: 0, suppressed: 0, edges: { total: 2, judged: 2, notJudged: 0 }, incomplete: 0 });
    const sarif = JSON.parse(out.sarif!.stdout) as { runs: Array<{ results: unknown[] }> };
    assert.equal(sarif.runs[0]!.results.length, 2);
    const cq = JSON.parse(out.codequality!.stdout) as Array<{ check_name: string; severity: string; location: { path: string; lines: { begin: number } } }>;
    assert.deepEqual(cq.map((i) => [i.check_name, i.severity, i.location.path]), [
      ['TM101 mtls-to-uncaptured-port', 'critical', 'gateway/templates/service.yaml'],
      ['TM105 unknown-istio-annotation', 'major', 'gateway/templates/deployment.yaml'],
    ]);
    for (const f of ['json', 'yaml', 'sarif', 'codequality'] as const) assert.doesNotMatch(out[f]!.stdout, /\u001b\[/, `${f}: no escape codes`);
  });

  test('helm template multi-doc on stdin: line numbers and the chart template of each object', () => {
    const json = JSON.parse(runCli(['doctor', '-f', '-', '-o', 'json'], { input: RENDERED }).stdout) as {
      findings: Array<{ code: string; location: { file: string; line: number; template?: string } }>;
    };
    const tm101 = json.findings.find((f) => f.code === 'TM101')!;
    const lines = RENDERED.split('\n');
    const serviceLine = lines.findIndex((l, i, all) => l === 'kind: Service' && all[i - 1] === 'apiVersion: v1');
    // The field at fault: the Service's port entry, on its `- name:` line.
    const portLine = lines.findIndex((l, i) => i > serviceLine && l === '    - name: http-admin') + 1;
    assert.deepEqual(tm101.location, { file: '<stdin>', line: serviceLine, template: 'gateway/templates/service.yaml', field: { path: 'spec.ports[1]', file: '<stdin>', line: portLine } });
  });

  test('files: the location is the file and the line where the object starts', () => {
    const json = JSON.parse(runCli(['doctor', '-f', 'fixtures/demo', '-o', 'json']).stdout) as { findings: Array<{ code: string; location: unknown }> };
    const text = readFileSync(new URL('../../fixtures/demo/30-app.yaml', import.meta.url), 'utf8').split('\n');
    const line = text.findIndex((l) => l === 'kind: Service'); // 0-based index of `kind:`; the object starts one line above
    const portLine = text.findIndex((l, i) => i > line && l === '    - name: http-actuator') + 1;
    assert.deepEqual(json.findings.find((f) => f.code === 'TM101')!.location, { file: 'fixtures/demo/30-app.yaml', line, field: { path: 'spec.ports[1]', file: 'fixtures/demo/30-app.yaml', line: portLine } });
  });
});
