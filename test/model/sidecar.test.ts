import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { observedProxy, predictInjection, sidecarInfo } from '../../src/model/sidecar.js';

describe('injection prediction (the webhooks and injectRequired)', () => {
  const cases: Array<[string, Record<string, string> | undefined, Record<string, string>, Record<string, string>, boolean | 'unknown']> = [
    ['namespace istio-injection=enabled', { 'istio-injection': 'enabled' }, {}, {}, true],
    ['namespace istio-injection=disabled beats a pod label true', { 'istio-injection': 'disabled' }, { 'sidecar.istio.io/inject': 'true' }, {}, false],
    ['namespace istio.io/rev', { 'istio.io/rev': 'canary' }, {}, {}, true],
    ['istio-injection=disabled beats istio.io/rev on the namespace', { 'istio-injection': 'disabled', 'istio.io/rev': 'canary' }, {}, {}, false],
    ['unlabelled namespace, pod label inject=true', {}, { 'sidecar.istio.io/inject': 'true' }, {}, true],
    ['unlabelled namespace, pod label istio.io/rev', {}, { 'istio.io/rev': 'stable' }, {}, true],
    ['unlabelled namespace, the annotation cannot opt in', {}, {}, { 'sidecar.istio.io/inject': 'true' }, false],
    ['enabled namespace, pod label inject=false vetoes', { 'istio-injection': 'enabled' }, { 'sidecar.istio.io/inject': 'false' }, {}, false],
    ['enabled namespace, the deprecated annotation still vetoes', { 'istio-injection': 'enabled' }, {}, { 'sidecar.istio.io/inject': 'false' }, false],
    ['the label beats the annotation', { 'istio-injection': 'enabled' }, { 'sidecar.istio.io/inject': 'true' }, { 'sidecar.istio.io/inject': 'false' }, true],
    ['namespace unknown, nothing on the pod', undefined, {}, {}, 'unknown'],
    ['namespace unknown, pod opts in', undefined, { 'sidecar.istio.io/inject': 'true' }, {}, true],
    ['namespace unknown, pod vetoes', undefined, { 'sidecar.istio.io/inject': 'false' }, {}, false],
  ];
  for (const [name, ns, labels, annotations, expected] of cases) {
    it(name, () => assert.equal(predictInjection(ns, labels, annotations, false).inject, expected));
  }
  it('hostNetwork pods are never injected', () => assert.equal(predictInjection({ 'istio-injection': 'enabled' }, {}, {}, true).inject, false));
  it('kube-system is ignored by the injector', () => assert.equal(predictInjection({ 'istio-injection': 'enabled' }, {}, {}, false, 'kube-system').inject, false));
});

describe('observed sidecars', () => {
  const proxy = { name: 'istio-proxy', args: ['proxy', 'sidecar'] };
  it('classic: istio-proxy in containers', () => assert.equal(observedProxy({ containers: [{ name: 'app' }, proxy] }), 'classic'));
  it('native: istio-proxy init container with restartPolicy Always', () =>
    assert.equal(observedProxy({ containers: [{ name: 'app' }], initContainers: [{ ...proxy, restartPolicy: 'Always' }] }), 'native'));
  it('an istio-proxy init container without restartPolicy Always is not a sidecar', () =>
    assert.equal(observedProxy({ containers: [{ name: 'app' }], initContainers: [proxy] }), undefined));
  it('a gateway runs the proxy as its workload', () => assert.equal(observedProxy({ containers: [{ name: 'istio-proxy', args: ['proxy', 'router'] }] }), 'gateway'));
  it('a running pod without istio-proxy in an ambient namespace is captured by ztunnel', () => {
    const info = sidecarInfo({ spec: { containers: [{ name: 'app' }] }, labels: {}, annotations: {}, nsLabels: { 'istio.io/dataplane-mode': 'ambient' }, namespace: 'a', template: false });
    assert.deepEqual([info.state, info.ambient], ['absent', true]);
  });
  it('a pod can opt out of ambient', () => {
    const info = sidecarInfo({ spec: { containers: [{ name: 'app' }] }, labels: { 'istio.io/dataplane-mode': 'none' }, annotations: {}, nsLabels: { 'istio.io/dataplane-mode': 'ambient' }, namespace: 'a', template: false });
    assert.equal(info.ambient, false);
  });
  it('a predicted sidecar brings the tlsMode label', () => {
    const info = sidecarInfo({ spec: { containers: [{ name: 'app' }] }, labels: {}, annotations: {}, nsLabels: { 'istio-injection': 'enabled' }, namespace: 'a', template: true });
    assert.deepEqual([info.state, info.predicted, info.tlsModeLabel], ['present', true, true]);
  });
});
