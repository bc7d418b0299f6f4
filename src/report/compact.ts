// `-o compact`: one line per finding, for logs and CI consoles (like istioctl analyze's log
// lines or kube-linter's plain output):
//
//     ERROR TM101 Service/app/sg-cloud-gateway:9091 cloudflared Deployment … sends Istio mTLS …
//
// SEVERITY, CODE and the resource are single words (the resource as `Kind/namespace/name`,
// `Kind/name` when cluster-scoped, `:port` appended), so `awk '{print $3}'` or `cut -d' ' -f1-3`
// work; the message is the rest of the line, its own line breaks flattened. Every finding
// is a line (no grouping); suppressed findings are not listed. Nothing else is written to
// stdout: the summary, notes and what could not be collected go to stderr (see the CLI).

import type { Finding } from '../rules/types.js';
import type { ReportInput } from './json.js';
import { logicalName } from './locate.js';

export function compactLine(f: Finding): string {
  const resource = `${logicalName(f.resource)}${f.port !== undefined ? `:${f.port}` : ''}`.replace(/\s/g, '_');
  return `${f.severity.toUpperCase()} ${f.code} ${resource} ${f.message.replace(/\s+/g, ' ').trim()}`;
}

export function doctorCompact(input: ReportInput): string {
  return input.findings.map((f) => `${compactLine(f)}\n`).join('');
}
