import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { InvalidSpecError } from '../errors.js';
import { resolveConfig } from './resolve.js';
import { resolveTrainingInput, type TrainFlags } from './training-input.js';

const cwd = mkdtempSync(join(tmpdir(), 'sm-local-input-'));
const config = resolveConfig({ env: {}, cwd });
const now = new Date(Date.UTC(2025, 0, 1));
const run = (flags: TrainFlags, over: Partial<typeof config> = {}, env: NodeJS.ProcessEnv = {}) => resolveTrainingInput(flags, { ...config, ...over }, { cwd, env, now });

async function problems(flags: TrainFlags, over: Partial<typeof config> = {}): Promise<string[]> {
  try {
    await run(flags, over);
  } catch (err) {
    if (err instanceof InvalidSpecError) return err.problems.map((p) => p.path);
    throw err;
  }
  return [];
}

describe('resolveTrainingInput', () => {
  it('turns flags into a training job', async () => {
    writeFileSync(join(cwd, 'hp.json'), JSON.stringify({ epochs: 10, optimizer: 'adam' }));
    writeFileSync(join(cwd, 'job.env'), '# comment\nFROM_FILE=1\nSHARED=file\n');
    const { input, notices } = await run(
      {
        image: 'algo:1',
        jobName: 'my-job',
        channel: ['train=data/train,content-type=text/csv', 'validation=/abs/val,mode=File,distribution=ShardedByS3Key'],
        hyperparameters: 'hp.json',
        hyperparameter: ['epochs=20', 'lr=0.1'],
        envFile: ['job.env'],
        env: ['SHARED=flag', 'FROM_HOST'],
        entrypoint: '["python3", "-u", "train.py"]',
        arg: ['--x', '1'],
        maxRuntime: 60,
        instanceType: 'ml.c5.xlarge',
      },
      {},
      { FROM_HOST: 'h' },
    );
    expect(input).toMatchObject({
      image: 'algo:1',
      trainingJobName: 'my-job',
      hyperParameters: { epochs: '20', optimizer: 'adam', lr: '0.1' },
      environment: { FROM_FILE: '1', SHARED: 'flag', FROM_HOST: 'h' },
      containerEntrypoint: ['python3', '-u', 'train.py'],
      containerArguments: ['--x', '1'],
      stoppingCondition: { maxRuntimeInSeconds: 60 },
      instanceType: 'ml.c5.xlarge',
      outputDir: join(cwd, 'sm-local-output'),
    });
    expect(input.channels).toEqual([
      { channelName: 'train', source: join(cwd, 'data/train'), contentType: 'text/csv' },
      { channelName: 'validation', source: '/abs/val', inputMode: 'File', s3DataDistributionType: 'ShardedByS3Key' },
    ]);
    expect(notices.join('\n')).toMatch(/"epochs" from --hyperparameters is a JSON number; it is passed as the string "10"/);
  });

  it('takes inline JSON hyperparameters', async () => {
    const { input } = await run({ image: 'a', hyperparameters: '{"use_amp": true}' });
    expect(input.hyperParameters).toEqual({ use_amp: 'true' });
  });

  it('keeps commas in channel paths that are not options', async () => {
    const { input } = await run({ image: 'a', channel: ['train=/data/a,b,content-type=text/csv'] });
    expect(input.channels?.[0]).toMatchObject({ source: '/data/a,b', contentType: 'text/csv' });
  });

  it('maps s3:// channel paths with the s3 root', async () => {
    const { input } = await run({ image: 'a', channel: ['train=s3://bucket/prefix/train'] }, { s3Root: '/s3' });
    expect(input.channels?.[0]).toMatchObject({ source: '/s3/bucket/prefix/train', sourceUri: 's3://bucket/prefix/train' });
  });

  it('reports every flag problem at once', async () => {
    expect(
      await problems({
        image: 'a',
        channel: ['nopath', 'train=/x,compression=Gzip', 'bad name=/y'],
        hyperparameter: ['novalue'],
        env: ['UNSET_IN_HOST', '1BAD=x'],
        entrypoint: 'python3 train.py',
        hyperparameters: '{not json',
        envFile: ['/nonexistent.env'],
      }),
    ).toEqual(
      expect.arrayContaining([
        '--channel #1 (nopath)',
        '--hyperparameter #1',
        '--env #1',
        '--entrypoint',
        '--hyperparameters',
        '--env-file',
        'Environment key "1BAD"',
        'InputDataConfig[0].CompressionType',
        'InputDataConfig[1].ChannelName',
      ]),
    );
  });

  it('turns the training-fidelity flags into the request fields they stand for', async () => {
    const { input } = await run({
      image: 'a',
      instanceGroup: ['ps=ml.c5.xlarge:1', 'workers=ml.m5.large:2'],
      channel: ['train=/d,mode=Pipe,record-wrapper=RecordIO,compression=Gzip,shuffle-seed=7,groups=workers+ps'],
      checkpointDir: 'ckpt',
      checkpointLocalPath: '/opt/ml/ckpt',
      outputCompression: 'none',
      metric: ['loss=loss=([0-9.]+)', 'acc=acc=(\\d+)', 'loss=loss: ([0-9.]+)'],
      networkIsolation: true,
      entryPoint: 'train.py',
      sourceDir: 'src',
    });
    expect(input).toMatchObject({
      instanceGroups: [
        { instanceGroupName: 'ps', instanceType: 'ml.c5.xlarge', instanceCount: 1 },
        { instanceGroupName: 'workers', instanceType: 'ml.m5.large', instanceCount: 2 },
      ],
      checkpoint: { source: join(cwd, 'ckpt'), localPath: '/opt/ml/ckpt' },
      outputCompression: 'NONE',
      // A later --metric with the same name replaces the earlier one.
      metricDefinitions: [
        { Name: 'acc', Regex: 'acc=(\\d+)' },
        { Name: 'loss', Regex: 'loss: ([0-9.]+)' },
      ],
      enableNetworkIsolation: true,
      entryPoint: 'train.py',
      sourceDir: join(cwd, 'src'),
    });
    expect(input.channels?.[0]).toMatchObject({ inputMode: 'Pipe', recordWrapperType: 'RecordIO', compressionType: 'Gzip', shuffleSeed: 7, instanceGroupNames: ['workers', 'ps'] });
  });

  it('takes the escape hatches as docker run spells them', async () => {
    const { input } = await run({ image: 'a', shmSize: '2g', gpus: 'all', platform: 'linux/arm64', publish: ['5678:5678', '9000'] });
    expect(input).toMatchObject({
      shmSizeBytes: 2 * 1024 ** 3,
      gpus: 'all',
      platform: 'linux/arm64',
      publish: [
        { hostPort: 5678, containerPort: 5678 },
        { hostPort: 9000, containerPort: 9000 },
      ],
    });
    expect((await run({ image: 'a', shmSize: '512m', gpus: '2' })).input).toMatchObject({ shmSizeBytes: 512 * 1024 ** 2, gpus: 2 });
    expect(
      await problems({ image: 'a', shmSize: 'lots', gpus: 'many', platform: 'amd64', publish: ['80:70000', 'x', '1:2', '1:3'], instanceGroup: ['w=c5:1'], metric: ['=x'], outputCompression: 'zip' }),
    ).toEqual(['--instance-group #1', '--metric #1', '--output-compression', '--shm-size', '--gpus', '--platform', '--publish #1', '--publish #2', '--publish']);
  });

  it('needs an image from somewhere', async () => {
    expect(await problems({})).toEqual(['image']);
  });

  it('reads a CreateTrainingJob file and lets flags win', async () => {
    const jobDir = join(cwd, 'jobs');
    mkdirSync(jobDir, { recursive: true });
    const request = JSON.parse(readExample('api.create-training-job.request.json')) as Record<string, Record<string, unknown>>;
    request.ResourceConfig!.InstanceCount = 1;
    writeFileSync(join(jobDir, 'job.json'), JSON.stringify(request));
    const { input } = await run(
      { job: 'jobs/job.json', image: 'local/churn:dev', hyperparameter: ['epochs=2'], channel: ['validation=/local/val'], instanceType: 'ml.m5.large' },
      { s3Root: '/s3' },
    );
    expect(input).toMatchObject({
      image: 'local/churn:dev',
      trainingJobName: 'churn-xgb-2024-05-02-10-15-07-311',
      instanceType: 'ml.m5.large',
      stoppingCondition: { maxRuntimeInSeconds: 7200 },
      environment: { LOG_FORMAT: 'json', OMP_NUM_THREADS: '4' },
      roleArn: 'arn:aws:iam::123456789012:role/AcmeSageMakerExecution',
    });
    expect(input.hyperParameters?.epochs).toBe('2');
    expect(input.hyperParameters?.optimizer).toBe('"adamw"');
    expect(input.channels?.map((c) => [c.channelName, c.source])).toEqual([
      ['train', '/s3/acme-ml-data/churn/features/2024-05-01/train/'],
      ['validation', '/local/val'],
    ]);
  });

  it('takes the code archive an SDK-submitted script-mode job names in S3 from --s3-root', async () => {
    const s3 = join(cwd, 's3-sdk');
    mkdirSync(join(s3, 'b', 'job', 'source'), { recursive: true });
    writeFileSync(join(s3, 'b', 'job', 'source', 'sourcedir.tar.gz'), 'archive');
    const sagemaker_submit_directory = JSON.stringify('s3://b/job/source/sourcedir.tar.gz');
    const { input } = await run({ image: 'a', hyperparameter: [`sagemaker_submit_directory=${sagemaker_submit_directory}`, 'sagemaker_program="train.py"'] }, { s3Root: s3 });
    expect(input.submittedSource).toEqual({ uri: 's3://b/job/source/sourcedir.tar.gz', archive: join(s3, 'b', 'job', 'source', 'sourcedir.tar.gz') });
    // The request's hyperparameters stay as given; only the container's copy names the local archive.
    expect(input.hyperParameters?.sagemaker_submit_directory).toBe(sagemaker_submit_directory);
    // An archive that is not there is left to the container, which fails to fetch it as it would on SageMaker.
    const missing = await run({ image: 'a', hyperparameter: ['sagemaker_submit_directory="s3://b/other/sourcedir.tar.gz"'] }, { s3Root: s3 });
    expect(missing.input.submittedSource).toBeUndefined();
  });

  it('reports the job file\'s structural and limit problems together', async () => {
    const jobPath = join(cwd, 'bad-job.json');
    writeFileSync(jobPath, JSON.stringify({ TrainingJobName: 'bad_name', AlgorithmSpecification: { TrainingImage: 'x' }, HyperParameters: { e: 1 } }));
    const found = await problems({ job: jobPath });
    expect(found).toEqual(
      expect.arrayContaining(['roleArn', 'outputDataConfig', 'ResourceConfig', 'StoppingCondition', 'algorithmSpecification.trainingInputMode', 'HyperParameters.e', 'trainingJobName']),
    );
    // Each member once: the service's name for what its front end refuses, the request's for the rest.
    expect(found).not.toContain('TrainingJobName');
    expect(found).not.toContain('RoleArn');
  });

  it("refuses what the service's front end refuses in a job file, with the service's paths, and keeps local paths as data URIs", async () => {
    const jobPath = join(cwd, 'front-job.json');
    const request = JSON.parse(readExample('api.create-training-job.request.json')) as Record<string, Record<string, unknown> & { InputDataConfig?: unknown }>;
    request.AlgorithmSpecification!.TrainingInputMode = 'Stream';
    request.ResourceConfig!.KeepAlivePeriodInSeconds = 99999;
    (request as Record<string, unknown>).InputDataConfig = [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: './data/train' } } }];
    writeFileSync(jobPath, JSON.stringify(request));
    await expect(run({ job: jobPath, image: 'img' }, { s3Root: '/s3' })).rejects.toThrow(
      /algorithmSpecification\.trainingInputMode: Member must satisfy enum value set: \[Pipe, File, FastFile\] \(got 'Stream'\)\.[\s\S]*resourceConfig\.keepAlivePeriodInSeconds: Member must have value less than or equal to 21600 \(got '99999'\)\./,
    );
    const found = await problems({ job: jobPath, image: 'img' }, { s3Root: '/s3' });
    expect(found.filter((p) => /s3Uri/i.test(p))).toEqual([]);
  });

  it('says where a job file is not JSON', async () => {
    writeFileSync(join(cwd, 'broken.json'), '{"TrainingJobName": ');
    await expect(run({ job: 'broken.json' })).rejects.toThrow(/broken\.json is not valid JSON/);
  });
});
