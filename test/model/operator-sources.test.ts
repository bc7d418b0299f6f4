// The rules the Cloudflare operator writes from TunnelBindings and from HTTPRoutes of its
// Gateways, as its controllers build them (StringKe/cloudflare-operator tunnelbinding_controller.go,
// gateway/gateway_controller.go, route/*.go), and how they join Ingress rules in one tunnel's config.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshModel } from '../../src/model/model.js';
import { formatGoDuration, gatewayOriginRequest, gatewayPath, goDuration } from '../../src/model/operator-sources.js';
import type { TunnelConfig } from '../../src/model/tunnels.js';
import {
  apiGateway,
  gatewayClass,
  httpRoute,
  ingress,
  ingressClass,
  namespace,
  operatorGatewayClass,
  operatorTunnel,
  service,
  tunnelBinding,
  tunnelIngressClassConfig,
  type Obj,
} from '../support/build.js';
import { snapshotOf } from '../support/rule-tester.js';

const model = (objects: Obj[]) => new MeshModel(snapshotOf(objects));

/** `hostname path → service {originRequest}` per rule of a config, the catch-all included. */
function rules(t: TunnelConfig | undefined): string[] {
  return (t?.rules ?? []).map((r) => `${r.hostname ?? '*'}${r.path ? ` ${r.path}` : ''} → ${r.service}${r.originRequest && Object.keys(r.originRequest).length ? ` ${JSON.stringify(r.originRequest)}` : ''}`);
}

const predicted = (m: MeshModel, label: string) => m.tunnels.find((t) => t.label === label);

describe('TunnelBinding → rules (getConfigForSubject, configureCloudflareDaemon)', () => {
  it('fqdn, else the subject name under the tunnel\'s domain; the first Service port; a valid subject protocol wins, else the port number decides', () => {
    const m = model([
      namespace('app'),
      operatorTunnel('ClusterTunnel', 'main-tunnel', { domain: 'example.org' }),
      service('app', 'web', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9000 }]),
      service('app', 'secure', [{ name: 'https', port: 443 }]),
      service('app', 'shell', [{ name: 'ssh', port: 22 }]),
      service('app', 'grpc', [{ name: 'grpc', port: 9090 }]),
      tunnelBinding('app', 'b', [{ name: 'web' }, { name: 'secure', fqdn: 'secure.example.com' }, { name: 'shell', fqdn: 'shell.example.com' }, { name: 'grpc', fqdn: 'grpc.example.com', protocol: 'grpc' }]),
    ]);
    assert.deepEqual(rules(predicted(m, 'ClusterTunnel main-tunnel')), [
      'grpc.example.com → http://grpc.app.svc:9090 {"proxyAddress":"127.0.0.1"}',
      'secure.example.com → https://secure.app.svc:443 {"proxyAddress":"127.0.0.1"}',
      'shell.example.com → ssh://shell.app.svc:22 {"proxyAddress":"127.0.0.1"}',
      'web.example.org → http://web.app.svc:8080',
      '* → http_status:404',
    ]);
    const grpc = m.operator.written.find((w) => w.hostname === 'grpc.example.com');
    assert.match(grpc?.protocol.source ?? '', /subject protocol "grpc" is not one the operator accepts/);
  });

  it('a UDP first port is udp; spec.target replaces the generated service; a Service that does not exist is http_status:404', () => {
    const m = model([
      namespace('app'),
      service('app', 'dns', [{ name: 'dns', port: 53, protocol: 'UDP' }]),
      service('app', 'other', [{ port: 80 }]),
      tunnelBinding('app', 'b', [
        { name: 'dns', fqdn: 'dns.example.com' },
        { name: 'other', fqdn: 'custom.example.com', target: 'https://other.app.svc:8443' },
        { name: 'gone', fqdn: 'gone.example.com' },
      ]),
    ]);
    assert.deepEqual(rules(predicted(m, 'ClusterTunnel main-tunnel')), [
      'custom.example.com → https://other.app.svc:8443 {"proxyAddress":"127.0.0.1"}',
      'dns.example.com → udp://dns.app.svc:53 {"proxyAddress":"127.0.0.1"}',
      'gone.example.com → http_status:404 {"proxyAddress":"127.0.0.1"}',
      '* → http_status:404',
    ]);
  });

  it('only the TLS settings a subject sets are written; caPool is not (the operator\'s config has no caPool); a subject without spec gets no originRequest', () => {
    const m = model([
      service('app', 'web', [{ port: 443 }]),
      service('app', 'plain', [{ port: 80 }]),
      tunnelBinding('app', 'b', [{ name: 'web', fqdn: 'a.example.com', noTlsVerify: true, http2Origin: true, caPool: 'ca.crt' }, { name: 'plain', fqdn: 'b.example.com' }]),
      tunnelBinding('app', 'c', [{ name: 'plain' }]),
    ]);
    const t = predicted(m, 'ClusterTunnel main-tunnel');
    assert.deepEqual(t?.rules[0]?.originRequest, { noTLSVerify: true, http2Origin: true, proxyAddress: '127.0.0.1' });
    assert.match(m.operator.written.find((w) => w.hostname === 'a.example.com')?.dropped.join() ?? '', /caPool ca\.crt/);
    assert.equal(m.operator.written.find((w) => w.label.includes('TunnelBinding app/c'))?.originRequest, undefined);
  });

  it('every binding of a tunnel name carries the rules of all of them (sorted by binding name), each under its own source; one config for the tunnel', () => {
    const m = model([
      service('app', 'web', [{ port: 80 }]),
      service('app', 'api', [{ port: 80 }]),
      tunnelBinding('app', 'zeta', [{ name: 'web', fqdn: 'web.example.com' }]),
      tunnelBinding('app', 'alpha', [{ name: 'api', fqdn: 'api.example.com' }]),
    ]);
    const t = predicted(m, 'ClusterTunnel main-tunnel');
    // Sources are a Go map and the final sort is sort.Slice: the copies of one hostname come in no set order.
    assert.deepEqual(t?.rules.map((r) => r.hostname ?? '*'), ['api.example.com', 'api.example.com', 'web.example.com', 'web.example.com', '*']);
    assert.deepEqual(
      t?.rules.filter((r) => r.source).map((r) => `${r.source?.name}: ${r.hostname}`).sort(),
      ['alpha: api.example.com', 'alpha: web.example.com', 'zeta: api.example.com', 'zeta: web.example.com'],
    );
    // The copies are one rule for the edges: each subject is judged once.
    assert.equal(m.tunnelEdges.length, 2);
  });

  it('TunnelBinding rules (priority 50) come before Ingress rules (100) of the same tunnel, whatever their hostnames', () => {
    const m = model([
      namespace('app'),
      ingressClass(),
      tunnelIngressClassConfig(),
      service('app', 'web', [{ name: 'http', port: 80 }]),
      ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }]),
      tunnelBinding('app', 'b', [{ name: 'web', fqdn: 'z.example.com' }]),
    ]);
    const t = predicted(m, 'ClusterTunnel main-tunnel');
    assert.deepEqual(rules(t).map((r) => r.split(' ')[0]), ['z.example.com', 'a.example.com', '*']);
    assert.equal(m.tunnels.filter((x) => x.predicted).length, 1, 'one config per tunnel');
  });

  it('subjects and tunnelRef under spec: are refused by the API server: no rule, and the reason says so', () => {
    const m = model([service('app', 'web', [{ port: 80 }]), tunnelBinding('app', 'b', [{ name: 'web', fqdn: 'web.example.com' }], { wrapped: true })]);
    assert.equal(m.tunnels.length, 0);
    assert.match(m.operator.bindings[0]?.unserved ?? '', /under spec:.*the API server refuses the object/);
  });

  it('a tunnelRef kind other than Tunnel/ClusterTunnel writes nothing; a Tunnel binds in the binding\'s namespace', () => {
    const m = model([
      service('app', 'web', [{ port: 80 }]),
      tunnelBinding('app', 'bad', [{ name: 'web', fqdn: 'a.example.com' }], { tunnelRef: { kind: 'Tunel', name: 't' } }),
      tunnelBinding('app', 'ok', [{ name: 'web', fqdn: 'b.example.com' }], { tunnelRef: { kind: 'tunnel', name: 't' } }),
    ]);
    assert.match(m.operator.bindings.find((b) => b.binding.metadata.name === 'bad')?.unserved ?? '', /neither Tunnel nor ClusterTunnel/);
    assert.deepEqual(rules(predicted(m, 'Tunnel app/t')), ['b.example.com → http://web.app.svc:80 {"proxyAddress":"127.0.0.1"}', '* → http_status:404']);
  });

  it("adyanth's group (networking.cfargotunnel.com): bindings in name order, the booleans always written, caPool as a path", () => {
    const m = model([
      service('app', 'web', [{ port: 443 }]),
      tunnelBinding('app', 'b', [{ name: 'web', fqdn: 'w.example.com', caPool: 'ca.crt' }], { group: 'cfargotunnel' }),
    ]);
    const t = m.tunnels.find((x) => x.label.includes('cfargotunnel'));
    assert.deepEqual(rules(t), ['w.example.com → https://web.app.svc:443 {"noTLSVerify":false,"http2Origin":false,"proxyAddress":"127.0.0.1","caPool":"/etc/cloudflared/certs/ca.crt"}', '* → http_status:404']);
  });
});

describe('HTTPRoute through the operator\'s gateway controller', () => {
  const base = (extra: Obj[] = [], o: Parameters<typeof operatorGatewayClass>[0] = {}): Obj[] => [...operatorGatewayClass(o), apiGateway('edge', 'public', 'cloudflare-tunnel'), ...extra];

  it('hostnames × matches × backendRefs, sorted by hostname then path; the scheme comes from the port number only when the Service has that port', () => {
    const m = model(
      base([
        service('app', 'web', [{ name: 'http', port: 80 }, { name: 'https', port: 443 }]),
        service('app', 'api', [{ name: 'grpc', port: 9090, appProtocol: 'grpc' }]),
        httpRoute('app', 'r', {
          parents: [{ name: 'public', namespace: 'edge' }],
          hostnames: ['b.example.com', 'a.example.com'],
          rules: [
            { path: '/api', backends: [{ name: 'api', port: 9090 }] },
            { path: '/', backends: [{ name: 'web', port: 443 }] },
            { path: '/exact', pathType: 'Exact', backends: [{ name: 'missing', port: 443 }] },
          ],
        }),
      ]),
    );
    assert.deepEqual(rules(predicted(m, 'ClusterTunnel main-tunnel')), [
      'a.example.com → https://web.app.svc:443',
      'a.example.com /api(/.*)?$ → http://api.app.svc:9090',
      'a.example.com ^/exact$ → http://missing.app.svc:443',
      'b.example.com → https://web.app.svc:443',
      'b.example.com /api(/.*)?$ → http://api.app.svc:9090',
      'b.example.com ^/exact$ → http://missing.app.svc:443',
      '* → http_status:404',
    ]);
  });

  it('a route without hostnames and without a path writes nothing (the operator takes it for its fallback); with a path, a rule without hostname', () => {
    const m = model(
      base([
        service('app', 'web', [{ port: 80 }]),
        httpRoute('app', 'all', { parents: [{ name: 'public', namespace: 'edge' }], rules: [{ backends: [{ name: 'web', port: 80 }] }] }),
        httpRoute('app', 'path', { parents: [{ name: 'public', namespace: 'edge' }], rules: [{ path: '/x', backends: [{ name: 'web' }] }] }),
      ]),
    );
    assert.deepEqual(rules(predicted(m, 'ClusterTunnel main-tunnel')), ['* /x(/.*)?$ → http://web.app.svc:80', '* → http_status:404']);
    assert.match(m.operator.written.find((w) => w.label.includes('HTTPRoute app/all'))?.unserved ?? '', /drops a rule with neither/);
  });

  it('a parentRef without namespace attaches to a Gateway of that name in any namespace (the operator does not default it)', () => {
    const m = model(base([service('app', 'web', [{ port: 80 }]), httpRoute('app', 'r', { parents: [{ name: 'public' }], hostnames: ['a.example.com'], rules: [{ backends: [{ name: 'web', port: 80 }] }] })]));
    assert.deepEqual(rules(predicted(m, 'ClusterTunnel main-tunnel')), ['a.example.com → http://web.app.svc:80', '* → http_status:404']);
  });

  it('defaultOriginRequest: set booleans, durations as Go prints them, caPool dropped; the chain needs a parametersRef namespace', () => {
    const m = model(
      base([service('app', 'web', [{ port: 80 }]), httpRoute('app', 'r', { parents: [{ name: 'public', namespace: 'edge' }], hostnames: ['a.example.com'], rules: [{ backends: [{ name: 'web', port: 80 }] }] })], {
        defaultOriginRequest: { noTlsVerify: true, http2Origin: false, connectTimeout: '1m30s', caPool: 'ca.crt', httpHostHeader: 'web.internal' },
      }),
    );
    assert.deepEqual(predicted(m, 'ClusterTunnel main-tunnel')?.rules[0]?.originRequest, { noTLSVerify: true, connectTimeout: '1m30s', httpHostHeader: 'web.internal' });
    const noNs = model([
      gatewayClass('cloudflare-tunnel', 'cloudflare-operator.io/gateway-controller', { group: 'networking.cloudflare-operator.io', kind: 'TunnelGatewayClassConfig', name: 'cfg' }),
      apiGateway('edge', 'public', 'cloudflare-tunnel'),
    ]);
    assert.match(noNs.operator.gateways[0]?.chain.problem ?? '', /must specify namespace/);
  });

  it('Go durations', () => {
    assert.equal(formatGoDuration(goDuration('90s') as number), '1m30s');
    assert.equal(formatGoDuration(goDuration('300ms') as number), '300ms');
    assert.equal(formatGoDuration(goDuration('1.5h') as number), '1h30m0s');
    assert.equal(formatGoDuration(goDuration('2h') as number), '2h0m0s');
    assert.equal(goDuration('10 s'), undefined);
    assert.deepEqual(gatewayOriginRequest({ connectTimeout: 'soon' }).dropped, ['defaultOriginRequest.connectTimeout soon (not a Go duration: ignored)']);
    assert.equal(gatewayPath('/a/', 'PathPrefix'), '/a/.*');
    assert.equal(gatewayPath('/', 'Exact'), undefined);
    assert.equal(gatewayPath('^/v[0-9]+', 'RegularExpression'), '^/v[0-9]+');
  });

  it('two Gateways of one class config write one source: both are listed as sharing it', () => {
    const m = model(base([apiGateway('edge', 'second', 'cloudflare-tunnel')]));
    assert.deepEqual(m.operator.sharedGatewaySources.map((s) => s.gateways.map((g) => g.chain.label)), [['Gateway edge/public', 'Gateway edge/second']]);
  });
});

describe('a real operator config: the writers\' rules are linked to it and compared (drift)', () => {
  it('a TunnelBinding source found by its key; a changed service is drift, a missing rule is drift', () => {
    const config: Obj = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'tunnel-config-abc', namespace: 'cloudflare-operator-system', labels: { 'cloudflare-operator.io/type': 'tunnel-config' } },
      data: {
        'config.json': JSON.stringify({
          tunnelId: 'abc',
          sources: { 'TunnelBinding/app/b': { kind: 'TunnelBinding', namespace: 'app', name: 'b', rules: [{ hostname: 'a.example.com', service: 'http://web.app.svc:8080', priority: 50 }] } },
        }),
      },
    };
    const m = model([
      service('app', 'web', [{ port: 80 }]),
      service('app', 'api', [{ port: 80 }]),
      tunnelBinding('app', 'b', [{ name: 'web', fqdn: 'a.example.com' }, { name: 'api', fqdn: 'b.example.com' }]),
      config,
    ]);
    assert.equal(m.tunnels.filter((t) => t.predicted).length, 0, 'the real config is the truth');
    const [a, b] = m.operator.written;
    assert.equal(a?.rule?.service, 'http://web.app.svc:8080');
    assert.match(a?.drift.join() ?? '', /service: the config has http:\/\/web\.app\.svc:8080, TunnelBinding app\/b subjects\[0\] \(web\) writes http:\/\/web\.app\.svc:80/);
    assert.match(b?.drift.join() ?? '', /^missing: ConfigMap cloudflare-operator-system\/tunnel-config-abc/);
  });
});

describe('the prediction does not depend on the order of the input', () => {
  it('the same TunnelBindings, HTTPRoutes and Ingresses in reverse give the same rules and the same findings', async () => {
    const { runRules } = await import('../../src/rules/run.js');
    const objects: Obj[] = [
      namespace('app'),
      ingressClass(),
      tunnelIngressClassConfig(),
      ...operatorGatewayClass(),
      apiGateway('edge', 'public', 'cloudflare-tunnel'),
      service('app', 'web', [{ name: 'http', port: 80 }]),
      service('app', 'api', [{ name: 'http', port: 80 }]),
      ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }]),
      httpRoute('app', 'one', { parents: [{ name: 'public', namespace: 'edge' }], hostnames: ['a.example.com'], rules: [{ backends: [{ name: 'api', port: 80 }] }] }),
      httpRoute('app', 'two', { parents: [{ name: 'public', namespace: 'edge' }], hostnames: ['a.example.com'], rules: [{ backends: [{ name: 'web', port: 80 }] }] }),
      tunnelBinding('app', 'x', [{ name: 'web', fqdn: 'b.example.com' }]),
      tunnelBinding('app', 'y', [{ name: 'api', fqdn: 'b.example.com' }]),
    ];
    const forward = model(objects);
    const backward = model([...objects].reverse());
    assert.deepEqual(rules(predicted(backward, 'ClusterTunnel main-tunnel')), rules(predicted(forward, 'ClusterTunnel main-tunnel')));
    const messages = (m: MeshModel) => runRules(m).map((f) => `${f.code} ${f.message}`);
    assert.deepEqual(messages(backward), messages(forward));
  });
});
