// `tunnelmesh doctor`: collect → judge → report, and the exit code.

import type { Snapshot } from '../core/snapshot.js';
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
  color: ColorMode;
}

export async function runDoctor(opts: DoctorOptions, io: Io = processIo): Promise<number> {
  const verbose = new VerboseLog(opts.verbose === true);
  if (opts.fixOut) await (await import('./fix-out.js')).checkFixDir(opts.fixOut);
  const { collected, judgement, exit } = await collectAndJudge(opts, opts.output === 'table', verbose, io);
  const { locatorFor } = await import('../report/locate.js');
  const input = reportInput(judgement, locatorFor(judgement.snapshot));
  const text = await verbose.phase('report', () => render(opts, input, `tunnelmesh doctor — ${collected.title}`), () => opts.output);
  io.out(text);
  if (opts.fixOut) await writeFixes(opts.fixOut, input, judgement.snapshot, opts.quiet === true);
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

async function writeFixes(dir: string, input: ReportInput, snapshot: Snapshot, quiet: boolean): Promise<void> {
  const [{ planFixFiles }, { writeFixFiles }, { ObjectIndex }] = await Promise.all([
    import('../report/fix-files.js'),
    import('./fix-out.js'),
    import('../rules/suppress.js'),
  ]);
  const plan = planFixFiles(input.findings, new ObjectIndex(snapshot.objects));
  await writeFixFiles(dir, plan);
  for (const c of plan.conflicts) warn(`--fix-out: the fix for ${c.finding} sets ${c.target} ${c.field} differently from ${c.keptIn}; not written (see ${dir}/README.md)`);
  const written = plan.files.filter((f) => f.path.endsWith('.yaml')).length;
  if (!quiet) process.stderr.write(`tunnelmesh: wrote ${written} fix file${written === 1 ? '' : 's'} and README.md to ${dir}\n`);
}

