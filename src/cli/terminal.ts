// Terminal manners: colour only where it belongs, spinners only on an interactive stderr.

import type { ChalkInstance } from 'chalk';
import { redactText } from '../core/redact.js';
import { terminalSafe } from '../report/terminal-text.js';

export type ColorMode = 'auto' | 'always' | 'never';

/** chalk ignores NO_COLOR by design, so the decision is made here, once. */
export async function makeChalk(mode: ColorMode, stream: NodeJS.WriteStream = process.stdout): Promise<ChalkInstance> {
  const { Chalk, supportsColor } = await import('chalk');
  if (mode === 'never') return new Chalk({ level: 0 });
  if (mode === 'always') return new Chalk({ level: supportsColor ? supportsColor.level || 1 : 1 });
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  if (noColor) return new Chalk({ level: 0 });
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '0' || force === 'false') return new Chalk({ level: 0 });
    const level = Number(force);
    return new Chalk({ level: Number.isInteger(level) && level >= 1 && level <= 3 ? (level as 1 | 2 | 3) : 1 });
  }
  if (!stream.isTTY) return new Chalk({ level: 0 });
  return new Chalk({ level: supportsColor ? supportsColor.level : 0 });
}

/**
 * Columns to wrap human output to: COLUMNS when set (a user's or a CI's choice; bash keeps it
 * current on a terminal), else the terminal's own width, else none (a pipe or a file: lines
 * are not wrapped, so grep sees each line whole).
 */
export function outputWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const fromEnv = env.COLUMNS === undefined ? NaN : Number(env.COLUMNS.trim());
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  if (stream.isTTY && typeof stream.columns === 'number' && stream.columns > 0) return stream.columns;
  return undefined;
}

export interface Spinner {
  update(text: string): void;
  stop(): void;
}

const SILENT: Spinner = { update: () => undefined, stop: () => undefined };

/** ora on stderr, only when stderr is an interactive terminal with a width and not in CI. */
export async function startSpinner(text: string, enabled: boolean): Promise<Spinner> {
  const stderr = process.stderr;
  if (!enabled || !stderr.isTTY || !(stderr.columns > 0) || process.env.CI) return SILENT;
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: stderr, discardStdin: false }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    stop: () => spinner.stop(),
  };
}

/** Where a run writes: the process's streams, or a test's buffers (the CLI runs in-process there). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const REDACTED_IO = Symbol('redacted io');

/** Every write through core/redact.ts: no output path of the CLI bypasses it. */
export function redactedIo(io: Io): Io {
  if ((io as { [REDACTED_IO]?: true })[REDACTED_IO]) return io;
  return Object.assign({ out: (text: string) => io.out(redactText(text)), err: (text: string) => io.err(redactText(text)) }, { [REDACTED_IO]: true as const });
}

export const processIo: Io = redactedIo({
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
});

/** Names in messages come from the input: control characters are shown, never sent raw. */
export function warn(message: string, io: Io = processIo): void {
  io.err(`tunnelmesh: warning: ${terminalSafe(message)}\n`);
}

export { terminalSafe };

/** `--verbose`: what is requested and how long each phase takes, on stderr. */
export class VerboseLog {
  constructor(readonly enabled: boolean) {}

  log(message: string): void {
    if (this.enabled) processIo.err(`tunnelmesh: ${terminalSafe(message)}\n`);
  }

  /** Runs one phase and reports its duration (and what it produced). */
  async phase<T>(name: string, run: () => T | Promise<T>, describe?: (result: T) => string): Promise<T> {
    const started = performance.now();
    const result = await run();
    if (this.enabled) {
      const ms = Math.round(performance.now() - started);
      this.log(`${name}: ${ms} ms${describe ? ` (${describe(result)})` : ''}`);
    }
    return result;
  }
}
