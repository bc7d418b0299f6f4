// Tunnel configs in their three layouts, cloudflared's validation and matching, and the rules
// the operator's chain predicts when only Ingresses are in the input.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveOriginRequest, findMatchingRule, goRegexpProblem, serviceKind, validateRules } from '../../src/model/cloudflared.js';
import { MeshModel } from '../../src/model/model.js';
import { parseOriginUrl, serviceAddress, type TunnelRule } from '../../src/model/tunnels.js';
import {
  cloudflaredConfigMap,
  cloudflaredDeployment,
  deployment,
  ingress,
  namespace,
  operatorCloudflared,
  operatorStack,
  operatorTunnelConfig,
  service,
  TUNNEL_ID,
  type Obj,
} from '../support/build.js';
import { snapshotOf } from '../support/rule-tester.js';

const model = (objects: Obj[]) => new MeshModel(snapshotOf(objects));
const rules = (...r: Array<Partial<TunnelRule>>): TunnelRule[] => r.map((x, index) => ({ index, service: 'http_status:404', ...x }));

describe('tunnel config layouts', () => {
  it('operator config.json: sources merged, sorted by priority then hostname, catch-all appended', () => {
    const cm = operatorTunnelConfig([]);
    const json = {
      tunnelId: TUNNEL_ID,
      tunnelName: 'main',
      sources: {
        'Ingress/cloudflare-operator-system/cfg': {
          kind: 'Ingress',
          namespace: 'cloudflare-operator-system',
          name: 'cfg',
          rules: [
            { hostname: 'b.example.com', service: 'http://b.app.svc:80', priority: 100 },
            { hostname: 'a.example.com', service: 'http://a.app.svc:80', priority: 100 },
          ],
        },
        'TunnelBinding/app/tb': { kind: 'TunnelBinding', namespace: 'app', name: 'tb', rules: [{ hostname: 'z.example.com', service: 'http://z.app.svc:80', priority: 50 }] },
        'ClusterTunnel/main': { kind: 'ClusterTunnel', name: 'main', settings: { originRequest: { connectTimeout: 10, noTLSVerify: true } } },
      },
      syncStatus: 'Error',
    };
    (cm.data as Record<string, string>)['config.json'] = JSON.stringify(json);
    const [t] = model([cm]).tunnels;
    assert.equal(t?.layout, 'operator-json');
    assert.deepEqual(t?.rules.map((r) => r.hostname ?? r.service), ['z.example.com', 'a.example.com', 'b.example.com', 'http_status:404']);
    assert.equal(t?.rules.at(-1)?.synthetic, true);
    assert.deepEqual(t?.originRequest, { connectTimeout: 10, noTLSVerify: true });
    assert.equal(t?.syncStatus, 'Error');
  });
  it('operator config.json without rules gets no catch-all (the operator appends it only when a rule exists)', () => {
    const [t] = model([operatorTunnelConfig([])]).tunnels;
    assert.deepEqual(t?.rules, []);
  });
  it('operator config.json that is not JSON is a problem, not a crash', () => {
    const cm = operatorTunnelConfig([]);
    (cm.data as Record<string, string>)['config.json'] = '{ not json';
    const [t] = model([cm]).tunnels;
    assert.match(t?.problems[0] ?? '', /not valid JSON/);
  });
  it('operator connectors by tunnel id label', () => {
    const m = model([namespace('cloudflare-operator-system'), operatorTunnelConfig([{ hostname: 'a.example.com', service: 'http://a.app.svc:80' }]), operatorCloudflared()]);
    assert.match(m.tunnels[0]?.connectorEvidence ?? '', /cloudflare-operator\.io\/id=/);
    assert.equal(m.tunnels[0]?.connectors.length, 1);
  });
  it('config.yaml in a ConfigMap, in order, connectors by mount', () => {
    const m = model([
      namespace('app'),
      cloudflaredConfigMap('app', 'cf', [{ hostname: 'b.example.com', service: 'http://b:80' }, { hostname: 'a.example.com', service: 'http://a:80' }, { service: 'http_status:404' }], { originRequest: { http2Origin: true } }),
      cloudflaredDeployment('app', 'cloudflared', 'cf'),
    ]);
    const t = m.tunnels[0];
    assert.equal(t?.layout, 'cloudflared-yaml');
    assert.deepEqual(t?.rules.map((r) => r.hostname ?? '*'), ['b.example.com', 'a.example.com', '*']);
    assert.deepEqual(t?.originRequest, { http2Origin: true });
    assert.match(t?.connectorEvidence ?? '', /mounts ConfigMap app\/cf/);
  });
  it('an older operator layout (config.yaml owned by a Tunnel) is recognised', () => {
    const cm = cloudflaredConfigMap('app', 'main', [{ service: 'http_status:404' }]);
    (cm.metadata as Record<string, unknown>).ownerReferences = [{ apiVersion: 'networking.cfargotunnel.com/v1alpha1', kind: 'Tunnel', name: 'main' }];
    assert.equal(model([cm]).tunnels[0]?.managedBy, "adyanth's cloudflare-operator");
  });
});

describe('service URLs', () => {
  it('normalises Service hosts in every form', () => {
    assert.deepEqual(serviceAddress('web', 'edge', 'cluster.local'), { name: 'web', namespace: 'edge', form: 'short name (namespace edge of the connector)' });
    assert.equal(serviceAddress('web.app', 'edge', 'cluster.local')?.namespace, 'app');
    assert.equal(serviceAddress('web.app.svc', 'edge', 'cluster.local')?.form, 'name.namespace.svc');
    assert.equal(serviceAddress('web.app.svc.cluster.local', 'edge', 'cluster.local')?.form, 'fully qualified');
    assert.equal(serviceAddress('web.app.svc.corp.internal', 'edge', 'cluster.local')?.form, 'cluster domain corp.internal');
    assert.equal(serviceAddress('example.com.evil.net', 'edge', 'cluster.local'), undefined);
  });
  it('takes the explicit port or the scheme default', () => {
    assert.equal(parseOriginUrl('https://web.app.svc')?.port, 443);
    assert.equal(parseOriginUrl('ssh://box')?.port, 22);
    assert.equal(parseOriginUrl('tcp://db')?.port, 7864);
    assert.equal(parseOriginUrl('h2mux://web:8080')?.port, 8080);
    assert.equal(parseOriginUrl('h2mux://web')?.port, undefined);
  });
  it('classifies services as cloudflared does', () => {
    assert.deepEqual(serviceKind('http://web:80'), { kind: 'http', scheme: 'http' });
    assert.deepEqual(serviceKind('WSS://web:443'), { kind: 'http', scheme: 'wss' });
    assert.deepEqual(serviceKind('h2mux://web:80'), { kind: 'stream', scheme: 'h2mux' });
    assert.equal(serviceKind('http_status:404').kind, 'special');
    assert.equal(serviceKind('hello_world').kind, 'special');
    assert.equal(serviceKind('http://web:80', { bastionMode: true }).kind, 'special');
    assert.match((serviceKind('http://web:80/') as { problem: string }).problem, /different path/);
    assert.match((serviceKind('web:80') as { problem: string }).problem, /scheme and a hostname/);
    assert.match((serviceKind('kubernetes.io/grpc://web.app.svc:80') as { problem: string }).problem, /scheme and a hostname/);
    assert.match((serviceKind('http_status:42') as { problem: string }).problem, /invalid HTTP status code: 42/);
  });
});

describe('cloudflared validation', () => {
  it('accepts a well-formed list', () => {
    assert.deepEqual(validateRules(rules({ hostname: 'a.example.com', service: 'http://a:80' }, { hostname: '*.example.com', path: '^/x$', service: 'http://b:80' }, {})), []);
  });
  it('no rules', () => {
    assert.match(validateRules([])[0]?.message ?? '', /doesn't contain any ingress rules/);
  });
  it('the last rule must be a catch-all; a catch-all elsewhere is refused; a host-less rule with a path is not a catch-all', () => {
    assert.match(validateRules(rules({ hostname: 'a.example.com', service: 'http://a:80' }))[0]?.message ?? '', /last ingress rule must match all URLs/);
    assert.match(validateRules(rules({ service: 'http://a:80' }, {}))[0]?.message ?? '', /Rule #1 is matching the hostname ''/);
    assert.match(validateRules(rules({ hostname: '*', service: 'http://a:80' }, {}))[0]?.message ?? '', /Rule #1 is matching the hostname '\*'/);
    assert.deepEqual(validateRules(rules({ path: '/api', service: 'http://a:80' }, {})), []);
  });
  it('hostnames: no port, one leading wildcard', () => {
    assert.match(validateRules(rules({ hostname: 'a.example.com:443', service: 'http://a:80' }, {}))[0]?.message ?? '', /cannot contain a port/);
    assert.match(validateRules(rules({ hostname: 'a.*.example.com', service: 'http://a:80' }, {}))[0]?.message ?? '', /at most one wildcard/);
  });
  it('paths compile as Go regexps (RE2)', () => {
    assert.match(validateRules(rules({ hostname: 'a.example.com', path: '/api/(v1', service: 'http://a:80' }, {}))[0]?.message ?? '', /Rule #1 has an invalid regex/);
    assert.equal(goRegexpProblem('^/(?!admin)'), 'error parsing regexp: invalid or unsupported Perl syntax: `(?!`');
    assert.equal(goRegexpProblem('^/api(/.*)?$'), undefined);
  });
});

describe('cloudflared matching', () => {
  const list = rules(
    { hostname: 'a.example.com', path: '/api', service: 'http://api:80' },
    { hostname: 'a.example.com', service: 'http://web:80' },
    { hostname: '*.example.com', service: 'http://wild:80' },
    {},
  );
  it('first rule whose host and unanchored path match', () => {
    assert.equal(findMatchingRule(list, 'a.example.com', '/v2/api/x')?.service, 'http://api:80');
    assert.equal(findMatchingRule(list, 'a.example.com:443', '/')?.service, 'http://web:80');
  });
  it('a wildcard matches subdomains, not the apex; no match falls to the last rule', () => {
    assert.equal(findMatchingRule(list, 'b.example.com', '/')?.service, 'http://wild:80');
    assert.equal(findMatchingRule(list, 'example.com', '/')?.service, 'http_status:404');
  });
  it('originRequest: rule, then the config, then cloudflared defaults', () => {
    const eff = effectiveOriginRequest({ originRequest: { http2Origin: true } }, { http2Origin: false, noTLSVerify: true });
    assert.equal(eff.settings.http2Origin, true);
    assert.equal(eff.from.noTLSVerify, 'config');
    assert.equal(eff.settings.connectTimeout, '30s');
    assert.equal(eff.from.connectTimeout, 'default');
  });
});

describe('rules predicted from Ingresses', () => {
  const app = [
    namespace('app', { 'istio-injection': 'enabled' }),
    deployment('app', 'web', { ports: [{ port: 8080 }] }),
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
  ];
  it('one predicted config per class config: hostname then path order ("" first), catch-all, the tunnel pods as clients', () => {
    const m = model([
      ...operatorStack(),
      ...app,
      ingress('app', 'web', [
        { host: 'b.example.com', path: '/', service: 'web', port: 80 },
        { host: 'a.example.com', path: '/z', service: 'web', port: 80 },
        { host: 'a.example.com', path: '/', service: 'web', port: 80 },
        { host: 'a.example.com', path: '/x', pathType: 'Exact', service: 'web', port: 80 },
      ]),
    ]);
    const t = m.tunnels.find((x) => x.predicted);
    assert.ok(t);
    assert.deepEqual(
      t.rules.map((r) => `${r.hostname ?? '*'} ${r.path ?? ''} ${r.service}`),
      ['a.example.com  http://web.app.svc:80', 'a.example.com /z(/.*)?$ http://web.app.svc:80', 'a.example.com ^/x$ http://web.app.svc:80', 'b.example.com  http://web.app.svc:80', '*  http_status:404'],
    );
    assert.equal(t.connectors.length, 1);
    assert.match(t.connectorEvidence, /cloudflare-operator\.io\/tunnel=main-tunnel/);
    assert.equal(m.tunnelEdges.filter((e) => e.tunnel === t).length, 4);
  });
  it('host-less rules are dropped; defaultBackend ignored; a resource backend becomes http_status:503', () => {
    const i = ingress('app', 'web', [{ service: 'web', port: 80 }]);
    (i.spec as Record<string, unknown>).defaultBackend = { service: { name: 'web', port: { number: 80 } } };
    const m = model([...operatorStack(), ...app, i]);
    assert.equal(m.tunnels.some((t) => t.predicted), false);
    assert.match(m.operator.backends[0]?.unserved ?? '', /no host/);
  });
  it('a real operator config for the class config replaces the prediction, linked rule by rule, with drift', () => {
    const m = model([
      ...operatorStack(),
      ...app,
      ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }], { annotations: { 'cloudflare.com/protocol-80': 'https' } }),
      operatorTunnelConfig([{ hostname: 'a.example.com', service: 'http://web.app.svc:80', priority: 100 }], {}),
    ]);
    // The builder's source is Ingress/cloudflare-operator-system/cloudflare-tunnel-config: the class config's.
    assert.equal(m.tunnels.some((t) => t.predicted), false);
    const b = m.operator.backends[0];
    assert.equal(b?.rule?.service, 'http://web.app.svc:80');
    assert.equal(b?.driftChecked, true);
    assert.match(b?.drift[0] ?? '', /scheme: the config has http:\/\/, the chain resolves https \(level 2/);
  });
});
