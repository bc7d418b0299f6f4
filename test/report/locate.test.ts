// The line of a field inside an object's text (YAML by its block structure, JSON tokenised),
// and helm's `# Source:` paths mapped into a repository: the two halves of "SARIF points at
// the field at fault in the user's own file".

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFieldPath, jsonFieldLine, yamlFieldLine } from '../../src/report/field-line.js';
import { templatePath } from '../../src/report/source-map.js';

const DEPLOYMENT = `# Source: gateway/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway
spec:
  template:
    metadata:
      annotations:
        # a comment with a key: value inside
        "traffic.sidecar.istio.io/excludeInboundPorts": "9091"
        'quoted.key/x': "1"
    spec:
      containers:
      - name: app
        ports:
        - containerPort: 8080
        - containerPort: 9091
      - name: other
        image: x:1
---
kind: Service
metadata:
  name: next
`;

describe('yamlFieldLine', () => {
  test('nested keys, quoted keys, sequences written at the parent indentation', () => {
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['metadata', 'name']), 5);
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['spec', 'template', 'metadata', 'annotations', 'traffic.sidecar.istio.io/excludeInboundPorts']), 11);
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['spec', 'template', 'metadata', 'annotations', 'quoted.key/x']), 12);
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['spec', 'template', 'spec', 'containers', 0, 'ports', 1]), 18);
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['spec', 'template', 'spec', 'containers', 1, 'image']), 20);
  });

  test('an absent field answers with its deepest ancestor; the next document is not searched', () => {
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['spec', 'template', 'metadata', 'annotations', 'missing']), 9);
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['spec', 'template', 'spec', 'containers', 5]), 14);
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['kind']), 3);
    assert.equal(yamlFieldLine(DEPLOYMENT, 2, ['status']), undefined);
  });

  test('an item of a List starts at its "- " line and ends at the next item', () => {
    const list = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  spec:\n    ports:\n    - port: 80\n- apiVersion: v1\n  kind: Service\n  spec:\n    ports:\n    - port: 81\n    - port: 82\n';
    assert.equal(yamlFieldLine(list, 4, ['spec', 'ports', 0]), 8);
    assert.equal(yamlFieldLine(list, 9, ['spec', 'ports', 1]), 14);
    assert.equal(yamlFieldLine(list, 4, ['spec', 'ports', 1]), 7, 'the first item has one port: its ports line');
  });

  test('the rules of a cloudflared config inside a ConfigMap block scalar', () => {
    const cm = 'kind: ConfigMap\ndata:\n  config.yaml: |\n    ingress:\n      - hostname: a.example.com\n        service: http://a:80\n      - service: http_status:404\n';
    assert.equal(yamlFieldLine(cm, 1, ['data', 'config.yaml', 'ingress', 1]), 7);
    assert.equal(yamlFieldLine(cm, 1, ['data', 'config.yaml', 'ingress', 0, 'service']), 6);
  });
});

describe('jsonFieldLine', () => {
  const json = JSON.stringify(
    { apiVersion: 'v1', kind: 'List', items: [{ kind: 'Service', spec: { ports: [{ port: 80 }] } }, { kind: 'Service', spec: { ports: [{ port: 81 }, { port: 82, name: 'x"y' }] } }] },
    null,
    2,
  );
  const line = (needle: string) => json.split('\n').findIndex((l) => l.includes(needle)) + 1;

  test('pretty JSON: the line of the key, inside a List item', () => {
    assert.equal(jsonFieldLine(json, 1, ['spec', 'ports', 1, 'name'], ['items', 1]), line('"x\\"y"'));
    assert.equal(jsonFieldLine(json, 1, ['spec', 'ports', 0, 'port'], ['items', 0]), line('"port": 80'));
    assert.equal(jsonFieldLine(json, 1, ['kind']), line('"kind": "List"'));
  });

  test('minified JSON is one line; an absent field answers with its ancestor', () => {
    assert.equal(jsonFieldLine(JSON.stringify({ a: { b: [1, 2] } }), 1, ['a', 'b', 1]), 1);
    assert.equal(jsonFieldLine(json, 1, ['spec', 'ports', 7], ['items', 0]), line('"ports": ['));
  });

  test('formatFieldPath', () => {
    assert.equal(formatFieldPath(['spec', 'ports', 1]), 'spec.ports[1]');
    assert.equal(formatFieldPath(['metadata', 'annotations', 'traffic.istio.io/x']), 'metadata.annotations["traffic.istio.io/x"]');
  });
});

describe("helm's # Source: paths in the repository", () => {
  test('--chart-dir replaces the chart name, subcharts included', () => {
    assert.equal(templatePath('gateway/templates/x.yaml', { chartDir: 'charts/gateway' }), 'charts/gateway/templates/x.yaml');
    assert.equal(templatePath('gateway/templates/x.yaml', { chartDir: './charts/gw/' }), 'charts/gw/templates/x.yaml');
    assert.equal(templatePath('gateway/charts/redis/templates/y.yaml', { chartDir: 'deploy/gateway' }), 'deploy/gateway/charts/redis/templates/y.yaml');
  });

  test('--source-root prefixes the whole path; no option: no mapping', () => {
    assert.equal(templatePath('gateway/templates/x.yaml', { sourceRoot: 'charts' }), 'charts/gateway/templates/x.yaml');
    assert.equal(templatePath('gateway/templates/x.yaml', {}), undefined);
  });
});
