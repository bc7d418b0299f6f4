// --fix-out DIR: one file per recommended fix named after its finding, alternatives apart,
// fixes of one object merged, conflicting edits reported and not written, an index, and
// applying the directory really removes the findings it fixes.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import { cloudflaredConfigMap, cloudflaredDeployment, destinationRule, deployment, namespace, operatorCloudflared, operatorTunnelConfig, peerAuthentication, service, toYaml, type Obj } from '../support/build.js';
import { runCli } from '../support/bin.js';
import { applyFix, findingsOf } from '../support/rule-tester.js';
import { RULES } from '../../src/rules/index.js';

const OP = 'cloudflare-operator-system';
const FQDN = 'gw.app.svc.cluster.local';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tunnelmesh-fixout-'));
}

function list(dir: string, sub = ''): string[] {
  const path = join(dir, sub);
  return existsSync(path) ? readdirSync(path).sort() : [];
}

/** A meshed cloudflared reaching two excluded ports of gw; an existing DestinationRule for gw. */
function twoPorts(extra: Obj[] = [], templateAnnotations: Record<string, string> = {}): Obj[] {
  return [
    namespace(OP, { 'istio-injection': 'enabled' }),
    namespace('app', { 'istio-injection': 'enabled' }),
    operatorTunnelConfig([
      { hostname: 'admin.example.com', service: 'http://gw.app.svc:9091' },
      { hostname: 'metrics.example.com', service: 'http://gw.app.svc:9092' },
    ]),
    operatorCloudflared(),
    deployment('app', 'gw', {
      annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091,9092', ...templateAnnotations },
      ports: [{ port: 8080 }, { port: 9091 }, { port: 9092 }],
    }),
    service('app', 'gw', [
      { name: 'http', port: 8080 },
      { name: 'http-admin', port: 9091 },
      { name: 'http-metrics', port: 9092 },
    ]),
    ...extra,
  ];
}

function fixOut(objects: Obj[], dir: string, extra: string[] = []) {
  return runCli(['doctor', '-f', '-', '--fix-out', dir, '-o', 'json', ...extra], { input: toYaml(objects) });
}

/** kubectl apply -f DIR, then kubectl apply --server-side -f DIR/server-side, on the objects. */
function applyDir(objects: Obj[], dir: string): Obj[] {
  let out = objects;
  for (const sub of ['', 'server-side']) {
    for (const name of list(dir, sub).filter((n) => n.endsWith('.yaml'))) {
      out = applyFix(out, { title: name, yaml: readFileSync(join(dir, sub, name), 'utf8'), apply: sub === 'server-side' ? 'server-side' : 'apply' });
    }
  }
  return out;
}

describe('--fix-out', () => {
  test('the demo: the recommended fix at the top, alternatives apart, an index', () => {
    const dir = join(tmp(), 'fixes');
    const res = runCli(['doctor', '-f', 'fixtures/demo', '--fix-out', dir]);
    assert.equal(res.status, 1);
    assert.deepEqual(list(dir), ['README.md', 'TM101-service-app-sg-cloud-gateway-9091-1.yaml', 'alternatives']);
    assert.deepEqual(list(dir, 'alternatives'), ['TM101-service-app-sg-cloud-gateway-9091-2.yaml', 'TM101-service-app-sg-cloud-gateway-9091-3.yaml']);
    const fix = readFileSync(join(dir, 'TM101-service-app-sg-cloud-gateway-9091-1.yaml'), 'utf8');
    assert.match(fix, /^# fix for TM101 Service app\/sg-cloud-gateway :9091\n/);
    assert.match(fix, /# apply with: kubectl apply -f <this file>\n/);
    const doc = jsyaml.load(fix) as Obj;
    assert.equal(doc.kind, 'DestinationRule');
    const index = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.match(index, /\| TM101 Service app\/sg-cloud-gateway :9091 \| error \| DestinationRule app\/sg-cloud-gateway-9091-no-mtls: .* \| `TM101-service-app-sg-cloud-gateway-9091-1\.yaml` \| `alternatives\/TM101-service-app-sg-cloud-gateway-9091-2\.yaml`, `alternatives\/TM101-service-app-sg-cloud-gateway-9091-3\.yaml` \|/);
    assert.match(index, /kubectl apply -f <this directory>/);
    assert.match(res.stderr, /wrote 3 fix files and README.md to /);
  });

  test('two findings editing the same DestinationRule: one merged file; applying it fixes both', () => {
    const objects = twoPorts([destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 8080, tls: 'ISTIO_MUTUAL' }] })]);
    const before = findingsOf(RULES, objects).filter((f) => f.code === 'TM101');
    assert.deepEqual(before.map((f) => f.port), [9091, 9092]);
    const dir = tmp();
    fixOut(objects, dir);
    const top = list(dir).filter((n) => n.endsWith('.yaml'));
    assert.deepEqual(top, ['TM101-service-app-gw-9091-1.yaml'], 'one file for the one DestinationRule');
    const merged = readFileSync(join(dir, top[0]!), 'utf8');
    assert.match(merged, /^# fix for TM101 Service app\/gw :9091 and TM101 Service app\/gw :9092\n/);
    const dr = jsyaml.load(merged) as { spec: { trafficPolicy: { portLevelSettings: Array<{ port: { number: number }; tls: { mode: string } }> } } };
    assert.deepEqual(
      dr.spec.trafficPolicy.portLevelSettings.map((s) => [s.port.number, s.tls.mode]),
      [[8080, 'ISTIO_MUTUAL'], [9091, 'DISABLE'], [9092, 'DISABLE']],
    );
    const index = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.match(index, /TM101 Service app\/gw :9092 .*`TM101-service-app-gw-9091-1\.yaml`.*merged with the fixes of TM101 Service app\/gw :9091/);
    const after = findingsOf(RULES, applyDir(objects, dir)).filter((f) => f.code === 'TM101');
    assert.deepEqual(after, [], 'applying the directory fixes both ports');
  });

  test('two fixes setting one field differently: the conflict is reported, the second is not written', () => {
    // Two misspellings of the capture annotation with different values: each TM105 fix writes
    // traffic.sidecar.istio.io/excludeInboundPorts on the same pod template, differently.
    const objects = [
      namespace('app', { 'istio-injection': 'enabled' }),
      deployment('app', 'gw', {
        annotations: { 'traffic.istio.io/excludeInboundPorts': '9091', 'traffic.sidecar.istio.io/excludeinboundports': '9092' },
        ports: [{ port: 8080 }],
      }),
      service('app', 'gw', [{ name: 'http', port: 8080 }]),
    ];
    const tm105 = findingsOf(RULES, objects).filter((f) => f.code === 'TM105');
    assert.equal(tm105.length, 2);
    const dir = tmp();
    const res = fixOut(objects, dir);
    assert.deepEqual(list(dir).filter((n) => n.endsWith('.yaml')), [], 'pod-template patches are not in the directory root');
    assert.deepEqual(list(dir, 'server-side'), ['TM105-deployment-app-gw-1.yaml']);
    const patch = readFileSync(join(dir, 'server-side', 'TM105-deployment-app-gw-1.yaml'), 'utf8');
    assert.match(patch, /# apply with: kubectl apply --server-side --field-manager=tunnelmesh -f <this file>/);
    assert.match(res.stderr, /--fix-out: the fix for TM105 Deployment app\/gw \(#2\) sets Deployment app\/gw spec\.template\.metadata\.annotations\.traffic\.sidecar\.istio\.io\/excludeInboundPorts differently from server-side\/TM105-deployment-app-gw-1\.yaml; not written/);
    const index = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.match(index, /## Conflicts/);
    assert.match(index, /### TM105 Deployment app\/gw \(#2\)\n\n`Deployment app\/gw` field `spec\.template\.metadata\.annotations\.traffic\.sidecar\.istio\.io\/excludeInboundPorts`: this fix sets "9092", `server-side\/TM105-deployment-app-gw-1\.yaml` \(for TM105 Deployment app\/gw\) sets "9091"/);
    assert.match(index, /\| TM105 Deployment app\/gw \(#2\) \| warning \| .* \| conflicts with server-side\/TM105-deployment-app-gw-1\.yaml: not written/);
    assert.match(index, /--server-side --field-manager=tunnelmesh -f <this directory>\/server-side/);
  });

  test('issue 13: two findings fixing one PeerAuthentication give one object with the right key (TM107 used to stay)', () => {
    // A cloudflared without a sidecar sends plaintext to web:80 → 8080, which the namespace makes STRICT (TM102);
    // the workload policy meant to accept it is keyed by the Service port 80 (TM107).
    const objects = [
      namespace('edge'),
      cloudflaredConfigMap('edge', 'cloudflared', [{ hostname: 'web.example.com', service: 'http://web.app.svc:80' }, { service: 'http_status:404' }]),
      cloudflaredDeployment('edge', 'cloudflared', 'cloudflared'),
      namespace('app', { 'istio-injection': 'enabled' }),
      deployment('app', 'web', { ports: [{ port: 8080 }] }),
      service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
      peerAuthentication('app', 'default', { mode: 'STRICT' }),
      peerAuthentication('app', 'web', { selector: { app: 'web' }, portLevel: { 80: 'PERMISSIVE' } }),
    ];
    const before = findingsOf(RULES, objects).map((f) => `${f.code} ${f.resource.kind} ${f.resource.name}`);
    assert.ok(before.includes('TM102 Service web') && before.includes('TM107 PeerAuthentication web'), before.join('\n'));
    const dir = tmp();
    fixOut(objects, dir);
    const files = list(dir).filter((n) => n.endsWith('.yaml'));
    const paFiles = files.filter((n) => (jsyaml.load(readFileSync(join(dir, n), 'utf8')) as Obj).kind === 'PeerAuthentication');
    assert.equal(paFiles.length, 1, `one file for the one PeerAuthentication: ${files.join(', ')}`);
    const pa = jsyaml.load(readFileSync(join(dir, paFiles[0]!), 'utf8')) as { spec: { portLevelMtls: Record<string, unknown> } };
    assert.deepEqual(Object.keys(pa.spec.portLevelMtls), ['8080'], 'the Service port key is gone, the target port key is there');
    const after = findingsOf(RULES, applyDir(objects, dir)).filter((f) => f.severity !== 'info').map((f) => `${f.code} ${f.resource.kind} ${f.resource.name}`);
    assert.deepEqual(after, [], 'applying the directory fixes both');
  });

  test('two new DestinationRules for one host become one (Istio would ignore the second)', () => {
    const objects = twoPorts();
    const dir = tmp();
    fixOut(objects, dir);
    assert.deepEqual(list(dir).filter((n) => n.endsWith('.yaml')), ['TM101-service-app-gw-9091-1.yaml']);
    const dr = jsyaml.load(readFileSync(join(dir, 'TM101-service-app-gw-9091-1.yaml'), 'utf8')) as { metadata: { name: string }; spec: { host: string; trafficPolicy: { portLevelSettings: Array<{ port: { number: number } }> } } };
    assert.equal(dr.metadata.name, 'gw-9091-no-mtls');
    assert.deepEqual(dr.spec.trafficPolicy.portLevelSettings.map((p) => p.port.number), [9091, 9092]);
    assert.deepEqual(findingsOf(RULES, applyDir(objects, dir)).filter((f) => f.code === 'TM101'), []);
  });

  test('a rerun into the same directory replaces its files; a foreign directory is refused', () => {
    const dir = tmp();
    fixOut(twoPorts(), dir);
    assert.ok(list(dir).includes('TM101-service-app-gw-9091-1.yaml'));
    fixOut(twoPorts([destinationRule('app', 'gw', { host: FQDN, portLevel: [{ port: 9091, tls: 'DISABLE' }] })]), dir);
    assert.ok(!list(dir).includes('TM101-service-app-gw-9091-1.yaml'), 'the stale fix for 9091 is gone');
    assert.ok(list(dir).includes('TM101-service-app-gw-9092-1.yaml'));
    const foreign = tmp();
    writeFileSync(join(foreign, 'deployment.yaml'), 'kind: Deployment\n');
    const res = fixOut(twoPorts(), foreign);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /^tunnelmesh: --fix-out .*: the directory is not empty and was not written by tunnelmesh/);
    // Refused before anything is collected: -o json carries the error only (docs/cli.md), no findings.
    assert.deepEqual(Object.keys(JSON.parse(res.stdout) as object), ['error'], 'refused before anything is collected or printed');
    assert.deepEqual(list(foreign), ['deployment.yaml']);
  });

  test('suppressed findings get no fix file', () => {
    const dir = tmp();
    fixOut(twoPorts(), dir, ['--suppress', 'TM101=Service app/gw']);
    assert.deepEqual(list(dir).filter((n) => n.startsWith('TM101')), []);
  });
});
