// The Cloudflare operator's chain, level by level, and what decides which Ingresses it serves.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Ingress, IngressClass, ServicePort, TunnelIngressClassConfig } from '../../src/core/k8s.js';
import {
  operatorPath,
  parseGoBool,
  portNumberScheme,
  predictedOriginRequest,
  protocolChain,
  resolveBackendPort,
  resolveClassConfig,
  resolveIngressClass,
  type ChainInput,
} from '../../src/model/operator.js';
import { serviceView } from '../../src/model/services.js';
import { ingress, ingressClass, tunnelIngressClassConfig, type Obj } from '../support/build.js';

const TICC = { label: 'TunnelIngressClassConfig cloudflare-operator-system/cfg', defaultProtocol: 'http' };

function chain(o: Partial<ChainInput> = {}) {
  return protocolChain({ ingressLabel: 'Ingress app/web', ingressAnnotations: {}, serviceLabel: 'Service app/web', serviceAnnotations: {}, port: 8080, classConfig: TICC, ...o });
}

function port(p: Partial<ServicePort>): ServicePort {
  return { port: 8080, ...p };
}

describe('operator protocol chain', () => {
  it('level 1: the Ingress-wide annotation wins over everything, used as written', () => {
    const c = chain({ ingressAnnotations: { 'cloudflare.com/protocol': 'HTTPS', 'cloudflare.com/protocol-8080': 'http' }, servicePort: port({ name: 'http', appProtocol: 'http' }) });
    assert.equal(c.level, 1);
    assert.equal(c.protocol, 'HTTPS');
    assert.equal(c.levels.length, 7);
    assert.equal(c.levels[1]?.value, 'http', 'lower levels are still evaluated for the report');
  });
  it('level 2: the per-port annotation keyed by the Service port', () => {
    const c = chain({ ingressAnnotations: { 'cloudflare.com/protocol-8080': 'https' }, serviceAnnotations: { 'cloudflare.com/protocol': 'http' } });
    assert.deepEqual([c.level, c.protocol], [2, 'https']);
    assert.match(c.source, /cloudflare\.com\/protocol-8080=https/);
  });
  it('level 2 ignores an annotation keyed by another port (the target port)', () => {
    const c = chain({ ingressAnnotations: { 'cloudflare.com/protocol-9091': 'https' }, port: 80 });
    assert.notEqual(c.level, 2);
  });
  it('level 3: the Service annotation', () => {
    const c = chain({ serviceAnnotations: { 'cloudflare.com/protocol': 'wss' }, servicePort: port({ appProtocol: 'http' }) });
    assert.deepEqual([c.level, c.protocol], [3, 'wss']);
  });
  it('level 3 is empty when the Service does not exist', () => {
    const c = protocolChain({ ingressLabel: 'Ingress app/web', ingressAnnotations: {}, port: 443, classConfig: TICC });
    assert.equal(c.levels[2]?.value, null);
    assert.match(c.levels[2]?.note ?? '', /not found/);
  });
  for (const [app, scheme] of [
    ['kubernetes.io/h2c', 'h2mux'],
    ['h2c', 'h2mux'],
    ['kubernetes.io/ws', 'ws'],
    ['kubernetes.io/wss', 'wss'],
    ['HTTPS', 'https'],
    ['grpc', 'http'],
    ['GRPC', 'http'],
    ['TCP', 'tcp'],
    ['udp', 'udp'],
    ['http2', 'http2'],
    ['kubernetes.io/grpc', 'kubernetes.io/grpc'],
  ] as const) {
    it(`level 4: appProtocol ${app} → ${scheme}`, () => {
      const c = chain({ servicePort: port({ name: 'https', appProtocol: app }) });
      assert.deepEqual([c.level, c.protocol], [4, scheme]);
    });
  }
  it('level 4 matches exactly: Grpc is passed through as it is', () => {
    assert.equal(chain({ servicePort: port({ appProtocol: 'Grpc' }) }).protocol, 'Grpc');
  });
  for (const [name, scheme] of [
    ['http', 'http'],
    ['web', 'http'],
    ['https-api', 'https'],
    ['secure', 'https'],
    ['grpc-web', 'http'],
    ['http2', 'h2mux'],
    ['h2c', 'h2mux'],
    ['websocket', 'ws'],
    ['websocket-secure', 'wss'],
    ['ssh', 'ssh'],
    ['rdp', 'rdp'],
  ] as const) {
    it(`level 5: port name ${name} → ${scheme}`, () => {
      const c = chain({ servicePort: port({ name }) });
      assert.deepEqual([c.level, c.protocol], [5, scheme]);
    });
  }
  it('level 5 matches exactly: an Istio-style https-admin falls through to level 6', () => {
    const c = chain({ servicePort: port({ name: 'https-admin' }), classConfig: { label: 'TICC', defaultProtocol: 'http' } });
    assert.deepEqual([c.level, c.protocol], [6, 'http']);
    assert.match(c.levels[4]?.note ?? '', /exact match/);
  });
  it('level 6: the TunnelIngressClassConfig defaultProtocol', () => {
    const c = chain({ classConfig: { label: 'TICC', defaultProtocol: 'https' } });
    assert.deepEqual([c.level, c.protocol], [6, 'https']);
  });
  it('level 6 always answers when the config exists: the CRD defaults defaultProtocol to http (443 gets http://)', () => {
    const c = chain({ classConfig: { label: 'TICC' }, port: 443 });
    assert.deepEqual([c.level, c.protocol], [6, 'http']);
    assert.match(c.levels[5]?.note ?? '', /CRD defaults/);
  });
  it('level 7: the port number, only without a TunnelIngressClassConfig', () => {
    const at = (p: number) => protocolChain({ ingressLabel: 'Ingress app/web', ingressAnnotations: {}, port: p });
    assert.deepEqual([at(443).level, at(443).protocol], [7, 'https']);
    assert.equal(at(22).protocol, 'ssh');
    assert.equal(at(3389).protocol, 'rdp');
    assert.equal(at(445).protocol, 'smb');
    assert.equal(at(139).protocol, 'smb');
    assert.equal(at(8443).protocol, 'http', '8443 is not https');
    assert.equal(portNumberScheme(80), 'http');
  });
});

describe('operator backend port', () => {
  const svc = serviceView(
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'app' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'main', port: 8080, targetPort: 'http' }, { name: 'admin', port: 9091, appProtocol: 'http' }] },
    },
    'cluster.local',
  );
  it('a number is used as given, with the entry of the same Service port', () => {
    assert.equal(resolveBackendPort({ number: 9091 }, svc).servicePort?.name, 'admin');
  });
  it('a name resolves to its Service port', () => {
    assert.equal(resolveBackendPort({ name: 'admin' }, svc).port, 9091);
  });
  it('a name the Service lacks silently becomes 80 (the container port name is a classic mistake)', () => {
    const r = resolveBackendPort({ name: 'http' }, svc);
    assert.equal(r.port, 80);
    assert.equal(r.missingName, 'http');
    assert.equal(r.servicePort, undefined);
  });
  it('no port: the first Service port', () => {
    assert.equal(resolveBackendPort(undefined, svc).port, 8080);
  });
  it('no Service: the backend number, else 80', () => {
    assert.equal(resolveBackendPort({ number: 3000 }, undefined).port, 3000);
    assert.equal(resolveBackendPort({ name: 'x' }, undefined).port, 80);
  });
});

describe('operator paths and originRequest', () => {
  it('converts paths the way convertPathType does', () => {
    assert.equal(operatorPath('/', 'Prefix'), undefined);
    assert.equal(operatorPath('', 'Exact'), undefined);
    assert.equal(operatorPath('/api', 'Exact'), '^/api$');
    assert.equal(operatorPath('/api', 'Prefix'), '/api(/.*)?$');
    assert.equal(operatorPath('/api/', 'Prefix'), '/api/.*');
    assert.equal(operatorPath('/api', 'ImplementationSpecific'), '/api(/.*)?$');
    assert.equal(operatorPath('/api', undefined), '/api(/.*)?$');
  });
  it('parses booleans like Go', () => {
    assert.equal(parseGoBool('True'), true);
    assert.equal(parseGoBool('0'), false);
    assert.equal(parseGoBool('yes'), undefined);
  });
  it('keeps noTLSVerify, http2Origin and proxy settings, annotations over defaults, and names what is dropped', () => {
    const r = predictedOriginRequest(
      { 'cloudflare.com/http2-origin': 'true', 'cloudflare.com/ca-pool': 'root', 'cloudflare.com/no-tls-verify': 'nope' },
      { noTlsVerify: true, connectTimeout: '30s', proxyPort: 1080 },
    );
    assert.deepEqual(r.originRequest, { noTLSVerify: true, http2Origin: true, proxyPort: 1080 });
    assert.deepEqual(r.dropped, ['annotation cloudflare.com/ca-pool', 'defaultOriginRequest.connectTimeout']);
  });
});

describe('which Ingresses the operator serves', () => {
  const ours = ingressClass() as unknown as IngressClass;
  const nginx = ingressClass('nginx', { controller: 'k8s.io/ingress-nginx', parameters: null }) as unknown as IngressClass;
  const asIngress = (o: Obj) => o as unknown as Ingress;
  it('spec.ingressClassName naming its class', () => {
    const r = resolveIngressClass(asIngress(ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }])), [ours, nginx], false, false);
    assert.deepEqual([r.via, r.ours, r.rulesAdded], ['ingressClassName', true, true]);
  });
  it('the legacy annotation', () => {
    const i = ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }], { className: null, annotations: { 'kubernetes.io/ingress.class': 'cloudflare-tunnel' } });
    assert.equal(resolveIngressClass(asIngress(i), [ours], true, true).via, 'annotation');
  });
  it('another controller', () => {
    const i = ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }], { className: 'nginx' });
    assert.equal(resolveIngressClass(asIngress(i), [ours, nginx], true, true).ours, false);
  });
  it('a live Ingress relying on the default class: reconciled, but its rules are never added', () => {
    const def = ingressClass('cloudflare-tunnel', { isDefault: true }) as unknown as IngressClass;
    const i = ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }], { className: null });
    const r = resolveIngressClass(asIngress(i), [def], true, true);
    assert.deepEqual([r.ours, r.rulesAdded], [true, false]);
    assert.match(r.evidence, /none of its rules is added/);
  });
  it('a manifest without a class: the DefaultIngressClass admission plugin writes the default class at creation', () => {
    const def = ingressClass('cloudflare-tunnel', { isDefault: true }) as unknown as IngressClass;
    const i = ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }], { className: null });
    const r = resolveIngressClass(asIngress(i), [def], false, false);
    assert.deepEqual([r.ours, r.rulesAdded], [true, true]);
  });
  it('a class not in the input is unknown offline, absent live', () => {
    const i = asIngress(ingress('app', 'web', [{ host: 'a.example.com', service: 'web', port: 80 }]));
    assert.equal(resolveIngressClass(i, [], false, false).ours, 'unknown');
    assert.equal(resolveIngressClass(i, [], true, true).ours, false);
  });
  it('the TunnelIngressClassConfig through spec.parameters, namespace defaulting to the operator namespace', () => {
    const cls = ingressClass('c', { parameters: { apiGroup: 'networking.cloudflare-operator.io', kind: 'TunnelIngressClassConfig', name: 'cloudflare-tunnel-config' } }) as unknown as IngressClass;
    const ticc = tunnelIngressClassConfig() as unknown as TunnelIngressClassConfig;
    assert.equal(resolveClassConfig(cls, [ticc], true).config, ticc);
    assert.match(resolveClassConfig(ingressClass('x', { parameters: null }) as unknown as IngressClass, [ticc], true).problem ?? '', /has no parameters configured/);
    assert.match(resolveClassConfig(cls, [], true).problem ?? '', /not found/);
    const wrongKind = ingressClass('y', { parameters: { apiGroup: 'networking.cloudflare-operator.io', kind: 'Tunnel', name: 'x' } }) as unknown as IngressClass;
    assert.match(resolveClassConfig(wrongKind, [ticc], true).problem ?? '', /invalid parameters kind/);
  });
});
