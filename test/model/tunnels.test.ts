import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshModel } from '../../src/model/model.js';
import { parseOriginUrl, serviceAddress } from '../../src/model/tunnels.js';
import { cloudflaredConfigMap, cloudflaredDeployment, namespace, operatorCloudflared, operatorTunnelConfig, type Obj } from '../support/build.js';
import { snapshotOf } from '../support/rule-tester.js';

function tunnels(objects: Obj[]) {
  return new MeshModel(snapshotOf(objects)).tunnels;
}

describe('tunnel configs', () => {
  it('operator v0.34+: rules sorted by priority ascending then hostname, a 404 catch-all appended', () => {
    const cm = operatorTunnelConfig([
      { hostname: 'b.example.com', service: 'http://b:80', priority: 100 },
      { hostname: 'a.example.com', service: 'http://a:80', priority: 100 },
      { hostname: 'z.example.com', service: 'http://z:80', priority: 10 },
    ]);
    const [t] = tunnels([namespace('cloudflare-operator-system'), cm, operatorCloudflared()]);
    assert.deepEqual(t?.rules.map((r) => r.hostname ?? r.service), ['z.example.com', 'a.example.com', 'b.example.com', 'http_status:404']);
    assert.equal(t?.connectors.length, 1);
    assert.equal(t?.layout, 'operator-json');
  });
  it('operator config with no rules gets no catch-all', () => {
    const [t] = tunnels([operatorTunnelConfig([])]);
    assert.deepEqual(t?.rules, []);
  });
  it('invalid config.json is a problem, not a crash', () => {
    const cm = operatorTunnelConfig([]);
    (cm.data as Record<string, string>)['config.json'] = '{not json';
    const [t] = tunnels([cm]);
    assert.match(t?.problems.join() ?? '', /not valid JSON/);
  });
  it('a hand-written config.yaml mounted by a cloudflared Deployment', () => {
    const [t] = tunnels([
      namespace('edge'),
      cloudflaredConfigMap('edge', 'cf', [{ hostname: 'a.example.com', service: 'http://web:80' }, { service: 'http_status:404' }]),
      cloudflaredDeployment('edge', 'cloudflared', 'cf'),
    ]);
    assert.equal(t?.layout, 'cloudflared-yaml');
    assert.equal(t?.rules.length, 2);
    assert.equal(t?.connectors[0]?.name, 'cloudflared');
  });
  it('a config nobody mounts has no connectors, and says so', () => {
    const [t] = tunnels([cloudflaredConfigMap('edge', 'cf', [{ service: 'http_status:404' }])]);
    assert.match(t?.connectorEvidence ?? '', /no cloudflared pod in edge mounts ConfigMap cf/);
  });
  it('ConfigMaps without an ingress list are not tunnel configs', () =>
    assert.equal(tunnels([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'a' }, data: { 'config.yaml': 'tunnel: x\n' } }]).length, 0));
});

describe('service URLs', () => {
  it('default ports by scheme', () => {
    assert.equal(parseOriginUrl('http://web')?.port, 80);
    assert.equal(parseOriginUrl('https://web')?.port, 443);
    assert.equal(parseOriginUrl('ssh://host')?.port, 22);
    assert.equal(parseOriginUrl('http://web:8080')?.port, 8080);
  });
  it('cluster host forms', () => {
    assert.deepEqual(serviceAddress('web', 'edge', 'cluster.local'), { name: 'web', namespace: 'edge', form: 'short name (namespace edge of the connector)' });
    assert.equal(serviceAddress('web.app', 'edge', 'cluster.local')?.namespace, 'app');
    assert.equal(serviceAddress('web.app.svc', 'edge', 'cluster.local')?.form, 'name.namespace.svc');
    assert.equal(serviceAddress('web.app.svc.cluster.local', 'edge', 'cluster.local')?.form, 'fully qualified');
    assert.equal(serviceAddress('web.app.svc.corp.internal', 'edge', 'cluster.local')?.form, 'cluster domain corp.internal');
    assert.equal(serviceAddress('www.example.com', 'edge', 'cluster.local'), undefined);
  });
});
