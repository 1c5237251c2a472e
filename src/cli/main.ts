import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../errors.js';
import { apiCommand } from './commands/api.js';
import { checkCommand } from './commands/check.js';
import { doctorCommand } from './commands/doctor.js';
import { invokeCommand } from './commands/invoke.js';
import { processCommand } from './commands/process.js';
import { pruneCommand } from './commands/prune.js';
import { execCommand, logsCommand, psCommand } from './commands/running.js';
import { serveCommand } from './commands/serve.js';
import { trainCommand } from './commands/train.js';
import { transformCommand } from './commands/transform.js';
import type { CliIO } from './context.js';
import { lastValueWins } from './options.js';
import { reportError } from './report-error.js';

function defaultIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/**
 * yargs renders a command's whole help as soon as its handler has begun, to keep it for a failure
 * message (≈20 ms of a short job's CPU, while its first engine calls are answered). sm-local never
 * shows help on a failure (`fail` above throws), so nothing is kept. Guarded: a yargs without these
 * internals renders it as before.
 */
function skipHelpCache(cli: object): void {
  const usage = (cli as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/** Parses `args`, runs the command, prints any error once, and returns the process exit code. */
export async function main(args: string[] = hideBin(process.argv), io: CliIO = defaultIO()): Promise<number> {
  let exitCode = 0;
  const cli = yargs(args)
    .scriptName('sm-local')
    .usage('$0 <command> [options]\n\nRun SageMaker containers locally, the way SageMaker runs them.')
    .parserConfiguration({ 'populate--': true })
    .option('config', { type: 'string', global: true, describe: 'Config file (default ./sm-local.json when present)' })
    .option('verbose', { type: 'boolean', global: true, describe: 'Show Docker calls and cleanup steps' })
    // After validation: the options' own coercions (which mark repeatable ones) have run by then.
    .middleware(lastValueWins)
    .command(trainCommand(io, (code) => (exitCode = code)))
    .command(processCommand(io))
    .command(transformCommand(io))
    .command(serveCommand(io, (code) => (exitCode = code)))
    .command(apiCommand(io))
    .command(invokeCommand({ ...io, stdin: process.stdin }))
    .command(checkCommand(io, (code) => (exitCode = code)))
    .command(doctorCommand(io, (code) => (exitCode = code)))
    .command(pruneCommand(io))
    .command(psCommand(io))
    .command(logsCommand(io))
    .command(execCommand({ ...io, stdin: process.stdin }, (code) => (exitCode = code)))
    .demandCommand(1, 'Name a command: train, process, transform, serve, invoke, api, check, doctor, prune, ps, logs or exec.')
    .recommendCommands()
    .strict()
    .exitProcess(false)
    .version(false)
    .help()
    // Only --help shows the help, so only then is it laid out to the terminal's width.
    .wrap(args.some((a) => a === '--help' || a === '-h') ? Math.min(120, process.stdout.columns ?? 100) : null)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg, 'Run `sm-local --help`, or `sm-local <command> --help` for a command\'s options.');
    });
  skipHelpCache(cli);
  try {
    await cli.parseAsync();
    return exitCode;
  } catch (err) {
    return reportError(err, io.stderr, { color: Boolean(io.stderr.isTTY) && io.env.NO_COLOR === undefined });
  }
}
