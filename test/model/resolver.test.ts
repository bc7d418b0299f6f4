// Domain §4–§6 precedence, checked on the resolver directly.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshModel } from '../../src/model/model.js';
import { decideSends, judgeEndpoint, type ClientContext } from '../../src/model/traffic.js';
import { deployment, destinationRule, meshConfig, namespace, peerAuthentication, pod, service, type Obj } from '../support/build.js';
import { snapshotOf } from '../support/rule-tester.js';

const FQDN = 'web.app.svc.cluster.local';

function model(extra: Obj[], appLabels: Record<string, string> = { 'istio-injection': 'enabled' }): MeshModel {
  return new MeshModel(
    snapshotOf([
      namespace('app', appLabels),
      namespace('edge', { 'istio-injection': 'enabled' }),
      deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9091 }] }),
      service('app', 'web', [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'http-admin', port: 9191, targetPort: 'admin' },
      ]),
      deployment('edge', 'client'),
      ...extra,
    ]),
  );
}

/** What a client in `edge` (with a predicted sidecar) sends to web:<servicePort>. */
function sends(m: MeshModel, servicePort = 80): { sends: string; cause: string; steps: string[] } {
  const svc = m.service('app', 'web')!;
  const sp = svc.ports.find((p) => p.port === servicePort)!;
  const target = m.podsIn('app')[0]!;
  const clientPod = m.podsIn('edge')[0]!;
  const client: ClientContext = { pod: clientPod, namespace: 'edge', label: 'client' };
  const v = judgeEndpoint(m, client, svc, sp, target, 'http');
  return { sends: v.sends.sends, cause: v.sends.cause, steps: v.sends.steps };
}

describe('what a meshed client sends (§4, in order)', () => {
  it('6. auto mTLS by default', () => assert.deepEqual(pick(sends(model([]))), ['ISTIO_MUTUAL', 'auto-mtls']));
  it('5. the target pod’s own PA DISABLE for the TARGET port → plaintext to that endpoint', () =>
    assert.deepEqual(pick(sends(model([peerAuthentication('app', 'web', { selector: { app: 'web' }, portLevel: { 9091: 'DISABLE' } })]), 9191)), ['PLAINTEXT', 'workload-disable']));
  it('5. …keyed by the Service port it matches nothing', () =>
    assert.deepEqual(pick(sends(model([peerAuthentication('app', 'web', { selector: { app: 'web' }, portLevel: { 9191: 'DISABLE' } })]), 9191)), ['ISTIO_MUTUAL', 'auto-mtls']));
  it('4. an endpoint without the tlsMode label gets plaintext', () => {
    const m = model([], {});
    assert.deepEqual(pick(sends(m)), ['PLAINTEXT', 'no-tls-label']);
  });
  it('3. namespace-wide DISABLE → plaintext to the whole Service', () =>
    assert.deepEqual(pick(sends(model([peerAuthentication('app', 'default', { mode: 'DISABLE' })]))), ['PLAINTEXT', 'namespace-disable']));
  it('3. mesh-wide DISABLE in the root namespace', () =>
    assert.deepEqual(pick(sends(model([peerAuthentication('istio-system', 'default', { mode: 'DISABLE' })]))), ['PLAINTEXT', 'namespace-disable']));
  it('3. a namespace STRICT over a mesh DISABLE is not DISABLE', () =>
    assert.deepEqual(pick(sends(model([peerAuthentication('istio-system', 'default', { mode: 'DISABLE' }), peerAuthentication('app', 'default', { mode: 'STRICT' })]))), ['ISTIO_MUTUAL', 'auto-mtls']));
  it('2. enableAutoMtls false → plaintext', () => assert.deepEqual(pick(sends(model([meshConfig({ enableAutoMtls: false })]))), ['PLAINTEXT', 'auto-mtls-disabled']));
  it('1. a DestinationRule tls wins over everything, even a PA DISABLE', () =>
    assert.deepEqual(pick(sends(model([peerAuthentication('app', 'default', { mode: 'DISABLE' }), destinationRule('app', 'web', { host: FQDN, tls: 'ISTIO_MUTUAL' })]))), ['ISTIO_MUTUAL', 'destination-rule']));
  it('1. DR port-level REPLACES the top level: an entry without tls falls back to auto mTLS', () => {
    const r = sends(model([peerAuthentication('app', 'default', { mode: 'DISABLE' }), destinationRule('app', 'web', { host: FQDN, tls: 'ISTIO_MUTUAL', portLevel: [{ port: 80 }] })]));
    assert.deepEqual(pick(r), ['PLAINTEXT', 'namespace-disable']);
  });
  it('1. DR portLevelSettings are keyed by the SERVICE port', () => {
    assert.deepEqual(pick(sends(model([destinationRule('app', 'web', { host: FQDN, portLevel: [{ port: 9191, tls: 'DISABLE' }] })]), 9191)), ['PLAINTEXT', 'destination-rule']);
    assert.deepEqual(pick(sends(model([destinationRule('app', 'web', { host: FQDN, portLevel: [{ port: 9091, tls: 'DISABLE' }] })]), 9191)), ['ISTIO_MUTUAL', 'auto-mtls']);
  });
  it('1. SIMPLE is TLS originated by the sidecar, not Istio mTLS', () => assert.deepEqual(pick(sends(model([destinationRule('app', 'web', { host: FQDN, tls: 'SIMPLE' })]))), ['SIMPLE', 'destination-rule']));
  it('a client without a sidecar sends what its URL says', () => {
    const m = model([]);
    const svc = m.service('app', 'web')!;
    const client: ClientContext = { pod: { ...m.podsIn('edge')[0]!, sidecar: { state: 'absent', predicted: true, ambient: false, tlsModeLabel: false, reason: 'not injected' } }, namespace: 'edge', label: 'c' };
    assert.equal(decideSends(m, client, svc, svc.ports[0]!, m.podsIn('app')[0]!, 8080, 'http').sends, 'PLAINTEXT');
    assert.equal(decideSends(m, client, svc, svc.ports[0]!, m.podsIn('app')[0]!, 8080, 'https').sends, 'APP_TLS');
  });
});

describe('which DestinationRule applies (§6)', () => {
  const disable = (ns: string, name: string, extra: Partial<Parameters<typeof destinationRule>[2]> = {}) =>
    destinationRule(ns, name, { host: FQDN, tls: 'DISABLE', ...extra });
  const istio = (ns: string, name: string, extra: Partial<Parameters<typeof destinationRule>[2]> = {}) =>
    destinationRule(ns, name, { host: FQDN, tls: 'ISTIO_MUTUAL', ...extra });
  it("the client's namespace first, then the Service's", () => assert.equal(sends(model([istio('edge', 'a'), disable('app', 'b')])).sends, 'ISTIO_MUTUAL'));
  it("the Service's namespace before the root namespace", () => assert.equal(sends(model([istio('app', 'a'), disable('istio-system', 'b')])).sends, 'ISTIO_MUTUAL'));
  it('the root namespace last', () => assert.equal(sends(model([disable('istio-system', 'b')])).sends, 'PLAINTEXT'));
  it('no merging across steps: a client-namespace rule without tls hides the Service namespace’s tls', () =>
    assert.deepEqual(pick(sends(model([destinationRule('edge', 'lb', { host: FQDN }), disable('app', 'b')]))), ['ISTIO_MUTUAL', 'auto-mtls']));
  it('an exact host beats a wildcard in the same namespace', () =>
    assert.equal(sends(model([destinationRule('app', 'wild', { host: '*.app.svc.cluster.local', tls: 'DISABLE' }), istio('app', 'exact')])).sends, 'ISTIO_MUTUAL'));
  it('the most specific wildcard wins', () =>
    assert.equal(sends(model([destinationRule('istio-system', 'all', { host: '*.local', tls: 'DISABLE' }), destinationRule('istio-system', 'svc', { host: '*.svc.cluster.local', tls: 'ISTIO_MUTUAL' })])).sends, 'ISTIO_MUTUAL'));
  it("exportTo '.' hides a Service-namespace rule from other namespaces", () => assert.equal(sends(model([disable('app', 'b', { exportTo: ['.'] })])).sends, 'ISTIO_MUTUAL'));
  it('exportTo naming the client namespace', () => assert.equal(sends(model([disable('app', 'b', { exportTo: ['edge'] })])).sends, 'PLAINTEXT'));
  it("exportTo '~' hides it from everyone", () => assert.equal(sends(model([disable('app', 'b', { exportTo: ['~'] })])).sends, 'ISTIO_MUTUAL'));
  it('a rule with a workloadSelector applies only to the selected clients of its namespace', () => {
    assert.equal(sends(model([disable('edge', 'b', { workloadSelector: { app: 'client' } })])).sends, 'PLAINTEXT');
    assert.equal(sends(model([disable('edge', 'b', { workloadSelector: { app: 'other' } })])).sends, 'ISTIO_MUTUAL');
  });
  it('several rules for one host in one namespace merge: the oldest trafficPolicy wins', () =>
    assert.equal(sends(model([disable('app', 'b-new', { created: '2025-02-01T00:00:00Z' }), istio('app', 'a-old', { created: '2025-01-01T00:00:00Z' })])).sends, 'ISTIO_MUTUAL'));
  it('a short host resolves in the rule’s own namespace', () => {
    assert.equal(sends(model([destinationRule('app', 's', { host: 'web', tls: 'DISABLE' })])).sends, 'PLAINTEXT');
    assert.equal(sends(model([destinationRule('edge', 's', { host: 'web', tls: 'DISABLE' })])).sends, 'ISTIO_MUTUAL'); // web.edge.svc…
  });
});

describe('what the target accepts (§5)', () => {
  function server(extra: Obj[], port = 8080): string {
    const m = model(extra);
    return m.peerAuth.effectiveMode('app', m.podsIn('app')[0]!.labels, port).mode;
  }
  it('PERMISSIVE by default', () => assert.equal(server([]), 'PERMISSIVE'));
  it('mesh, then namespace, then workload, then port', () => {
    const layers = [
      peerAuthentication('istio-system', 'mesh', { mode: 'STRICT' }),
      peerAuthentication('app', 'ns', { mode: 'PERMISSIVE' }),
      peerAuthentication('app', 'wl', { selector: { app: 'web' }, mode: 'STRICT', portLevel: { 9091: 'DISABLE' } }),
    ];
    assert.equal(server(layers.slice(0, 1)), 'STRICT');
    assert.equal(server(layers.slice(0, 2)), 'PERMISSIVE');
    assert.equal(server(layers), 'STRICT');
    assert.equal(server(layers, 9091), 'DISABLE');
  });
  it('UNSET inherits', () => assert.equal(server([peerAuthentication('istio-system', 'mesh', { mode: 'STRICT' }), peerAuthentication('app', 'ns', { mode: 'UNSET' })]), 'STRICT'));
  it('a selector in the root namespace is ignored', () => assert.equal(server([peerAuthentication('istio-system', 'x', { selector: { app: 'web' }, mode: 'STRICT' })]), 'PERMISSIVE'));
  it('the oldest of two namespace-wide policies wins', () =>
    assert.equal(server([peerAuthentication('app', 'b', { mode: 'PERMISSIVE', created: '2025-02-01T00:00:00Z' }), peerAuthentication('app', 'a', { mode: 'STRICT', created: '2025-01-01T00:00:00Z' })]), 'STRICT'));
  it('portLevelMtls of a namespace-wide policy is not read', () => assert.equal(server([peerAuthentication('app', 'ns', { mode: 'STRICT', portLevel: { 8080: 'DISABLE' } })]), 'STRICT'));
  it('a custom root namespace from meshConfig', () =>
    assert.equal(server([meshConfig({ rootNamespace: 'mesh-root' }), peerAuthentication('mesh-root', 'default', { mode: 'STRICT' }), peerAuthentication('istio-system', 'default', { mode: 'DISABLE' })]), 'STRICT'));
});

describe('endpoints', () => {
  it('a pod without the named target port gets no endpoint', () => {
    const m = new MeshModel(snapshotOf([namespace('app'), pod('app', 'p', { owner: 'web', ports: [{ name: 'other', port: 1 }] }), service('app', 'web', [{ port: 80, targetPort: 'http' }])]));
    const svc = m.service('app', 'web')!;
    const v = judgeEndpoint(m, { namespace: 'edge', label: 'c' }, svc, svc.ports[0]!, m.podsIn('app')[0]!);
    assert.equal(v.outcome, 'no-endpoint');
  });
});

function pick(r: { sends: string; cause: string }): [string, string] {
  return [r.sends, r.cause];
}
