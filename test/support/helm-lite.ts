// A stand-in for `helm template` over the fixture chart (helm is not installed where the tests
// run): it renders only the template actions the chart uses — `{{ .Values.a.b }}`,
// `{{ .Release.Namespace }}`, `{{ .Release.Name }}`, `{{ .Chart.Name }}` — and refuses any other,
// so a chart it renders is rendered as helm would. The stream has helm's layout: each document
// after `---` and a `# Source: <chart>/templates/<file>` comment, files in helm's kind order.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsyaml from 'js-yaml';

const KIND_ORDER = ['Namespace', 'ConfigMap', 'Service', 'Deployment'];

export function helmTemplate(chartDir: string, release: { name: string; namespace: string }): string {
  const chart = jsyaml.load(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { name: string };
  const values = jsyaml.load(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const lookup = (path: string): string => {
    const [root, ...rest] = path.split('.').filter(Boolean);
    if (root === 'Release' && rest.length === 1 && (rest[0] === 'Name' || rest[0] === 'Namespace')) return rest[0] === 'Name' ? release.name : release.namespace;
    if (root === 'Chart' && rest.join('.') === 'Name') return chart.name;
    if (root !== 'Values') throw new Error(`helm-lite: {{ .${path} }} is not supported`);
    let at: unknown = values;
    for (const k of rest) at = (at as Record<string, unknown> | undefined)?.[k];
    if (typeof at !== 'string' && typeof at !== 'number') throw new Error(`helm-lite: .${path} is not a scalar value`);
    return String(at);
  };
  const docs: Array<{ kind: string; source: string; text: string }> = [];
  for (const file of readdirSync(join(chartDir, 'templates')).filter((f) => f.endsWith('.yaml')).sort()) {
    const source = `${chart.name}/templates/${file}`;
    const rendered = readFileSync(join(chartDir, 'templates', file), 'utf8').replace(/\{\{(-?)\s*([^}]*?)\s*(-?)\}\}/g, (_, _l, expr: string) => {
      if (!/^\.[A-Za-z.]+$/.test(expr)) throw new Error(`helm-lite: {{ ${expr} }} is not supported`);
      return lookup(expr.slice(1));
    });
    for (const text of rendered.split(/^---\n/m)) {
      if (text.trim() === '') continue;
      docs.push({ kind: (jsyaml.load(text) as { kind: string }).kind, source, text });
    }
  }
  const rank = (k: string) => (KIND_ORDER.includes(k) ? KIND_ORDER.indexOf(k) : KIND_ORDER.length);
  docs.sort((a, b) => rank(a.kind) - rank(b.kind));
  return docs.map((d) => `---\n# Source: ${d.source}\n${d.text}`).join('');
}
