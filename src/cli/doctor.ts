// `tunnelmesh doctor`: collect → judge → report, and the exit code.

import type { KObject } from '../core/k8s.js';
import type { Snapshot } from '../core/snapshot.js';
import { UsageError } from '../errors.js';
import type { Finding } from '../rules/types.js';
import type { ReportInput } from '../report/json.js';
import type { Judgement } from '../rules/judge.js';
import { collectAndJudge, packageVersion, type JudgeRunOptions } from './pipeline.js';
import { makeChalk, processIo, VerboseLog, warn, type ColorMode, type Io } from './terminal.js';

export { collect, packageVersion, parseDuration, type CollectOptions, type Collected } from './pipeline.js';

export type OutputFormat = 'table' | 'json' | 'yaml' | 'sarif' | 'codequality';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml', 'sarif', 'codequality'];

export interface DoctorOptions extends JudgeRunOptions {
  output: OutputFormat;
  fixOut?: string;
  /** --fix-diff FILE: the recommended fixes as a unified diff of the input files. */
  fixDiff?: string;
  /** --chart-dir DIR: where a helm stream's `# Source:` templates live. */
  chartDir?: string;
  color: ColorMode;
}

export async function runDoctor(opts: DoctorOptions, io: Io = processIo): Promise<number> {
  const verbose = new VerboseLog(opts.verbose === true);
  if (opts.fixOut) await (await import('./fix-out.js')).checkFixDir(opts.fixOut);
  if (opts.chartDir && !opts.fixDiff) throw new UsageError('--chart-dir is used with --fix-diff');
  if (opts.fixDiff && !opts.filename?.length) throw new UsageError('--fix-diff needs the manifests it patches: give them with -f');
  if (opts.fixDiff === '-') throw new UsageError('--fix-diff -: the report is on standard output; name a file for the patch');
  const keepTexts = opts.fixDiff ? new Map<string, string>() : undefined;
  const { collected, judgement, exit } = await collectAndJudge({ ...opts, ...(keepTexts ? { keepTexts } : {}) }, opts.output === 'table', verbose, io);
  const { locatorFor } = await import('../report/locate.js');
  const input = reportInput(judgement, locatorFor(judgement.snapshot));
  const text = await verbose.phase('report', () => render(opts, input, `tunnelmesh doctor — ${collected.title}`), () => opts.output);
  io.out(text);
  if (opts.fixOut) await writeFixes(opts.fixOut, input, judgement.snapshot, opts.quiet === true, opts.clusterDomain);
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

async function render(opts: DoctorOptions, input: ReportInput, title: string): Promise<string> {
  switch (opts.output) {
    case 'json':
      return (await import('../report/json.js')).doctorJson(input);
    case 'yaml':
      return (await import('../report/yaml.js')).doctorYaml(input);
    case 'sarif':
      return (await import('../report/sarif.js')).doctorSarif(input, { version: packageVersion() });
    case 'codequality':
      return (await import('../report/codequality.js')).doctorCodeQuality(input);
    default: {
      const { doctorTable } = await import('../report/table.js');
      return doctorTable(input, { chalk: await makeChalk(opts.color), title, brief: opts.quiet === true });
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

async function writeFixes(dir: string, input: ReportInput, snapshot: Snapshot, quiet: boolean, clusterDomain: string): Promise<void> {
  const [{ planFixFiles }, { writeFixFiles }] = await Promise.all([import('../report/fix-files.js'), import('./fix-out.js')]);
  const rejudge = await rejudgeWith(clusterDomain);
  const plan = planFixFiles(input.findings, snapshot.objects, { rejudge, before: rejudge(snapshot.objects) });
  await writeFixFiles(dir, plan);
  for (const c of plan.conflicts) warn(`--fix-out: the fix for ${c.finding} sets ${c.target} ${c.field} differently from ${c.keptIn}; not written (see ${dir}/README.md)`);
  const written = plan.files.filter((f) => f.path.endsWith('.yaml')).length;
  if (!quiet) process.stderr.write(`tunnelmesh: wrote ${written} fix file${written === 1 ? '' : 's'} and README.md to ${dir}\n`);
}

