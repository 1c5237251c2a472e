import { AlgorithmError, EXIT, SmLocalError, storageErrorOf } from '../errors.js';

export interface ErrorStream {
  write(chunk: string): unknown;
}

/**
 * Prints an error once, at the CLI edge, and returns the exit code. User errors get their message and
 * hint; a failed job also gets the last lines of its log. Anything else is a bug: stack plus a request to report it.
 */
export function reportError(err: unknown, stream: ErrorStream, opts: { color?: boolean; tailLines?: number } = {}): number {
  const red = (s: string) => (opts.color ? `\u001b[31m${s}\u001b[0m` : s);
  const dim = (s: string) => (opts.color ? `\u001b[2m${s}\u001b[0m` : s);
  if (err instanceof SmLocalError) {
    if (err instanceof AlgorithmError && err.logTail.length > 0) {
      const tail = err.logTail.slice(-(opts.tailLines ?? 20));
      stream.write(`${dim(`Last ${tail.length} line${tail.length === 1 ? '' : 's'} of the container log:`)}\n${tail.map((l) => `  | ${l}`).join('\n')}\n`);
    }
    stream.write(`${red('error:')} ${err.message}\n`);
    if (err.hint) stream.write(`${dim('hint:')} ${err.hint}\n`);
    return err.exitCode;
  }
  // A file system error that escaped with its path is about this machine, not about sm-local's code.
  const path = (err as NodeJS.ErrnoException | undefined)?.path;
  const storage = err instanceof Error && path ? storageErrorOf(err, path) : undefined;
  if (storage) return reportError(storage, stream, opts);
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  stream.write(`${red('internal error:')} ${stack}\n`);
  stream.write('This is a bug in sm-local. Please report it with the command you ran and the output above.\n');
  return EXIT.internal;
}
