import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inboundCapture, ipInCidr, isInboundCaptured, outboundBypass, outboundCapture, parsePortList, readInitArgs } from '../../src/model/capture.js';

describe('port lists as the injector validates them', () => {
  it('trims spaces', () => assert.deepEqual([...parsePortList(' 9091 , 15020 ', false).ports], [9091, 15020]));
  it('rejects ranges, names, * in exclude lists, empty items and > 65535', () =>
    assert.deepEqual(parsePortList('8000-8010,http,*,,70000', false).invalid, ['8000-8010', 'http', '*', '(empty item)', '70000']));
  it('accepts * in include lists', () => assert.equal(parsePortList('*', true).all, true));
  it('an empty value is valid and empty', () => assert.deepEqual(parsePortList('', false), { all: false, ports: new Set(), invalid: [] }));
});

describe('inbound capture', () => {
  const ann = (a: Record<string, string>) => inboundCapture(a, undefined);
  it('captures every port by default', () => assert.equal(isInboundCaptured(ann({}), 9091), true));
  it('excludeInboundPorts bypasses the sidecar', () => assert.equal(isInboundCaptured(ann({ 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }), 9091), false));
  it('the exclude list applies only with includeInboundPorts *', () =>
    assert.equal(isInboundCaptured(ann({ 'traffic.sidecar.istio.io/includeInboundPorts': '9091', 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }), 9091), true));
  it('an empty includeInboundPorts captures nothing', () => assert.equal(isInboundCaptured(ann({ 'traffic.sidecar.istio.io/includeInboundPorts': '' }), 8080), false));
  it("the sidecar's own ports are never captured", () => assert.equal(isInboundCaptured(ann({}), 15021), false));
  it("seed 000's misspelled key changes nothing", () => assert.equal(isInboundCaptured(ann({ 'traffic.istio.io/excludeInboundPorts': '9091' }), 9091), true));
  it('istio-init args are what was applied, over the annotations', () => {
    const init = readInitArgs([{ name: 'istio-init', args: ['istio-iptables', '-b', '*', '-d', '15090,15021,15020,9091'] }]);
    const cap = inboundCapture({}, init);
    assert.equal(isInboundCaptured(cap, 9091), false);
    assert.match(cap.source, /istio-init args/);
  });
  it('long flag names and --flag=value', () => {
    const init = readInitArgs([{ name: 'istio-init', args: ['--istio-inbound-ports=*', '--istio-local-exclude-ports', '9091'] }]);
    assert.equal(isInboundCaptured(inboundCapture({}, init), 9091), false);
  });
  it('says when the annotation and the applied args disagree (pod older than the annotation)', () => {
    const init = readInitArgs([{ name: 'istio-init', args: ['-b', '*', '-d', '15090'] }]);
    assert.match(inboundCapture({ 'traffic.sidecar.istio.io/excludeInboundPorts': '9091' }, init).notes.join(), /predates/);
  });
});

describe('outbound capture of a meshed client', () => {
  it('excludeOutboundPorts bypasses the sidecar', () =>
    assert.equal(outboundBypass(outboundCapture({ 'traffic.sidecar.istio.io/excludeOutboundPorts': '9091' }, undefined), 9091, undefined).bypass, true));
  it('an IP outside includeOutboundIPRanges bypasses it', () =>
    assert.equal(outboundBypass(outboundCapture({ 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.96.0.0/12' }, undefined), 80, '172.20.0.5').bypass, true));
  it('an IP inside is captured', () =>
    assert.equal(outboundBypass(outboundCapture({ 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.96.0.0/12' }, undefined), 80, '10.96.14.20').bypass, false));
  it('without the IP (offline) the range is a condition, not a verdict', () => {
    const b = outboundBypass(outboundCapture({ 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/8' }, undefined), 80, undefined);
    assert.equal(b.bypass, false);
    assert.match((b as { maybe?: string }).maybe ?? '', /^if excludeOutboundIPRanges 10.0.0.0\/8 covers/);
  });
  it('CIDR matching, IPv4 and IPv6', () => {
    assert.equal(ipInCidr('10.96.14.20', '10.96.0.0/12'), true);
    assert.equal(ipInCidr('10.112.0.1', '10.96.0.0/12'), false);
    assert.equal(ipInCidr('fd00::1', 'fd00::/8'), true);
    assert.equal(ipInCidr('10.0.0.1', 'fd00::/8'), false);
  });
});
