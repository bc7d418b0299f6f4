// Snapshot redaction: every place a tunnel token, a private key or a password hides in the
// objects tunnelmesh keeps, in every spelling — and a replay of the redacted snapshot judges
// exactly what the source did (nothing judged depends on a secret value).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import jsyaml from 'js-yaml';
import type { KObject } from '../../src/core/k8s.js';
import { redactObject } from '../../src/collect/redact.js';
import { isSecretName, REDACTED, redactText } from '../../src/core/redact.js';
import { cloudflaredDeployment, namespace, pod, service, toYaml, type Obj } from '../support/build.js';
import { runCli } from '../support/cli.js';
import { lazyTempDir } from '../support/tmp.js';

const dir = lazyTempDir('redact');
const TUNNEL_TOKEN = Buffer.from(JSON.stringify({ a: 'acc0123456789', t: '6f1f2d0e-5b7a', s: 'c2VjcmV0LXR1bm5lbC1zZWNyZXQ' })).toString('base64');
const PLAIN = 'plain-secret-4f9a8b7c6d5e';
const DB_PASSWORD = 'db-pass-0a9b8c7d';
const SENTRY_KEY = '0123456789abcdef0123456789abcdef';
const PEM = `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7pq\nQv3mUh8kHgYyZ9sPz0t0aY5Q2m7nFQo5v5m3N2b1u2hLw4s3xT9z\n-----END PRIVATE KEY-----\n`;
const ARGO = `-----BEGIN ARGO TUNNEL TOKEN-----\neyJ6b25lSUQiOiIwMTIzNDU2Nzg5YWJjZGVmIiwiYWNjb3VudElEIjoiZmVk\nY2JhOTg3NjU0MzIxMCIsInNlcnZpY2VLZXkiOiJ2MS4wLTBhMWIyYzNkNGU1\nZjZhN2I4YzlkMGUxZjJhM2I0YzVkNmU3ZjhhOWIwYzFkMmUzZjRhNWI2YzdkOGU5\n-----END ARGO TUNNEL TOKEN-----\n`;
/** Every line of the ARGO block's body, and of the PEM's. */
const SECRET_PIECES = [TUNNEL_TOKEN, PLAIN, DB_PASSWORD, SENTRY_KEY, ...[PEM, ARGO].flatMap((b) => b.split('\n').filter((l) => l && !l.startsWith('-----')))];

const RULES = [{ hostname: 'web.example.com', service: 'http://web.app.svc:80' }, { service: 'http_status:404' }];

/** Tunnel configs and connectors holding secrets in every shape the issue lists. */
function leakyCluster(): Obj[] {
  const connector = cloudflaredDeployment('edge', 'cloudflared', 'json-tunnel') as Obj & { spec: { template: { spec: { containers: Array<Record<string, unknown>>; initContainers?: unknown[] } } } };
  const c = connector.spec.template.spec.containers[0] as Record<string, unknown>;
  c.args = ['tunnel', '--config', '/etc/cloudflared/config/config.yaml', 'run', '-token', PLAIN];
  c.env = [
    { name: 'DATABASE_URL', value: `postgres://app:${DB_PASSWORD}@db.app.svc:5432/app` },
    { name: 'SENTRY_DSN', value: `https://${SENTRY_KEY}@o42.ingest.sentry.io/7` },
    { name: 'AUTH_HEADER', value: `X-Api-Key ${PLAIN}` },
    { name: 'TUNNEL_METRICS', value: '0.0.0.0:2000' },
  ];
  connector.spec.template.spec.initContainers = [
    { name: 'flag-equals', image: 'cloudflare/cloudflared', args: [`--token=${PLAIN}`] },
    { name: 'shell', image: 'busybox', command: ['sh', '-c', `TUNNEL_TOKEN=${TUNNEL_TOKEN.slice(3)} exec cloudflared tunnel run`] },
  ];
  return [
    namespace('edge'),
    namespace('app'),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'json-tunnel', namespace: 'edge' },
      data: {
        'config.yaml': JSON.stringify({ tunnel: 'main', token: PLAIN, ingress: RULES }),
        'start.sh': `#!/bin/sh\nexport TUNNEL_TOKEN="${PLAIN}"\nexec cloudflared tunnel run\n`,
        'cert.pem': `${PEM}${ARGO}`,
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'flow-tunnel', namespace: 'edge' },
      data: { 'config.yaml': `{tunnel: second, credentials-contents: ${PLAIN}, ingress: [{hostname: api.example.com, service: "http://web.app.svc:80"}, {service: "http_status:404"}]}\n` },
    },
    connector,
    pod('app', 'web-5d9f8b6c5d-abcde', { owner: 'web', ports: [{ port: 8080 }] }),
    service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }], { selector: { app: 'web' } }),
  ];
}

function assertNoSecrets(text: string, what: string): void {
  for (const s of SECRET_PIECES) assert.ok(!text.includes(s), `${what}: ${s.slice(0, 10)}… is still there`);
}

describe('snapshot redaction', () => {
  test('every listed shape, in an object: gone, the judged fields kept', () => {
    const objects = leakyCluster() as unknown as KObject[];
    const redacted = objects.map(redactObject);
    const text = JSON.stringify(redacted);
    assertNoSecrets(text, 'redactObject');
    const json = redacted.find((o) => o.metadata.name === 'json-tunnel') as unknown as { data: Record<string, string> };
    assert.deepEqual(JSON.parse(json.data['config.yaml'] as string), { tunnel: 'main', token: REDACTED, ingress: RULES }, 'still JSON, the rules intact');
    assert.match(json.data['start.sh'] as string, new RegExp(`export TUNNEL_TOKEN="${REDACTED}"`));
    assert.match(json.data['cert.pem'] as string, /-----BEGIN ARGO TUNNEL TOKEN----- <redacted by tunnelmesh> -----END ARGO TUNNEL TOKEN-----/);
    const flow = redacted.find((o) => o.metadata.name === 'flow-tunnel') as unknown as { data: Record<string, string> };
    const parsed = jsyaml.load(flow.data['config.yaml'] as string) as Record<string, unknown>;
    assert.equal(parsed['credentials-contents'], REDACTED);
    assert.equal((parsed.ingress as unknown[]).length, 2);
    const deploy = redacted.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: Array<{ args: string[]; env: Array<{ name: string; value: string }> }>; initContainers: Array<{ args?: string[]; command?: string[] }> } } } };
    const [container] = deploy.spec.template.spec.containers;
    assert.deepEqual(container?.args.slice(-2), ['-token', REDACTED], 'the flag stays visible, its value goes');
    assert.deepEqual(Object.fromEntries(container?.env.map((e) => [e.name, e.value]) ?? []), {
      DATABASE_URL: `postgres://app:${REDACTED}@db.app.svc:5432/app`,
      SENTRY_DSN: REDACTED,
      AUTH_HEADER: REDACTED,
      TUNNEL_METRICS: '0.0.0.0:2000',
    });
    assert.deepEqual(deploy.spec.template.spec.initContainers[0]?.args, [`--token=${REDACTED}`]);
    assert.match(deploy.spec.template.spec.initContainers[1]?.command?.[2] ?? '', new RegExp(`^TUNNEL_TOKEN=${REDACTED} exec`));
  });

  test('tunnelmesh snapshot -f: no secret on stdout, and the replay judges what the source did', async () => {
    const source = join(dir(), 'leaky.yaml');
    writeFileSync(source, toYaml(leakyCluster()));
    const snap = await runCli(['snapshot', '-f', source]);
    assert.equal(snap.code, 0, snap.stderr);
    assertNoSecrets(snap.stdout + snap.stderr, 'snapshot');
    const replayFile = join(dir(), 'replay.yaml');
    writeFileSync(replayFile, snap.stdout);
    const keyOf = (stdout: string) => (JSON.parse(stdout) as { findings: Array<{ code: string; resource: unknown; port: unknown; message: string }> }).findings.map((f) => ({ code: f.code, resource: f.resource, port: f.port, message: f.message }));
    const original = await runCli(['doctor', '-f', source, '-o', 'json']);
    const replay = await runCli(['doctor', '-f', replayFile, '-o', 'json']);
    assert.equal(replay.code, original.code, replay.stderr);
    assert.deepEqual(keyOf(replay.stdout), keyOf(original.stdout));
    assertNoSecrets(original.stdout, 'doctor on the source (fixes quote whole objects)');
  });
});

describe('the one redaction rule', () => {
  test('secret names: a generic word rule, pointers to secrets excluded', () => {
    for (const name of ['TUNNEL_TOKEN', 'DB_PASSWORD', 'SENTRY_DSN', 'AUTH_HEADER', 'CLOUDFLARE_API_KEY', 'apiKey', 'TunnelSecret', 'credentials-contents', '--token', '-token', 'client-key-data', 'aws_secret_access_key']) {
      assert.ok(isSecretName(name), name);
    }
    for (const name of ['DATABASE_URL', 'TOKEN_FILE', 'secretName', 'secretKeyRef', 'KEYCLOAK_URL', 'TUNNEL_METRICS', 'credentials-file', 'key', 'TOKENIZER_MODE', 'PASSTHROUGH']) {
      assert.ok(!isSecretName(name), name);
    }
  });

  test('serialised JSON and YAML stay valid documents, and ordinary text is left alone', () => {
    const doc = { message: `proxy said: Authorization: Bearer ${PLAIN}; "token": "${PLAIN}"`, yaml: `token: ${PLAIN}\nkey: app\n`, url: `https://u:${DB_PASSWORD}@h/x` };
    const json = redactText(JSON.stringify(doc));
    const back = JSON.parse(json) as typeof doc;
    assertNoSecrets(json, 'json');
    assert.equal(back.message, `proxy said: Authorization: Bearer ${REDACTED}; "token": "${REDACTED}"`);
    const yaml = redactText(jsyaml.dump(doc, { lineWidth: -1 })); // as every renderer writes it: no folded lines
    assertNoSecrets(yaml, 'yaml');
    assert.deepEqual(Object.keys(jsyaml.load(yaml) as object), ['message', 'yaml', 'url']);
    for (const prose of ['matchExpressions:\n- key: app\n', 'Basic authentication with Bearer tokens', 'privateKey: /etc/certs/key.pem', 'the pod runs --token (remotely managed)', 'automountServiceAccountToken: true']) {
      assert.equal(redactText(prose), prose);
    }
  });
});
