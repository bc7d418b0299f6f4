import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectFromTexts } from '../../src/collect/files.js';
import { parseText } from '../../src/collect/parse.js';
import { InputError } from '../../src/errors.js';

const pod = (name: string, ns?: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${ns ? `  namespace: ${ns}\n` : ''}spec:
  containers:
    - name: c
`;

describe('parsing manifests', () => {
  it('multi-document YAML with the line each document starts on', () => {
    const docs = parseText(`# leading comment\n${pod('a')}---\n\n${pod('b')}--- # trailing\n`, 'm.yaml');
    assert.deepEqual(docs.map((d) => d.line), [2, 11]);
  });
  it('empty and comment-only documents are skipped', () => assert.equal(parseText('---\n# only a comment\n---\n', 'x').length, 0));
  it('`--- {inline}` keeps its content', () => assert.deepEqual(parseText('--- {kind: Pod}\n', 'x')[0]?.value, { kind: 'Pod' }));
  it('JSON, with the error line for bad JSON', () => {
    assert.equal(parseText('{"kind":"Pod"}', 'p.json').length, 1);
    assert.throws(() => parseText('{\n  "kind": "Pod",\n  "a": [1, 2\n}', 'p.json'), (e: unknown) => e instanceof InputError && e.message.startsWith('p.json:4: invalid JSON'));
    // A YAML flow mapping is not JSON but is still a manifest.
    assert.deepEqual(parseText('{kind: Pod}', 'p.yaml')[0]?.value, { kind: 'Pod' });
  });
  it('a YAML error names the file and the line in the stream', () =>
    assert.throws(() => parseText(`${pod('a')}---\nkind: Pod\nmetadata:\n  name: [unclosed\n`, 'bad.yaml'), (e: unknown) => e instanceof InputError && /^bad\.yaml:1[0-3]: invalid YAML/.test(e.message)));
  it('a binary file is refused', () => assert.throws(() => parseText('\u0000\u0001PNG', 'x.png'), /binary file/));
  it('timestamps stay strings; merge keys work', () => {
    const [doc] = parseText('base: &b {x: 1}\nmetadata:\n  creationTimestamp: 2025-01-01T00:00:00Z\nmerged:\n  <<: *b\n', 'x');
    const v = doc?.value as { metadata: { creationTimestamp: unknown }; merged: { x: number } };
    assert.equal(v.metadata.creationTimestamp, '2025-01-01T00:00:00Z');
    assert.equal(v.merged.x, 1);
  });
  it('kubectl List dumps give each item its own line', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n  spec:\n    containers: []\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\n  spec:\n    containers: []\n`;
    const snap = collectFromTexts([{ name: 'dump.yaml', text: list }]);
    assert.deepEqual(snap.objects.map((o) => snap.positions.get(o)?.line), [4, 10]);
  });
});

describe('collecting objects', () => {
  it('typed lists (PodList) pass their kind to the items', () => {
    const snap = collectFromTexts([{ name: 'l.json', text: JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [{ apiVersion: 'v1', metadata: { name: 'a', namespace: 'x' }, spec: { containers: [] } }] }) }]);
    assert.equal(snap.objects[0]?.kind, 'Pod');
  });
  it('objects without a namespace go to -n, else default', () => {
    assert.equal(collectFromTexts([{ name: 'x', text: pod('a') }], 'app').objects[0]?.metadata.namespace, 'app');
    assert.equal(collectFromTexts([{ name: 'x', text: pod('a') }]).objects[0]?.metadata.namespace, 'default');
  });
  it('…or, in a chart that brings exactly one Namespace, that one (said on stderr)', () => {
    const snap = collectFromTexts([{ name: 'x', text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n${pod('a')}` }]);
    assert.equal(snap.objects.find((o) => o.kind === 'Pod')?.metadata.namespace, 'shop');
    assert.match(snap.warnings.join('\n'), /placed in namespace shop/);
  });
  it('cluster-scoped kinds carry no namespace', () =>
    assert.equal(collectFromTexts([{ name: 'x', text: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  namespace: b\n' }]).objects[0]?.metadata.namespace, undefined));
  it('objects of the wrong shape are skipped with a warning naming them and the field', () => {
    const snap = collectFromTexts([{ name: 'w.yaml', text: `${pod('ok', 'a')}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: a\nspec:\n  ports: 80\n` }]);
    assert.deepEqual(snap.objects.map((o) => o.metadata.name), ['ok']);
    assert.match(snap.warnings.join('\n'), /w\.yaml:10: Service a\/s: spec\.ports: expected a list, found number 80: skipped/);
  });
  it('a non-string label is read as the string meant, with a warning (Kubernetes would reject it)', () => {
    const snap = collectFromTexts([{ name: 'x', text: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    enabled: true\n' }]);
    assert.equal(snap.objects[0]?.metadata.labels?.enabled, 'true');
    assert.match(snap.warnings.join(), /not a string/);
  });
  it('unknown kinds are ignored; documents without kind are skipped with a word', () => {
    const snap = collectFromTexts([{ name: 'x', text: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n---\nreplicas: 3\n---\n${pod('a')}` }]);
    assert.deepEqual(snap.objects.map((o) => o.kind), ['Pod']);
    assert.match(snap.warnings.join(), /no kind: not a Kubernetes object/);
  });
  it('a MeshConfig fragment (istioctl --meshConfigFile) is recognised and pointed at --mesh-config', () => {
    const snap = collectFromTexts([{ name: 'mesh.yaml', text: `${pod('a')}---\nenableAutoMtls: true\nrootNamespace: istio-system\n` }]);
    assert.deepEqual(snap.objects.map((o) => o.kind), ['Pod']);
    assert.match(snap.warnings.join(), /mesh\.yaml:\d+: a MeshConfig \(enableAutoMtls, rootNamespace\), not a Kubernetes object: pass it with --mesh-config mesh\.yaml; skipped/);
  });
  it('duplicates: the last one wins, with a warning', () => {
    const snap = collectFromTexts([{ name: 'x', text: `${pod('a', 'n')}---\n${pod('a', 'n').replace('name: c', 'name: d')}` }]);
    assert.equal(snap.objects.length, 1);
    assert.match(snap.warnings.join(), /duplicate of Pod n\/a \(x:1\); the later one is used/);
  });
  it('no objects at all is an input error', () => assert.throws(() => collectFromTexts([{ name: 'empty.yaml', text: '# nothing\n' }]), /empty\.yaml: no Kubernetes objects found/));
});
