// `-o codequality`: GitLab's Code Quality report (a subset of the Code Climate format), so
// findings show in merge requests. GitLab needs a path and a line; live objects get the same
// placeholder paths as SARIF. Suppressed findings are left out (the format has no such notion).

import { formatRef } from '../core/k8s.js';
import type { Severity } from '../rules/types.js';
import type { ReportInput } from './json.js';
import { fingerprint } from './sarif.js';

const SEVERITY: Record<Severity, 'critical' | 'major' | 'info'> = { error: 'critical', warning: 'major', info: 'info' };

export function doctorCodeQuality(input: ReportInput): string {
  const issues = input.findings.map((f) => {
    const art = input.locator?.artifact(f.resource) ?? { uri: formatRef(f.resource), line: 1 };
    return {
      type: 'issue',
      check_name: `${f.code} ${f.name}`,
      description: `${f.code} ${formatRef(f.resource)}${f.port !== undefined ? ` :${f.port}` : ''}: ${f.message}`,
      categories: ['Bug Risk'],
      severity: SEVERITY[f.severity],
      fingerprint: fingerprint(f, input.locator?.context),
      location: { path: decodeURIComponent(art.uri), lines: { begin: art.line } },
    };
  });
  return `${JSON.stringify(issues, null, 2)}\n`;
}
