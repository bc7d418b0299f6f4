// explain-protocol's TARGET completes from the input the command line names: its -f files,
// or the cluster its --kubeconfig/-n point at (the hidden `__targets` command the scripts call).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import { BIN, loadManifests, runCli, runCliAsync } from '../support/bin.js';
import { writeKubeconfig } from '../support/kubeconfig.js';

const DEMO_TARGETS = [
  'ingress/gateway-api',
  'ingress/spring-boot-admin',
  'ingress/web',
  'service/sg-cloud-gateway',
  'service/sg-cloud-gateway:8080',
  'service/sg-cloud-gateway:9091',
  'service/web',
  'service/web:80',
  'admin.example.com',
  'api.example.com',
  'shop.example.com',
];

/** Runs the generated bash completion for a command line whose last word is being completed. */
function bashComplete(line: string): string[] {
  const script = runCli(['completion', 'bash']).stdout;
  // As bash splits it: COMP_WORDBREAKS holds ':', so `service/web:` is two words and an empty third.
  const words = line.split(' ').flatMap((w) => (w.includes(':') ? [w.slice(0, w.indexOf(':')), ':', w.slice(w.indexOf(':') + 1)] : [w]));
  words[0] = BIN;
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const full = [BIN, ...line.split(' ').slice(1)].join(' ');
  const res = spawnSync(
    'bash',
    ['-c', `${script}\nCOMP_LINE='${full}'; COMP_POINT=\${#COMP_LINE}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _tunnelmesh; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` } },
  );
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.split('\n').filter(Boolean);
}

describe('explain-protocol TARGET completion', () => {
  test('__targets lists Ingresses, Service ports and the hostnames tunnels serve, from -f; -n narrows the objects', () => {
    const all = runCli(['__targets', '-f', 'fixtures/demo']);
    assert.equal(all.status, 0);
    assert.deepEqual(all.stdout.trimEnd().split('\n'), DEMO_TARGETS);
    const shop = runCli(['__targets', '-f', 'fixtures/demo', '-n', 'shop']).stdout.trimEnd().split('\n');
    assert.deepEqual(shop, ['ingress/web', 'service/web', 'service/web:80', 'admin.example.com', 'api.example.com', 'shop.example.com']);
  });

  test('__targets is hidden from the help and the command list of the scripts; a broken input completes nothing, silently', () => {
    assert.doesNotMatch(runCli(['--help']).stdout, /__targets/);
    assert.doesNotMatch(runCli(['completion', 'bash']).stdout, /COMPREPLY=\(\$\(compgen -W "doctor[^"]*__targets/);
    const broken = runCli(['__targets', '-f', 'fixtures/ci/charts/gateway']);
    assert.deepEqual([broken.status, broken.stdout, broken.stderr], [0, '', '']);
  });

  test('bash: ingress/<TAB>, service/NAME:<TAB> (the colon bash splits on) and hostnames, passing -f on', () => {
    assert.deepEqual(bashComplete('tunnelmesh explain-protocol -f fixtures/demo ingress/s'), ['ingress/spring-boot-admin']);
    assert.deepEqual(bashComplete('tunnelmesh explain-protocol -f fixtures/demo service/sg-cloud-gateway:'), ['8080', '9091']);
    assert.deepEqual(bashComplete('tunnelmesh explain-protocol -n shop -f fixtures/demo sh'), ['shop.example.com']);
    assert.deepEqual(bashComplete('tunnelmesh explain-protocol -f fixtures/demo --fail'), ['--fail-on', '--fail-on-incomplete']);
  });

  test('TunnelBindings and HTTPRoutes are targets too', () => {
    const input = [
      'apiVersion: networking.cfargotunnel.com/v1alpha1\nkind: TunnelBinding\nmetadata: {name: web-binding, namespace: app}\nsubjects: [{name: web}]\ntunnelRef: {kind: Tunnel, name: main}',
      'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web-route, namespace: app}\nspec: {parentRefs: [{name: gw}]}',
    ].join('\n---\n');
    const lines = runCli(['__targets', '-f', '-'], { input }).stdout.trimEnd().split('\n');
    assert.ok(lines.includes('tunnelbinding/web-binding') && lines.includes('httproute/web-route'), lines.join(' '));
  });

  test('zsh and fish scripts call __targets for the target', () => {
    assert.match(runCli(['completion', 'zsh']).stdout, /'1:target:_tunnelmesh_targets'/);
    assert.match(runCli(['completion', 'fish']).stdout, /__fish_seen_subcommand_from explain-protocol' -a '\(__tunnelmesh_targets\)'/);
  });

  describe('from the cluster', () => {
    let server: ApiServer;
    before(async () => {
      server = await startApiServer({ objects: loadManifests('fixtures/demo') });
    });
    after(() => server.close());

    test('--kubeconfig and -n: the targets of that namespace, read with GET requests only', async () => {
      const kubeconfig = writeKubeconfig(server, { namespace: 'app' });
      const res = await runCliAsync(['__targets', '--kubeconfig', kubeconfig, '-n', 'app']);
      assert.equal(res.status, 0, res.stderr);
      const lines = res.stdout.trimEnd().split('\n');
      assert.ok(lines.includes('ingress/spring-boot-admin') && lines.includes('service/sg-cloud-gateway:9091') && lines.includes('admin.example.com'), res.stdout);
      assert.ok(!lines.includes('service/web'), 'other namespaces are not offered');
      assert.ok(server.requests.every((r) => r.method === 'GET'));
    });
  });
});
