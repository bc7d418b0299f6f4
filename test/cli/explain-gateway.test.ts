// explain-protocol when a tunnel ends at an Istio ingress gateway: the backend's path goes on
// through the gateway's VirtualService routes, and the verdict is the whole path's, the same
// one doctor reaches (TM101 on the hop after the gateway).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Chalk } from 'chalk';
import { selectForUrl } from '../../src/model/backends.js';
import { explainBackends, explainJson, explainText } from '../../src/report/explain.js';
import { judge } from '../../src/rules/judge.js';
import { cloudflaredConfigMap, cloudflaredDeployment, deployment, destinationRule, istioGateway, namespace, pod, service, virtualService, type Obj } from '../support/build.js';
import { snapshotOf } from '../support/rule-tester.js';

function cluster(o: { vsHosts?: string[]; extra?: Obj[] } = {}): Obj[] {
  return [
    namespace('edge'),
    cloudflaredConfigMap('edge', 'tunnel', [{ hostname: 'admin.example.com', service: 'http://istio-ingressgateway.istio-system.svc:80' }, { service: 'http_status:404' }]),
    cloudflaredDeployment('edge', 'cloudflared', 'tunnel'),
    namespace('istio-system'),
    pod('istio-system', 'istio-ingressgateway-1', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, ports: [{ port: 8080 }] }),
    service('istio-system', 'istio-ingressgateway', [{ name: 'http2', port: 80, targetPort: 8080 }], { selector: { istio: 'ingressgateway' } }),
    namespace('app', { 'istio-injection': 'enabled' }),
    istioGateway('app', 'public'),
    virtualService('app', 'admin', { gateways: ['public'], hosts: o.vsHosts ?? ['admin.example.com'], host: 'gw', port: 9091 }),
    deployment('app', 'gw', { annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, ports: [{ name: 'admin', port: 9091 }] }),
    service('app', 'gw', [{ name: 'http-admin', port: 9091 }]),
    ...(o.extra ?? []),
  ];
}

function explain(objects: Obj[], host = 'admin.example.com') {
  const j = judge(snapshotOf(objects));
  const report = explainBackends(selectForUrl(j.model, j.backends, host, '/'), host);
  return { model: j.model, report, json: JSON.parse(explainJson(report)), text: explainText(report, new Chalk({ level: 0 }), host) };
}

describe('explain-protocol through an ingress gateway', () => {
  it('the hop after the gateway sends mTLS to an excluded port: broken, with TM101 and the route', () => {
    const { json, text } = explain(cluster());
    const b = json.backends[0];
    assert.equal(b.verdict, 'broken');
    assert.deepEqual(b.codes, ['TM101']);
    assert.equal(b.istio.outcome, 'ok', 'cloudflared → gateway itself is fine');
    assert.equal(b.gatewayRoutes.length, 1);
    assert.deepEqual(
      { vs: b.gatewayRoutes[0].virtualService, service: b.gatewayRoutes[0].service, sends: b.gatewayRoutes[0].clientSends, outcome: b.gatewayRoutes[0].outcome },
      { vs: 'app/admin', service: { namespace: 'app', name: 'gw', port: 9091 }, sends: 'ISTIO_MUTUAL', outcome: 'mtls-to-uncaptured' },
    );
    assert.match(text, /then, through the gateway: VirtualService app\/admin http\[0\]\.route\[0\] → Service app\/gw:9091/);
    assert.match(text, /NOT captured/);
  });

  it('a VirtualService for other hosts is not on this path: ok', () => {
    const { json } = explain(cluster({ vsHosts: ['other.example.com'] }));
    assert.equal(json.backends[0].verdict, 'ok');
    assert.deepEqual(json.backends[0].gatewayRoutes, []);
  });

  it('a wildcard VirtualService host takes the tunnel hostname', () => {
    const { json } = explain(cluster({ vsHosts: ['*.example.com'] }));
    assert.equal(json.backends[0].verdict, 'broken');
  });

  it('after the DestinationRule fix: ok along the whole path', () => {
    const fixed = cluster({ extra: [destinationRule('app', 'gw', { host: 'gw.app.svc.cluster.local', portLevel: [{ port: 9091, tls: 'DISABLE' }] })] });
    const { json } = explain(fixed);
    assert.equal(json.backends[0].verdict, 'ok');
    assert.equal(json.backends[0].gatewayRoutes[0].outcome, 'ok');
  });
});
