// `-o sarif` validates against the official SARIF 2.1.0 schema and carries what GitHub code
// scanning needs: a relative artifact URI and a start line on every result, rules with help
// text, a logical location `Kind/ns/name`, stable fingerprints, suppressions kept as such.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import type { Log, Result } from 'sarif';
import { RULES } from '../../src/rules/index.js';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import { loadManifests, runCli, runCliAsync } from '../support/bin.js';
import { writeKubeconfig } from '../support/kubeconfig.js';

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
