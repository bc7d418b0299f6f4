// `-o yaml`: the `-o json` document as YAML (fix YAML becomes block text, easy to read and copy).

import jsyaml from 'js-yaml';
import { doctorDocument, type ReportInput } from './json.js';

export function doctorYaml(input: ReportInput): string {
  return jsyaml.dump(doctorDocument(input), { lineWidth: -1, noRefs: true, quotingType: '"' });
}
