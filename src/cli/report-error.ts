import { AlgorithmError, EXIT, SmLocalError } from '../errors.js';

/** File system failures that are about this machine, not about sm-local's code. */
const ENVIRONMENT_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS']);

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
  const sys = err as NodeJS.ErrnoException;
  if (sys instanceof Error && sys.code && ENVIRONMENT_ERRNOS.has(sys.code) && sys.path) {
    stream.write(`${red('error:')} ${sys.code === 'ENOSPC' || sys.code === 'EDQUOT' ? 'No space left' : 'No permission'} to write ${sys.path} (${sys.code}).\n`);
    stream.write(`${dim('hint:')} Free some disk space or point --output (and SM_LOCAL_TMPDIR) at a writable folder; \`sm-local doctor\` shows free space.\n`);
    return EXIT.environment;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  stream.write(`${red('internal error:')} ${stack}\n`);
  stream.write('This is a bug in sm-local. Please report it with the command you ran and the output above.\n');
  return EXIT.internal;
}
