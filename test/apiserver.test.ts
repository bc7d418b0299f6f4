// Tests of the loopback kube-apiserver stand-in (test/support/apiserver.ts) itself, so that
// the collector tests built on it can trust what it answers.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { KINDS, apiVersionOf, resourcePath, type KindInfo } from '../src/core/kinds.js';
import type { KObject } from '../src/core/k8s.js';
import {
  DEFAULT_USER,
  SECRET_KIND,
  startApiServer,
  startSilentServer,
  type ApiServer,
  type ApiServerOptions,
  type Fault,
} from './support/apiserver.js';
import { CLIENT_CERT_USER, testPki, untrustedClientCert, type CertKeyPair } from './support/certs.js';
import { writeKubeconfig, writeUnreachableKubeconfig } from './support/kubeconfig.js';

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface GetOptions {
  /** Bearer token; default the server's; null sends none. */
  token?: string | null;
  cert?: CertKeyPair;
  method?: string;
}

function request(server: ApiServer, path: string, options: GetOptions = {}): Promise<RawResponse> {
  const token = options.token === undefined ? server.token : options.token;
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${server.url}${path}`,
      {
        method: options.method ?? 'GET',
        ca: server.caPem,
        ...(options.cert ? { cert: options.cert.certPem, key: options.cert.keyPem } : {}),
        headers: { Accept: 'application/json', ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function getJson(server: ApiServer, path: string, options: GetOptions = {}): Promise<{ status: number; body: any }> {
  const res = await request(server, path, options);
  assert.match(String(res.headers['content-type']), /^application\/json/, `${path} answered ${res.status} ${res.text}`);
  return { status: res.status, body: JSON.parse(res.text) };
}

function pod(namespace: string, name: string, labels?: Record<string, string>, extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, ...(labels ? { labels } : {}) },
    spec: { containers: [{ name: 'app', image: 'nginx' }] },
    ...extra,
  };
}

function objectOf(info: KindInfo, name: string, namespace = 'app'): KObject {
  return {
    apiVersion: apiVersionOf(info, info.versions[0] ?? 'v1'),
    kind: info.kind,
    metadata: { name, ...(info.namespaced ? { namespace } : {}) },
    spec: {},
  };
}

function names(list: { items: Array<{ metadata: { name: string } }> }): string[] {
  return list.items.map((item) => item.metadata.name);
}

async function withServer(options: ApiServerOptions, body: (server: ApiServer) => Promise<void>): Promise<void> {
  const server = await startApiServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------
// Certificates and kubeconfigs
// ---------------------------------------------------------------------------------------

describe('test PKI', () => {
  test('server and client certificates are signed by the CA, with the expected names', () => {
    const pki = testPki();
    assert.equal(testPki(), pki, 'generated once per process');
    const ca = new X509Certificate(pki.caPem);
    const server = new X509Certificate(pki.server.certPem);
    const client = new X509Certificate(pki.client.certPem);
    assert.ok(ca.ca);
    assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
    assert.ok(client.checkIssued(ca) && client.verify(ca.publicKey));
    assert.match(server.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.match(server.subjectAltName ?? '', /DNS:localhost/);
    assert.match(client.subject, new RegExp(`CN=${CLIENT_CERT_USER}`));
    assert.match(client.subject, /O=system:masters/);
    assert.ok(!new X509Certificate(untrustedClientCert().certPem).checkIssued(ca));
  });
});

// ---------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------

describe('authentication', () => {
  let server: ApiServer;
  before(async () => {
    server = await startApiServer({ objects: [pod('app', 'web')] });
  });
  after(() => server.close());

  const UNAUTHORIZED =
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}';

  test('no token and a wrong token get 401 with a Status body', async () => {
    for (const token of [null, 'wrong']) {
      const res = await request(server, '/api/v1/namespaces/app/pods', { token });
      assert.equal(res.status, 401);
      assert.equal(res.text, UNAUTHORIZED);
      assert.match(String(res.headers['content-type']), /^application\/json/);
    }
  });

  test('the right token and a CA-signed client certificate are accepted; a foreign one is not', async () => {
    assert.equal((await request(server, '/api/v1/namespaces/app/pods')).status, 200);
    assert.equal((await request(server, '/api/v1/namespaces/app/pods', { token: null, cert: testPki().client })).status, 200);
    const stranger = await request(server, '/api/v1/namespaces/app/pods', { token: null, cert: untrustedClientCert() });
    assert.equal(stranger.status, 401);
    const users = server.requests.map((r) => r.user);
    assert.ok(users.includes(DEFAULT_USER) && users.includes(CLIENT_CERT_USER));
  });
});

// ---------------------------------------------------------------------------------------
// Discovery and routing
// ---------------------------------------------------------------------------------------

describe('discovery and routing', () => {
  let server: ApiServer;
  before(async () => {
    server = await startApiServer({
      absentGroups: ['networking.cloudflare-operator.io'],
      groupVersions: { 'networking.istio.io': ['v1beta1'] },
      objects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh', namespace: 'istio-system' }, data: { a: 'b' } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'cloudflare' }, spec: {} },
        { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'dr', namespace: 'app' }, spec: {} },
      ],
    });
  });
  after(() => server.close());

  test('/api, /apis and /version describe the installed groups', async () => {
    const core = await getJson(server, '/api');
    assert.equal(core.body.kind, 'APIVersions');
    assert.deepEqual(core.body.versions, ['v1']);

    const groups = await getJson(server, '/apis');
    assert.equal(groups.body.kind, 'APIGroupList');
    const byName = new Map<string, any>(groups.body.groups.map((g: any) => [g.name, g]));
    for (const group of ['apps', 'batch', 'networking.k8s.io', 'security.istio.io', 'networking.istio.io']) {
      assert.ok(byName.has(group), group);
    }
    assert.ok(!byName.has('networking.cloudflare-operator.io'), 'absent group is not listed');
    assert.deepEqual(byName.get('networking.istio.io').versions, [{ groupVersion: 'networking.istio.io/v1beta1', version: 'v1beta1' }]);
    assert.deepEqual(byName.get('security.istio.io').preferredVersion, { groupVersion: 'security.istio.io/v1', version: 'v1' });

    const version = await getJson(server, '/version');
    assert.equal(version.body.gitVersion, 'v1.30.2');
    assert.equal(version.body.minor, '30');

    const resources = await getJson(server, '/apis/apps/v1');
    assert.equal(resources.body.kind, 'APIResourceList');
    assert.ok(resources.body.resources.some((r: any) => r.name === 'deployments' && r.namespaced && r.kind === 'Deployment'));
  });

  test('absent groups, unserved versions and unknown paths answer "404 page not found" as text', async () => {
    for (const path of [
      '/apis/networking.cloudflare-operator.io/v1alpha2/namespaces/app/tunnelingressclassconfigs',
      '/apis/networking.cloudflare-operator.io/v1alpha2/tunnelingressclassconfigs',
      '/apis/networking.cloudflare-operator.io',
      '/apis/networking.istio.io/v1/namespaces/app/destinationrules',
      '/apis/networking.istio.io/v1alpha3/destinationrules',
      '/api/v1/namespaces/app/widgets',
      '/api/v2/pods',
      '/apis/apps/v1/namespaces/app/deployments/web/scale',
      '/api/v1/pods/web', // namespaced objects live under /namespaces/{ns}/
      '/api/v1/namespaces/app/namespaces', // cluster-scoped kinds are not under a namespace
      '/nonsense',
    ]) {
      const res = await request(server, path);
      assert.equal(res.status, 404, path);
      assert.equal(res.text, '404 page not found\n', path);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', path);
    }
  });

  test('a version the group serves returns CRD items with apiVersion rewritten to it', async () => {
    const list = await getJson(server, '/apis/networking.istio.io/v1beta1/namespaces/app/destinationrules');
    assert.equal(list.body.kind, 'DestinationRuleList');
    assert.equal(list.body.apiVersion, 'networking.istio.io/v1beta1');
    assert.equal(list.body.items[0].apiVersion, 'networking.istio.io/v1beta1');
    assert.equal(list.body.items[0].kind, 'DestinationRule');
  });

  test('single GETs: namespaced, cluster-scoped, and NotFound', async () => {
    const cm = await getJson(server, '/api/v1/namespaces/istio-system/configmaps/mesh');
    assert.equal(cm.status, 200);
    assert.equal(cm.body.kind, 'ConfigMap');
    assert.equal(cm.body.apiVersion, 'v1');
    assert.deepEqual(cm.body.data, { a: 'b' });

    assert.equal((await getJson(server, '/api/v1/namespaces/app')).body.metadata.name, 'app');
    assert.equal((await getJson(server, '/apis/networking.k8s.io/v1/ingressclasses/cloudflare')).body.kind, 'IngressClass');

    const missing = await getJson(server, '/api/v1/namespaces/istio-system/configmaps/istio');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "istio" not found',
      reason: 'NotFound',
      details: { name: 'istio', kind: 'configmaps' },
      code: 404,
    });
    const missingDeployment = await getJson(server, '/apis/apps/v1/namespaces/app/deployments/web');
    assert.equal(missingDeployment.body.message, 'deployments.apps "web" not found');
    assert.deepEqual(missingDeployment.body.details, { name: 'web', group: 'apps', kind: 'deployments' });
  });

  test('writes get 405 and are logged', async () => {
    server.clearRequests();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await getJson(server, '/api/v1/namespaces/app/configmaps/mesh', { method });
      assert.equal(res.status, 405);
      assert.equal(res.body.reason, 'MethodNotAllowed');
    }
    assert.deepEqual(
      server.requests.map((r) => [r.method, r.status]),
      [['POST', 405], ['PUT', 405], ['PATCH', 405], ['DELETE', 405]],
    );
  });
});

// ---------------------------------------------------------------------------------------
// Every kind in the catalogue, plus ad-hoc kinds
// ---------------------------------------------------------------------------------------

describe('kinds', () => {
  test('every kind in KINDS lists and gets at every version it declares', async () => {
    const objects = KINDS.flatMap((info) => [objectOf(info, 'b'), objectOf(info, 'a')]);
    await withServer({ objects }, async (server) => {
      for (const info of KINDS) {
        for (const version of info.versions) {
          const scopes = info.namespaced ? [resourcePath(info, version, 'app'), resourcePath(info, version)] : [resourcePath(info, version)];
          for (const path of scopes) {
            const list = await getJson(server, path);
            assert.equal(list.status, 200, path);
            assert.equal(list.body.kind, `${info.kind}List`, path);
            assert.equal(list.body.apiVersion, apiVersionOf(info, version), path);
            assert.match(list.body.metadata.resourceVersion, /^\d+$/);
            assert.deepEqual(names(list.body), ['a', 'b'], path);
            for (const item of list.body.items) {
              if (info.crd) {
                assert.equal(item.apiVersion, apiVersionOf(info, version), path);
                assert.equal(item.kind, info.kind, path);
              } else {
                assert.ok(!('apiVersion' in item) && !('kind' in item), `${path}: built-in list items carry no apiVersion/kind`);
              }
              assert.match(item.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
              assert.equal(item.metadata.creationTimestamp, '2024-01-01T00:00:00Z');
            }
          }
          const one = await getJson(server, resourcePath(info, version, 'app', 'a'));
          assert.equal(one.status, 200);
          assert.equal(one.body.kind, info.kind);
          assert.equal(one.body.apiVersion, apiVersionOf(info, version));
        }
      }
    });
  });

  test('generated metadata is deterministic and callers keep their objects', async () => {
    const input = pod('app', 'web');
    const first = await startApiServer({ objects: [input] });
    const second = await startApiServer({ objects: [pod('app', 'web')] });
    try {
      const a = await getJson(first, '/api/v1/namespaces/app/pods/web');
      const b = await getJson(second, '/api/v1/namespaces/app/pods/web');
      assert.deepEqual(a.body.metadata, b.body.metadata);
      assert.equal(input.metadata.uid, undefined, 'input not mutated');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test('ad-hoc kinds (Secrets) are served once registered; unknown kinds are refused', async () => {
    const secret: KObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tunnel-token', namespace: 'app' }, type: 'Opaque' };
    await assert.rejects(startApiServer({ objects: [secret] }), /unknown kind v1\/Secret/);
    await withServer({ kinds: [SECRET_KIND], objects: [secret] }, async (server) => {
      const list = await getJson(server, '/api/v1/namespaces/app/secrets');
      assert.deepEqual(names(list.body), ['tunnel-token']);
      assert.ok(server.requests.some((r) => r.path.endsWith('/secrets')), 'the request log shows Secret reads');
    });
  });

  test('objects can be added, replaced and deleted at run time', async () => {
    await withServer({}, async (server) => {
      server.putObjects([pod('app', 'a'), pod('app', 'b')]);
      server.putObjects([pod('app', 'a', { v: '2' })]);
      assert.equal(server.deleteObject(pod('app', 'b')), true);
      assert.equal(server.deleteObject(pod('app', 'b')), false);
      const list = await getJson(server, '/api/v1/namespaces/app/pods');
      assert.deepEqual(names(list.body), ['a']);
      assert.deepEqual(list.body.items[0].metadata.labels, { v: '2' });
      server.replaceObjects([pod('other', 'z')]);
      assert.deepEqual(names((await getJson(server, '/api/v1/pods')).body), ['z']);
    });
  });
});

// ---------------------------------------------------------------------------------------
// RBAC
// ---------------------------------------------------------------------------------------

describe('forbidden rules', () => {
  let server: ApiServer;
  before(async () => {
    server = await startApiServer({
      absentGroups: ['security.istio.io'],
      forbidden: [
        { kind: 'Pod', namespace: 'secret-ns' },
        { kind: 'Deployment' },
        { kind: 'ConfigMap', verbs: ['list'] },
        { kind: 'PeerAuthentication' },
      ],
      objects: [pod('app', 'web'), pod('secret-ns', 'db')],
    });
  });
  after(() => server.close());

  test('a namespace rule forbids that namespace and cluster-wide lists, not other namespaces', async () => {
    const denied = await getJson(server, '/api/v1/namespaces/secret-ns/pods');
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `pods is forbidden: User "${DEFAULT_USER}" cannot list resource "pods" in API group "" in the namespace "secret-ns"`,
      reason: 'Forbidden',
      details: { kind: 'pods' },
      code: 403,
    });
    const all = await getJson(server, '/api/v1/pods');
    assert.equal(all.status, 403);
    assert.equal(all.body.message, `pods is forbidden: User "${DEFAULT_USER}" cannot list resource "pods" in API group "" at the cluster scope`);
    assert.equal((await getJson(server, '/api/v1/namespaces/app/pods')).status, 200);
    const get = await getJson(server, '/api/v1/namespaces/secret-ns/pods/db');
    assert.equal(get.body.message, `pods "db" is forbidden: User "${DEFAULT_USER}" cannot get resource "pods" in API group "" in the namespace "secret-ns"`);
  });

  test('a kind rule forbids everywhere; verbs narrow it; group-qualified wording', async () => {
    const deployments = await getJson(server, '/apis/apps/v1/namespaces/app/deployments');
    assert.equal(deployments.status, 403);
    assert.equal(
      deployments.body.message,
      `deployments.apps is forbidden: User "${DEFAULT_USER}" cannot list resource "deployments" in API group "apps" in the namespace "app"`,
    );
    assert.deepEqual(deployments.body.details, { group: 'apps', kind: 'deployments' });
    assert.equal((await getJson(server, '/api/v1/namespaces/app/configmaps')).status, 403);
    assert.equal((await getJson(server, '/api/v1/namespaces/app/configmaps/istio')).status, 404, 'get still allowed');
  });

  test('authorization comes before routing: a forbidden kind in an absent group is 403, not 404', async () => {
    const res = await getJson(server, '/apis/security.istio.io/v1/namespaces/app/peerauthentications');
    assert.equal(res.status, 403);
    assert.match(res.body.message, /^peerauthentications\.security\.istio\.io is forbidden/);
  });

  test('rules can change at run time', async () => {
    server.setForbidden([]);
    assert.equal((await getJson(server, '/api/v1/pods')).status, 200);
  });
});

// ---------------------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------------------

describe('selectors', () => {
  let server: ApiServer;
  before(async () => {
    server = await startApiServer({
      objects: [
        pod('app', 'a', { app: 'web', tier: 'front' }),
        pod('app', 'b', { app: 'web', tier: 'back' }),
        pod('app', 'c', { app: 'db', 'sidecar.istio.io/inject': 'false' }),
        pod('app', 'd'),
        pod('other', 'a', { app: 'web', rank: '10' }, { status: { phase: 'Running' } }),
      ],
    });
  });
  after(() => server.close());

  const list = async (query: string): Promise<string[]> => {
    const res = await getJson(server, `/api/v1/pods?${query}`);
    assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
    return res.body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`);
  };
  const label = (selector: string) => list(`labelSelector=${encodeURIComponent(selector)}`);
  const field = (selector: string) => list(`fieldSelector=${encodeURIComponent(selector)}`);

  test('label selectors: equality, existence, sets, AND', async () => {
    assert.deepEqual(await label('app=web'), ['app/a', 'app/b', 'other/a']);
    assert.deepEqual(await label('app==web'), ['app/a', 'app/b', 'other/a']);
    assert.deepEqual(await label('app!=web'), ['app/c', 'app/d'], '!= matches objects without the label');
    assert.deepEqual(await label('tier'), ['app/a', 'app/b']);
    assert.deepEqual(await label('!tier'), ['app/c', 'app/d', 'other/a']);
    assert.deepEqual(await label('app in (db, web),tier notin (back)'), ['app/a', 'app/c', 'other/a']);
    assert.deepEqual(await label('app=web,!tier'), ['other/a']);
    assert.deepEqual(await label('sidecar.istio.io/inject=false'), ['app/c']);
    assert.deepEqual(await label('rank>5'), ['other/a']);
    assert.deepEqual(await label(''), ['app/a', 'app/b', 'app/c', 'app/d', 'other/a']);
  });

  test('field selectors on metadata.name and metadata.namespace', async () => {
    assert.deepEqual(await field('metadata.name=a'), ['app/a', 'other/a']);
    assert.deepEqual(await field('metadata.name==a,metadata.namespace!=app'), ['other/a']);
    assert.deepEqual(await field('metadata.namespace=other'), ['other/a']);
    assert.deepEqual(await field('status.phase=Running'), ['other/a']);
  });

  test('malformed selectors are 400 BadRequest', async () => {
    for (const query of ['labelSelector=a%20in%20()', 'labelSelector=a%20b', 'labelSelector=Bad%20Key!', 'fieldSelector=spec.foo%3Dx', 'limit=abc']) {
      const res = await getJson(server, `/api/v1/pods?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.reason, 'BadRequest', query);
    }
    const unsupported = await getJson(server, '/api/v1/pods?fieldSelector=spec.foo%3Dx');
    assert.equal(unsupported.body.message, 'field label not supported: spec.foo');
  });
});

// ---------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------

describe('pagination', () => {
  test('limit/continue pages through a consistent snapshot', async () => {
    await withServer({ objects: ['e', 'd', 'c', 'b', 'a'].map((n) => pod('app', n)) }, async (server) => {
      const first = await getJson(server, '/api/v1/namespaces/app/pods?limit=2');
      assert.deepEqual(names(first.body), ['a', 'b']);
      assert.equal(first.body.metadata.remainingItemCount, 3);
      const token: string = first.body.metadata.continue;
      assert.ok(token);
      assert.equal(JSON.parse(Buffer.from(token, 'base64url').toString()).rv, Number(first.body.metadata.resourceVersion));

      server.putObjects([pod('app', 'bb')]); // a later write must not show up mid-list
      const second = await getJson(server, `/api/v1/namespaces/app/pods?limit=2&continue=${encodeURIComponent(token)}`);
      assert.deepEqual(names(second.body), ['c', 'd']);
      assert.equal(second.body.metadata.resourceVersion, first.body.metadata.resourceVersion);
      const third = await getJson(server, `/api/v1/namespaces/app/pods?limit=2&continue=${encodeURIComponent(second.body.metadata.continue)}`);
      assert.deepEqual(names(third.body), ['e']);
      assert.equal(third.body.metadata.continue, undefined);
      assert.equal(third.body.metadata.remainingItemCount, undefined);

      const fresh = await getJson(server, '/api/v1/namespaces/app/pods');
      assert.deepEqual(names(fresh.body), ['a', 'b', 'bb', 'c', 'd', 'e']);

      server.expireContinueTokens();
      const expired = await getJson(server, `/api/v1/namespaces/app/pods?limit=2&continue=${encodeURIComponent(second.body.metadata.continue)}`);
      assert.equal(expired.status, 410);
      assert.equal(expired.body.reason, 'Expired');

      const garbage = await getJson(server, '/api/v1/namespaces/app/pods?limit=2&continue=bm9wZQ');
      assert.equal(garbage.status, 400);
    });
  });

  test('with a selector, pages may come up short and the last may be empty', async () => {
    const objects = [pod('app', 'a', { keep: 'y' }), pod('app', 'b', { keep: 'y' }), pod('app', 'c')];
    await withServer({ objects }, async (server) => {
      const first = await getJson(server, '/api/v1/namespaces/app/pods?limit=2&labelSelector=keep');
      assert.deepEqual(names(first.body), ['a', 'b']);
      assert.ok(first.body.metadata.continue, 'keys remain, so a continue token is issued');
      assert.equal(first.body.metadata.remainingItemCount, undefined, 'no count with a selector');
      const last = await getJson(server, `/api/v1/namespaces/app/pods?limit=2&labelSelector=keep&continue=${first.body.metadata.continue}`);
      assert.deepEqual(names(last.body), []);
      assert.equal(last.body.metadata.continue, undefined);
    });
  });

  test('10k pods page through, ordered by namespace then name', async () => {
    const pods = Array.from({ length: 10_000 }, (_, i) => pod(`ns-${String(i % 40).padStart(2, '0')}`, `pod-${String(i).padStart(5, '0')}`, { i: String(i % 7) }));
    await withServer({ objects: pods }, async (server) => {
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const query = `limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
        const page = await getJson(server, `/api/v1/pods?${query}`);
        for (const item of page.body.items) seen.push(`${item.metadata.namespace}/${item.metadata.name}`);
        token = page.body.metadata.continue;
      } while (token);
      assert.equal(seen.length, 10_000);
      assert.deepEqual(seen, [...seen].sort());
      const selected = await getJson(server, '/api/v1/namespaces/ns-03/pods?labelSelector=i%3D3');
      assert.ok(selected.body.items.length > 0 && selected.body.items.every((p: any) => p.metadata.labels.i === '3'));
    });
  });
});

// ---------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------

describe('faults', () => {
  const PODS = '/api/v1/namespaces/app/pods';

  test('status faults are count-limited and carry Retry-After', async () => {
    await withServer({ objects: [pod('app', 'a')] }, async (server) => {
      const handle = server.addFault({ status: 429, retryAfterSeconds: 2, times: 2, match: (r) => r.kind?.kind === 'Pod' });
      for (let i = 0; i < 2; i += 1) {
        const res = await request(server, PODS);
        assert.equal(res.status, 429);
        assert.equal(res.headers['retry-after'], '2');
        const body = JSON.parse(res.text);
        assert.equal(body.reason, 'TooManyRequests');
        assert.deepEqual(body.details, { retryAfterSeconds: 2 });
      }
      assert.equal((await request(server, PODS)).status, 200);
      assert.equal(handle.hits, 2);
      assert.deepEqual(server.requests.map((r) => r.status), [429, 429, 200]);
      assert.deepEqual(server.requests[0]?.faults, ['status:429']);
    });
  });

  test('a hook can return faults; times holds per Fault object', async () => {
    const unavailable: Fault = { status: 503, times: 1 };
    await withServer({ objects: [pod('app', 'a')], fault: (r) => (r.path === PODS ? unavailable : undefined) }, async (server) => {
      assert.equal((await request(server, '/api')).status, 200);
      assert.equal((await request(server, PODS)).status, 503);
      assert.equal((await request(server, PODS)).status, 200);
    });
  });

  test('latency: per fault and server-wide (told by the order answers arrive in, not by a clock)', async () => {
    /** Which of two requests sent together is answered first. */
    const first = async (...requests: Array<[ApiServer, string]>): Promise<number> => {
      const order: number[] = [];
      await Promise.all(requests.map(([server, path], i) => request(server, path).then(() => void order.push(i))));
      return order[0] as number;
    };
    await withServer({}, async (server) => {
      server.addFault({ delayMs: 300, times: 1, match: (r) => r.path === '/api' });
      assert.equal(await first([server, '/api'], [server, '/version']), 1, 'the delayed one answers last');
      assert.deepEqual(server.requests.find((r) => r.path === '/api')?.faults, ['delay']);
      await withServer({ latencyMs: 300 }, async (slow) => {
        assert.equal(await first([slow, '/version'], [server, '/version']), 1, 'a server-wide latency delays every answer');
      });
    });
  });

  test('reset, truncated and invalid bodies', async () => {
    await withServer({ objects: [pod('app', 'a'), pod('app', 'b')] }, async (server) => {
      server.addFault({ resetConnection: true, times: 1 });
      await assert.rejects(request(server, PODS), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');

      server.addFault({ truncateBody: true, times: 1 });
      const truncated = await request(server, PODS);
      assert.equal(truncated.status, 200);
      assert.throws(() => JSON.parse(truncated.text), SyntaxError);
      assert.ok(truncated.text.startsWith('{"kind":"PodList"'));

      server.addFault({ invalidJson: true, times: 1 });
      const invalid = await request(server, PODS);
      assert.equal(invalid.status, 200);
      assert.throws(() => JSON.parse(invalid.text), SyntaxError);

      assert.equal((await request(server, PODS)).status, 200);
    });
  });

  test('expireContinue only fires for requests that carry a continue token', async () => {
    await withServer({ objects: [pod('app', 'a'), pod('app', 'b')] }, async (server) => {
      const handle = server.addFault({ expireContinue: true, times: 1 });
      const first = await getJson(server, `${PODS}?limit=1`);
      assert.equal(first.status, 200);
      const expired = await getJson(server, `${PODS}?limit=1&continue=${first.body.metadata.continue}`);
      assert.equal(expired.status, 410);
      assert.deepEqual(expired.body, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        reason: 'Expired',
        code: 410,
      });
      assert.equal(handle.hits, 1);
      assert.equal((await getJson(server, `${PODS}?limit=1&continue=${first.body.metadata.continue}`)).status, 200);
    });
  });

  test('hostile answers: a raw body, a continue token that repeats or is always fresh, a streamed huge list, an echoed Authorization', async () => {
    await withServer({ objects: [pod('app', 'a'), pod('app', 'b')] }, async (server) => {
      server.addFault({ body: '{"items": null}', times: 1 });
      const raw = await request(server, PODS);
      assert.deepEqual([raw.status, raw.text], [200, '{"items": null}']);

      const same = server.addFault({ endlessContinue: 'same', times: 2 });
      const p1 = await getJson(server, `${PODS}?limit=1`);
      const p2 = await getJson(server, `${PODS}?limit=1&continue=${p1.body.metadata.continue}`);
      assert.equal(p2.body.metadata.continue, p1.body.metadata.continue);
      assert.equal(same.hits, 2);

      server.addFault({ endlessContinue: 'fresh', remainingItemCount: 5, times: 2 });
      const f1 = await getJson(server, `${PODS}?limit=1`);
      const f2 = await getJson(server, `${PODS}?limit=1&continue=${f1.body.metadata.continue}`);
      assert.notEqual(f2.body.metadata.continue, f1.body.metadata.continue);
      assert.equal(f2.body.metadata.remainingItemCount, 5);

      server.addFault({ streamBytes: 3 * 1024 * 1024, times: 1 });
      const big = await getJson(server, PODS);
      assert.ok(big.body.items.length > 40, 'padded with generated items');
      assert.deepEqual(big.body.items.slice(0, 2).map((i: { metadata: { name: string } }) => i.metadata.name), ['a', 'b']);

      server.addFault({ status: 401, echoAuthorization: true, times: 1 });
      const echoed = await getJson(server, PODS);
      assert.equal(echoed.status, 401);
      assert.match(echoed.body.message, new RegExp(`Authorization: Bearer ${server.token}`));
    });
  });

  test('a silent server: connections accepted, not a byte sent', async () => {
    const silent = await startSilentServer();
    try {
      const { createConnection } = await import('node:net');
      const socket = createConnection({ port: Number(new URL(silent.url).port), host: '127.0.0.1' });
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('GET / HTTP/1.1\r\n\r\n');
      const answered = await Promise.race([new Promise((resolve) => socket.once('data', () => resolve(true))), new Promise((resolve) => setImmediate(() => setImmediate(() => resolve(false))))]);
      assert.equal(answered, false);
      assert.equal(silent.connections, 1);
      socket.destroy();
    } finally {
      await silent.close();
    }
  });
});

// ---------------------------------------------------------------------------------------
// Through @kubernetes/client-node, as the product will call it
// ---------------------------------------------------------------------------------------

describe('@kubernetes/client-node against the stand-in', () => {
  let server: ApiServer;
  before(async () => {
    server = await startApiServer({
      objects: ['p1', 'p2', 'p3', 'p4', 'p5'].map((n) => pod('app', n)),
      forbidden: [{ kind: 'Service', namespace: 'app' }],
    });
  });
  after(() => server.close());

  async function kubeConfig(path: string) {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(path);
    return { k8s, kc };
  }

  test('typed CoreV1Api lists pods page by page via metadata._continue', async () => {
    const { k8s, kc } = await kubeConfig(writeKubeconfig(server, { namespace: 'app' }));
    assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, 'app');
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const seen: string[] = [];
    let pages = 0;
    let token: string | undefined;
    do {
      const list = await api.listNamespacedPod({ namespace: 'app', limit: 2, ...(token ? { _continue: token } : {}) });
      pages += 1;
      seen.push(...list.items.map((p) => p.metadata?.name ?? '?'));
      token = list.metadata?._continue;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['p1', 'p2', 'p3', 'p4', 'p5']);
  });

  test('typed API errors: 401 has no body, 403 and 404 carry the Status JSON as a string', async () => {
    const { k8s, kc } = await kubeConfig(writeKubeconfig(server));
    const api = kc.makeApiClient(k8s.CoreV1Api);
    await assert.rejects(api.readNamespacedConfigMap({ namespace: 'app', name: 'istio' }), (err: any) => {
      assert.ok(err instanceof k8s.ApiException);
      assert.equal(err.code, 404);
      assert.equal(typeof err.body, 'string');
      assert.equal(JSON.parse(err.body).reason, 'NotFound');
      return true;
    });
    await assert.rejects(api.listNamespacedService({ namespace: 'app' }), (err: any) => {
      assert.equal(err.code, 403);
      assert.equal(JSON.parse(err.body).reason, 'Forbidden');
      return true;
    });
    const wrong = await kubeConfig(writeKubeconfig(server, { auth: 'wrong-token' }));
    await assert.rejects(wrong.kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'app' }), (err: any) => {
      assert.equal(err.code, 401);
      assert.equal(err.body, undefined, 'client-node drops the 401 body');
      return true;
    });
  });

  test('applyToHTTPSOptions + https.request: raw JSON GETs with the agent and headers KubeConfig produces', async () => {
    const rawGet = async (kubeconfig: string, path: string): Promise<{ status: number; body: any }> => {
      const { kc } = await kubeConfig(kubeconfig);
      const cluster = kc.getCurrentCluster();
      assert.ok(cluster);
      const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
      await kc.applyToHTTPSOptions(opts);
      const target = new URL(path, cluster.server);
      return new Promise((resolve, reject) => {
        const req = https.request(target, opts, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    };
    server.clearRequests();
    const viaToken = await rawGet(writeKubeconfig(server), '/api/v1/namespaces/app/pods?limit=2');
    assert.equal(viaToken.status, 200);
    assert.deepEqual(names(viaToken.body), ['p1', 'p2']);
    const viaCert = await rawGet(writeKubeconfig(server, { auth: 'client-cert' }), '/api/v1/namespaces/app/pods');
    assert.equal(viaCert.status, 200);
    assert.equal(viaCert.body.items.length, 5);
    assert.deepEqual(server.requests.map((r) => r.user), [DEFAULT_USER, CLIENT_CERT_USER]);
    const refused = await rawGet(writeKubeconfig(server, { auth: 'none' }), '/api/v1/pods');
    assert.equal(refused.status, 401);
  });

  test('kubeconfig variants: several contexts, current-context, unreachable server', async () => {
    const path = writeKubeconfig(server, {
      contexts: [
        { name: 'prod', namespace: 'app', auth: 'wrong-token' },
        { name: 'dev', auth: 'client-cert' },
      ],
      currentContext: 'dev',
    });
    const { k8s, kc } = await kubeConfig(path);
    assert.deepEqual(kc.getContexts().map((c) => [c.name, c.namespace]), [['prod', 'app'], ['dev', undefined]]);
    assert.equal(kc.getCurrentContext(), 'dev');
    assert.equal((await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'app' })).items.length, 5);
    kc.setCurrentContext('prod');
    await assert.rejects(kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'app' }), (err: any) => err.code === 401);

    const unreachable = await kubeConfig(await writeUnreachableKubeconfig());
    await assert.rejects(unreachable.kc.makeApiClient(k8s.CoreV1Api).listNamespace(), (err: any) => {
      assert.equal(err.code, 'ECONNREFUSED');
      assert.equal(err.name, 'FetchError');
      return true;
    });
  });
});
