// Issue 13: a repaired tunnel config is picked up by restarting cloudflared, with a command kubectl
// accepts: the owning workload's `rollout restart`, or for a Pod without an owner, delete and create
// it again (kubectl refuses `rollout restart pod/NAME`).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RULES } from '../../src/rules/index.js';
import { cloudflaredConfigMap, namespace, pod, service, deployment } from '../support/build.js';
import { findingsOf } from '../support/rule-tester.js';

function cluster(owner: string | undefined) {
  return [
    namespace('edge'),
    cloudflaredConfigMap('edge', 'cloudflared', [{ hostname: 'web.example.com', service: 'https://web.app.svc:80' }, { service: 'http_status:404' }]),
    pod('edge', owner ? `${owner}-7d9f8b6c5d-abcde` : 'cloudflared', {
      sidecar: 'none',
      ...(owner ? { owner } : {}),
      image: 'cloudflare/cloudflared:2025.11.1',
      args: ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run'],
      volumes: [{ name: 'config', configMap: { name: 'cloudflared' } }],
    }),
    namespace('app'),
    deployment('app', 'web', { ports: [{ port: 80 }] }),
    service('app', 'web', [{ name: 'http', port: 80 }]),
  ];
}

function restartCommands(owner: string | undefined): string[] {
  const f = findingsOf(RULES, cluster(owner)).find((x) => x.code === 'TM301');
  assert.ok(f, 'TM301: https:// to a plain HTTP port');
  const fix = f.fixes.find((x) => x.target?.kind === 'ConfigMap');
  assert.ok(fix, 'the fix edits the ConfigMap');
  const commands = (fix.steps ?? []).filter((s) => s.kind === 'restart').map((s) => s.command);
  for (const c of commands) assert.ok(fix.yaml.includes(c), `the fix text says ${c}`);
  return commands;
}

test('pods of a Deployment: the Deployment is rolled out again', () => {
  assert.deepEqual(restartCommands('cloudflared'), ['kubectl rollout restart deployment/cloudflared -n edge']);
});

test('a Pod without an owner: deleted and created again from its own manifest, never `rollout restart pod/NAME`', () => {
  const [command] = restartCommands(undefined);
  assert.match(command ?? '', /^kubectl get pod cloudflared -n edge -o yaml > cloudflared\.yaml && kubectl replace --force -f cloudflared\.yaml/);
  assert.doesNotMatch(command ?? '', /rollout restart.*pod\//);
});
