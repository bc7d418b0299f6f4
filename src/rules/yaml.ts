// YAML for fixes: stable key order, no line folding, numbers as numbers.

import jsyaml from 'js-yaml';

export function toYaml(doc: unknown): string {
  return jsyaml.dump(doc, { lineWidth: -1, noRefs: true, quotingType: '"' });
}

/** A YAML document preceded by `# comment` lines. */
export function withComments(comments: string[], doc: unknown): string {
  return comments.map((c) => `# ${c}\n`).join('') + toYaml(doc);
}
