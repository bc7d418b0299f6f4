// `-o yaml`: the `-o json` document as YAML (fix YAML becomes block text, easy to read and copy),
// for doctor and explain-protocol, and the error document of a failed run.

import jsyaml from 'js-yaml';
import { doctorDocument, type ReportInput } from './json.js';

export function toYaml(doc: unknown): string {
  return jsyaml.dump(doc, { lineWidth: -1, noRefs: true, quotingType: '"' });
}

export function doctorYaml(input: ReportInput): string {
  return toYaml(doctorDocument(input));
}
