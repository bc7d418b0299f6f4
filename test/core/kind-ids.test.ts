// Two API groups, one kind name: Istio's Gateway and the Gateway API's, the Cloudflare operator's
// TunnelBinding and adyanth's. Objects are keyed by kind id (core/kinds.ts), so one input holds
// both without one replacing the other, and each is read with its own shape.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectFromTexts } from '../../src/collect/files.js';
import { CFARGOTUNNEL_BINDING, GATEWAY_API_GATEWAY, kindIdOf, kindOfObject } from '../../src/core/kinds.js';
import { objectKey, objectsOfKind } from '../../src/core/snapshot.js';
import { toYaml, type Obj } from '../support/build.js';

const istioGateway: Obj = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'Gateway',
  metadata: { name: 'public', namespace: 'app' },
  spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
};
const apiGateway: Obj = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'public', namespace: 'app' },
  spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
};
const binding = (apiVersion: string): Obj => ({
  apiVersion,
  kind: 'TunnelBinding',
  metadata: { name: 'web', namespace: 'app' },
  subjects: [{ name: 'web' }],
  tunnelRef: { kind: 'Tunnel', name: 't' },
});

describe('kind ids', () => {
  it('are decided from apiVersion where two groups share a kind name, and from the name alone otherwise', () => {
    assert.equal(kindIdOf(istioGateway as never), 'Gateway');
    assert.equal(kindIdOf(apiGateway as never), GATEWAY_API_GATEWAY);
    assert.equal(kindIdOf(binding('networking.cfargotunnel.com/v1alpha1') as never), CFARGOTUNNEL_BINDING);
    assert.equal(kindIdOf(binding('networking.cloudflare-operator.io/v1alpha1') as never), 'TunnelBinding');
    // A Gateway of a group neither defines is no kind tunnelmesh reads.
    assert.equal(kindOfObject('Gateway', 'networking.x-k8s.io/v1alpha1'), undefined);
    // A kind only one group defines is read whatever its apiVersion says (as before groups were known).
    assert.equal(kindOfObject('Service', 'v2')?.id, 'Service');
  });

  it('keep both Gateways of one name in one input: no duplicate, each with its own shape', () => {
    const snapshot = collectFromTexts([{ name: 'gw.yaml', text: toYaml([istioGateway, apiGateway]) }]);
    assert.deepEqual(snapshot.warnings, []);
    assert.equal(snapshot.objects.length, 2);
    assert.notEqual(objectKey(snapshot.objects[0] as never), objectKey(snapshot.objects[1] as never));
    assert.deepEqual(objectsOfKind(snapshot, 'Gateway').map((g) => g.apiVersion), ['networking.istio.io/v1']);
    assert.deepEqual(objectsOfKind(snapshot, GATEWAY_API_GATEWAY).map((g) => g.spec.gatewayClassName), ['istio']);
  });

  it('check a Gateway API Gateway against its own shape, not Istio\'s (and the reverse)', () => {
    const bad = { ...apiGateway, spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 'eighty', protocol: 'HTTP' }] } };
    const snapshot = collectFromTexts([{ name: 'gw.yaml', text: toYaml([istioGateway, bad]) }]);
    assert.equal(snapshot.objects.length, 1);
    assert.match(snapshot.warnings.join('\n'), /Gateway app\/public: spec\.listeners\[0\]\.port: expected a port number/);
  });

  it('keep the TunnelBindings of both groups, and a duplicate within one group is still a duplicate', () => {
    const texts = toYaml([binding('networking.cfargotunnel.com/v1alpha1'), binding('networking.cloudflare-operator.io/v1alpha1'), binding('networking.cloudflare-operator.io/v1alpha1')]);
    const snapshot = collectFromTexts([{ name: 'b.yaml', text: texts }]);
    assert.equal(objectsOfKind(snapshot, 'TunnelBinding').length, 1);
    assert.equal(objectsOfKind(snapshot, CFARGOTUNNEL_BINDING).length, 1);
    assert.match(snapshot.warnings.join('\n'), /duplicate of TunnelBinding app\/web/);
  });
});
