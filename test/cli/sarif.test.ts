// `-o sarif` validates against the official SARIF 2.1.0 schema and carries what GitHub code
// scanning needs: a relative artifact URI and a start line on every result, rules with help
// text, a logical location `Kind/ns/name`, stable fingerprints, suppressions kept as such.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import Ajv04Module from 'ajv-draft-04';
import jsyaml from 'js-yaml';
import addFormatsModule from 'ajv-formats';
import type { Log, Result } from 'sarif';
import { RULES } from '../../src/rules/index.js';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import { loadManifests, runCli, runCliAsync } from '../support/bin.js';
import { writeKubeconfig, writeUnreachableKubeconfig } from '../support/kubeconfig.js';

// The SARIF 2.1.0 schema as the SARIF TC released it (2.1.0-rtm.5, JSON Schema draft-04), shipped by
// Microsoft's @microsoft/jest-sarif; validated with ajv's draft-04 build and its formats (uri-reference…).
const schemaPath = createRequire(import.meta.url).resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
const Ajv04 = Ajv04Module as unknown as typeof Ajv04Module.default;
const addFormats = addFormatsModule as unknown as (ajv: InstanceType<typeof Ajv04>) => void;
// unicodeRegExp off: the schema's language pattern has a stray ']' that only non-unicode RegExps accept.
const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);
const RENDERED = readFileSync(new URL('../../fixtures/ci/rendered.yaml', import.meta.url), 'utf8');

function parseValid(text: string): Log {
  const log = JSON.parse(text) as Log;
  const ok = validate(log);
  assert.ok(ok, `SARIF does not validate: ${JSON.stringify(validate.errors, null, 2)}`);
  return log;
}

function results(log: Log): Result[] {
  return log.runs[0]!.results ?? [];
}

function assertGithubShape(log: Log): void {
  const run = log.runs[0]!;
  const rules = run.tool.driver.rules ?? [];
  assert.deepEqual(
    rules.map((r) => r.id).slice(0, RULES.length).sort(),
    RULES.map((r) => r.meta.code).sort(),
    'every rule of the catalogue is described',
  );
  for (const r of rules) {
    assert.ok(r.help?.text && r.help.text.includes('How to fix'), `${r.id}: help.text repeats the help (GitHub ignores helpUri)`);
    assert.ok(r.shortDescription?.text, `${r.id}: shortDescription`);
  }
  for (const res of results(log)) {
    const loc = res.locations?.[0]?.physicalLocation;
    const uri = loc?.artifactLocation?.uri ?? '';
    assert.ok(uri !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(uri) && !uri.startsWith('/'), `relative artifact uri: ${uri}`);
    assert.ok((loc?.region?.startLine ?? 0) >= 1, 'region.startLine');
    assert.equal(rules[res.ruleIndex!]?.id, res.ruleId, 'ruleIndex points at the rule');
    assert.match(res.locations![0]!.logicalLocations![0]!.fullyQualifiedName!, /^[A-Za-z]+\/([a-z0-9-]+\/)?[a-z0-9.-]+$/);
    assert.match(res.partialFingerprints?.['tunnelmesh/v1'] ?? '', /^[0-9a-f]{64}$/);
  }
}

describe('SARIF 2.1.0', () => {
  test('manifests: file and line of the field at fault, validated against the schema', () => {
    const log = parseValid(runCli(['doctor', '-f', 'fixtures/demo', '-o', 'sarif']).stdout);
    assertGithubShape(log);
    const tm101 = results(log).find((r) => r.ruleId === 'TM101')!;
    assert.equal(tm101.level, 'error');
    const loc = tm101.locations![0]!;
    assert.equal(loc.physicalLocation!.artifactLocation!.uri, 'fixtures/demo/30-app.yaml');
    // The Service's entry for port 9091 (`- name: http-actuator`), not the object's first line (28).
    assert.equal(loc.physicalLocation!.region!.startLine, 41);
    assert.equal(loc.message?.text, 'Service app/sg-cloud-gateway spec.ports[1]');
    assert.equal(loc.logicalLocations![0]!.fullyQualifiedName, 'Service/app/sg-cloud-gateway');
    assert.match(tm101.message.text!, /Recommended fix: DestinationRule app\/sg-cloud-gateway-9091-no-mtls/);
    const related = (tm101.relatedLocations ?? []).map((l) => l.message?.text);
    assert.ok(related.some((t) => t?.startsWith('Pod app/sg-cloud-gateway-')), `related pods: ${related.join(', ')}`);
  });

  test('helm template on stdin: each result points at the chart template it came from', () => {
    const log = parseValid(runCli(['doctor', '-f', '-', '-o', 'sarif'], { input: RENDERED }).stdout);
    assertGithubShape(log);
    assert.deepEqual(
      results(log).map((r) => r.locations![0]!.physicalLocation!.artifactLocation!.uri),
      ['gateway/templates/service.yaml', 'gateway/templates/deployment.yaml'],
    );
  });

  test('stdin without helm comments: a placeholder path, still valid', () => {
    const plain = RENDERED.replace(/^# Source:.*\n/gm, '');
    const log = parseValid(runCli(['doctor', '-f', '-', '-o', 'sarif'], { input: plain }).stdout);
    assertGithubShape(log);
    assert.equal(results(log)[0]!.locations![0]!.physicalLocation!.artifactLocation!.uri, 'k8s/stdin/app/Service/gateway');
  });

  test('suppressed findings stay in the log with a suppression, and the exit code ignores them', () => {
    const res = runCli(['doctor', '-f', '-', '-o', 'sarif', '--suppress', 'TM101'], { input: RENDERED });
    assert.equal(res.status, 0);
    const log = parseValid(res.stdout);
    const tm101 = results(log).find((r) => r.ruleId === 'TM101')!;
    assert.deepEqual(tm101.suppressions, [{ kind: 'external', status: 'accepted', justification: '--suppress TM101' }]);
    assert.equal(results(log).find((r) => r.ruleId === 'TM105')!.suppressions, undefined);
  });

  test('fingerprints do not move when lines move', () => {
    const a = parseValid(runCli(['doctor', '-f', '-', '-o', 'sarif'], { input: RENDERED }).stdout);
    const b = parseValid(runCli(['doctor', '-f', '-', '-o', 'sarif'], { input: `# a comment\n\n${RENDERED}` }).stdout);
    assert.deepEqual(
      results(a).map((r) => r.partialFingerprints),
      results(b).map((r) => r.partialFingerprints),
    );
  });

  test('the validator does reject a result without a valid location URI', () => {
    const log = JSON.parse(runCli(['doctor', '-f', 'fixtures/demo', '-o', 'sarif']).stdout) as Log;
    results(log)[0]!.locations![0]!.physicalLocation!.artifactLocation!.uri = 'a b<c>';
    assert.equal(validate(log), false);
  });
});

describe('SARIF for a live cluster', () => {
  let server: ApiServer;
  let kubeconfig: string;
  before(async () => {
    server = await startApiServer({ objects: loadManifests('fixtures/demo') });
    kubeconfig = writeKubeconfig(server, { contexts: [{ name: 'prod-eu', namespace: 'app' }] });
  });
  after(() => server.close());

  test('placeholder path k8s/<context>/<namespace>/<Kind>/<name>, line 1, and the logical location', async () => {
    const res = await runCliAsync(['doctor', '--kubeconfig', kubeconfig, '-o', 'sarif']);
    assert.equal(res.status, 1, res.stderr);
    const log = parseValid(res.stdout);
    assertGithubShape(log);
    const tm101 = results(log).find((r) => r.ruleId === 'TM101')!;
    assert.equal(tm101.locations![0]!.physicalLocation!.artifactLocation!.uri, 'k8s/prod-eu/app/Service/sg-cloud-gateway');
    assert.equal(tm101.locations![0]!.physicalLocation!.region!.startLine, 1);
    assert.equal(tm101.locations![0]!.logicalLocations![0]!.fullyQualifiedName, 'Service/app/sg-cloud-gateway');
  });
});

const PKG = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { homepage: string };
const CHART = 'fixtures/ci/charts/gateway';

/** 1-based line of the first line of `file` that `test` accepts. */
function lineOf(file: string, test: (line: string) => boolean): number {
  return readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8').split('\n').findIndex(test) + 1;
}

describe('SARIF for CI: repository paths, the field at fault, rule docs', () => {
  const mapped = (args: string[]) => {
    const res = runCli(['doctor', '-f', '-', '-o', 'sarif', ...args], { input: RENDERED });
    assert.equal(res.status, 1, res.stderr);
    const log = parseValid(res.stdout);
    assertGithubShape(log);
    return results(log).map((r) => [r.ruleId, r.locations![0]!.physicalLocation!.artifactLocation!.uri, r.locations![0]!.physicalLocation!.region!.startLine]);
  };
  // The lines of the fields at fault in the chart's own templates (not in the rendered stream).
  const expected = [
    ['TM101', `${CHART}/templates/service.yaml`, lineOf(`${CHART}/templates/service.yaml`, (l) => l === '    - name: http-admin')],
    ['TM105', `${CHART}/templates/deployment.yaml`, lineOf(`${CHART}/templates/deployment.yaml`, (l) => l.trim().startsWith('traffic.istio.io/includeInboundPorts:'))],
  ];

  test('--chart-dir maps helm # Source: paths into the repository, at the line of the field in the template', () => {
    assert.ok((expected[0]![2] as number) > 1 && (expected[1]![2] as number) > 1);
    assert.deepEqual(mapped(['--chart-dir', CHART]), expected);
    assert.deepEqual(mapped(['--chart-dir', `./${CHART}/`]), expected);
  });

  test('--source-root names the directory that holds the chart directories', () => {
    assert.deepEqual(mapped(['--source-root', 'fixtures/ci/charts']), expected);
  });

  test('the same mapping in -o json (location.field) and code quality', () => {
    const json = JSON.parse(runCli(['doctor', '-f', '-', '-o', 'json', '--chart-dir', CHART], { input: RENDERED }).stdout) as {
      findings: Array<{ code: string; location: { template: string; field: { path: string; file: string; line: number } } }>;
    };
    const tm101 = json.findings.find((f) => f.code === 'TM101')!;
    assert.deepEqual(tm101.location.field, { path: 'spec.ports[1]', file: `${CHART}/templates/service.yaml`, line: expected[0]![2] });
    assert.equal(tm101.location.template, 'gateway/templates/service.yaml');
    const cq = JSON.parse(runCli(['doctor', '-f', '-', '-o', 'codequality', '--chart-dir', CHART], { input: RENDERED }).stdout) as Array<{ location: { path: string; lines: { begin: number } } }>;
    assert.deepEqual(cq.map((i) => [i.location.path, i.location.lines.begin]), expected.map((e) => [e[1], e[2]]));
  });

  test('--chart-dir and --source-root together are a usage error (and still a SARIF log)', () => {
    const res = runCli(['doctor', '-f', '-', '-o', 'sarif', '--chart-dir', CHART, '--source-root', 'x'], { input: RENDERED });
    assert.equal(res.status, 2);
    assert.match(res.stderr, /--chart-dir and --source-root are alternatives/);
    assert.equal(parseValid(res.stdout).runs[0]!.invocations![0]!.executionSuccessful, false);
  });

  test("helpUri is the rule's section of docs/rules.md, informationUri the project; tags say the family and the side", () => {
    const log = parseValid(runCli(['doctor', '-f', 'fixtures/demo', '-o', 'sarif']).stdout);
    const driver = log.runs[0]!.tool.driver;
    assert.equal(driver.informationUri, PKG.homepage);
    const doc = readFileSync(new URL('../../docs/rules.md', import.meta.url), 'utf8');
    // GitHub's heading anchors: lower case, punctuation but '-' dropped, spaces to '-'.
    const anchors = new Set(doc.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3).trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const rule of driver.rules ?? []) {
      const [base, anchor] = (rule.helpUri ?? '').split('#');
      assert.equal(base, `${PKG.homepage}/blob/main/docs/rules.md`, rule.id);
      assert.ok(anchors.has(anchor ?? ''), `${rule.id}: #${anchor} is a heading of docs/rules.md`);
    }
    const tags = (id: string) => (driver.rules ?? []).find((r) => r.id === id)!.properties!.tags;
    assert.deepEqual(tags('TM101'), ['tunnelmesh', 'kubernetes', 'mtls', 'istio', 'cloudflare-tunnel', 'outage']);
    assert.deepEqual(tags('TM301'), ['tunnelmesh', 'kubernetes', 'protocol', 'cloudflare-tunnel', 'outage']);
    assert.deepEqual(tags('TM207'), ['tunnelmesh', 'kubernetes', 'sidecar', 'istio', 'best-practice']);
  });
});

describe('a failed run still writes a valid document', () => {
  const broken = 'apiVersion: v1\nkind: Service\nmetadata: [\n';

  test('exit 2 (unreadable input): SARIF with executionSuccessful false, the error as a notification at its file and line, no results', () => {
    const res = runCli(['doctor', '-f', 'fixtures/ci/rendered.yaml', '-f', '-', '-o', 'sarif'], { input: broken });
    assert.equal(res.status, 2);
    const log = parseValid(res.stdout);
    const invocation = log.runs[0]!.invocations![0]!;
    assert.equal(invocation.executionSuccessful, false);
    assert.equal(invocation.exitCode, 2);
    assert.deepEqual(log.runs[0]!.results, []);
    const note = invocation.toolExecutionNotifications![0]!;
    assert.equal(note.level, 'error');
    assert.equal(note.message.text, res.stderr.trimEnd());
    assert.ok((log.runs[0]!.tool.driver.rules ?? []).length >= RULES.length, 'the rules are still described');
    const file = runCli(['doctor', '-f', 'fixtures/ci/charts/gateway/templates/service.yaml', '-o', 'sarif']);
    const at = parseValid(file.stdout).runs[0]!.invocations![0]!.toolExecutionNotifications![0]!.locations![0]!.physicalLocation!;
    assert.deepEqual([at.artifactLocation!.uri, at.region!.startLine], ['fixtures/ci/charts/gateway/templates/service.yaml', 5]);
  });

  test('exit 2 (usage), every machine format: JSON and YAML the error object, code quality a blocker issue', () => {
    const args = ['doctor', '-f', 'fixtures/demo', '--fail-on', 'sometimes'];
    const json = runCli([...args, '-o', 'json']);
    assert.equal(json.status, 2);
    const doc = JSON.parse(json.stdout) as { error: { exitCode: number; kind: string; message: string } };
    assert.deepEqual(Object.keys(doc), ['error']);
    assert.deepEqual([doc.error.exitCode, doc.error.kind], [2, 'usage']);
    assert.equal(`tunnelmesh: ${doc.error.message}`, json.stderr.trimEnd());
    assert.deepEqual(jsyaml.load(runCli([...args, '-o', 'yaml']).stdout), doc);
    const cq = JSON.parse(runCli([...args, '-o', 'codequality']).stdout) as Array<{ severity: string; check_name: string; location: { path: string } }>;
    assert.deepEqual(cq.map((i) => [i.severity, i.check_name, i.location.path]), [['blocker', 'tunnelmesh/usage', '.gitlab-ci.yml']]);
    // -f takes the next word as its value, even -o: no format was asked for, nothing on stdout.
    assert.equal(runCli(['doctor', '--fail-on', 'x', '-f', '-o', 'json']).stdout, '');
  });

  test('exit 3 (cluster unreachable): SARIF and JSON name the cluster error; explain-protocol -o json too', async () => {
    const kubeconfig = await writeUnreachableKubeconfig();
    const sarif = await runCliAsync(['doctor', '--kubeconfig', kubeconfig, '-o', 'sarif']);
    assert.equal(sarif.status, 3);
    const invocation = parseValid(sarif.stdout).runs[0]!.invocations![0]!;
    assert.equal(invocation.executionSuccessful, false);
    assert.match(invocation.toolExecutionNotifications![0]!.message.text ?? "", /^tunnelmesh: cannot reach the cluster of context/);
    const json = JSON.parse((await runCliAsync(['doctor', '--kubeconfig', kubeconfig, '-o', 'json'])).stdout) as { error: { kind: string; exitCode: number } };
    assert.deepEqual([json.error.kind, json.error.exitCode], ['cluster', 3]);
    const explain = await runCliAsync(['explain-protocol', 'ingress/x', '--kubeconfig', kubeconfig, '-o', 'json']);
    assert.equal(explain.status, 3);
    assert.equal((JSON.parse(explain.stdout) as { error: { kind: string } }).error.kind, 'cluster');
  });

  test('why -o json: the error document too', () => {
    const res = runCli(['why', 'WRONG_VERSION_NUMBER', '-f', '-', '-o', 'json'], { input: broken });
    assert.equal(res.status, 2);
    assert.deepEqual(Object.keys(JSON.parse(res.stdout) as object), ['error']);
  });

  test('table and compact write nothing on stdout when the run fails (the error is on stderr)', () => {
    for (const o of ['table', 'compact']) {
      const res = runCli(['doctor', '-f', '-', '-o', o], { input: broken });
      assert.equal(res.status, 2);
      assert.equal(res.stdout, '');
    }
  });
});
