// `-o codequality`: GitLab's Code Quality report (a subset of the Code Climate format), so
// findings show in merge requests. GitLab needs a path and a line; live objects get the same
// placeholder paths as SARIF, and the same line (the field at fault when it is found).
// Suppressed findings are left out (the format has no such notion). A failed run (exit 2/3)
// is one blocker issue saying why, so the merge request shows it instead of "no issues".

import { formatRef } from '../core/k8s.js';
import type { Severity } from '../rules/types.js';
import { createHash } from 'node:crypto';
import type { ReportInput, RunFailure } from './json.js';
import { fingerprint } from './sarif.js';

const SEVERITY: Record<Severity, 'critical' | 'major' | 'info'> = { error: 'critical', warning: 'major', info: 'info' };

export function doctorCodeQuality(input: ReportInput): string {
  const issues = input.findings.map((f) => {
    const art = input.locator?.locate(f) ?? { uri: formatRef(f.resource), line: 1 };
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

export function failureCodeQuality(failure: RunFailure): string {
  const issue = {
    type: 'issue',
    check_name: `tunnelmesh/${failure.kind}`,
    description: `tunnelmesh could not judge anything (exit ${failure.exitCode}): ${failure.message}`,
    categories: ['Bug Risk'],
    severity: 'blocker',
    fingerprint: createHash('sha256').update(`tunnelmesh/${failure.kind}\u0000${failure.message}`).digest('hex'),
    // Without a file to blame, the pipeline definition that ran tunnelmesh (always there in GitLab).
    location: { path: failure.file && failure.file !== '<stdin>' ? failure.file : '.gitlab-ci.yml', lines: { begin: failure.line ?? 1 } },
  };
  return `${JSON.stringify([issue], null, 2)}\n`;
}
