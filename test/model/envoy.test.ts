// Reading Envoy config dumps: the real ones in ../shared/corpus/envoy (Istio's istioctl test data,
// read at test time, never copied), the demo's (fixtures/envoy), and the pruning that keeps only
// what the comparison reads — never a certificate or a key.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dumpsFromText, parseDumpSpec } from '../../src/collect/envoy.js';
import { collectFromTexts } from '../../src/collect/files.js';
import { parseNodeId, pruneConfigDump, type ProxyConfigInput } from '../../src/core/envoy-dump.js';
import { envoySendsTo, inboundFor, readEnvoyDump, socketFor, upstreamSocket, configRef } from '../../src/model/envoy/dump.js';
import { MeshModel } from '../../src/model/model.js';
import { envoyComparisons } from '../../src/rules/envoy-agreement.js';
import { runRules } from '../../src/rules/run.js';
import { InputError } from '../../src/errors.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CORPUS = join(ROOT, '..', 'shared', 'corpus');
const ENVOY = join(CORPUS, 'envoy');
const present = existsSync(ENVOY);
if (!present) process.stderr.write(`\n!!! Envoy corpus tests SKIPPED: ${ENVOY} does not exist !!!\n\n`);

const HTTP_CONFIG = 'istioctl__pkg__describe__testdata__describe__http_config.json';
const ENDPOINTS = 'istioctl__pkg__writer__envoy__configdump__testdata__endpoint__configdump.json';
const WAYPOINT = 'istioctl__pkg__proxyconfig__testdata__config_dump.json';
const COMPARE = 'istioctl__pkg__writer__compare__testdata__configdump.json';

function corpusDump(file: string, pod?: { namespace: string; name: string }): ProxyConfigInput {
  const [input] = dumpsFromText(file, readFileSync(join(ENVOY, file), 'utf8'), pod);
  return input as ProxyConfigInput;
}

describe('real config dumps (istioctl test data)', { skip: !present && 'corpus not found' }, () => {
  it('every dump reads, and pruning keeps no secret, route or certificate', () => {
    for (const file of readdirSync(ENVOY).filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(join(ENVOY, file), 'utf8');
      const input = corpusDump(file);
      const pruned = JSON.stringify(input.dump);
      assert.ok(pruned.length <= text.length, file);
      assert.doesNotMatch(pruned, /SecretsConfigDump|RoutesConfigDump|inline_bytes|BEGIN CERTIFICATE|private_key|virtual_hosts/, file);
      assert.doesNotThrow(() => readEnvoyDump(input), file);
    }
  });

  it("an ingress gateway's subset cluster with auto mTLS: tlsMode-istio gives Istio mTLS, tlsMode-disabled plaintext; built from DestinationRule default/productpage", () => {
    const dump = readEnvoyDump(corpusDump(HTTP_CONFIG));
    const c = dump.clusters.get('outbound|9080|v1|productpage.default.svc.cluster.local');
    assert.ok(c);
    assert.deepEqual([c.direction, c.port, c.subset, c.host, c.builtFrom], ['outbound', 9080, 'v1', 'productpage.default.svc.cluster.local', 'DestinationRule default/productpage']);
    assert.deepEqual(c.matches.map((m) => [m.name, m.match, m.socket.sends]), [
      ['tlsMode-istio', { tlsMode: 'istio' }, 'ISTIO_MUTUAL'],
      ['tlsMode-disabled', {}, 'PLAINTEXT'],
    ]);
    assert.match(c.matches[0]?.socket.describe ?? '', /ALPN istio-peer-exchange,istio; SDS default\/ROOTCA; SNI outbound_\.9080_\.v1_\.productpage/);
    // No endpoints in this dump: what is sent depends on each endpoint's tlsMode.
    const answer = envoySendsTo(dump, c, '10.244.0.194', 9080);
    assert.deepEqual([answer.sends, answer.withTlsMode, answer.withoutTlsMode], ['DEPENDS', 'ISTIO_MUTUAL', 'PLAINTEXT']);
    assert.equal(dump.node, undefined, 'a dump without bootstrap names no pod');
  });

  it("a sidecar's endpoints: bookinfo pods carry tlsMode=istio (mTLS through that cluster's socket match), istiod's and kube-dns's do not (plaintext)", () => {
    const eps = readEnvoyDump(corpusDump(ENDPOINTS)).endpoints;
    const reviews = eps.get('outbound|9080||reviews.default.svc.cluster.local') ?? [];
    assert.deepEqual(reviews.map((e) => `${e.address}:${e.port} ${e.tlsMatch.tlsMode ?? '-'}`).sort(), ['10.244.0.192:9080 istio', '10.244.0.193:9080 istio', '10.244.0.195:9080 istio']);
    const istiod = eps.get('outbound|15012||istiod.istio-system.svc.cluster.local') ?? [];
    assert.deepEqual(istiod.map((e) => e.tlsMatch), [{}]);
    assert.equal(eps.get('outbound|53||kube-dns.kube-system.svc.cluster.local')?.length, 2);
    // Envoy's choice for each: the auto-mTLS cluster of the gateway dump, matched against this metadata.
    const cluster = readEnvoyDump(corpusDump(HTTP_CONFIG)).clusters.get('outbound|9080|v1|productpage.default.svc.cluster.local');
    assert.ok(cluster);
    assert.equal(socketFor(cluster, reviews[0]?.tlsMatch ?? {}).socket.sends, 'ISTIO_MUTUAL');
    assert.equal(socketFor(cluster, istiod[0]?.tlsMatch ?? {}).socket.sends, 'PLAINTEXT');
  });

  it("a waypoint's dump: its node is a waypoint (ambient), internal_upstream around raw_buffer is plaintext", () => {
    const dump = readEnvoyDump(corpusDump(WAYPOINT));
    assert.deepEqual([dump.node?.type, dump.node?.pod, dump.node?.istioVersion], ['waypoint', { namespace: 'default', name: 'httpbin-istio-waypoint-58f646c5ff-dbfkz' }, '1.21.0-1226']);
    const c = dump.clusters.get('inbound-vip|8000|http|httpbin.default.svc.cluster.local');
    assert.equal(c?.socket.sends, 'PLAINTEXT');
    assert.match(c?.socket.describe ?? '', /internal_upstream around raw_buffer/);
    assert.equal(dump.clustersVersion, '2023-12-26T05:56:10Z/3');
    assert.equal(dump.newestUpdate !== undefined, true);
  });

  it('the HBONE listener connect_terminate (15008) terminates TLS; a waypoint dump given for a pod is not compared (TM503 info)', () => {
    const dump = readEnvoyDump(corpusDump(COMPARE));
    const terminate = inboundFor(dump, 15008);
    assert.ok(terminate?.forPort);
    assert.ok(terminate.chains.every((c) => c.terminatesMtls || c.terminatesTls));
    const snapshot = collectFromTexts([{ name: 'ns.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n' }]);
    snapshot.proxyConfigs = [corpusDump(WAYPOINT)];
    const findings = runRules(new MeshModel(snapshot)).filter((f) => f.code === 'TM503');
    assert.deepEqual(findings.map((f) => [f.severity, f.resource.name]), [['info', 'httpbin-istio-waypoint-58f646c5ff-dbfkz']]);
  });

  it("bookinfo behind its ingress gateway, the gateway's real dump: agreement with auto mTLS; with destination-rule-all-mtls the wire agrees but Envoy's cluster is not the DestinationRule's", () => {
    const text = (dir: string, f: string) => ({ name: f, text: readFileSync(join(CORPUS, dir, f), 'utf8') });
    const gatewayPod = `apiVersion: v1
kind: Pod
metadata: {name: istio-ingressgateway-5c6d7f8b9-gw001, namespace: istio-system, labels: {istio: ingressgateway, app: istio-ingressgateway}}
spec: {containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.26.2, args: [proxy, router]}]}
status: {phase: Running, podIP: 10.244.0.176}
---
apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: productpage-v1, namespace: default}
spec:
  hosts: ['*']
  gateways: [bookinfo-gateway]
  http: [{route: [{destination: {host: productpage, port: {number: 9080}, subset: v1}}]}]
`;
    for (const [dr, mechanism] of [
      ['samples__bookinfo__networking__destination-rule-all.yaml', false],
      ['samples__bookinfo__networking__destination-rule-all-mtls.yaml', true],
    ] as const) {
      const snapshot = collectFromTexts([
        text('istio__istio', 'samples__bookinfo__platform__kube__bookinfo.yaml'),
        text('istio__istio', 'samples__bookinfo__networking__bookinfo-gateway.yaml'),
        text('istio__istio', dr),
        { name: 'gateway.yaml', text: gatewayPod },
      ]);
      snapshot.proxyConfigs = [corpusDump(HTTP_CONFIG, { namespace: 'istio-system', name: 'istio-ingressgateway-5c6d7f8b9-gw001' })];
      const model = new MeshModel(snapshot);
      const subsetRoute = envoyComparisons(model).filter((c) => c.edge.servicePort.port === 9080 && 'subset' in c.edge && c.edge.subset === 'v1');
      assert.ok(subsetRoute.length > 0, dr);
      for (const c of subsetRoute) {
        assert.equal(c.result, 'agrees', `${dr}: ${c.line}`);
        assert.equal(/not by the DestinationRule's tls socket/.test(c.line), mechanism, `${dr}: ${c.line}`);
      }
      assert.deepEqual(runRules(model).filter((f) => f.code.startsWith('TM5') && f.code !== 'TM501').map((f) => f.code), [], dr);
    }
  });
});

describe('reading dumps', () => {
  it("Istio's node id: type, IP, pod and namespace (pod names may hold dots)", () => {
    assert.deepEqual(parseNodeId('sidecar~10.244.1.17~main-tunnel-5c6d7f8b9-x2kqp.cloudflare-operator-system~cloudflare-operator-system.svc.cluster.local'), {
      type: 'sidecar',
      ip: '10.244.1.17',
      pod: { namespace: 'cloudflare-operator-system', name: 'main-tunnel-5c6d7f8b9-x2kqp' },
    });
    assert.deepEqual(parseNodeId('router~10.0.0.1~gw.v2.istio-system~istio-system.svc.cluster.local').pod, { namespace: 'istio-system', name: 'gw.v2' });
    assert.deepEqual(parseNodeId('not a node id'), { type: 'unknown' });
  });

  it('transport sockets: none or raw_buffer is plaintext, TLS with a client certificate MUTUAL, without SIMPLE, wrappers followed, unknown said', () => {
    assert.equal(upstreamSocket(undefined).sends, 'PLAINTEXT');
    const tls = (ctx: Record<string, unknown>) => ({ name: 'tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: ctx } });
    assert.equal(upstreamSocket(tls({})).sends, 'SIMPLE');
    assert.equal(upstreamSocket(tls({ tls_certificate_sds_secret_configs: [{ name: 'file-cert:/etc/certs/cert.pem~/etc/certs/key.pem' }] })).sends, 'MUTUAL');
    assert.equal(upstreamSocket(tls({ tls_certificate_sds_secret_configs: [{ name: 'default' }], validation_context_sds_secret_config: { name: 'ROOTCA' } })).sends, 'ISTIO_MUTUAL');
    assert.equal(upstreamSocket({ name: 'envoy.transport_sockets.tcp_stats', typed_config: { '@type': 'x.TcpStats', transport_socket: tls({ alpn_protocols: ['istio'] }) } }).sends, 'ISTIO_MUTUAL');
    assert.equal(upstreamSocket({ name: 'envoy.transport_sockets.alts' }).sends, 'UNKNOWN');
  });

  it("a cluster's metadata names the Istio config that built it", () => {
    assert.equal(configRef('/apis/networking.istio.io/v1alpha3/namespaces/app/destination-rule/web'), 'DestinationRule app/web');
  });

  it('NAMESPACE/POD=FILE names the pod of a partial dump; a plain path does not', () => {
    assert.deepEqual(parseDumpSpec('app/web-1=dumps/web.json'), { file: 'dumps/web.json', pod: { namespace: 'app', name: 'web-1' } });
    assert.deepEqual(parseDumpSpec('dumps/web.json'), { file: 'dumps/web.json' });
    assert.deepEqual(parseDumpSpec('./Dumps/web=1.json'), { file: './Dumps/web=1.json' }, 'not a namespace/pod: a path');
  });

  it('a file that is not a config dump is one clear input error; YAML (istioctl -o yaml) reads too', () => {
    assert.throws(() => dumpsFromText('x.json', '{"kind": "Pod"}'), (e: unknown) => e instanceof InputError && /x\.json:1: not an Envoy config dump/.test(e.message));
    const yaml = "configs:\n  - '@type': type.googleapis.com/envoy.admin.v3.ClustersConfigDump\n    dynamic_active_clusters: []\n";
    assert.equal(dumpsFromText('x.yaml', yaml).length, 1);
  });

  it('the demo dumps: auto mTLS clusters with tlsMode endpoints, PERMISSIVE chains for 8080 and 9091, the exclusion in the bootstrap annotations', () => {
    const read = (f: string) => readEnvoyDump(dumpsFromText(f, readFileSync(join(ROOT, 'fixtures', 'envoy', 'demo', f), 'utf8'))[0] as ProxyConfigInput);
    const client = read('main-tunnel-5c6d7f8b9-x2kqp.json');
    assert.deepEqual(client.node?.pod, { namespace: 'cloudflare-operator-system', name: 'main-tunnel-5c6d7f8b9-x2kqp' });
    const c9091 = client.clusters.get('outbound|9091||sg-cloud-gateway.app.svc.cluster.local');
    assert.ok(c9091);
    assert.equal(envoySendsTo(client, c9091, '10.244.2.31', 9091).sends, 'ISTIO_MUTUAL');
    const target = read('sg-cloud-gateway-7d9f8b6c5d-4kd8s.json');
    assert.deepEqual([inboundFor(target, 8080)?.mode, inboundFor(target, 9091)?.mode, inboundFor(target, 7777)?.forPort], ['PERMISSIVE', 'PERMISSIVE', false]);
    assert.equal(target.node?.annotations?.['traffic.sidecar.istio.io/excludeInboundPorts'], '9091');
    assert.equal(target.node?.annotations?.['kubernetes.io/config.seen'], undefined, 'only capture and sidecar annotations are kept');
  });

  it('pruning: a dump prunes to what is read, the same whatever else it held', () => {
    const raw = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'envoy', 'demo', 'main-tunnel-5c6d7f8b9-x2kqp.json'), 'utf8'));
    const once = pruneConfigDump(raw);
    assert.deepEqual(pruneConfigDump(once), once, 'pruning a pruned dump changes nothing');
    assert.doesNotMatch(JSON.stringify(once), /inline_bytes|PROXY_CONFIG|virtualOutbound|routes/);
  });
});
