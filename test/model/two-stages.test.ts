// Domain §4 as Istio's pilot builds it: stage A (the cluster's tls, cluster_tls.go and
// MergeTrafficPolicy), stage B (the endpoints' tlsMode label, xds/endpoints/mtls_checker.go),
// headless Services (BestEffortInferServiceMTLSMode and ORIGINAL_DST clusters), and how several
// DestinationRules for one host are consolidated and looked up (push_context.go).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveHost } from '../../src/model/destinationrule.js';
import { MeshModel } from '../../src/model/model.js';
import { judgeEndpoint, type ClientContext, type EndpointVerdict } from '../../src/model/traffic.js';
import { deployment, destinationRule, meshConfig, namespace, peerAuthentication, pod, service, type Obj } from '../support/build.js';
import { snapshotOf } from '../support/rule-tester.js';

const FQDN = 'web.app.svc.cluster.local';
const WL_DISABLE_8080 = peerAuthentication('app', 'web', { selector: { app: 'web' }, portLevel: { 8080: 'DISABLE' } });

function model(extra: Obj[], o: { headless?: boolean; pods?: Obj[] } = {}): MeshModel {
  return new MeshModel(
    snapshotOf([
      namespace('app', { 'istio-injection': 'enabled' }),
      namespace('edge', { 'istio-injection': 'enabled' }),
      ...(o.pods ?? [deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }] })]),
      service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }], o.headless ? { clusterIP: 'None' } : {}),
      deployment('edge', 'client'),
      ...extra,
    ]),
  );
}

/** A client in `edge` (predicted sidecar) judged against every endpoint of web:80. */
function judge(m: MeshModel, subset?: string): EndpointVerdict[] {
  const svc = m.service('app', 'web')!;
  const client: ClientContext = { pod: m.podsIn('edge')[0]!, namespace: 'edge', label: 'client', ...(subset ? { subset } : {}) };
  return m.backendsOf(svc).map((p) => judgeEndpoint(m, client, svc, svc.ports[0]!, p, 'http'));
}

function one(m: MeshModel, subset?: string): EndpointVerdict {
  return judge(m, subset)[0]!;
}

const pick = (v: EndpointVerdict): [string, string, string] => [v.sends.sends, v.sends.cause, v.sends.decidedBy];

describe('stage A: the cluster', () => {
  it('a port entry without tls replaces the top-level tls: the cluster is auto', () => {
    const v = one(model([destinationRule('app', 'web', { host: FQDN, tls: 'SIMPLE', portLevel: [{ port: 80 }] })]));
    // Stage B then reads the top-level SIMPLE and strips the label: plaintext, decided at the endpoint.
    assert.deepEqual(pick(v), ['PLAINTEXT', 'dr-strips-label', 'endpoint']);
  });
  it('a subset top-level tls overrides the rule’s for routes to the subset', () => {
    const dr = destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE', subsets: [{ name: 'v1', labels: { app: 'web' }, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }] });
    assert.deepEqual(pick(one(model([dr]), 'v1')), ['ISTIO_MUTUAL', 'destination-rule', 'cluster']);
    assert.deepEqual(pick(one(model([dr]))), ['PLAINTEXT', 'destination-rule', 'cluster']);
  });
  it('a subset port entry without tls wipes the rule’s tls for that port (MergeTrafficPolicy with hasPortLevel)', () => {
    const dr = destinationRule('app', 'web', {
      host: FQDN,
      tls: 'ISTIO_MUTUAL',
      subsets: [{ name: 'v1', labels: { app: 'web' }, trafficPolicy: { portLevelSettings: [{ port: { number: 80 } }] } }],
    });
    const v = one(model([dr, WL_DISABLE_8080]), 'v1');
    // Cluster auto; the checker falls back to the rule's top-level ISTIO_MUTUAL, which keeps the label.
    assert.deepEqual(pick(v), ['ISTIO_MUTUAL', 'dr-keeps-label', 'endpoint']);
  });
  it('a subset port entry with tls wins over the rule’s port entry', () => {
    const dr = destinationRule('app', 'web', {
      host: FQDN,
      portLevel: [{ port: 80, tls: 'DISABLE' }],
      subsets: [{ name: 'v1', labels: { app: 'web' }, trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: 'ISTIO_MUTUAL' } }] } }],
    });
    assert.deepEqual(pick(one(model([dr]), 'v1')), ['ISTIO_MUTUAL', 'destination-rule', 'cluster']);
    assert.match(one(model([dr]), 'v1').sends.summary, /subsets\[v1\]\.trafficPolicy\.portLevelSettings\[port 80\]\.tls/);
  });
});

describe('stage B: the endpoints’ tlsMode label (the mtls checker)', () => {
  it('top-level DISABLE and a port entry without tls: auto cluster, every label stripped → plaintext', () => {
    const v = one(model([destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE', portLevel: [{ port: 80 }] })]));
    assert.deepEqual(pick(v), ['PLAINTEXT', 'dr-strips-label', 'endpoint']);
    assert.equal(v.sends.summary, 'cluster: auto mTLS (the port entry has no tls); endpoint: tlsMode stripped: DR top-level DISABLE');
    assert.ok(v.sends.steps.includes(`decided: ${v.sends.summary}`));
    assert.equal(v.sends.endpointMode?.mode, 'DISABLE');
  });
  it('top-level ISTIO_MUTUAL and a port entry without tls: the label is kept even where a workload PA disables the port', () => {
    const v = one(model([destinationRule('app', 'web', { host: FQDN, tls: 'ISTIO_MUTUAL', portLevel: [{ port: 80 }] }), WL_DISABLE_8080]));
    assert.deepEqual(pick(v), ['ISTIO_MUTUAL', 'dr-keeps-label', 'endpoint']);
    assert.equal(v.outcome, 'mtls-to-disabled-port');
    assert.equal(v.server?.mode, 'DISABLE');
  });
  it('ISTIO_MUTUAL keeps a label; it does not give one to a pod without it', () => {
    const pods = [pod('app', 'web-1', { owner: 'web', noTlsModeLabel: true, ports: [{ name: 'http', port: 8080 }] })];
    const v = one(model([destinationRule('app', 'web', { host: FQDN, tls: 'ISTIO_MUTUAL', portLevel: [{ port: 80 }] })], { pods }));
    assert.deepEqual(pick(v), ['PLAINTEXT', 'no-tls-label', 'endpoint']);
  });
  it('a port entry WITH tls overrides the top-level mode for the checker too', () => {
    // Entry tls ISTIO_MUTUAL: stage A already decides (explicit mTLS to every endpoint).
    assert.deepEqual(pick(one(model([destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE', portLevel: [{ port: 80, tls: 'ISTIO_MUTUAL' }] })]))), ['ISTIO_MUTUAL', 'destination-rule', 'cluster']);
  });
  it('no mode anywhere: the pod’s own label and its PA for the TARGET port decide', () => {
    assert.deepEqual(pick(one(model([destinationRule('app', 'web', { host: FQDN, portLevel: [{ port: 80 }] })]))), ['ISTIO_MUTUAL', 'auto-mtls', 'endpoint']);
    assert.deepEqual(pick(one(model([destinationRule('app', 'web', { host: FQDN, portLevel: [{ port: 80 }] }), WL_DISABLE_8080]))), ['PLAINTEXT', 'workload-disable', 'endpoint']);
  });
  it('a subset the rule does not define gives the checker no mode', () => {
    const v = one(model([destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE', portLevel: [{ port: 80 }] })]), 'v9');
    assert.deepEqual(pick(v), ['ISTIO_MUTUAL', 'auto-mtls', 'endpoint']);
  });
  it('a pod labelled tlsMode istio without a sidecar gets Istio mTLS from auto mTLS, and fails', () => {
    const pods = [pod('app', 'web-1', { owner: 'web', sidecar: 'none', labels: { app: 'web', 'security.istio.io/tlsMode': 'istio' }, ports: [{ name: 'http', port: 8080 }] })];
    const v = one(model([], { pods }));
    assert.deepEqual(pick(v), ['ISTIO_MUTUAL', 'auto-mtls', 'endpoint']);
    assert.equal(v.outcome, 'mtls-to-no-sidecar');
    assert.match(v.why, /labelled security\.istio\.io\/tlsMode=istio/);
  });
});

describe('headless Services: one decision for the whole Service', () => {
  const withSidecar = pod('app', 'web-1', { owner: 'web', ports: [{ name: 'http', port: 8080 }], podIP: '10.0.0.1' });
  const without = pod('app', 'web-2', { owner: 'web', sidecar: 'none', ports: [{ name: 'http', port: 8080 }], podIP: '10.0.0.2' });
  it('an endpoint without tlsMode istio makes it plaintext to every endpoint, the labelled ones included', () => {
    const vs = judge(model([], { headless: true, pods: [withSidecar, without] }));
    assert.deepEqual(vs.map(pick), [
      ['PLAINTEXT', 'headless', 'cluster'],
      ['PLAINTEXT', 'headless', 'cluster'],
    ]);
    assert.match(vs[0]!.sends.steps.join('\n'), /Pod app\/web-2 has no security\.istio\.io\/tlsMode label: plaintext to every endpoint/);
  });
  it('a label `disabled` counts as plaintext; another value does not (GetTLSModeFromEndpointLabels)', () => {
    const disabled = pod('app', 'web-2', { owner: 'web', sidecar: 'none', labels: { app: 'web', 'security.istio.io/tlsMode': 'disabled' }, ports: [{ name: 'http', port: 8080 }] });
    assert.equal(one(model([], { headless: true, pods: [withSidecar, disabled] })).sends.sends, 'PLAINTEXT');
  });
  it('all labelled: Istio mTLS to every endpoint, a workload PA DISABLE not consulted', () => {
    const v = one(model([WL_DISABLE_8080], { headless: true, pods: [withSidecar] }));
    assert.deepEqual(pick(v), ['ISTIO_MUTUAL', 'headless', 'cluster']);
    assert.equal(v.outcome, 'mtls-to-disabled-port');
  });
  it('a namespace DISABLE still turns auto mTLS off', () =>
    assert.deepEqual(pick(one(model([peerAuthentication('app', 'default', { mode: 'DISABLE' })], { headless: true, pods: [withSidecar] }))), ['PLAINTEXT', 'namespace-disable', 'cluster']));
  it('a DestinationRule tls still wins', () =>
    assert.deepEqual(pick(one(model([destinationRule('app', 'web', { host: FQDN, tls: 'ISTIO_MUTUAL' })], { headless: true, pods: [withSidecar, without] }))), ['ISTIO_MUTUAL', 'destination-rule', 'cluster']));
  it('a DestinationRule loadBalancer PASSTHROUGH makes a ClusterIP Service behave the same', () => {
    const dr = { ...destinationRule('app', 'web', { host: FQDN }), spec: { host: FQDN, trafficPolicy: { loadBalancer: { simple: 'PASSTHROUGH' } } } };
    assert.deepEqual(judge(model([dr], { pods: [withSidecar, without] })).map((v) => v.sends.sends), ['PLAINTEXT', 'PLAINTEXT']);
    assert.deepEqual(pick(one(model([dr, WL_DISABLE_8080], { pods: [withSidecar] }))), ['ISTIO_MUTUAL', 'headless', 'cluster']);
  });
  it('a ClusterIP Service decides per endpoint (the same pods)', () =>
    assert.deepEqual(judge(model([], { pods: [withSidecar, without] })).map((v) => v.sends.sends), ['ISTIO_MUTUAL', 'PLAINTEXT']));
});

describe('several DestinationRules for one host (push_context.go mergeDestinationRule)', () => {
  const old = (o: Partial<Parameters<typeof destinationRule>[2]>) => destinationRule('app', 'a-old', { host: FQDN, created: '2024-01-01T00:00:00Z', ...o });
  const recent = (o: Partial<Parameters<typeof destinationRule>[2]>) => destinationRule('app', 'b-new', { host: FQDN, created: '2024-02-01T00:00:00Z', ...o });
  it('equal exportTo: merged, the oldest trafficPolicy used', () => {
    const m = model([old({ tls: 'DISABLE' }), recent({ tls: 'ISTIO_MUTUAL' })]);
    const v = one(m);
    assert.equal(v.sends.sends, 'PLAINTEXT');
    assert.deepEqual(v.sends.match?.rules.map((r) => r.rule.metadata.name), ['a-old', 'b-new']);
  });
  it('different exportTo: not merged, the newest applies', () => {
    const v = one(model([old({ tls: 'DISABLE', exportTo: ['*'] }), recent({ tls: 'ISTIO_MUTUAL', exportTo: ['edge', 'app'] })]));
    assert.deepEqual(pick(v), ['ISTIO_MUTUAL', 'destination-rule', 'cluster']);
    assert.deepEqual(v.sends.match?.rules.map((r) => r.rule.metadata.name), ['b-new']);
    assert.match(v.sends.steps.join('\n'), /DestinationRule app\/a-old for the same host is not applied \(exportTo differs: the newest rule wins\)/);
  });
  it('an unset exportTo and `*` are different sets (not merged)', () =>
    assert.equal(one(model([old({ tls: 'DISABLE' }), recent({ exportTo: ['*'] })])).sends.sends, 'ISTIO_MUTUAL'));
  it('a newer rule whose exportTo is a strict superset is merged into the older (Istio’s loop as written)', () => {
    const v = one(model([old({ tls: 'DISABLE', exportTo: ['edge'] }), recent({ tls: 'ISTIO_MUTUAL', exportTo: ['edge', 'other'] })]));
    assert.deepEqual(v.sends.match?.rules.map((r) => r.rule.metadata.name), ['a-old', 'b-new']);
    assert.equal(v.sends.sends, 'PLAINTEXT');
  });
  it('subsets are concatenated; a name defined twice keeps the first definition', () => {
    const m = model([old({ subsets: [{ name: 'v1', labels: { version: 'one' } }] }), recent({ subsets: [{ name: 'v1', labels: { version: 'two' } }, { name: 'v2', labels: { version: 'v2' } }] })]);
    const match = m.destinationRules.lookup({ namespace: 'edge' }, FQDN, 'app')!;
    assert.deepEqual(match.entry.subsets.map((s) => `${s.subset.name}:${s.rule.metadata.name}`), ['v1:a-old', 'v2:b-new']);
  });
});

describe('lookup order and exportTo defaults (§6)', () => {
  it('a short host made of hex letters (db, cafe) is a short name, not an IP address', () => {
    assert.equal(resolveHost('db', 'app', 'cluster.local'), 'db.app.svc.cluster.local');
    assert.equal(resolveHost('fd00::1', 'app', 'cluster.local'), 'fd00::1');
  });
  const gatewayIn = (m: MeshModel) => m.destinationRules.lookup({ namespace: 'istio-system' }, FQDN, 'app');
  it('a client in the root namespace: root rules private to it, then the Service namespace, then public root rules', () => {
    const privateRoot = destinationRule('istio-system', 'private', { host: FQDN, tls: 'DISABLE', exportTo: ['.'] });
    const publicRoot = destinationRule('istio-system', 'public', { host: FQDN, tls: 'SIMPLE' });
    const inService = destinationRule('app', 'svc', { host: FQDN, tls: 'ISTIO_MUTUAL' });
    assert.equal(gatewayIn(model([privateRoot, publicRoot, inService]))?.rules[0]?.rule.metadata.name, 'private');
    assert.equal(gatewayIn(model([publicRoot, inService]))?.rules[0]?.rule.metadata.name, 'svc');
    assert.equal(gatewayIn(model([publicRoot]))?.rules[0]?.rule.metadata.name, 'public');
  });
  it('defaultDestinationRuleExportTo `.` makes a rule without exportTo private to its namespace', () => {
    const dr = destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE' });
    assert.equal(one(model([dr])).sends.sends, 'PLAINTEXT');
    assert.equal(one(model([dr, meshConfig({ defaultDestinationRuleExportTo: ['.'] })])).sends.sends, 'ISTIO_MUTUAL');
    // Its own namespace still sees it.
    assert.equal(model([dr, meshConfig({ defaultDestinationRuleExportTo: ['.'] })]).destinationRules.lookup({ namespace: 'app' }, FQDN, 'app')?.rules.length, 1);
  });
  it('a default naming namespaces is not honoured for DestinationRules (Istio reads only `.`)', () =>
    assert.equal(one(model([destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE' }), meshConfig({ defaultDestinationRuleExportTo: ['other'] })])).sends.sends, 'PLAINTEXT'));
  it('a private rule in the root namespace under the `.` default is seen by root-namespace clients first', () => {
    const m = model([destinationRule('istio-system', 'root', { host: FQDN, tls: 'DISABLE' }), destinationRule('app', 'svc', { host: FQDN }), meshConfig({ defaultDestinationRuleExportTo: ['.'] })]);
    assert.equal(gatewayIn(m)?.rules[0]?.rule.metadata.name, 'root');
  });
  it('--mesh-config gives the same settings as the ConfigMap', () => {
    const objects = [
      namespace('app', { 'istio-injection': 'enabled' }),
      namespace('edge', { 'istio-injection': 'enabled' }),
      deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }] }),
      service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
      deployment('edge', 'client'),
      destinationRule('app', 'web', { host: FQDN, tls: 'DISABLE' }),
    ];
    const m = new MeshModel(snapshotOf(objects), { meshConfig: { mesh: { defaultDestinationRuleExportTo: ['.'] }, source: '--mesh-config mesh.yaml' } });
    assert.equal(one(m).sends.sends, 'ISTIO_MUTUAL');
    assert.equal(m.mesh.source, '--mesh-config mesh.yaml');
    assert.ok(!m.notes.some((n) => /defaults are assumed/.test(n)));
    assert.ok(new MeshModel(snapshotOf(objects)).notes.some((n) => /Istio's defaults are assumed \(rootNamespace istio-system, enableAutoMtls true, defaultDestinationRuleExportTo everyone\)/.test(n)));
  });
});

describe('what a view needs is on the verdict', () => {
  it('captured and server are set on ok outcomes too; clientSends mirrors sends', () => {
    const v = one(model([peerAuthentication('app', 'default', { mode: 'STRICT' })]));
    assert.equal(v.outcome, 'ok');
    assert.equal(v.captured, true);
    assert.equal(v.server?.mode, 'STRICT');
    assert.equal(v.clientSends, 'ISTIO_MUTUAL');
    assert.equal(v.sends.decidedBy, 'endpoint');
  });
  it('an uncaptured port: captured false, and the mode the sidecar would apply', () => {
    const m = model([], { pods: [deployment('app', 'web', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '8080' }, ports: [{ name: 'http', port: 8080 }] })] });
    const v = one(m);
    assert.equal(v.outcome, 'mtls-to-uncaptured');
    assert.equal(v.captured, false);
    assert.equal(v.server?.mode, 'PERMISSIVE');
  });
});
