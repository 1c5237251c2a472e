import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { CheckFlags } from '../../config/check-input.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';
import { list, pickFlags } from '../options.js';

interface CheckArgs extends GlobalArgs {
  image?: string;
  train?: boolean;
  serve?: boolean;
  static?: boolean;
  'instance-type'?: string;
  channel?: string[];
  'fail-channel'?: string[];
  hyperparameter?: string[];
  env?: string[];
  'env-file'?: string[];
  model?: string;
  sample?: string[];
  concurrency?: number;
  'train-stop-grace'?: number;
  'serve-stop-grace'?: number;
  'startup-timeout'?: number;
  'max-runtime'?: number;
  output?: string;
  'entry-point'?: string;
  'source-dir'?: string;
  strict?: boolean;
  process?: boolean;
  input?: string[];
  'process-output'?: string[];
  'fail-input'?: string[];
  entrypoint?: string;
  arg?: string[];
  'process-stop-grace'?: number;
  'multi-model'?: string;
  json?: boolean;
  junit?: string;
}

export function checkCommand(io: CliIO, setExitCode: (code: number) => void): CommandModule<GlobalArgs, CheckArgs> {
  return {
    command: 'check [image]',
    describe: 'Check that <image> behaves like a SageMaker training job and endpoint expect: a verdict for CI',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('image', { type: 'string', describe: 'Image to check (must already be in the Docker engine; never pulled)' })
        .option('train', { type: 'boolean', describe: 'Run the training checks; --no-train skips them (with neither --train nor --serve, both run)' })
        .option('serve', { type: 'boolean', describe: 'Run the serving checks (the model is --model, or what training produced); --no-serve skips them' })
        .option('static', { type: 'boolean', describe: 'Only the image checks (configuration and files, for the jobs --train/--serve pick): run nothing' })
        .option('instance-type', { type: 'string', describe: 'Instance type to check against (default ml.m5.large)' })
        .option('channel', { type: 'string', coerce: list, describe: 'NAME=PATH[,options] training input, as for train (repeatable)' })
        .option('fail-channel', { type: 'string', coerce: list, describe: 'NAME=PATH input the algorithm must reject with /opt/ml/output/failure (repeatable)' })
        .option('hyperparameter', { type: 'string', coerce: list, describe: 'NAME=VALUE (repeatable)' })
        .option('env', { type: 'string', coerce: list, describe: 'KEY=VALUE for the containers (repeatable)' })
        .option('env-file', { type: 'string', coerce: list, describe: 'File of KEY=VALUE lines' })
        .option('model', { type: 'string', describe: 'Model folder or model.tar.gz to serve' })
        .option('sample', { type: 'string', coerce: list, describe: 'FILE[,content-type=T][,accept=T][,expect-status=N][,stream]: a request for the endpoint (repeatable); stream sends it with InvokeEndpointWithResponseStream and wants parts, not one block' })
        .option('config', { type: 'string', describe: 'Check config file (default ./sm-local.check.json when present); flags win' })
        .option('concurrency', { type: 'number', describe: 'Concurrent requests of the concurrency check (default 8)' })
        .option('train-stop-grace', { type: 'number', describe: 'SIGTERM→SIGKILL grace for training (default 120 s, as SageMaker)' })
        .option('serve-stop-grace', { type: 'number', describe: 'SIGTERM→SIGKILL grace for serving (default 30 s, as SageMaker)' })
        .option('startup-timeout', { type: 'number', describe: 'Seconds the endpoint has to pass GET /ping (default 240)' })
        .option('max-runtime', { type: 'number', describe: 'MaxRuntimeInSeconds of the training runs' })
        .option('entry-point', { type: 'string', describe: 'Script mode, as for train: the training script (inside --source-dir when given)' })
        .option('source-dir', { type: 'string', describe: 'Script mode: the folder of training code, packed as sourcedir.tar.gz as the SDK does' })
        .option('process', { type: 'boolean', describe: 'Run the processing checks: a processing job on --input/--process-output, as `sm-local process` runs it (alone: no training or serving checks)' })
        .option('input', { type: 'string', coerce: list, describe: 'NAME=SOURCE[:LOCAL_PATH][,options]: a processing input, as for process (repeatable)' })
        .option('process-output', { type: 'string', coerce: list, describe: 'NAME[=LOCAL_PATH[:DEST]][,upload=…]: a processing output, as process\'s --output (repeatable)' })
        .option('fail-input', { type: 'string', coerce: list, describe: 'NAME=SOURCE[:LOCAL_PATH]: processing input the program must reject with /opt/ml/output/message (repeatable)' })
        .option('entrypoint', { type: 'string', describe: 'Processing: AppSpecification.ContainerEntrypoint (a program, or a JSON array)' })
        .option('arg', { type: 'string', coerce: list, describe: 'Processing: AppSpecification.ContainerArguments item (repeatable)' })
        .option('process-stop-grace', { type: 'number', describe: 'SIGTERM→SIGKILL grace for processing (default 120 s)' })
        .option('multi-model', { type: 'string', describe: 'Serve a multi-model endpoint from this folder of model .tar.gz files and check the /models API (instead of the single-model serving checks)' })
        .option('strict', { type: 'boolean', describe: 'Warnings fail the check too (exit 1)' })
        .option('output', { type: 'string', describe: 'Keep the training job folders here (by default they go to ./sm-local-output only when a check fails)' })
        .option('json', { type: 'boolean', describe: 'Print the report as JSON (docs/check-report.schema.json) instead of the table' })
        .option('junit', { type: 'string', describe: 'Also write the report as JUnit XML to this file' })
        .example('$0 check my-algo:latest --train --channel train=./data --fail-channel train=./bad-data', 'training checks')
        .example('$0 check my-model:latest --serve --model model.tar.gz --sample in.json,content-type=application/json', 'serving checks')
        .example('$0 check my-image:latest --channel train=./data --sample in.csv,content-type=text/csv --junit check.xml', 'train, then serve what it trained')
        .example('$0 check my-processor:latest --process --input raw=./data --process-output train --fail-input raw=./bad-data', 'processing checks')
        .example('$0 check my-toolkit-base:latest --train --entry-point train.py --source-dir ./src --channel train=./data', 'script mode on a training-toolkit image') as unknown as Argv<CheckArgs>,
    handler: (argv) =>
      // --config names the check's own file here; sm-local.json still applies as for every command.
      withCommandContext({ ...argv, config: undefined }, io, async (ctx) => {
        const [{ resolveCheckInput }, { runConformanceCheck }, { renderCheckTable, checkLine }, { renderJUnit }] = await Promise.all([
          import('../../config/check-input.js'),
          import('../../jobs/check-runner.js'),
          import('../../report/check-table.js'),
          import('../../report/junit.js'),
        ]);
        const flags: CheckFlags = {
          ...pickFlags(argv, [
            'image', 'instance-type', 'channel', 'fail-channel', 'hyperparameter', 'env', 'env-file', 'model', 'sample', 'config',
            'concurrency', 'train-stop-grace', 'serve-stop-grace', 'startup-timeout', 'max-runtime', 'output', 'entry-point', 'source-dir',
            'input', 'process-output', 'fail-input', 'entrypoint', 'arg', 'process-stop-grace', 'multi-model',
          ]),
          ...(argv.process !== undefined ? { process: argv.process } : {}),
          ...(argv.strict !== undefined ? { strict: argv.strict } : {}),
          // The switches keep `false` (--no-train): it overrides sm-local.check.json.
          ...(argv.train !== undefined ? { train: argv.train } : {}),
          ...(argv.serve !== undefined ? { serve: argv.serve } : {}),
          ...(argv.static !== undefined ? { static: argv.static } : {}),
        };
        const input = { ...(await resolveCheckInput(flags, ctx.config, { cwd: io.cwd, env: io.env })), keepFailedIn: ctx.config.outputDir };
        ctx.masker.addEnvironment(input.environment ?? {});
        const report = await runConformanceCheck(input, ctx.jobDeps(), (c) => ctx.log.info(checkLine(c, ctx.color)));
        if (argv.junit) {
          const path = resolve(io.cwd, argv.junit);
          await writeFile(path, renderJUnit(report));
          ctx.log.info(`JUnit report: ${path}`);
        }
        if (argv.json) ctx.json(report);
        else io.stdout.write(renderCheckTable(report, { width: (io.stdout as { columns?: number }).columns ?? 120, color: Boolean(io.stdout.isTTY) && io.env.NO_COLOR === undefined }));
        if (report.verdict === 'fail') setExitCode(1);
      }),
  };
}
