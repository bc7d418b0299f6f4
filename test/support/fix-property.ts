// The property every recommended fix must have (issue 13): applied as kubectl would take it, and
// judged again with every rule, the finding it fixes is gone, no error or warning appears that was
// not there before, and every tunnel hostname still reaches the origin host and port it reached
// (unless the fix says it reroutes, as pointing a rule at the Service that exists does).

import { formatRef, type KObject } from '../../src/core/k8s.js';
import { addObjects, emptySnapshot } from '../../src/core/snapshot.js';
import { parseOriginUrl } from '../../src/model/tunnels.js';
import type { MeshModel } from '../../src/model/model.js';
import { applyFix, composeFixes } from '../../src/rules/apply-fix.js';
import { judge } from '../../src/rules/judge.js';
import type { Finding, Fix } from '../../src/rules/types.js';

export interface Judged {
  model: MeshModel;
  findings: Finding[];
}

export function judgeObjects(objects: readonly KObject[], namespace?: string): Judged {
  const snapshot = emptySnapshot('files');
  addObjects(snapshot, [...objects], (o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  const j = judge(snapshot, namespace ? { namespace } : {});
  return { model: j.model, findings: j.findings };
}

export function findingKey(f: Finding): string {
  return `${f.code} ${formatRef(f.resource)}${f.port !== undefined ? `:${f.port}` : ''}`;
}

function counts(findings: Finding[], keep: (f: Finding) => boolean = () => true): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of findings) if (keep(f)) out.set(findingKey(f), (out.get(findingKey(f)) ?? 0) + 1);
  return out;
}

const serious = (f: Finding) => f.severity === 'error' || f.severity === 'warning';

/** host:port of a service URL, or the service as written (http_status:404, an unparsable URL). */
function originOf(service: string): string {
  const m = /^[^:]+:\/\/(\[[^\]]*\]|[^/?#:]+)(?::(\d+))?/.exec(service);
  return m ? `${m[1]}:${m[2] ?? '(default)'}` : service;
}

/** Where each tunnel hostname goes (host:port of the origins its rules name, whatever their paths). */
export function origins(model: MeshModel): Map<string, string> {
  const sets = new Map<string, Set<string>>();
  for (const t of model.tunnels) {
    for (const r of t.rules) {
      if (!r.hostname) continue;
      // cloudflared refuses a hostname with a port (TM306): the host is what it is meant to serve.
      const host = r.hostname.replace(/:\d+$/, '');
      const set = sets.get(host) ?? new Set<string>();
      set.add(originOf(r.service));
      sets.set(host, set);
    }
  }
  return new Map([...sets].map(([host, set]) => [host, [...set].sort().join(', ')]));
}

/** Everything wrong with what applying `fixes` did to `before` (empty: the property holds). */
export function judgeAfter(before: Judged, fixed: Finding[], objects: readonly KObject[], reroutes: boolean, namespace?: string): string[] {
  const after = judgeObjects(objects, namespace);
  const problems: string[] = [];
  const was = counts(before.findings);
  const now = counts(after.findings);
  for (const f of fixed) {
    const key = findingKey(f);
    if ((now.get(key) ?? 0) >= (was.get(key) ?? 0)) problems.push(`${key} is still reported`);
  }
  for (const [key, n] of counts(after.findings, serious)) {
    const earlier = counts(before.findings, serious).get(key) ?? 0;
    if (n > earlier) {
      const f = after.findings.find((x) => findingKey(x) === key) as Finding;
      problems.push(`new ${f.severity} ${key}: ${f.message}`);
    }
  }
  if (!reroutes) {
    const then = origins(before.model);
    const nowOrigins = origins(after.model);
    for (const [host, origin] of then) {
      const next = nowOrigins.get(host);
      if (next === undefined) problems.push(`${host} is no longer served`);
      else if (next !== origin) problems.push(`${host} went to ${origin}, now goes to ${next}`);
    }
  }
  return problems;
}

/** A restart or a re-created Pod: what it changes is what the injector adds to new pods. */
function recreatesPods(fix: Fix): boolean {
  return (fix.apply === 'replace' && fix.target?.kind === 'Pod') || fix.yaml.includes('kubectl.kubernetes.io/restartedAt');
}

export interface PropertyReport {
  /** Edits the composition could not merge (reported to the user, never silently kept). */
  conflicts: string[];
  /** Per finding: what went wrong after applying its recommended fix alone. */
  single: Array<{ finding: string; fix: string; problems: string[] }>;
  /** After applying every recommended fix together (composed per object). */
  all: string[];
  /** Fixes of objects the input does not hold (pods without their workload): not judged, listed. */
  outside: string[];
  /** Recommended fixes not applicable by tunnelmesh (manual: the object that writes the rule is not modelled). */
  manual: string[];
  checked: number;
}

export function checkFixProperty(objects: readonly KObject[], namespace?: string): PropertyReport {
  const before = judgeObjects(objects, namespace);
  const report: PropertyReport = { conflicts: [], single: [], all: [], manual: [], outside: [], checked: 0 };
  const recommended: Array<{ finding: Finding; fix: Fix }> = [];
  for (const f of before.findings) {
    const fix = f.fixes[0];
    if (!fix) continue;
    if (fix.apply === 'manual') {
      // Text that says no single change works (and what does), or that the value is the author's to
      // choose (a host with a space in it), makes no claim to check; any other manual fix is reported.
      if (fix.manualReason !== 'no-single-change' && fix.manualReason !== 'needs-a-choice') report.manual.push(`${findingKey(f)}: ${fix.title}`);
      continue;
    }
    if (recreatesPods(fix)) {
      // New pods go through the injector, which the offline model does not run: not judged, listed.
      report.outside.push(`${findingKey(f)}: ${fix.title} (pods re-created through the injector)`);
      continue;
    }
    recommended.push({ finding: f, fix });
    const applied = applyFix(objects, fix);
    if (applied.outside.length && applied.changed.length === 0) {
      report.outside.push(`${findingKey(f)}: ${applied.outside.map(formatRef).join(', ')}`);
      continue;
    }
    const problems = [...applied.problems, ...judgeAfter(before, [f], applied.objects, fix.reroutes === true, namespace)];
    report.checked++;
    if (problems.length) report.single.push({ finding: findingKey(f), fix: fix.title, problems });
  }
  if (recommended.length > 1) {
    const composed = composeFixes(objects, recommended, { rejudge: (objs) => judgeObjects(objs, namespace).findings, before: before.findings });
    const conflicted = new Set<Finding>([...composed.conflicts.map((c) => c.finding), ...composed.unfixed]);
    const fixed = recommended.filter((r) => !conflicted.has(r.finding)).map((r) => r.finding);
    report.conflicts = composed.conflicts.map((c) => `${findingKey(c.finding)}: ${formatRef(c.target)} ${c.field}`);
    report.all = [
      ...composed.problems,
      ...judgeAfter(before, fixed, composed.objects, recommended.some((r) => r.fix.reroutes === true), namespace),
    ];
  }
  return report;
}
