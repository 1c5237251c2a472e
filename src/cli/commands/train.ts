import type { Argv, CommandModule } from 'yargs';
import type { TrainFlags } from '../../config/training-input.js';
import { AlgorithmError, InterruptedError, JobTimeoutError } from '../../errors.js';
import type { TrainingResult } from '../../jobs/training-runner.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';
import { commonJobOptions, list } from '../options.js';

interface TrainArgs extends GlobalArgs {
  image?: string;
  job?: string;
  'job-name'?: string;
  channel?: string[];
  hyperparameter?: string[];
  hyperparameters?: string;
  env?: string[];
  'env-file'?: string[];
  'instance-type'?: string;
  entrypoint?: string;
  arg?: string[];
  'max-runtime'?: number;
  keep?: boolean;
  json?: boolean;
  '--'?: (string | number)[];
}


function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i += 1;
  }
  return `${value.toFixed(1)} ${units[i]}`;
}

function resultOf(err: unknown): TrainingResult | undefined {
  if (err instanceof AlgorithmError || err instanceof JobTimeoutError || err instanceof InterruptedError) {
    return err.details as TrainingResult | undefined;
  }
  return undefined;
}

export function trainCommand(io: CliIO): CommandModule<GlobalArgs, TrainArgs> {
  return {
    command: 'train [image]',
    describe: 'Run <image> as a SageMaker training job: `docker run <image> train` with the full /opt/ml layout',
    builder: (y: Argv<GlobalArgs>) =>
      commonJobOptions(y, { stopGraceDefault: 120 })
        .positional('image', { type: 'string', describe: 'Training image (must already be in the Docker engine; never pulled)' })
        .option('job', { type: 'string', describe: 'CreateTrainingJob request JSON (the file `aws sagemaker create-training-job --cli-input-json` takes)' })
        .option('job-name', { type: 'string', describe: 'TrainingJobName (default: <image name>-<timestamp>)' })
        .option('channel', { type: 'string', coerce: list, describe: 'NAME=PATH[,content-type=T][,mode=File][,distribution=ShardedByS3Key] (repeatable); PATH may be s3://… with --s3-root' })
        .option('hyperparameter', { type: 'string', coerce: list, describe: 'NAME=VALUE (repeatable; values are strings, as in SageMaker)' })
        .option('hyperparameters', { type: 'string', describe: 'JSON object, inline or a file path' })
        .option('instance-type', { type: 'string', describe: 'ResourceConfig.InstanceType (default ml.m5.large)' })
        .option('entrypoint', { type: 'string', describe: 'AlgorithmSpecification.ContainerEntrypoint: a program, or a JSON array' })
        .option('arg', { type: 'string', coerce: list, describe: 'AlgorithmSpecification.ContainerArguments item (repeatable; or put them after --)' })
        .option('max-runtime', { type: 'number', describe: 'StoppingCondition.MaxRuntimeInSeconds (default 86400)' })
        .option('output', { type: 'string', describe: 'Folder for job folders (default ./sm-local-output)' })
        .option('transfer', { type: 'string', choices: ['mount', 'copy'], describe: 'mount: read-only bind mounts (default, local engine); copy: through the Engine API (default for a remote DOCKER_HOST)' })
        .option('keep', { type: 'boolean', describe: 'Keep the container, network and workspace for debugging' })
        .option('json', { type: 'boolean', describe: 'Print describe.json to stdout (everything else goes to stderr)' })
        .example('$0 train my-algo:latest --channel train=./data/train --hyperparameter epochs=10', '')
        .example('$0 train --job job.json --s3-root ./s3', 'Run a CreateTrainingJob request with s3:// URIs mapped to ./s3') as unknown as Argv<TrainArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        const started = Date.now();
        const [{ resolveTrainingInput }, { runTrainingJob, checkChannelSources }] = await Promise.all([
          import('../../config/training-input.js'),
          import('../../jobs/training-runner.js'),
        ]);
        const rest = (argv['--'] ?? []).map(String);
        const flags: TrainFlags = {
          ...(argv.image !== undefined ? { image: argv.image } : {}),
          ...(argv.job !== undefined ? { job: argv.job } : {}),
          ...(argv['job-name'] !== undefined ? { jobName: argv['job-name'] } : {}),
          ...(argv.channel ? { channel: argv.channel } : {}),
          ...(argv.hyperparameter ? { hyperparameter: argv.hyperparameter } : {}),
          ...(argv.hyperparameters !== undefined ? { hyperparameters: argv.hyperparameters } : {}),
          ...(argv.env ? { env: argv.env } : {}),
          ...(argv['env-file'] ? { envFile: argv['env-file'] } : {}),
          ...(argv['instance-type'] !== undefined ? { instanceType: argv['instance-type'] } : {}),
          ...(argv.entrypoint !== undefined ? { entrypoint: argv.entrypoint } : {}),
          ...(argv.arg || rest.length ? { arg: [...(argv.arg ?? []), ...rest] } : {}),
          ...(argv['max-runtime'] !== undefined ? { maxRuntime: argv['max-runtime'] } : {}),
          ...(argv.keep ? { keep: true } : {}),
        };
        const { input, notices } = await resolveTrainingInput(flags, ctx.config, {
          cwd: io.cwd,
          env: io.env,
          now: new Date(),
          checkChannels: (channels) => checkChannelSources(channels, io.cwd),
        });
        notices.forEach((n) => ctx.log.warn(n));
        ctx.masker.addEnvironment(input.environment ?? {});

        const report = (result: TrainingResult) => {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          ctx.log.info(`Training job ${result.trainingJobName}: ${result.status}${result.secondaryStatus !== result.status ? ` (${result.secondaryStatus})` : ''} in ${seconds}s`);
          if (result.modelArtifact) {
            const size = (result.describe.SmLocal as { ModelBytes?: number } | undefined)?.ModelBytes;
            ctx.log.info(`model.tar.gz: ${result.modelArtifact}${size !== undefined ? ` (${formatBytes(size)})` : ''}`);
          }
          ctx.log.info(`Job folder: ${result.jobDir} (describe.json, ${result.logFile.split('/').pop()}${result.outputArtifact ? ', output.tar.gz' : ''})`);
          if (argv.json) ctx.json(result.describe);
        };
        try {
          const result = await runTrainingJob(input, ctx.jobDeps());
          report(result);
          if (!argv.json && result.modelArtifact) ctx.result(result.modelArtifact);
        } catch (err) {
          const result = resultOf(err);
          if (result) report(result);
          throw err;
        }
      }),
  };
}
