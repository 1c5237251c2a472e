import sparkly from 'sparkly';
import type { Argv, CommandModule } from 'yargs';
import type { TrainFlags } from '../../config/training-input.js';
import { dirname, resolve } from 'node:path';
import { jobRecordOf } from '../../errors.js';
import type { TrainingResult } from '../../jobs/training-runner.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';
import { reportError } from '../report-error.js';
import { commonJobOptions, escapeHatchOptions, list, pickFlags } from '../options.js';

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
  'instance-count'?: number;
  'instance-group'?: string[];
  'checkpoint-dir'?: string;
  'checkpoint-local-path'?: string;
  'output-compression'?: string;
  metric?: string[];
  'network-isolation'?: boolean;
  'entry-point'?: string;
  'source-dir'?: string;
  'shm-size'?: string;
  gpus?: string;
  platform?: string;
  publish?: string[];
  watch?: string[];
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

/** One line per metric: a sparkline of its values, then last, min and max. */
function metricsTable(result: TrainingResult): string[] {
  const names = [...new Set(result.metrics.map((m) => m.MetricName))];
  if (!names.length) return [];
  const width = Math.max(...names.map((n) => n.length));
  const fmt = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(3) : String(Number(v.toPrecision(6))));
  return [
    'Metrics (MetricDefinitions applied to the log; metrics.json has the series):',
    ...names.map((name) => {
      const values = result.metrics.filter((m) => m.MetricName === name).map((m) => m.Value);
      // At most 40 points: longer series are sampled evenly.
      const step = Math.max(1, Math.ceil(values.length / 40));
      const points = values.filter((_, i) => i % step === 0 || i === values.length - 1);
      return `  ${name.padEnd(width)}  ${sparkly(points)}  last ${fmt(values.at(-1)!)}  min ${fmt(Math.min(...values))}  max ${fmt(Math.max(...values))}  (${values.length} values)`;
    }),
  ];
}

const resultOf = (err: unknown) => jobRecordOf<TrainingResult>(err);

export function trainCommand(io: CliIO, setExitCode: (code: number) => void = () => {}): CommandModule<GlobalArgs, TrainArgs> {
  return {
    command: 'train [image]',
    describe: 'Run <image> as a SageMaker training job: `docker run <image> train` with the full /opt/ml layout',
    builder: (y: Argv<GlobalArgs>) =>
      escapeHatchOptions(commonJobOptions(y, { stopGraceDefault: 120 }), { publishTo: 'algo-1', keep: 'Keep the container, network and workspace for debugging' })
        .positional('image', { type: 'string', describe: 'Training image (must already be in the Docker engine; never pulled)' })
        .option('job', { type: 'string', describe: 'CreateTrainingJob request JSON (the file `aws sagemaker create-training-job --cli-input-json` takes)' })
        .option('job-name', { type: 'string', describe: 'TrainingJobName (default: <image name>-<timestamp>)' })
        .option('channel', {
          type: 'string',
          coerce: list,
          describe: 'NAME=PATH[,content-type=T][,mode=File|FastFile|Pipe][,distribution=ShardedByS3Key][,record-wrapper=RecordIO][,compression=Gzip][,shuffle-seed=N][,groups=G1+G2] (repeatable); PATH may be s3://… with --s3-root',
        })
        .option('hyperparameter', { type: 'string', coerce: list, describe: 'NAME=VALUE (repeatable; values are strings, as in SageMaker)' })
        .option('hyperparameters', { type: 'string', describe: 'JSON object, inline or a file path' })
        .option('instance-type', { type: 'string', describe: 'ResourceConfig.InstanceType (default ml.m5.large): sets the CPU, memory and /dev/shm limits' })
        .option('instance-count', { type: 'number', describe: 'ResourceConfig.InstanceCount: hosts algo-1 … algo-N on a private network (default 1)' })
        .option('instance-group', { type: 'string', coerce: list, describe: 'NAME=TYPE:COUNT (repeatable): ResourceConfig.InstanceGroups, a heterogeneous cluster' })
        .option('checkpoint-dir', { type: 'string', describe: 'CheckpointConfig: restored into /opt/ml/checkpoints before the start, saved back while the job runs and at its end' })
        .option('checkpoint-local-path', { type: 'string', describe: 'CheckpointConfig.LocalPath (default /opt/ml/checkpoints)' })
        .option('output-compression', { type: 'string', choices: ['GZIP', 'NONE'], describe: 'OutputDataConfig.CompressionType: NONE writes model/ and output/ folders instead of tarballs' })
        .option('metric', { type: 'string', coerce: list, describe: 'NAME=REGEX (repeatable): AlgorithmSpecification.MetricDefinitions, applied to the log' })
        .option('network-isolation', { type: 'boolean', describe: 'EnableNetworkIsolation: no network but the job\'s own hosts' })
        .option('entry-point', { type: 'string', describe: 'Script mode: the script the training toolkit runs (relative to --source-dir)' })
        .option('source-dir', { type: 'string', describe: 'Script mode: the folder packed as sourcedir.tar.gz (sagemaker_submit_directory)' })
        .option('entrypoint', { type: 'string', describe: 'AlgorithmSpecification.ContainerEntrypoint: a program, or a JSON array' })
        .option('arg', { type: 'string', coerce: list, describe: 'AlgorithmSpecification.ContainerArguments item (repeatable; or put them after --)' })
        .option('max-runtime', { type: 'number', describe: 'StoppingCondition.MaxRuntimeInSeconds (default 86400)' })
        .option('output', { type: 'string', describe: 'Folder for job folders (default ./sm-local-output)' })
        .option('transfer', { type: 'string', choices: ['mount', 'copy'], describe: 'mount: read-only bind mounts (default, local engine); copy: through the Engine API (default for a remote DOCKER_HOST)' })
        .option('json', { type: 'boolean', describe: 'Print describe.json to stdout (everything else goes to stderr)' })
        .option('watch', { type: 'string', coerce: list, describe: 'After the job, run it again whenever a file under PATH changes (default: --source-dir, or --entry-point\'s folder); Ctrl-C ends. Repeatable; put IMAGE before it' })
        .example('$0 train my-algo:latest --channel train=./data/train --hyperparameter epochs=10', '')
        .example('$0 train --job job.json --s3-root ./s3', 'Run a CreateTrainingJob request with s3:// URIs mapped to ./s3') as unknown as Argv<TrainArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        ctx.warmEngine();
        let started = Date.now();
        const [{ resolveTrainingInput }, { runTrainingJob, checkChannelSources }] = await Promise.all([
          import('../../config/training-input.js'),
          import('../../jobs/training-runner.js'),
        ]);
        const rest = (argv['--'] ?? []).map(String);
        const flags: TrainFlags = {
          ...pickFlags(argv, [
            'image', 'job', 'job-name', 'channel', 'hyperparameter', 'hyperparameters', 'env', 'env-file', 'instance-type', 'entrypoint',
            'max-runtime', 'keep', 'instance-count', 'instance-group', 'checkpoint-dir', 'checkpoint-local-path', 'output-compression', 'metric',
            'network-isolation', 'entry-point', 'source-dir', 'shm-size', 'gpus', 'platform', 'publish',
          ]),
          ...(argv.arg || rest.length ? { arg: [...(argv.arg ?? []), ...rest] } : {}),
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
          for (const line of metricsTable(result)) ctx.log.info(line);
          for (const name of result.unmatchedMetrics) ctx.log.warn(`Metric "${name}" matched no line of the log: check its regex.`);
          ctx.log.info(`Training job ${result.trainingJobName}: ${result.status}${result.secondaryStatus !== result.status ? ` (${result.secondaryStatus})` : ''} in ${seconds}s`);
          const base = (path: string) => path.split('/').pop()!;
          if (result.modelArtifact) {
            const size = (result.describe.SmLocal as { ModelBytes?: number } | undefined)?.ModelBytes;
            ctx.log.info(`${base(result.modelArtifact)}: ${result.modelArtifact}${size !== undefined ? ` (${formatBytes(size)})` : ''}`);
          }
          const files = ['describe.json', ...result.logFiles.map(base), ...(result.outputArtifact ? [base(result.outputArtifact)] : []), ...(result.metrics.length || result.unmatchedMetrics.length ? ['metrics.json'] : [])];
          ctx.log.info(`Job folder: ${result.jobDir} (${files.join(', ')})`);
          if (argv.json) ctx.json(result.describe);
        };
        const runOnce = async (jobName?: string) => {
          try {
            const result = await runTrainingJob({ ...input, ...(jobName ? { trainingJobName: jobName } : {}) }, ctx.jobDeps());
            report(result);
            if (!argv.json && result.modelArtifact) ctx.result(result.modelArtifact);
          } catch (err) {
            const result = resultOf(err);
            if (result) report(result);
            throw err;
          }
        };
        if (!argv.watch) return runOnce();
        // --watch: the job again after each change, until Ctrl-C; each run is a job of its own (a name of its own).
        const { checkWatchPaths, describeChanges, nextChange, watchTargets } = await import('../../workspace/file-watch.js');
        const script = input.sourceDir ?? (input.entryPoint ? dirname(resolve(io.cwd, input.entryPoint)) : undefined);
        const paths = watchTargets(argv.watch, script, { what: '--source-dir or --entry-point', hint: 'the folder of your training code' });
        await checkWatchPaths(paths, io.cwd);
        for (let run = 1; ; run++) {
          started = Date.now();
          const name = run === 1 ? undefined : input.trainingJobName ? `${input.trainingJobName.slice(0, 58)}-${run}` : undefined;
          try {
            await runOnce(name);
            setExitCode(0);
          } catch (err) {
            if (ctx.stop.aborted) throw err;
            setExitCode(reportError(err, io.stderr, { color: ctx.color }));
          }
          const changed = await nextChange(paths, { cwd: io.cwd, signal: ctx.stop, onWatching: () => ctx.log.info(`Watching ${paths.join(', ')}: a change runs the job again (Ctrl-C ends).`) });
          if (!changed) return;
          ctx.log.info(`Changed: ${describeChanges(changed)}. Running the job again…`);
        }
      }),
  };
}
