// Least privilege and credentials: deploy/rbac.yaml is exactly the rules generated from the
// kind table; every request of full live runs (-A, and -n with its cross-namespace evidence)
// is a GET that ClusterRole allows, never a Secret, never a watch; every resource it grants is
// used; and no token or client key ever reaches stdout or stderr, --verbose and errors included.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import { clusterRoleRules, PROXY_CONFIG_ROLE_RULES, type PolicyRule } from '../../src/core/kinds.js';
import { SECRET_KIND, startApiServer, type ApiServer, type RequestLogEntry } from '../support/apiserver.js';
import { testPki } from '../support/certs.js';
import { ROOT, runCli, runInProcess, type CliRun } from '../support/cli.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { lazyTempDir } from '../support/tmp.js';
import { demo, strictObjects } from './scenarios.js';
import type { KObject } from '../../src/core/k8s.js';

interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

const RBAC = join(ROOT, 'deploy', 'rbac.yaml');

function deployed(): RbacObject[] {
  return jsyaml.loadAll(readFileSync(RBAC, 'utf8')) as RbacObject[];
}

function clusterRole(name = 'tunnelmesh-reader'): PolicyRule[] {
  const role = deployed().find((o) => o.kind === 'ClusterRole' && o.metadata.name === name);
  assert.ok(role?.rules, `deploy/rbac.yaml has a ClusterRole ${name} with rules`);
  return role.rules;
}

const PROXY_CONFIG_ROLE = 'tunnelmesh-proxy-config';

/** (group, resource, verb) of an API request, as RBAC sees it. */
function rbacRequest(r: RequestLogEntry): { group: string; resource: string; verb: string; namespace?: string } {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+)(?:\/.*)?)?$/.exec(r.path);
  assert.ok(m, `not a resource request: ${r.method} ${r.url}`);
  const [, group = '', namespace, plural = '', name, subresource] = m;
  // `pods/NAME:PORT/proxy/PATH` is the subresource pods/proxy: RBAC's verb is the method's (GET: get).
  const resource = subresource ? `${plural}/${subresource}` : plural;
  if (subresource) return { group, resource, verb: 'get', ...(namespace ? { namespace } : {}) };
  // `/api/v1/namespaces/x` is a GET of the Namespace x, not a list in it.
  if (group === '' && resource !== 'namespaces' && namespace === undefined && name === undefined && r.path.startsWith('/api/v1/namespaces/')) {
    return { group, resource: 'namespaces', verb: 'get' };
  }
  const verb = r.query.watch === 'true' || r.query.watch === '1' ? 'watch' : name ? 'get' : 'list';
  return { group, resource, verb, ...(namespace ? { namespace } : {}) };
}

function allowed(rules: PolicyRule[], req: { group: string; resource: string; verb: string }): boolean {
  return rules.some((rule) => rule.apiGroups.includes(req.group) && rule.resources.includes(req.resource) && rule.verbs.includes(req.verb));
}

async function fullRun(server: ApiServer, scope: string[]): Promise<CliRun> {
  const run = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server), '-o', 'json', ...scope]);
  assert.ok(run.code === 0 || run.code === 1, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout).incomplete, [], 'the ClusterRole is enough: everything was collected');
  return run;
}

describe('least privilege', () => {
  test('deploy/rbac.yaml holds exactly the rules generated from src/core/kinds.ts', () => {
    const expected = clusterRoleRules();
    assert.deepEqual(clusterRole(), expected, `deploy/rbac.yaml is stale; its ClusterRole rules should be:\n${jsyaml.dump(expected, { flowLevel: 2 })}`);
    for (const rule of expected) {
      assert.deepEqual(rule.verbs, ['get', 'list']);
      assert.ok(!rule.resources.includes('secrets') && !rule.resources.includes('*'));
      assert.ok(!rule.apiGroups.includes('*'));
    }
  });

  test('deploy/rbac.yaml binds that ClusterRole, and only it, to a ServiceAccount', () => {
    const objects = deployed();
    const sa = objects.find((o) => o.kind === 'ServiceAccount');
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding');
    const role = objects.find((o) => o.kind === 'ClusterRole');
    assert.ok(sa && binding && role);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'Namespace', 'ServiceAccount']);
    assert.ok(!objects.some((o) => o.roleRef?.name === PROXY_CONFIG_ROLE), 'the optional role is bound by the user, where wanted');
  });

  test('the optional ClusterRole for --proxy-config is exactly get on pods/proxy (src/core/kinds.ts)', () => {
    assert.deepEqual(clusterRole(PROXY_CONFIG_ROLE), PROXY_CONFIG_ROLE_RULES);
    assert.ok(!clusterRoleRules().some((r) => r.resources.includes('pods/proxy')), 'the reader role does not grant it');
  });

  test('--proxy-config asks for nothing beyond the reader role and the optional one; without the optional one it says what it could not read', async () => {
    const dump = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'envoy', 'demo', 'main-tunnel-5c6d7f8b9-x2kqp.json'), 'utf8'));
    const server = await startApiServer({ objects: demo(), podProxy: { 'cloudflare-operator-system/main-tunnel-5c6d7f8b9-x2kqp:15000': { body: dump } } });
    const rules = [...clusterRole(), ...clusterRole(PROXY_CONFIG_ROLE)];
    try {
      for (const scope of [['-A'], ['-n', 'app']]) {
        server.clearRequests();
        const run = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server), '-o', 'json', '--proxy-config=clients,targets', ...scope]);
        assert.ok(run.code === 1, run.stderr);
        for (const r of server.requests) {
          assert.equal(r.method, 'GET');
          const req = rbacRequest(r);
          assert.ok(allowed(rules, req), `${req.verb} ${req.resource} is in neither role (${r.url})`);
        }
        assert.ok(server.requests.some((r) => rbacRequest(r).resource === 'pods/proxy'), 'the proxy path was asked for');
      }
      server.setForbidden([{ kind: 'pods/proxy' }]);
      const denied = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server), '-o', 'json', '--proxy-config', '-A']);
      assert.equal(denied.code, 1, denied.stderr);
      const doc = JSON.parse(denied.stdout) as { incomplete: Array<{ kind: string; reason: string; name?: string }> };
      assert.deepEqual(doc.incomplete.map((e) => `${e.kind} ${e.name} ${e.reason}`), ['EnvoyConfigDump main-tunnel-5c6d7f8b9-x2kqp forbidden']);
    } finally {
      await server.close();
    }
  });

  test('a full live run asks only for what the ClusterRole grants, GET only, never a Secret, and uses all of it', async () => {
    const secret: KObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'main-tunnel-token', namespace: 'cloudflare-operator-system' }, data: { token: 'c2VjcmV0' } } as KObject;
    const server = await startApiServer({ kinds: [SECRET_KIND], objects: [...demo(), ...(strictObjects() as unknown as KObject[]), secret] });
    const rules = clusterRole();
    try {
      const used = new Set<string>();
      for (const scope of [['-A'], ['-n', 'app'], ['-n', 'app', '--tunnel-namespace', 'edge']]) {
        server.clearRequests();
        await fullRun(server, scope);
        assert.ok(server.requests.length > 0);
        for (const r of server.requests) {
          assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
          assert.doesNotMatch(r.path, /secrets/, `${scope.join(' ')} asked for Secrets: ${r.url}`);
          const req = rbacRequest(r);
          assert.ok(allowed(rules, req), `${scope.join(' ')}: ${req.verb} ${req.resource} in group "${req.group}" is not in deploy/rbac.yaml (${r.url})`);
          used.add(`${req.group}/${req.resource}`);
        }
      }
      const granted = rules.flatMap((rule) => rule.apiGroups.flatMap((g) => rule.resources.map((res) => `${g}/${res}`)));
      assert.deepEqual(granted.filter((g) => !used.has(g)), [], 'every granted resource is read by some run');
    } finally {
      await server.close();
    }
  });

  test('with only the ClusterRole granted, nothing else is needed (a server denying everything else)', async () => {
    const grantedKinds = new Set(clusterRole().flatMap((rule) => rule.resources));
    const server = await startApiServer({ kinds: [SECRET_KIND], objects: demo(), forbidden: [{ kind: 'secrets' }] });
    try {
      await fullRun(server, ['-A']);
      assert.ok(server.requests.every((r) => grantedKinds.has(rbacRequest(r).resource)));
      assert.ok(server.requests.every((r) => r.status === 200 || r.status === 404));
    } finally {
      await server.close();
    }
  });
});

describe('credentials never reach the output', () => {
  /**
   * Every 16-character piece of the secret, as written and base64-encoded (as kubeconfigs store
   * keys): a parser's error snippet may show a line cut short, and a cut-short token still leaks.
   */
  function forms(secret: string): string[] {
    const out = new Set<string>();
    for (const text of [secret, Buffer.from(secret).toString('base64')]) {
      for (const line of text.split('\n')) {
        if (line.startsWith('-----')) continue;
        for (let i = 0; i + 16 <= line.length; i++) out.add(line.slice(i, i + 16));
      }
    }
    return [...out];
  }

  function assertClean(run: CliRun, secrets: string[], what: string): void {
    const output = `${run.stdout}\n${run.stderr}`;
    for (const secret of secrets) {
      for (const form of forms(secret)) assert.ok(!output.includes(form), `${what}: output contains credential material (${form.slice(0, 6)}…)`);
    }
    assert.doesNotMatch(output, /PRIVATE KEY|Bearer /, what);
  }

  test('a token kubeconfig: success, partial RBAC, 401, --verbose, in-process and as a process', async () => {
    const token = `tm-${randomBytes(24).toString('hex')}`;
    const server = await startApiServer({ token, objects: demo(), forbidden: [{ kind: 'PeerAuthentication', namespace: 'istio-system' }] });
    try {
      const kubeconfig = writeKubeconfig(server);
      const wrong = `tm-wrong-${randomBytes(24).toString('hex')}`;
      const wrongConfig = writeKubeconfig({ url: server.url, caPem: server.caPem, token: wrong });
      {
        for (const args of [['-A', '--verbose'], ['-n', 'app', '--verbose', '-o', 'table'], ['-n', 'app', '-o', 'json']]) {
          const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, ...args]);
          assert.ok(run.code === 0 || run.code === 1, run.stderr);
          if (args.includes('--verbose')) assert.match(run.stderr, /GET \/api\/v1/, 'verbose lists the requests');
          assertClean(run, [token], args.join(' '));
        }
        const refused = await runInProcess(['doctor', '--kubeconfig', wrongConfig, '-A', '--verbose']);
        assert.equal(refused.code, 3);
        assertClean(refused, [wrong, token], '401 --verbose');
        const asProcess = await runCli(['doctor', '--kubeconfig', kubeconfig, '-A', '--verbose', '-o', 'json']);
        assert.ok(asProcess.code === 0 || asProcess.code === 1, asProcess.stderr);
        assertClean(asProcess, [token], 'bin/tunnelmesh --verbose');
      }
    } finally {
      await server.close();
    }
  });

  test('a client-certificate kubeconfig: the key never shows, --verbose and errors included', async () => {
    const server = await startApiServer({ objects: demo() });
    try {
      const key = testPki().client.keyPem;
      for (const [auth, args] of [
        ['client-cert', ['-A', '--verbose']],
        ['client-cert', ['-n', 'app', '--verbose', '-o', 'table']],
        ['untrusted-client-cert', ['-A', '--verbose']],
      ] as const) {
        const run = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server, { auth }), ...args]);
        assert.ok(run.code !== 70, run.stderr);
        assertClean(run, [key], `${auth} ${args.join(' ')}`);
      }
    } finally {
      await server.close();
    }
  });

  test('a kubeconfig that cannot be parsed: the error names the file, not the token next to the mistake', async () => {
    const token = `tm-${randomBytes(24).toString('hex')}`;
    const path = join(lazyTempDir('broken-kubeconfig')(), 'config');
    writeFileSync(path, `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: ${token}\n   bad: indentation\n`, { mode: 0o600 });
    const run = await runInProcess(['doctor', '--kubeconfig', path, '-A', '--verbose']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^tunnelmesh: cannot read kubeconfig /);
    assertClean(run, [token], 'broken kubeconfig');
  });
});
