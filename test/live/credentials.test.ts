// The credentials in use never reach any output — stdout in every format, stderr, --verbose,
// error messages, the snapshot — even when a proxy repeats the Authorization header in a
// 401/403 message; exec credential plugins run under --request-timeout and nothing they print
// reaches ours; kubectl's `tokenFile` user key is honoured.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import { runCli, runInProcess, stderrLines, type CliRun } from '../support/cli.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { lazyTempDir } from '../support/tmp.js';
import { demo } from './scenarios.js';

const dir = lazyTempDir('credentials');
let scripts = 0;

/** An exec credential plugin: a node script (its own process, as kubectl would run it). */
function plugin(body: string): { command: string; args: string[] } {
  const path = join(dir(), `plugin-${++scripts}.cjs`);
  writeFileSync(path, body);
  return { command: process.execPath, args: [path] };
}

function execUser(p: { command: string; args: string[] }): Record<string, unknown> {
  return { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: p.command, args: p.args, interactiveMode: 'Never' } };
}

const credential = (token: string): string => JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } });

/** Every 12-character piece of the secret and of its base64 (a cut-short token still leaks). */
function assertNoSecret(run: CliRun, secret: string, what: string): void {
  const output = `${run.stdout}\n${run.stderr}`;
  for (const text of [secret, Buffer.from(secret).toString('base64')]) {
    for (let i = 0; i + 12 <= text.length; i++) {
      const piece = text.slice(i, i + 12);
      assert.ok(!output.includes(piece), `${what}: the output holds credential material (${piece.slice(0, 4)}…)\n${output.slice(0, 3000)}`);
    }
  }
}

async function withServer(token: string, body: (server: ApiServer) => Promise<void>): Promise<void> {
  const server = await startApiServer({ token, objects: demo() });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

describe('a proxy that repeats the Authorization header', { concurrency: 2 }, () => {
  test('in a 401: exit 3, one line, the token replaced (bin/tunnelmesh, --verbose)', async () => {
    const token = `tm-${randomBytes(20).toString('hex')}`;
    await withServer(token, async (server) => {
      server.addFault({ status: 401, echoAuthorization: true });
      const run = await runCli(['doctor', '--kubeconfig', writeKubeconfig(server), '-A', '--verbose']);
      assert.equal(run.code, 3, run.stderr);
      const last = stderrLines(run).at(-1) ?? '';
      assert.match(last, /^tunnelmesh: authentication failed for context "tunnelmesh-test" \(https:\/\/127\.0\.0\.1:\d+\): Unauthorized: the credentials in "Authorization: Bearer <redacted by tunnelmesh>" were not accepted — the token of user "tunnelmesh-test-token" was refused \(expired or revoked\): get a new one/);
      assertNoSecret(run, token, '401');
    });
  });

  test('in a 403 on one kind: in no output format, nor in the snapshot', async () => {
    const token = `tm-${randomBytes(20).toString('hex')}`;
    await withServer(token, async (server) => {
      server.addFault({ status: 403, echoAuthorization: true, match: (r) => r.path.endsWith('/peerauthentications') });
      const kubeconfig = writeKubeconfig(server);
      for (const format of ['json', 'yaml', 'sarif', 'codequality', 'table']) {
        const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '-o', format, '--verbose']);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /Authorization: Bearer <redacted by tunnelmesh>/, 'the message itself is kept');
        assertNoSecret(run, token, `-o ${format}`);
      }
      const json = await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '-o', 'json']);
      assert.match(JSON.stringify(JSON.parse(json.stdout).incomplete), /Bearer <redacted by tunnelmesh>/);
      const snapshot = await runCli(['snapshot', '--kubeconfig', kubeconfig, '-A']);
      assert.equal(snapshot.code, 0, snapshot.stderr);
      assert.match(snapshot.stdout, /Bearer <redacted by tunnelmesh>/, 'the snapshot header carries the message');
      assertNoSecret(snapshot, token, 'snapshot');
    });
  });

  test('basic auth: the password never shows either', async () => {
    const password = `pw-${randomBytes(16).toString('hex')}`;
    await withServer('unused-token-0123456789', async (server) => {
      server.addFault({ status: 401, echoAuthorization: true });
      const run = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server, { user: { username: 'admin', password } }), '-A', '--verbose']);
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, /Authorization: Basic <redacted by tunnelmesh>/);
      assertNoSecret(run, password, 'basic auth');
      assertNoSecret(run, `admin:${password}`, 'basic auth header');
    });
  });
});

describe('exec credential plugins', { concurrency: 2 }, () => {
  test('a working plugin: its token authenticates, and is redacted when a proxy repeats it', async () => {
    const token = `exec-${randomBytes(20).toString('hex')}`;
    await withServer(token, async (server) => {
      server.addFault({ status: 403, echoAuthorization: true, match: (r) => r.path.endsWith('/destinationrules') });
      const p = plugin(`process.stderr.write('debug: minted ${token}\\n'); process.stdout.write(${JSON.stringify(credential(token))});`);
      const run = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server, { user: execUser(p) }), '-A', '-o', 'json', '--verbose']);
      assert.ok(run.code === 0 || run.code === 1, run.stderr);
      assert.ok(JSON.parse(run.stdout).incomplete.some((e: { kind: string }) => e.kind === 'DestinationRule'));
      assertNoSecret(run, token, 'exec plugin');
      assert.doesNotMatch(run.stderr, /debug: minted/, "the plugin's stderr is not ours");
    });
  });

  test('a plugin that hangs: killed at --request-timeout, exit 3, one line (bin/tunnelmesh)', async () => {
    const pidFile = join(dir(), `hang-${randomBytes(4).toString('hex')}.pid`);
    await withServer('never-used-token-0123', async (server) => {
      const p = plugin(`require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); process.stderr.write('waiting for a browser login, token so far: secret-partial-0123456789\\n'); setInterval(() => {}, 1000);`);
      const run = await runCli(['doctor', '--kubeconfig', writeKubeconfig(server, { user: execUser(p) }), '-A', '--request-timeout', '1s'], { timeoutMs: 20_000 });
      assert.equal(run.timedOut, false, 'tunnelmesh ended on its own');
      assert.equal(run.code, 3, run.stderr);
      assert.deepEqual(stderrLines(run), [
        `tunnelmesh: authentication failed for context "tunnelmesh-test" (${server.url}): the exec credential plugin ${p.command.split('/').at(-1)} did not finish within 1000 ms (--request-timeout)`,
      ]);
      assert.equal(server.requests.length, 0, 'no request without credentials');
      assert.ok(existsSync(pidFile), 'the plugin ran');
      assert.throws(() => process.kill(Number(readFileSync(pidFile, 'utf8')), 0), /ESRCH/, 'and was killed');
    });
  });

  test('a plugin that fails, or prints something else: our words, never its output', async () => {
    const secret = `leak-${randomBytes(16).toString('hex')}`;
    await withServer('never-used-token-0123', async (server) => {
      for (const [body, reason] of [
        [`process.stderr.write('error: refresh token ${secret} expired\\n'); process.exit(1);`, /failed \(exit code 1\); its output is not shown, as it may hold credentials$/m],
        [`process.stdout.write('token: ${secret}\\n');`, /did not print an ExecCredential \(not JSON\)$/m],
        [`process.stdout.write(JSON.stringify({ token: '${secret}' }));`, /printed JSON without an ExecCredential status$/m],
      ] as const) {
        const run = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server, { user: execUser(plugin(body)) }), '-A', '--verbose']);
        assert.equal(run.code, 3, run.stderr);
        assert.equal(stderrLines(run).length, 1, run.stderr);
        assert.match(run.stderr, reason);
        assertNoSecret(run, secret, String(reason));
      }
      const missing = await runInProcess(['doctor', '--kubeconfig', writeKubeconfig(server, { user: execUser({ command: 'tunnelmesh-no-such-plugin', args: [] }) }), '-A']);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /the exec credential plugin tunnelmesh-no-such-plugin is not installed \(not found on PATH\)$/m);
    });
  });
});

describe("kubectl's tokenFile", () => {
  test('read, trimmed, relative to the kubeconfig, and winning over token (client-go); unreadable is exit 3', async () => {
    const token = `file-${randomBytes(20).toString('hex')}`;
    await withServer(token, async (server) => {
      const kubeconfig = writeKubeconfig(server, { user: { tokenFile: 'token-for-tunnelmesh', token: 'stale-token-from-last-week' } });
      writeFileSync(join(kubeconfig, '..', 'token-for-tunnelmesh'), `${token}\n`);
      const run = await runInProcess(['doctor', '--kubeconfig', kubeconfig, '-A', '-o', 'json', '--verbose']);
      assert.equal(run.code, 1, run.stderr);
      assert.ok(server.requests.every((r) => r.status !== 401));
      assertNoSecret(run, token, 'tokenFile');
      const broken = writeKubeconfig(server, { user: { tokenFile: '/nonexistent/token' } });
      const refused = await runInProcess(['doctor', '--kubeconfig', broken, '-A']);
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, /^tunnelmesh: the kubeconfig user "tunnelmesh-test-token" reads its token from \/nonexistent\/token, which cannot be read \(ENOENT\)$/m);
    });
  });
});
