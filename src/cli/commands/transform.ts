import type { Argv, CommandModule } from 'yargs';
import { cjsExports } from '../../cjs.js';
import type { TransformFlags } from '../../config/transform-input.js';
import { jobRecordOf } from '../../errors.js';
import type { TransformResult } from '../../jobs/transform-runner.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';
import { commonJobOptions, pickFlags } from '../options.js';

interface TransformArgs extends Omit<GlobalArgs, 'output'> {
  image?: string;
  job?: string;
  'model-json'?: string;
  model?: string;
  'job-name'?: string;
  input?: string;
  output?: string;
  'output-dir'?: string;
  'content-type'?: string;
  'split-type'?: string;
  compression?: string;
  accept?: string;
  'assemble-with'?: string;
  'batch-strategy'?: string;
  'max-payload'?: number;
  'max-concurrent'?: number;
  'input-filter'?: string;
  'output-filter'?: string;
  'join-source'?: string;
  'invocations-timeout'?: number;
  'max-retries'?: number;
  'instance-count'?: number;
  'instance-type'?: string;
  'startup-timeout'?: number;
  env?: string[];
  'env-file'?: string[];
  keep?: boolean;
  json?: boolean;
}

export function transformCommand(io: CliIO): CommandModule<GlobalArgs, TransformArgs> {
  return {
    command: 'transform [image]',
    describe: 'Run <image> as a SageMaker batch transform job: `docker run <image> serve`, then every input record through POST /invocations into <input>.out',
    builder: (y: Argv<GlobalArgs>) =>
      commonJobOptions(y, { stopGraceDefault: 30 })
        .positional('image', { type: 'string', describe: 'Inference image (must already be in the Docker engine; never pulled)' })
        .option('model', { type: 'string', describe: 'The model: a folder or a model.tar.gz (ModelDataUrl), extracted into /opt/ml/model as for hosting' })
        .option('model-json', { type: 'string', describe: 'CreateModel request JSON: the image, the model and its environment (a transform job names a model)' })
        .option('job', { type: 'string', describe: 'CreateTransformJob request JSON (the file `aws sagemaker create-transform-job --cli-input-json` takes)' })
        .option('job-name', { type: 'string', describe: 'TransformJobName (default: <image name>-<timestamp>)' })
        .option('input', { type: 'string', describe: 'TransformInput: a folder of objects (the S3 prefix) or one file; s3://… with --s3-root' })
        .option('output', { type: 'string', describe: 'TransformOutput.S3OutputPath: where the .out objects go (default <job folder>/output); s3://… with --s3-root' })
        .option('output-dir', { type: 'string', describe: 'Folder for job folders (default ./sm-local-output)' })
        .option('content-type', { type: 'string', describe: 'TransformInput.ContentType: the Content-Type of every request' })
        .option('split-type', { type: 'string', choices: ['None', 'Line', 'RecordIO', 'TFRecord'], describe: 'TransformInput.SplitType (default None: each object is one request)' })
        .option('compression', { type: 'string', choices: ['None', 'Gzip'], describe: 'TransformInput.CompressionType: Gzip objects are decompressed before splitting' })
        .option('accept', { type: 'string', describe: 'TransformOutput.Accept: the Accept header of every request' })
        .option('assemble-with', { type: 'string', choices: ['None', 'Line'], describe: 'TransformOutput.AssembleWith (default None: answers concatenated)' })
        .option('batch-strategy', { type: 'string', choices: ['SingleRecord', 'MultiRecord'], describe: 'BatchStrategy (default: the container\'s /execution-parameters, else MultiRecord)' })
        .option('max-payload', { type: 'number', describe: 'MaxPayloadInMB (0–100; default: the container\'s, else 6; 0 = unlimited)' })
        .option('max-concurrent', { type: 'number', describe: 'MaxConcurrentTransforms per instance (default: the container\'s, else 1)' })
        .option('input-filter', { type: 'string', describe: 'DataProcessing.InputFilter (JSONPath, e.g. \'$[1:]\')' })
        .option('output-filter', { type: 'string', describe: 'DataProcessing.OutputFilter (JSONPath, e.g. \'$[0,-1]\')' })
        .option('join-source', { type: 'string', choices: ['None', 'Input'], describe: 'DataProcessing.JoinSource: Input joins each record with its prediction' })
        .option('invocations-timeout', { type: 'number', describe: 'ModelClientConfig.InvocationsTimeoutInSeconds (1–3600, default 600)' })
        .option('max-retries', { type: 'number', describe: 'ModelClientConfig.InvocationsMaxRetries (0–3, default 3)' })
        .option('instance-type', { type: 'string', describe: 'TransformResources.InstanceType (default ml.m5.large): the CPU and memory limits' })
        .option('instance-count', { type: 'number', describe: 'TransformResources.InstanceCount: the input objects are divided between the instances by key' })
        .option('startup-timeout', { type: 'number', describe: 'Seconds the containers have to answer GET /ping with 200 (default 240)' })
        .option('keep', { type: 'boolean', describe: 'Keep the containers (stopped) and the model workspace for debugging' })
        .option('json', { type: 'boolean', describe: 'Print describe.json to stdout (everything else goes to stderr)' })
        .example('$0 transform my-model:latest --model model.tar.gz --input ./to-score --content-type text/csv --split-type Line --accept text/csv --assemble-with Line', '')
        .example('$0 transform --job transform-job.json --model-json model.json --s3-root ./s3', 'A CreateTransformJob request, its model from a CreateModel request') as unknown as Argv<TransformArgs>,
    handler: (argv) =>
      // `--output` is the job's S3OutputPath here; the job folders' parent is `--output-dir`.
      withCommandContext({ ...argv, output: argv['output-dir'] } as unknown as GlobalArgs, io, async (ctx) => {
        ctx.warmEngine();
        const started = Date.now();
        const [{ resolveTransformInput }, { runTransformJob }] = await Promise.all([import('../../config/transform-input.js'), import('../../jobs/transform-runner.js')]);
        const flags: TransformFlags = pickFlags(argv, [
          'image', 'job', 'model-json', 'model', 'job-name', 'input', 'output', 'content-type', 'split-type', 'compression', 'accept', 'assemble-with',
          'batch-strategy', 'max-payload', 'max-concurrent', 'input-filter', 'output-filter', 'join-source', 'invocations-timeout', 'max-retries',
          'instance-count', 'instance-type', 'startup-timeout', 'env', 'env-file', 'keep',
        ]);
        const { input, notices } = await resolveTransformInput(flags, ctx.config, { cwd: io.cwd, env: io.env, now: new Date() });
        notices.forEach((n) => ctx.log.warn(n));
        ctx.masker.addEnvironment({ ...(input.modelEnvironment ?? {}), ...(input.environment ?? {}) });
        const report = (result: TransformResult) => {
          const records = result.files.reduce((n, f) => n + f.records, 0);
          const failed = result.files.filter((f) => f.error).length;
          ctx.log.info(`Transform job ${result.transformJobName}: ${result.status} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${result.files.length - failed} of ${result.files.length} files, ${records} records`);
          ctx.log.info(`Output: ${result.outputDir}`);
          ctx.log.info(`Job folder: ${result.jobDir} (describe.json, ${result.logFiles.map((f) => f.split('/').pop()).join(', ')})`);
          if (argv.json) ctx.json(result.describe);
        };
        // On a terminal, a progress bar (cli-progress) instead of a progress line every 5 s.
        let bar: import('cli-progress').SingleBar | undefined;
        if (io.stderr.isTTY && !argv.json) {
          const { SingleBar, Presets } = cjsExports(await import('cli-progress'));
          bar = new SingleBar({ stream: io.stderr, format: 'transform [{bar}] {value}/{total} files | {records} records | {rate} records/s', hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
        }
        const onProgress = (p: { files: number; filesDone: number; records: number; recordsPerSecond: number }) => {
          if (!bar) return;
          if (!bar.isActive) bar.start(p.files, 0, { records: 0, rate: '0' });
          bar.update(p.filesDone, { records: p.records, rate: p.recordsPerSecond.toFixed(0) });
        };
        try {
          const result = await runTransformJob(bar ? { ...input, onProgress } : input, ctx.jobDeps()).finally(() => bar?.stop());
          report(result);
          if (!argv.json) ctx.result(result.outputDir);
        } catch (err) {
          const result = jobRecordOf<TransformResult>(err);
          if (result) report(result);
          throw err;
        }
      }),
  };
}
