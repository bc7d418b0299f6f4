// Failures that end a run with a documented exit code and one line on stderr.

/** Exit 2: a usage mistake. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Exit 2: input that cannot be read; the message names the file and line. */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    // One line on stderr, whatever a parser put in its message (line breaks, U+2028, control characters).
    const flat = reason.replace(/[\s\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');
    super(line === undefined ? `${file}: ${flat}` : `${file}:${line}: ${flat}`);
  }
}

/** Exit 3: the cluster cannot be reached, authentication failed, or nothing could be collected. */
export class ClusterError extends Error {
  readonly exitCode = 3;
}

export type ExitError = UsageError | InputError | ClusterError;

export function isExitError(err: unknown): err is ExitError {
  return err instanceof UsageError || err instanceof InputError || err instanceof ClusterError;
}
