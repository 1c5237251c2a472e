/**
 * `--trace` and `--trace-file` (serve, api): each HTTP exchange of the command's port, formatted by
 * http/trace.ts, on stderr or appended to a file only this user may read.
 */
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import type { TraceRecord } from '../http/trace.js';
import type { CommandContext } from './context.js';

export function traceOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('trace', { type: 'boolean', describe: 'Print each request and response: headers and the first 512 bytes of the bodies, secrets masked (stderr)' })
    .option('trace-file', { type: 'string', describe: 'Like --trace, but append to this file (created 0600)' }) as unknown as Argv<T>;
}

export interface TraceSink {
  write: (t: TraceRecord) => void;
  close: () => Promise<void>;
}

/** `--trace` (stderr) or `--trace-file` (appended, private to this user): where each exchange is written. */
export async function traceSink(argv: { trace?: boolean; 'trace-file'?: string }, ctx: CommandContext): Promise<TraceSink | undefined> {
  if (!argv.trace && argv['trace-file'] === undefined) return undefined;
  const { formatTrace } = await import('../http/trace.js');
  const mask = (text: string) => ctx.masker.mask(text);
  if (argv['trace-file'] === undefined) return { write: (t) => ctx.log.info(formatTrace(t, mask).join('\n')), close: async () => {} };
  const path = resolve(ctx.io.cwd, argv['trace-file']);
  const out = createWriteStream(path, { flags: 'a', mode: 0o600 });
  await new Promise<void>((ok, fail) => {
    out.once('open', () => ok());
    out.once('error', (err) => fail(new UsageError(`Cannot write the --trace-file ${path}: ${err.message}`, 'Give a file in a folder that exists and that you may write to.')));
  });
  ctx.log.info(`Tracing requests to ${path}.`);
  return { write: (t) => void out.write(`${formatTrace(t, mask).join('\n')}\n`), close: () => new Promise<void>((done) => out.end(done)) };
}

