// `tunnelmesh why '<log line>'`: each symptom the issue lists, in the words the programs write
// it, is explained by the finding that causes it on a fixture that has that finding — ranked
// first, with its fix — and a line nothing in the input explains says so (exit 0, never "fine").

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { classifyLine } from '../../src/rules/why/symptoms.js';
import { extractNames } from '../../src/rules/why/names.js';
import {
  destinationRule,
  istioGateway,
  namespace,
  operatorCloudflared,
  operatorTunnelConfig,
  pod,
  service,
  toYaml,
  virtualService,
  type Obj,
} from '../support/build.js';
import { runInProcess } from '../support/cli.js';
import { lazyTempDir } from '../support/tmp.js';
import { viaConfig } from '../support/tunnel-scenarios.js';
import { strictObjects } from '../live/scenarios.js';

const dir = lazyTempDir('why');
function fixture(name: string, objects: Obj[]): string {
  const file = join(dir(), `${name}.yaml`);
  writeFileSync(file, toYaml(objects));
  return file;
}

interface WhyJson {
  symptoms: Array<{ id: string; matched: string }>;
  names: Array<{ text: string; kind: string; resolved: string | null }>;
  explanations: Array<{ rank: number; finding: { code: string; resource: { kind: string; namespace?: string; name: string }; port: number | null; fixes: Array<{ title: string }> }; matchesSymptom: boolean; reasons: string[] }>;
  edges: Array<{ edge: string; outcome: string }>;
  unexplained: string | null;
}

async function why(line: string, inputs: string[], extra: string[] = []): Promise<{ code: number | null; json: WhyJson; stderr: string }> {
  const run = await runInProcess(['why', line, ...inputs.flatMap((f) => ['-f', f]), '-o', 'json', ...extra]);
  assert.ok(run.code === 0 || run.code === 1, `exit ${run.code}: ${run.stderr}`);
  return { code: run.code, json: JSON.parse(run.stdout) as WhyJson, stderr: run.stderr };
}

function top(j: WhyJson): string {
  const f = j.explanations[0]?.finding;
  return f ? `${f.code} ${f.resource.kind} ${f.resource.namespace}/${f.resource.name}${f.port !== null ? `:${f.port}` : ''}` : 'none';
}

const DEMO = 'fixtures/demo';
const catchAll = { service: 'http_status:404' };

// An Envoy access log line of cloudflared's sidecar, in Istio's default text format (pilot/pkg/model/telemetry_logging.go EnvoyTextLogFormat).
const DEMO_ACCESS_LOG =
  '[2026-11-20T09:30:01.123Z] "GET /actuator/health HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,TLS_error:_268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER} - "TLS_error:_268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER" 0 91 2 - "203.0.113.9" "curl/8.5.0" "3f1d2c4e" "admin.example.com" "10.244.2.31:9091" outbound|9091||sg-cloud-gateway.app.svc.cluster.local - 10.96.14.20:9091 10.244.1.17:48312 - default';

describe('why: each listed symptom maps to the finding that causes it', () => {
  it('WRONG_VERSION_NUMBER in an Envoy access log (503 UF, upstream host, cluster) → TM101 on the demo, with its fix, exit 1', async () => {
    const r = await why(DEMO_ACCESS_LOG, [DEMO]);
    assert.equal(r.code, 1);
    assert.equal(top(r.json), 'TM101 Service app/sg-cloud-gateway:9091');
    assert.ok(r.json.symptoms.some((s) => s.id === 'tls-to-plaintext' && s.matched === 'WRONG_VERSION_NUMBER'));
    assert.match(r.json.explanations[0]?.finding.fixes[0]?.title ?? '', /DestinationRule app\/sg-cloud-gateway-9091-no-mtls/);
    const names = Object.fromEntries(r.json.names.map((n) => [n.text, n.resolved]));
    assert.equal(names['outbound|9091||sg-cloud-gateway.app.svc.cluster.local'], 'Service app/sg-cloud-gateway:9091');
    assert.match(names['10.244.2.31:9091'] ?? '', /Pod app\/sg-cloud-gateway-7d9f8b6c5d-4kd8s port 9091/);
    assert.match(names['admin.example.com'] ?? '', /rule #0 \(admin\.example\.com → http:\/\/sg-cloud-gateway\.app\.svc:9091\)/);
    assert.deepEqual(r.json.edges.map((e) => e.outcome), ['mtls-to-uncaptured']);
  });

  it("the router's local reply with WRONG_VERSION_NUMBER and no names → TM101", async () => {
    const r = await why('upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: 268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER', [DEMO]);
    assert.equal(top(r.json), 'TM101 Service app/sg-cloud-gateway:9091');
  });

  it('upstream_reset_before_response_started{connection_termination} → TM101 on the demo (the app closes the mTLS connection)', async () => {
    const r = await why('"GET / HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 1 - "-" "-" "-" "admin.example.com"', [DEMO]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'upstream-reset'));
    assert.equal(top(r.json), 'TM101 Service app/sg-cloud-gateway:9091');
  });

  it('503 URX (retries exhausted) → the findings of the edge it names', async () => {
    const r = await why('"GET / HTTP/1.1" 503 URX - "-" 0 0 3001 - "-" "-" "-" "admin.example.com" "10.244.2.31:9091" outbound|9091||sg-cloud-gateway.app.svc.cluster.local', [DEMO]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'retries-exhausted'));
    assert.equal(top(r.json), 'TM101 Service app/sg-cloud-gateway:9091');
  });

  /** The live tests' STRICT scenario (TM102), each pod with its own IP. */
  const strict = (): string =>
    fixture(
      'strict',
      strictObjects().map((o) => (o.kind !== 'Pod' ? o : { ...o, status: { ...(o.status as object), podIP: o.metadata.namespace === 'edge' ? '10.244.1.20' : '10.244.2.31' } })),
    );

  it("cloudflared's \"Unable to reach the origin service … connection reset by peer\" (ingressRule, originService) → TM102", async () => {
    const line =
      '2026-11-20T09:31:00Z ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: read tcp 10.244.1.20:51234->10.96.5.5:80: read: connection reset by peer" connIndex=0 event=1 ingressRule=0 originService=http://web.app.svc:80';
    const r = await why(line, [strict()]);
    assert.equal(top(r.json), 'TM102 Service app/web:80');
    assert.ok(r.json.symptoms.some((s) => s.id === 'origin-unreachable') && r.json.symptoms.some((s) => s.id === 'upstream-reset'));
    assert.ok(r.json.explanations[0]?.reasons.some((x) => x.includes('edge the line names')));
  });

  it('"reset reason: connection termination" → TM102', async () => {
    const r = await why('upstream connect error or disconnect/reset before headers. reset reason: connection termination', [strict()]);
    assert.equal(top(r.json), 'TM102 Service app/web:80');
  });

  it("the target sidecar's NR filter_chain_not_found (plaintext into STRICT) → TM102", async () => {
    const r = await why('[2026-11-20T09:31:00.000Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.2.31:8080 10.244.1.20:51234 - -', [strict()]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'filter-chain-not-found'));
    assert.equal(top(r.json), 'TM102 Service app/web:80');
    assert.ok(r.json.explanations[0]?.reasons.some((x) => x.includes('a pod the line names')), 'the inbound address is the target pod');
  });

  it('"tls: first record does not look like a TLS handshake" from cloudflared (https:// to a plain HTTP port) → TM301', async () => {
    const file = fixture('tls301', viaConfig([{ hostname: 'web.example.com', service: 'https://web.app.svc:8080' }, catchAll], { ports: [{ name: 'http-web', port: 8080 }] }));
    const line = 'ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: tls: first record does not look like a TLS handshake" connIndex=1 event=1 ingressRule=0 originService=https://web.app.svc:8080';
    const r = await why(line, [file]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'tls-to-plaintext'));
    assert.equal(top(r.json), 'TM301 Service app/web:8080');
  });

  it('"malformed HTTP response \\x15\\x03…" (http:// to a TLS port) → TM301', async () => {
    const file = fixture('plain301', viaConfig([{ hostname: 'web.example.com', service: 'http://web.app.svc:8443' }, catchAll], { ports: [{ name: 'https', port: 8443 }] }));
    const line = String.raw`ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: net/http: HTTP/1.x transport connection broken: malformed HTTP response \"\x15\x03\x01\x00\x02\x02\"" originService=http://web.app.svc:8443`;
    const r = await why(line, [file]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'plaintext-to-tls'));
    assert.equal(top(r.json), 'TM301 Service app/web:8443');
  });

  it('"http2: server sent GOAWAY" toward a gRPC port → TM304', async () => {
    const file = fixture('grpc304', viaConfig([{ hostname: 'api.example.com', service: 'http://web.app.svc:9000' }, catchAll], { ports: [{ name: 'grpc', port: 9000 }] }));
    const r = await why('ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=PROTOCOL_ERROR, debug=\\"\\""', [file]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'http2-goaway'));
    assert.equal(top(r.json), 'TM304 Service app/web:9000');
  });

  it('"connect: connection refused" to a port the Service lacks → TM305', async () => {
    const file = fixture('missing305', viaConfig([{ hostname: 'web.example.com', service: 'http://web.app.svc:8081' }, catchAll], { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }));
    const r = await why('ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 10.96.0.50:8081: connect: connection refused" ingressRule=0 originService=http://web.app.svc:8081', [file]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'connection-refused'));
    assert.equal(top(r.json), 'TM305 Service app/web:8081');
  });

  it('503 UH "no healthy upstream" for a Service whose pods are not ready → TM305', async () => {
    const objects = [
      namespace('edge'),
      ...viaConfig([{ hostname: 'web.example.com', service: 'http://web.app.svc:80' }, catchAll], { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }).filter((o) => o.kind !== 'Deployment' || o.metadata.namespace !== 'app'),
      pod('app', 'web-7d9f8b6c5d-nrdyy', { owner: 'web', ports: [{ port: 8080 }], ready: false }),
    ];
    const r = await why('[2026-11-20T09:32:00.000Z] "GET / HTTP/1.1" 503 UH no_healthy_upstream - "-" 0 19 0 - "-" "-" "-" "web.example.com" "-" outbound|80||web.app.svc.cluster.local - 10.96.0.50:80 10.244.1.20:40000 - default', [fixture('noready305', objects)]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'no-healthy-upstream'));
    assert.equal(top(r.json), 'TM305 Service app/web:80');
  });

  it('503 NC cluster_not_found at the ingress gateway (a route to a subset no DestinationRule defines) → TM402', async () => {
    const objects = [
      namespace('istio-system'),
      namespace('app', { 'istio-injection': 'enabled' }),
      pod('istio-system', 'istio-ingressgateway-7d9f8b6c5d-ggggg', { sidecar: 'gateway', owner: 'istio-ingressgateway', labels: { istio: 'ingressgateway' }, podIP: '10.244.0.40' }),
      istioGateway('istio-system', 'public'),
      virtualService('app', 'reviews', { hosts: ['reviews.example.com'], gateways: ['istio-system/public'], host: 'reviews', port: 9080, subset: 'v9' }),
      pod('app', 'reviews-v1-7d9f8b6c5d-rrrrr', { owner: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, podIP: '10.244.3.5', ports: [{ port: 9080 }] }),
      service('app', 'reviews', [{ name: 'http', port: 9080 }], { selector: { app: 'reviews' } }),
      destinationRule('app', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
    ];
    const r = await why('[2026-11-20T09:33:00.000Z] "GET / HTTP/1.1" 503 NC cluster_not_found - "-" 0 0 0 - "203.0.113.9" "curl/8.5.0" "-" "reviews.example.com" "-" - - 10.244.0.40:8080 203.0.113.9:5555 - -', [fixture('subset402', objects)]);
    assert.ok(r.json.symptoms.some((s) => s.id === 'no-cluster'));
    assert.equal(top(r.json).split(' ')[0], 'TM402');
  });

  it("connection refused from a meshed cloudflared that can start before its sidecar → TM202 is among the causes", async () => {
    const objects = [namespace('cloudflare-operator-system', { 'istio-injection': 'enabled' }), operatorTunnelConfig([{ hostname: 'app.example.com', service: 'http://web.app.svc:80' }]), operatorCloudflared()];
    const r = await why('ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 10.96.30.5:80: connect: connection refused"', [fixture('race202', objects)]);
    assert.ok(r.json.explanations.some((e) => e.finding.code === 'TM202' && e.matchesSymptom), JSON.stringify(r.json.explanations.map((e) => e.finding.code)));
  });

  it('with dumps: the TM101 fix applied but not in effect → TM501, the stale proxy, first', async () => {
    const r = await why(DEMO_ACCESS_LOG, [DEMO, 'fixtures/envoy/fix-pending'], ['--proxy-config-file', 'fixtures/envoy/demo/main-tunnel-5c6d7f8b9-x2kqp.json']);
    assert.equal(r.code, 1);
    assert.equal(top(r.json), 'TM501 Service app/sg-cloud-gateway:9091');
    assert.match(r.json.explanations[0]?.finding.fixes[0]?.title ?? '', /Restart Deployment cloudflare-operator-system\/main-tunnel/);
  });
});

describe('why: lines nothing explains', () => {
  it('a symptom no finding of the input causes: says what would, and that nothing here does; exit 0', async () => {
    const r = await why('ERR  error="Unable to reach the origin service: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"', [DEMO]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.json.explanations, []);
    assert.match(r.json.unexplained ?? '', /^Nothing in the input explains it/);
    const text = await runInProcess(['why', 'context deadline exceeded', '-f', DEMO]);
    assert.equal(text.code, 0);
    assert.doesNotMatch(text.stdout, /No findings|agrees with the mesh|all fine/i);
    assert.match(text.stdout, /Nothing in the input explains it/);
  });

  it('a line with no symptom tunnelmesh knows: says so and what it reads; exit 0', async () => {
    const r = await why('GET /healthz 200 OK', [DEMO]);
    assert.equal(r.code, 0);
    assert.match(r.json.unexplained ?? '', /does not recognise a symptom/);
  });

  it('a symptom whose cause exists elsewhere than what the line names: listed, after, with the reason', async () => {
    const r = await why('upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: WRONG_VERSION_NUMBER "api.example.com"', [DEMO]);
    assert.equal(top(r.json), 'TM101 Service app/sg-cloud-gateway:9091');
    assert.ok(!(r.json.explanations[0]?.reasons ?? []).some((x) => x.includes('names')), 'the finding is about admin.example.com, not the api.example.com the line names');
  });

  it('--fail-on none: exit 0 with explanations; a suppressed finding is listed but not counted', async () => {
    assert.equal((await why(DEMO_ACCESS_LOG, [DEMO], ['--fail-on', 'none'])).code, 0);
    const r = await why(DEMO_ACCESS_LOG, [DEMO], ['--suppress', 'TM101', '--no-config']);
    assert.equal(r.code, 0);
    assert.equal(top(r.json), 'TM101 Service app/sg-cloud-gateway:9091');
    assert.match(r.json.unexplained ?? '', /Nothing in the input explains it/);
  });

  it('a blank line is a usage error (exit 2)', async () => {
    const run = await runInProcess(['why', '   ', '-f', DEMO]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^tunnelmesh: why needs a log line/);
  });
});

describe('why: reading a line', () => {
  it('classes from the words each program writes', () => {
    const ids = (line: string): string[] => classifyLine(line).map((m) => m.cls.id);
    assert.deepEqual(ids('TLS error: 268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER'), ['tls-to-plaintext']);
    assert.deepEqual(ids('http: TLS handshake error from 10.0.0.1:5555: tls: first record does not look like a TLS handshake'), ['plaintext-to-tls']);
    assert.deepEqual(ids('"GET / HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination}'), ['upstream-reset']);
    assert.deepEqual(ids('"GET / HTTP/1.1" 503 UF,URX - -'), ['connect-failure', 'retries-exhausted']);
    assert.deepEqual(ids('{"response_code":"503","response_flags":"UH"}'), ['no-healthy-upstream']);
    assert.deepEqual(ids('"GET / HTTP/1.1" 404 NR route_not_found'), ['no-route']);
    assert.deepEqual(ids('502 Bad Gateway'), ['gateway-error'], 'a status alone says only that a proxy answered for an upstream');
    assert.deepEqual(ids('remote error: tls: certificate required'), ['tls-rejected']);
    assert.deepEqual(ids('dial tcp: lookup web.app.svc on 10.96.0.10:53: no such host'), ['dns']);
    assert.deepEqual(ids('an ordinary line'), []);
  });

  it('names: cluster names, URLs, addresses, hosts and ingressRule; not file names or Envoy filter names', () => {
    const names = extractNames('src/common/router/router.cc:123 envoy.filters.http.router outbound|8080|v1|web.app.svc.cluster.local "10.0.0.5:8080" originService=https://web.app.svc:8443 ingressRule=2 host admin.example.com');
    assert.deepEqual(
      names.filter((n) => n.kind !== 'word').map((n) => `${n.kind} ${n.text}`),
      ['cluster outbound|8080|v1|web.app.svc.cluster.local', 'url https://web.app.svc:8443', 'address 10.0.0.5:8080', 'host admin.example.com', 'rule-index ingressRule=2'],
    );
  });
});
