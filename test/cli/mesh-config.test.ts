// --mesh-config FILE for doctor and explain-protocol: honoured offline (CI inputs never hold the
// istio ConfigMap), and live it replaces the cluster's, with a note. Without it offline, one
// notice says Istio's defaults are assumed; a MeshConfig given with -f is pointed at the flag.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import jsyaml from 'js-yaml';
import type { KObject } from '../../src/core/k8s.js';
import { startApiServer, type ApiServer } from '../support/apiserver.js';
import { deployment, destinationRule, meshConfig, namespace, operatorCloudflared, operatorTunnelConfig, peerAuthentication, pod, service, toYaml, TUNNEL_ID, type Obj } from '../support/build.js';
import { run } from '../support/cli.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { lazyTempDir } from '../support/tmp.js';

const dir = lazyTempDir('mesh-config');
const OP = 'cloudflare-operator-system';

/** A meshed cloudflared → web (STRICT); a DestinationRule without exportTo sets DISABLE for web. */
const OBJECTS: Obj[] = [
  namespace(OP, { 'istio-injection': 'enabled' }),
  operatorTunnelConfig([{ hostname: 'www.example.com', service: 'http://web.app.svc:80' }]),
  operatorCloudflared({ annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' } }),
  namespace('app', { 'istio-injection': 'enabled' }),
  deployment('app', 'web', { ports: [{ name: 'http', port: 8080 }] }),
  service('app', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
  peerAuthentication('istio-system', 'default', { mode: 'STRICT' }),
  destinationRule('app', 'web', { host: 'web.app.svc.cluster.local', tls: 'DISABLE' }),
  // Running pods, so the live run (which judges Pods, not templates) has the same edge.
  pod(OP, 'main-tunnel-a', {
    owner: 'main-tunnel',
    labels: { 'cloudflare-operator.io/app': 'cloudflared', 'cloudflare-operator.io/id': TUNNEL_ID },
    annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' },
    image: 'cloudflare/cloudflared:2025.11.1',
  }),
  pod('app', 'web-1', { owner: 'web', ports: [{ name: 'http', port: 8080 }] }),
];

function file(name: string, text: string): string {
  const path = join(dir(), name);
  writeFileSync(path, text);
  return path;
}

const PRIVATE_DEFAULT = { rootNamespace: 'istio-system', defaultDestinationRuleExportTo: ['.'] };

let manifests: string;
before(() => {
  manifests = file('manifests.yaml', toYaml(OBJECTS));
});

const errors = (doc: { findings: Array<{ code: string; severity: string }> }): string[] => doc.findings.filter((f) => f.severity === 'error').map((f) => f.code);

const DEFAULTS_NOTE = /Istio's defaults are assumed \(rootNamespace istio-system, enableAutoMtls true, defaultDestinationRuleExportTo everyone\)/;

describe('doctor --mesh-config, offline', () => {
  it('without it: judged with Istio defaults, and one notice says so', async () => {
    const r = await run(['doctor', '-f', manifests, '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { findings: Array<{ code: string; severity: string }>; notes: string[] };
    assert.deepEqual(errors(doc), ['TM102']);
    assert.equal(doc.notes.filter((n) => DEFAULTS_NOTE.test(n)).length, 1);
  });

  for (const [what, text] of [
    ['a MeshConfig YAML (istioctl --meshConfigFile)', jsyaml.dump(PRIVATE_DEFAULT)],
    ['the istio ConfigMap', jsyaml.dump(meshConfig(PRIVATE_DEFAULT))],
    ['an IstioOperator', jsyaml.dump({ apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', spec: { meshConfig: PRIVATE_DEFAULT } })],
  ] as const) {
    it(`with ${what}: defaultDestinationRuleExportTo ['.'] keeps the DISABLE rule private, no finding`, async () => {
      const mesh = file(`mesh-${what.length}.yaml`, text);
      const r = await run(['doctor', '-f', manifests, '--mesh-config', mesh, '-o', 'json']);
      assert.equal(r.code, 0, r.stdout);
      const doc = JSON.parse(r.stdout) as { findings: Array<{ code: string; severity: string }>; notes: string[] };
      assert.deepEqual(errors(doc), []);
      assert.ok(!doc.notes.some((n) => DEFAULTS_NOTE.test(n)), 'no defaults notice when a mesh config is given');
    });
  }

  it('a field of the wrong type is exit 2 naming the file', async () => {
    const mesh = file('bad.yaml', 'enableAutoMtls: "yes"\n');
    const r = await run(['doctor', '-f', manifests, '--mesh-config', mesh]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `tunnelmesh: ${mesh}:1: enableAutoMtls is "yes", not true or false\n`);
  });

  it('a missing file is exit 2', async () => {
    const r = await run(['doctor', '-f', manifests, '--mesh-config', join(dir(), 'absent.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /absent\.yaml: --mesh-config: no such file/);
  });

  it('a MeshConfig given with -f is recognised and pointed at --mesh-config', async () => {
    const mesh = file('fragment.yaml', jsyaml.dump(PRIVATE_DEFAULT));
    const r = await run(['doctor', '-f', manifests, '-f', mesh]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${mesh.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1: a MeshConfig \\(rootNamespace, defaultDestinationRuleExportTo\\), not a Kubernetes object: pass it with --mesh-config`));
  });
});

describe('explain-protocol --mesh-config', () => {
  it('the Istio leg reads the given mesh config', async () => {
    const without = JSON.parse((await run(['explain-protocol', 'https://www.example.com/', '-f', manifests, '-o', 'json'])).stdout);
    assert.equal(without.backends[0].istio.clientSends, 'PLAINTEXT');
    assert.equal(without.backends[0].istio.serverMode, 'STRICT');
    assert.equal(without.backends[0].istio.captured, true);
    assert.ok(without.notes.some((n: string) => DEFAULTS_NOTE.test(n)));
    const mesh = file('explain-mesh.yaml', jsyaml.dump(PRIVATE_DEFAULT));
    const r = await run(['explain-protocol', 'https://www.example.com/', '-f', manifests, '--mesh-config', mesh, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.backends[0].istio.clientSends, 'ISTIO_MUTUAL');
    assert.equal(doc.backends[0].istio.decidedBy, 'endpoint');
    assert.equal(doc.backends[0].verdict, 'ok');
  });
});

describe('doctor --mesh-config, live', () => {
  let server: ApiServer;
  before(async () => {
    // The cluster's own mesh config keeps rules without exportTo private: no finding live.
    server = await startApiServer({ objects: [...OBJECTS, meshConfig(PRIVATE_DEFAULT)] as unknown as KObject[] });
  });
  after(() => server.close());

  it("the cluster's mesh config is used without the flag", async () => {
    const r = await run(['doctor', '-A', '-o', 'json'], { env: { KUBECONFIG: writeKubeconfig(server) } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("--mesh-config replaces the cluster's, with a note", async () => {
    const mesh = file('live-mesh.yaml', jsyaml.dump({ rootNamespace: 'istio-system' }));
    const r = await run(['doctor', '-A', '-o', 'json', '--mesh-config', mesh], { env: { KUBECONFIG: writeKubeconfig(server) } });
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { findings: Array<{ code: string; severity: string }>; notes: string[] };
    assert.deepEqual(errors(doc), ['TM102']);
    assert.ok(doc.notes.some((n) => n.includes(`--mesh-config ${mesh} (MeshConfig) is used instead of the cluster's mesh config (ConfigMap istio-system/istio)`)), doc.notes.join('\n'));
  });
});
