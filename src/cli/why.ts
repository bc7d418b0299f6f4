// `tunnelmesh why '<log line>'`: which edges and findings explain one line of a log (cloudflared, an
// Envoy access log, a proxy error), ranked, each with its fix. The same run as doctor (policy,
// collection, one judgement); exit 1 when an explaining finding is at or above --fail-on (or with
// --fail-on-incomplete, when not everything was collected or judged), 0 otherwise: a line nothing
// explains is said so, never reported as fine.

import { UsageError } from '../errors.js';
import { collectAndJudge, type JudgeRunOptions } from './pipeline.js';
import { makeChalk, processIo, VerboseLog, type ColorMode, type Io } from './terminal.js';

export interface WhyOptions extends JudgeRunOptions {
  output: 'text' | 'json';
  color: ColorMode;
}

/** One line is judged: the first that is not blank (a pasted block brings its neighbours along). */
function theLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
  if (line === undefined) throw new UsageError("why needs a log line, e.g. tunnelmesh why 'upstream connect error or disconnect/reset before headers. reset reason: connection termination' -f manifests/");
  return line.trim();
}

export async function runWhy(text: string, opts: WhyOptions, io: Io = processIo): Promise<number> {
  const line = theLine(text);
  const verbose = new VerboseLog(opts.verbose === true);
  const { collected, judgement, exit } = await collectAndJudge(opts, opts.output === 'text', verbose, io);
  const [{ explainLine }, report, { exitCodeOf, exitReason }] = await Promise.all([import('../rules/why/explain.js'), import('../report/why.js'), import('../rules/judge.js')]);
  const result = explainLine(judgement, line);
  const extra = { notes: judgement.notes, incomplete: judgement.incomplete };
  if (opts.output === 'json') io.out(report.whyJson(result, extra));
  else io.out(report.whyText(result, await makeChalk(opts.color), `tunnelmesh why — ${collected.title}`, extra));
  const explaining = report.counted(result);
  const code = exitCodeOf(explaining, judgement, exit);
  verbose.log(`exit ${code}: ${exitReason(explaining, judgement, exit)}`);
  return code;
}
