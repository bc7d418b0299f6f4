// Suppression by flag, annotation and config file: what is hidden, what is counted, and
// what is said about suppressions that name unknown codes or match nothing.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findConfig, parseConfig, resolvePolicy } from '../../src/cli/config.js';
import { UsageError } from '../../src/errors.js';
import { formatRef } from '../../src/core/k8s.js';
import { judge } from '../../src/rules/judge.js';
import { EMPTY_POLICY, parseSuppressSpec, type Policy } from '../../src/rules/suppress.js';
import { deployment, destinationRule, namespace, operatorCloudflared, operatorTunnelConfig, pod, service, type Obj } from '../support/build.js';
import { runCli } from '../support/bin.js';
import { snapshotOf } from '../support/rule-tester.js';

const OP = 'cloudflare-operator-system';

/** TM101 on Service app/gw:9091 and TM105 on Deployment app/gw (a misspelled key). */
function objects(o: { serviceAnnotations?: Record<string, string>; templateAnnotations?: Record<string, string>; workloadAnnotations?: Record<string, string> } = {}): Obj[] {
  const gw = deployment('app', 'gw', {
    annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091', 'traffic.istio.io/excludeOutboundPorts': '5432', ...o.templateAnnotations },
    ports: [{ port: 8080 }, { port: 9091 }],
  });
  if (o.workloadAnnotations) gw.metadata.annotations = o.workloadAnnotations;
  return [
    namespace(OP, { 'istio-injection': 'enabled' }),
    namespace('app', { 'istio-injection': 'enabled' }),
    operatorTunnelConfig([{ hostname: 'admin.example.com', service: 'http://gw.app.svc:9091' }]),
    operatorCloudflared({ annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' } }),
    gw,
    service('app', 'gw', [{ name: 'http', port: 8080 }, { name: 'http-admin', port: 9091 }], o.serviceAnnotations ? { annotations: o.serviceAnnotations } : {}),
  ];
}

function judged(objs: Obj[], policy: Policy = EMPTY_POLICY, namespace?: string) {
  const j = judge(snapshotOf(objs), { policy, ...(namespace ? { namespace } : {}) });
  return { findings: j.findings, suppressed: j.suppressed, warnings: j.policyWarnings };
}

function flags(...specs: string[]): Policy {
  return { suppressions: specs.map((s) => parseSuppressSpec(s, `--suppress ${s}`, 'flag')), severity: {} };
}

const codes = (fs: Array<{ code: string }>) => fs.map((f) => f.code);

describe('--suppress', () => {
  test('the baseline: TM101 and TM105 fire', () => {
    const r = judged(objects());
    assert.deepEqual(codes(r.findings), ['TM101', 'TM105']);
    assert.deepEqual(r.suppressed, []);
    assert.deepEqual(r.warnings, []);
  });

  test('CODE hides every finding of that code, and keeps it as suppressed', () => {
    const r = judged(objects(), flags('TM101'));
    assert.deepEqual(codes(r.findings), ['TM105']);
    assert.deepEqual(r.suppressed.map((s) => [s.finding.code, s.by.source, s.by.origin]), [['TM101', 'flag', '--suppress TM101']]);
  });

  test('a rule name works like its code; several codes with commas; code globs', () => {
    assert.deepEqual(codes(judged(objects(), flags('mtls-to-uncaptured-port')).findings), ['TM105']);
    assert.deepEqual(codes(judged(objects(), flags('TM101,TM105')).findings), []);
    assert.deepEqual(codes(judged(objects(), flags('tm1*')).findings), []);
  });

  test('CODE=Kind ns/name with globs matches the resource only', () => {
    assert.deepEqual(codes(judged(objects(), flags('TM101=Service app/g*')).findings), ['TM105']);
    assert.deepEqual(codes(judged(objects(), flags('TM101=service */gw')).findings), ['TM105'], 'kinds ignore case');
    const other = judged(objects(), flags('TM101=Service app/web'));
    assert.deepEqual(codes(other.findings), ['TM101', 'TM105']);
    assert.deepEqual(other.warnings, ['--suppress TM101=Service app/web matched no finding in this run']);
    assert.deepEqual(codes(judged(objects(), flags('TM101=Deployment app/gw')).findings), ['TM101', 'TM105'], 'not the Deployment behind the Service');
  });

  test('a Pod finding is matched through its owning workload', () => {
    // Live-style: a running pod owned (through its ReplicaSet) by Deployment app/gw carries the misspelled key.
    const objs: Obj[] = [
      namespace('app', { 'istio-injection': 'enabled' }),
      pod('app', 'gw-7d9f8b6c5d-abcde', { owner: 'gw', annotations: { 'traffic.istio.io/excludeInboundPorts': '9091' } }),
      service('app', 'gw', [{ name: 'http', port: 80 }]),
    ];
    assert.deepEqual(codes(judged(objs).findings), ['TM105']);
    assert.deepEqual(codes(judged(objs, flags('TM105=Deployment app/gw')).findings), []);
    assert.deepEqual(codes(judged(objs, flags('TM105=Pod app/gw-*')).findings), []);
  });

  test('unknown codes are warned about', () => {
    const r = judged(objects(), flags('TM999', 'TM101'));
    assert.deepEqual(r.warnings, ['--suppress TM999: unknown rule code TM999 (see tunnelmesh rules)']);
  });

  test('bad specs are usage errors', () => {
    assert.throws(() => parseSuppressSpec('TM101=Service', 'x', 'flag'), UsageError);
    assert.throws(() => parseSuppressSpec('TM101=Service app/', 'x', 'flag'), UsageError);
    assert.throws(() => parseSuppressSpec('=Service app/x', 'x', 'flag'), UsageError);
  });

  test('with -n, a suppression for another namespace is not reported as unused', () => {
    const r = judged(objects(), flags('TM101=Service shop/*'), 'app');
    assert.deepEqual(r.warnings, []);
  });
});

describe('tunnelmesh.io/suppress annotation', () => {
  test('on the resource itself', () => {
    const r = judged(objects({ serviceAnnotations: { 'tunnelmesh.io/suppress': 'TM101' } }));
    assert.deepEqual(codes(r.findings), ['TM105']);
    assert.deepEqual(r.suppressed.map((s) => s.by.origin), ['annotation tunnelmesh.io/suppress on Service app/gw']);
  });

  test('"*" suppresses every code on that resource, and only there', () => {
    assert.deepEqual(codes(judged(objects({ serviceAnnotations: { 'tunnelmesh.io/suppress': '*' } })).findings), ['TM105']);
  });

  test('pod-template findings: on the workload, or on its pod template', () => {
    assert.deepEqual(codes(judged(objects({ workloadAnnotations: { 'tunnelmesh.io/suppress': 'TM105' } })).findings), ['TM101']);
    assert.deepEqual(codes(judged(objects({ templateAnnotations: { 'tunnelmesh.io/suppress': 'TM104, TM105' } })).findings), ['TM101']);
  });

  test('an annotation on another object the finding names suppresses it, and says which object carried it', () => {
    // TM101 is on Service app/gw; its evidence names Deployment app/gw, whose capture exclusion is at fault.
    const r = judged(objects({ workloadAnnotations: { 'tunnelmesh.io/suppress': 'TM101' } }));
    assert.deepEqual(codes(r.findings), ['TM105']);
    assert.deepEqual(r.suppressed.map((s) => [s.finding.code, s.finding.resource.kind, s.by.origin, s.by.object?.kind]), [
      ['TM101', 'Service', 'annotation tunnelmesh.io/suppress on Deployment app/gw', 'Deployment'],
    ]);
  });

  test('the DestinationRule of a TM103 can carry the suppression of that TM103', () => {
    const fqdn = 'db.app.svc.cluster.local';
    const dr = destinationRule('app', 'db', { host: fqdn, tls: 'ISTIO_MUTUAL' });
    const objs = [namespace('app'), deployment('app', 'db', { ports: [{ port: 5432 }] }), service('app', 'db', [{ name: 'tcp-postgres', port: 5432 }]), dr];
    assert.deepEqual(codes(judged(objs).findings), ['TM103']);
    dr.metadata.annotations = { 'tunnelmesh.io/suppress': 'TM103' };
    const r = judged(objs);
    assert.deepEqual(codes(r.findings), []);
    assert.deepEqual(r.suppressed.map((s) => [s.finding.code, formatRef(s.finding.resource), s.by.origin]), [['TM103', 'Service app/db', 'annotation tunnelmesh.io/suppress on DestinationRule app/db']]);
  });

  test('"*" on another object the finding names does not suppress it, and says so', () => {
    const r = judged(objects({ workloadAnnotations: { 'tunnelmesh.io/suppress': '*' } }));
    // TM105 is about Deployment app/gw itself: "*" there suppresses it; TM101 only names it.
    assert.deepEqual(codes(r.findings), ['TM101']);
    assert.deepEqual(codes(r.suppressed.map((s) => s.finding)), ['TM105']);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /"\*" on Deployment app\/gw suppresses only findings about that object; TM101 on Service app\/gw names it too: write "TM101" there/);
  });

  test('unknown codes in an annotation are warned about, naming the object', () => {
    const r = judged(objects({ serviceAnnotations: { 'tunnelmesh.io/suppress': 'TM101,TM1O4' } }));
    assert.deepEqual(r.warnings, ['annotation tunnelmesh.io/suppress on Service app/gw: unknown rule code TM1O4']);
  });
});

describe('severity overrides', () => {
  test('change the severity, the sort order and what --fail-on judges', () => {
    const r = judged(objects(), { suppressions: [], severity: { TM101: 'info', TM105: 'error' } });
    assert.deepEqual(r.findings.map((f) => `${f.code}:${f.severity}`), ['TM105:error', 'TM101:info']);
  });
});

describe('.tunnelmesh.yaml', () => {
  const CONFIG = `
failOn: warning
suppress:
  - TM105
  - code: TM101
    kind: Service
    namespace: app
    name: g*
    reason: actuator scraped directly
  - codes: [TM104]
severity:
  tm201: warning
`;

  test('parses suppressions, failOn and severity overrides', () => {
    const warnings: string[] = [];
    const c = parseConfig(CONFIG, '.tunnelmesh.yaml', (m) => warnings.push(m));
    assert.equal(c.failOn, 'warning');
    assert.deepEqual(c.severity, { TM201: 'warning' });
    assert.deepEqual(c.suppressions.map((s) => [s.codes, s.kind, s.namespace, s.name, s.reason, s.origin]), [
      [['TM105'], undefined, undefined, undefined, undefined, '.tunnelmesh.yaml suppress[0]'],
      [['TM101'], 'Service', 'app', 'g*', 'actuator scraped directly', '.tunnelmesh.yaml suppress[1]'],
      [['TM104'], undefined, undefined, undefined, undefined, '.tunnelmesh.yaml suppress[2]'],
    ]);
    assert.deepEqual(warnings, []);
  });

  test('mistakes are exit-2 errors naming the file and entry; unknown top-level keys a warning', () => {
    assert.throws(() => parseConfig('failOn: sometimes\n', 'c.yaml', () => undefined), /c.yaml: failOn/);
    assert.throws(() => parseConfig('suppress:\n  - {code: TM101, nmae: x}\n', 'c.yaml', () => undefined), /c.yaml suppress\[0\]: unknown key "nmae"/);
    assert.throws(() => parseConfig('severity:\n  TM101: fatal\n', 'c.yaml', () => undefined), /c.yaml: severity.TM101/);
    assert.throws(() => parseConfig('suppress: [\n', 'c.yaml', () => undefined), /c.yaml:\d+: invalid YAML/);
    const warnings: string[] = [];
    parseConfig('failon: none\n', 'c.yaml', (m) => warnings.push(m));
    assert.match(warnings[0] ?? '', /unknown key "failon"/);
  });

  test('found upward from the working directory; flags win over it', () => {
    const root = mkdtempSync(join(tmpdir(), 'tunnelmesh-config-'));
    const deep = join(root, 'charts', 'gateway');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(root, '.tunnelmesh.yaml'), CONFIG);
    assert.equal(findConfig(deep), join(root, '.tunnelmesh.yaml'));
    const r = resolvePolicy({ failOn: 'error', suppress: ['TM201'] }, () => undefined, deep);
    assert.equal(r.failOn, 'error');
    const file = join(root, '.tunnelmesh.yaml'); // above the working directory: named in full
    assert.deepEqual(r.policy.suppressions.map((s) => s.origin), ['--suppress TM201', `${file} suppress[0]`, `${file} suppress[1]`, `${file} suppress[2]`]);
    assert.deepEqual(r.policy.severity, { TM201: 'warning' });
    assert.equal(resolvePolicy({ config: false }, () => undefined, deep).config, undefined);
  });
});

describe('through the CLI', () => {
  const RENDERED = readFileSync(new URL('../../fixtures/ci/rendered.yaml', import.meta.url), 'utf8');

  test('config in the working directory: counted in JSON, listed with its origin, exit code from the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunnelmesh-cli-'));
    writeFileSync(join(dir, '.tunnelmesh.yaml'), 'failOn: warning\nsuppress:\n  - code: TM101\n    reason: tracked in TICKET-1\n  - TM207\n');
    const res = runCli(['doctor', '-f', '-', '-o', 'json'], { input: RENDERED, cwd: dir });
    assert.equal(res.status, 1, 'failOn warning from the config: the TM105 warning fails');
    const json = JSON.parse(res.stdout) as { summary: Record<string, number>; suppressed: Array<{ code: string; suppressedBy: Record<string, unknown> }> };
    assert.deepEqual(json.summary, { error: 0, warning: 1, info: 0, suppressed: 1, edges: { total: 2, judged: 2, notJudged: 0 }, incomplete: 0 });
    assert.deepEqual(json.suppressed.map((s) => [s.code, s.suppressedBy]), [['TM101', { source: 'config', origin: '.tunnelmesh.yaml suppress[0]', reason: 'tracked in TICKET-1' }]]);
    assert.match(res.stderr, /\.tunnelmesh\.yaml suppress\[1\]: unknown rule code TM207|\.tunnelmesh\.yaml suppress\[1\] matched no finding/);
    assert.equal(runCli(['doctor', '-f', '-', '-o', 'json', '--fail-on', 'error'], { input: RENDERED, cwd: dir }).status, 0, 'the flag wins');
    assert.equal(runCli(['doctor', '-f', '-', '-o', 'json', '--no-config'], { input: RENDERED, cwd: dir }).status, 1, '--no-config: TM101 counts again');
  });

  test('the table says how many were suppressed and by what', () => {
    const res = runCli(['doctor', '-f', '-', '--suppress', 'TM105'], { input: RENDERED });
    assert.match(res.stdout, /Suppressed \(listed, not counted toward --fail-on\):\n  • warning TM105 Deployment app\/gateway — --suppress TM105/);
    assert.match(res.stdout, /Summary: 1 error, 0 warnings, 0 info; 1 suppressed \(TM105 ×1\)/);
  });
});
