// Errors a person understands: an unrendered Helm chart, an empty or broken kubeconfig, a 401
// with the next step; a bare `tunnelmesh`; explain-protocol -o yaml.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import { loginHint } from '../../src/collect/kubeconfig-check.js';
import { runCli } from '../support/bin.js';

const tmp = mkdtempSync(join(tmpdir(), 'tunnelmesh-errors-'));
const file = (name: string, text: string): string => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};

const HELM = /looks like an unrendered Helm template \(\{\{ … \}\}\): run `helm template (\S+) \| tunnelmesh doctor -f -`/;

describe('an unrendered Helm chart', () => {
  test('a chart directory: exit 2, the helm template command for it', () => {
    const res = runCli(['doctor', '-f', 'fixtures/ci/charts/gateway']);
    assert.equal(res.status, 2);
    assert.equal(res.stderr.match(HELM)?.[1], 'fixtures/ci/charts/gateway');
    assert.doesNotMatch(res.stderr, /missed comma|flow collection/);
  });

  test('one template: its file and the line of the first {{, the chart above templates/', () => {
    const res = runCli(['doctor', '-f', 'fixtures/ci/charts/gateway/templates/service.yaml']);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /^tunnelmesh: fixtures\/ci\/charts\/gateway\/templates\/service\.yaml:5: looks like an unrendered Helm template/);
    assert.equal(res.stderr.match(HELM)?.[1], 'fixtures/ci/charts/gateway');
  });

  test('template actions that happen to be valid YAML, and ones that break it (on stdin)', () => {
    const quoted = runCli(['doctor', '-f', '-'], { input: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: "{{ .Release.Name }}-web"\n' });
    assert.equal(quoted.status, 2);
    assert.match(quoted.stderr, /^tunnelmesh: <stdin>:4: looks like an unrendered Helm template/);
    const broken = runCli(['doctor', '-f', '-'], { input: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    {{- include "x.labels" . | nindent 4 }}\n' });
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /^tunnelmesh: <stdin>:6: looks like an unrendered Helm template/);
    assert.equal(broken.stderr.match(HELM)?.[1], '<chart>');
  });

  test('a rendered ConfigMap that carries {{ }} in its data is a manifest, not a template', () => {
    const res = runCli(['doctor', '-f', '-'], {
      input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alerts\n  namespace: app\ndata:\n  rules.yaml: |\n    summary: "{{ $labels.instance }} is down"\n',
    });
    assert.equal(res.status, 0, res.stderr);
  });
});

describe('kubeconfig problems in words', () => {
  const doctor = (kubeconfig: string, env: Record<string, string> = {}) => runCli(['doctor', ...(kubeconfig ? ['--kubeconfig', kubeconfig] : [])], { env });

  test('an empty file: says it is empty and how to write one (was: reading \'clusters\' of undefined)', () => {
    for (const res of [doctor(file('empty', '')), doctor('', { KUBECONFIG: file('empty2', '\n\n') })]) {
      assert.equal(res.status, 2);
      assert.match(res.stderr, /^tunnelmesh: (kubeconfig|KUBECONFIG file) \S+ is empty: it needs clusters, users and contexts \(kubectl config view --raw --minify > FILE/);
      assert.doesNotMatch(res.stderr, /Cannot read properties/);
    }
  });

  test('YAML that does not parse, a YAML that is not a kubeconfig, no contexts, no current-context', () => {
    assert.match(doctor(file('broken', 'clusters: [\n')).stderr, /^tunnelmesh: cannot read kubeconfig \S+broken:2: invalid YAML: /);
    assert.match(doctor(file('list', '- a\n- b\n')).stderr, /^tunnelmesh: kubeconfig \S+ is not a kubeconfig/);
    assert.match(doctor(file('pod', 'apiVersion: v1\nkind: Pod\n')).stderr, /^tunnelmesh: kubeconfig \S+ holds a Pod, not a kubeconfig/);
    assert.match(doctor(file('nocontexts', 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\n')).stderr, /has no contexts: add one/);
    const noCurrent = 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\n';
    const res = doctor(file('nocurrent', noCurrent));
    assert.equal(res.status, 2);
    assert.match(res.stderr, /^tunnelmesh: the kubeconfig has no current-context: pass --context NAME or run kubectl config use-context NAME \(contexts: dev\)\n$/);
  });
});

describe('a 401 says whose credentials were refused and what to do', () => {
  test('per kind of credential, always with a check command, never a secret', () => {
    const hint = (user: Parameters<typeof loginHint>[0]) => loginHint(user, 'prod');
    assert.match(hint({ name: 'u', token: 'secret-token-value' }), /^the token of user "u" was refused \(expired or revoked\): get a new one and set it with kubectl config set-credentials u --token=…; check with: kubectl --context prod auth whoami$/);
    assert.match(hint({ name: 'eks', exec: { command: 'aws' } }), /credentials that aws gave user "eks" were refused: log in again \(aws sso login/);
    assert.match(hint({ name: 'gke', exec: { command: 'gke-gcloud-auth-plugin' } }), /\(gcloud auth login\)/);
    assert.match(hint({ name: 'x', exec: { command: '/opt/bin/custom' } }), /log in again with that plugin/);
    assert.match(hint({ name: 'o', authProvider: { name: 'oidc' } }), /the oidc login of user "o" was refused/);
    assert.match(hint({ name: 'c', certData: 'LS0t' }), /the client certificate of user "c" was refused \(expired, or not signed by this cluster's CA\)/);
    assert.match(hint({ name: 'anon' }), /user "anon" has no credentials in the kubeconfig/);
    assert.doesNotMatch(hint({ name: 'u', token: 'secret-token-value' }), /secret-token-value/);
  });
});

describe('the command line itself', () => {
  test('a bare tunnelmesh prints the help on stdout and exits 0, as kubectl and helm do', () => {
    const res = runCli([]);
    assert.equal(res.status, 0);
    assert.match(res.stdout, /^Usage: tunnelmesh \[options\] \[command\]/);
    assert.match(res.stdout, /doctor \[options\]/);
    assert.equal(res.stderr, '');
  });

  test('explain-protocol -o yaml is the -o json document', () => {
    const args = ['explain-protocol', 'ingress/spring-boot-admin', '-f', 'fixtures/demo'];
    const json = runCli([...args, '-o', 'json']);
    const yaml = runCli([...args, '-o', 'yaml']);
    assert.equal(yaml.status, json.status);
    assert.equal(yaml.status, 1);
    assert.deepEqual(jsyaml.load(yaml.stdout), JSON.parse(json.stdout));
  });
});
