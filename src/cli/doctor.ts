// `tunnelmesh doctor`: collect → judge → report, and the exit code.

import type { KObject } from '../core/k8s.js';
import type { Snapshot } from '../core/snapshot.js';
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { Finding } from '../rules/types.js';
import type { ReportInput } from '../report/json.js';
import type { FixesShown } from '../report/table.js';
import type { Judgement } from '../rules/judge.js';
import { collectAndJudge, type JudgeRunOptions } from './pipeline.js';
import { makeChalk, outputWidth, processIo, terminalSafe, VerboseLog, warn, type ColorMode, type Io } from './terminal.js';

export { collect, packageVersion, parseDuration, type CollectOptions, type Collected } from './pipeline.js';

export type OutputFormat = 'table' | 'compact' | 'json' | 'yaml' | 'sarif' | 'codequality';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'compact', 'json', 'yaml', 'sarif', 'codequality'];

export interface DoctorOptions extends JudgeRunOptions {
  output: OutputFormat;
  fixOut?: string;
  /** --fix-diff FILE: the recommended fixes as a unified diff of the input files. */
  fixDiff?: string;
  /** Table: which fixes are printed in full (default: the recommended one). */
  fixes?: FixesShown;
  /** helm `# Source:` paths → repository paths (SARIF, code quality, JSON locations, --fix-diff): see report/source-map.ts. */
  chartDir?: string;
  sourceRoot?: string;
  color: ColorMode;
}

/** SARIF's tool: the version, and helpUri/informationUri under package.json `homepage`. */
export function sarifOptions(): { version: string; homepage?: string } {
  const { version, homepage } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; homepage?: string };
  return homepage ? { version, homepage } : { version };
}

export async function runDoctor(opts: DoctorOptions, io: Io = processIo): Promise<number> {
  const verbose = new VerboseLog(opts.verbose === true);
  if (opts.fixOut) await (await import('./fix-out.js')).checkFixDir(opts.fixOut);
  if (opts.fixDiff && !opts.filename?.length) throw new UsageError('--fix-diff needs the manifests it patches: give them with -f');
  if (opts.fixDiff === '-') throw new UsageError('--fix-diff -: the report is on standard output; name a file for the patch');
  const keepTexts = opts.fixDiff ? new Map<string, string>() : undefined;
  const { collected, judgement, exit } = await collectAndJudge({ ...opts, ...(keepTexts ? { keepTexts } : {}) }, opts.output === 'table', verbose, io);
  const { locatorFor } = await import('../report/locate.js');
  const input = reportInput(judgement, locatorFor(judgement.snapshot, undefined, sourceMapOf(opts)));
  const missing = opts.chartDir || opts.sourceRoot ? (input.locator?.missingTemplates?.() ?? []) : [];
  if (missing.length) warn(`${opts.chartDir ? `--chart-dir ${opts.chartDir}` : `--source-root ${opts.sourceRoot}`}: ${missing[0]}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''} not found: reports point at paths that are not in the repository`, io);
  const text = await verbose.phase('report', () => render(opts, input, `tunnelmesh doctor — ${collected.title}`), () => opts.output);
  io.out(text);
  if (opts.output === 'compact' && !opts.quiet) io.err(`tunnelmesh: ${await compactSummary(input)}\n`);
  if (opts.fixOut) await writeFixes(opts.fixOut, input, judgement.snapshot, opts.quiet === true, opts.clusterDomain, io);
  if (opts.fixDiff) {
    const texts = keepTexts ?? new Map<string, string>();
    const rejudge = await rejudgeWith(opts.clusterDomain);
    await (await import('./fix-diff.js')).writeFixDiff(opts.fixDiff, { findings: judgement.findings, snapshot: judgement.snapshot, texts, ...(opts.chartDir ? { chartDir: opts.chartDir } : {}), rejudge, quiet: opts.quiet === true }, io);
  }
  const { exitCodeOf, exitReason } = await import('../rules/judge.js');
  const code = exitCodeOf(judgement.findings, judgement, exit);
  verbose.log(`exit ${code}: ${exitReason(judgement.findings, judgement, exit)}`);
  return code;
}

/** What every renderer reads: the judgement's findings, notes and scope, never a verdict of its own. */
export function reportInput(j: Judgement, locator: ReportInput['locator']): ReportInput {
  return { findings: j.findings, suppressed: j.suppressed, incomplete: j.incomplete, notes: j.notes, scope: j.scope, ...(locator ? { locator } : {}) };
}

function sourceMapOf(opts: DoctorOptions): { chartDir?: string; sourceRoot?: string } {
  return { ...(opts.chartDir ? { chartDir: opts.chartDir } : {}), ...(opts.sourceRoot ? { sourceRoot: opts.sourceRoot } : {}) };
}

/** `-o compact` keeps stdout to finding lines: the totals, and what was not judged, on stderr. */
async function compactSummary(input: ReportInput): Promise<string> {
  const { summarize } = await import('../rules/run.js');
  const s = summarize(input.findings);
  const parts = [`${s.error} error${s.error === 1 ? '' : 's'}, ${s.warning} warning${s.warning === 1 ? '' : 's'}, ${s.info} info`];
  if (input.suppressed?.length) parts.push(`${input.suppressed.length} suppressed`);
  if (input.incomplete.length) parts.push(`${input.incomplete.length} list${input.incomplete.length === 1 ? '' : 's'} not collected (verdicts that need them are not judged)`);
  if (input.notes.length) parts.push(`${input.notes.length} note${input.notes.length === 1 ? '' : 's'} (-o table shows them)`);
  return parts.join('; ');
}

async function render(opts: DoctorOptions, input: ReportInput, title: string): Promise<string> {
  switch (opts.output) {
    case 'compact':
      return terminalSafe((await import('../report/compact.js')).doctorCompact(input));
    case 'json':
      return (await import('../report/json.js')).doctorJson(input);
    case 'yaml':
      return (await import('../report/yaml.js')).doctorYaml(input);
    case 'sarif':
      return (await import('../report/sarif.js')).doctorSarif(input, sarifOptions());
    case 'codequality':
      return (await import('../report/codequality.js')).doctorCodeQuality(input);
    default: {
      const { doctorTable } = await import('../report/table.js');
      const chalk = await makeChalk(opts.color);
      const width = outputWidth();
      const table = doctorTable(input, { chalk, title, brief: opts.quiet === true, fixes: opts.fixes ?? 'recommended', ...(width !== undefined ? { width } : {}) });
      return terminalSafe(table, chalk.level > 0);
    }
  }
}

/** Judges fixed objects again (the composition of fixes asks, for fixes that clash or interact). */
export async function rejudgeWith(clusterDomain: string): Promise<(objects: KObject[]) => Finding[]> {
  const [{ judge }, { addObjects, emptySnapshot }] = await Promise.all([import('../rules/judge.js'), import('../core/snapshot.js')]);
  return (objects) => {
    const snapshot = emptySnapshot('files');
    addObjects(snapshot, objects, (o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    return judge(snapshot, { clusterDomain }).findings;
  };
}

async function writeFixes(dir: string, input: ReportInput, snapshot: Snapshot, quiet: boolean, clusterDomain: string, io: Io): Promise<void> {
  const [{ planFixFiles }, { writeFixFiles }] = await Promise.all([import('../report/fix-files.js'), import('./fix-out.js')]);
  const rejudge = await rejudgeWith(clusterDomain);
  const plan = planFixFiles(input.findings, snapshot.objects, { rejudge, before: rejudge(snapshot.objects) });
  await writeFixFiles(dir, plan);
  for (const c of plan.conflicts) warn(`--fix-out: the fix for ${c.finding} sets ${c.target} ${c.field} differently from ${c.keptIn}; not written (see ${dir}/README.md)`, io);
  const written = plan.files.filter((f) => f.path.endsWith('.yaml')).length;
  if (!quiet) io.err(`tunnelmesh: wrote ${written} fix file${written === 1 ? '' : 's'} and README.md to ${dir}\n`);
}

