import type { Argv, CommandModule } from 'yargs';
import type { ProcessFlags } from '../../config/processing-input.js';
import { jobRecordOf } from '../../errors.js';
import type { ProcessingResult } from '../../jobs/processing-runner.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';
import { commonJobOptions, list, pickFlags } from '../options.js';

interface ProcessArgs extends Omit<GlobalArgs, 'output'> {
  image?: string;
  job?: string;
  'job-name'?: string;
  input?: string[];
  output?: string[];
  'output-dir'?: string;
  env?: string[];
  'env-file'?: string[];
  'instance-type'?: string;
  'instance-count'?: number;
  'volume-size'?: number;
  entrypoint?: string;
  arg?: string[];
  'max-runtime'?: number;
  'network-isolation'?: boolean;
  keep?: boolean;
  json?: boolean;
  'shm-size'?: string;
  gpus?: string;
  platform?: string;
  '--'?: (string | number)[];
}

const resultOf = (err: unknown) => jobRecordOf<ProcessingResult>(err);

export function processCommand(io: CliIO): CommandModule<GlobalArgs, ProcessArgs> {
  return {
    command: 'process [image]',
    describe: 'Run <image> as a SageMaker processing job: `docker run <image>` (its own ENTRYPOINT) with /opt/ml/config and the inputs and outputs under /opt/ml/processing',
    builder: (y: Argv<GlobalArgs>) =>
      commonJobOptions(y, { stopGraceDefault: 120 })
        .positional('image', { type: 'string', describe: 'Processing image (must already be in the Docker engine; never pulled)' })
        .option('job', { type: 'string', describe: 'CreateProcessingJob request JSON (the file `aws sagemaker create-processing-job --cli-input-json` takes)' })
        .option('job-name', { type: 'string', describe: 'ProcessingJobName (default: <image name>-<timestamp>)' })
        .option('input', {
          type: 'string',
          coerce: list,
          describe: 'NAME=SOURCE[:LOCAL_PATH][,mode=File|Pipe][,distribution=ShardedByS3Key][,compression=Gzip] (repeatable): SOURCE a local path or s3://… (with --s3-root); LOCAL_PATH default /opt/ml/processing/input/NAME',
        })
        .option('output', {
          type: 'string',
          coerce: list,
          describe: 'NAME[=LOCAL_PATH[:DEST]][,upload=EndOfJob|Continuous] (repeatable): LOCAL_PATH default /opt/ml/processing/output/NAME; DEST a folder or s3://… (default <job folder>/NAME)',
        })
        .option('output-dir', { type: 'string', describe: 'Folder for job folders (default ./sm-local-output)' })
        .option('instance-type', { type: 'string', describe: 'ClusterConfig.InstanceType (default ml.m5.large): sets the CPU, memory and /dev/shm limits' })
        .option('instance-count', { type: 'number', describe: 'ClusterConfig.InstanceCount: hosts algo-1 … algo-N on a private network (default 1)' })
        .option('volume-size', { type: 'number', describe: 'ClusterConfig.VolumeSizeInGB (default 30; recorded, not applied)' })
        .option('entrypoint', { type: 'string', describe: 'AppSpecification.ContainerEntrypoint: a program, or a JSON array' })
        .option('arg', { type: 'string', coerce: list, describe: 'AppSpecification.ContainerArguments item (repeatable; or put them after --)' })
        .option('max-runtime', { type: 'number', describe: 'StoppingCondition.MaxRuntimeInSeconds (default 86400, at most 777600)' })
        .option('network-isolation', { type: 'boolean', describe: "NetworkConfig.EnableNetworkIsolation: no network but the job's own hosts" })
        .option('transfer', { type: 'string', choices: ['mount', 'copy'], describe: 'mount: read-only bind mounts (default, local engine); copy: through the Engine API (default for a remote DOCKER_HOST)' })
        .option('keep', { type: 'boolean', describe: 'Keep the containers, network and workspace for debugging' })
        .option('json', { type: 'boolean', describe: 'Print describe.json to stdout (everything else goes to stderr)' })
        .option('shm-size', { type: 'string', describe: 'Escape hatch: /dev/shm size (e.g. 8g) instead of half the instance memory' })
        .option('gpus', { type: 'string', describe: 'Escape hatch: GPUs to request from the engine (all, or a count) whatever the instance type has' })
        .option('platform', { type: 'string', describe: 'Escape hatch: image platform, e.g. linux/amd64' })
        .example('$0 process my-image:latest --entrypoint \'["python3","/opt/program/preprocess.py"]\' --input raw=./data/raw --output train --output validation', '')
        .example('$0 process --job processing-job.json --s3-root ./s3', 'Run a CreateProcessingJob request with s3:// URIs mapped to ./s3') as unknown as Argv<ProcessArgs>,
    handler: (argv) =>
      // `--output` names a job output here; the job folders' parent is `--output-dir`.
      withCommandContext({ ...argv, output: argv['output-dir'] } as unknown as GlobalArgs, io, async (ctx) => {
        ctx.warmEngine();
        const started = Date.now();
        const [{ resolveProcessingInput }, { runProcessingJob, checkInputSources }] = await Promise.all([
          import('../../config/processing-input.js'),
          import('../../jobs/processing-runner.js'),
        ]);
        const rest = (argv['--'] ?? []).map(String);
        const flags: ProcessFlags = {
          ...pickFlags(argv, [
            'image', 'job', 'job-name', 'input', 'output', 'env', 'env-file', 'instance-type', 'instance-count', 'volume-size', 'entrypoint',
            'max-runtime', 'network-isolation', 'keep', 'shm-size', 'gpus', 'platform',
          ]),
          ...(argv.arg || rest.length ? { arg: [...(argv.arg ?? []), ...rest] } : {}),
        };
        const { input, notices } = await resolveProcessingInput(flags, ctx.config, {
          cwd: io.cwd,
          env: io.env,
          now: new Date(),
          checkInputs: (inputs) => checkInputSources(inputs, io.cwd),
        });
        notices.forEach((n) => ctx.log.warn(n));
        ctx.masker.addEnvironment(input.environment ?? {});

        const report = (result: ProcessingResult) => {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          ctx.log.info(`Processing job ${result.processingJobName}: ${result.status} in ${seconds}s`);
          if (result.exitMessage !== undefined) ctx.log.info(`ExitMessage: ${result.exitMessage}`);
          for (const o of result.outputs) ctx.log.info(`output ${o.outputName}: ${o.destination}`);
          const base = (path: string) => path.split('/').pop()!;
          ctx.log.info(`Job folder: ${result.jobDir} (${['describe.json', ...result.logFiles.map(base)].join(', ')})`);
          if (argv.json) ctx.json(result.describe);
        };
        try {
          const result = await runProcessingJob(input, ctx.jobDeps());
          report(result);
          if (!argv.json) ctx.result(result.jobDir);
        } catch (err) {
          const result = resultOf(err);
          if (result) report(result);
          throw err;
        }
      }),
  };
}
