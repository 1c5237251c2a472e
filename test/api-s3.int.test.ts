/**
 * `sm-local api` with its own S3 endpoint (the default): data goes in with `aws s3`, jobs read it
 * and write their artifacts back, and the user reads them with `aws s3` again.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { EXAMPLE_IMAGE, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { tarJson } from './support/tarballs.js';
import { startApiCli, type ApiCli } from './support/api-cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const run = promisify(execFile);

describe.skipIf(dockerUnavailable())('sm-local api with its local S3 endpoint', () => {
  const s = useTestSession();
  let api: ApiCli;
  let url = '';
  let stderr = '';
  const env = () => {
    const s3 = /export AWS_ENDPOINT_URL_S3=(\S+)/.exec(stderr)?.[1] ?? '';
    return { ...process.env, AWS_ACCESS_KEY_ID: 'sm-local', AWS_SECRET_ACCESS_KEY: 'sm-local', AWS_DEFAULT_REGION: 'us-east-1', AWS_ENDPOINT_URL_SAGEMAKER: url, AWS_ENDPOINT_URL_S3: s3, AWS_EC2_METADATA_DISABLED: 'true' };
  };
  const aws = async (...args: string[]) => (await run('aws', args, { env: env() })).stdout;

  beforeAll(async () => {
    api = await startApiCli(['--output', s.dir('jobs'), '--state', s.dir('state')], { SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_SESSION: s.session });
    url = api.url;
    stderr = api.stderr();
    api.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('aws s3 cp in, train from s3://, the artifact back in S3 under the URI DescribeTrainingJob names', async () => {
    expect(stderr).toMatch(/export AWS_ENDPOINT_URL_S3=http:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).not.toMatch(/NodeVersionSupportWarning/);
    await aws('s3', 'mb', 's3://bucket');
    await aws('s3', 'cp', '--recursive', join(REPO_ROOT, 'examples', 'logistic-regression', 'data', 'train'), 's3://bucket/data/train/');
    const job = `s3-train-${s.session}`;
    const file = join(s.root, 'job.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, JSON.stringify({
      TrainingJobName: job,
      RoleArn: 'arn:aws:iam::000000000000:role/R',
      AlgorithmSpecification: { TrainingImage: EXAMPLE_IMAGE, TrainingInputMode: 'File' },
      HyperParameters: { epochs: '20' },
      InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/data/train' } } }],
      OutputDataConfig: { S3OutputPath: 's3://bucket/output' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 600 },
    }));
    await aws('sagemaker', 'create-training-job', '--cli-input-json', `file://${file}`);
    let described: { TrainingJobStatus: string; ModelArtifacts: { S3ModelArtifacts: string } } = { TrainingJobStatus: '', ModelArtifacts: { S3ModelArtifacts: '' } };
    for (let i = 0; i < 300 && !['Completed', 'Failed', 'Stopped'].includes(described.TrainingJobStatus); i++) {
      described = JSON.parse(await aws('sagemaker', 'describe-training-job', '--training-job-name', job)) as typeof described;
      if (described.TrainingJobStatus === 'InProgress') await new Promise((r) => setTimeout(r, 300));
    }
    expect(described.TrainingJobStatus).toBe('Completed');
    expect(described.ModelArtifacts.S3ModelArtifacts).toBe(`s3://bucket/output/${job}/output/model.tar.gz`);
    const listing = await aws('s3', 'ls', `s3://bucket/output/${job}/output/`);
    expect(listing).toMatch(/\smodel\.tar\.gz\n/);
    // The object is the archive itself, byte for byte: a real gzip'd tar with the model in it.
    const local = join(s.root, 'model.tar.gz');
    await aws('s3', 'cp', described.ModelArtifacts.S3ModelArtifacts, local);
    expect((await run('tar', ['-tzf', local])).stdout).toMatch(/model/);
    // One endpoint URL for every service: S3 through the API's own port too.
    const global = { ...env(), AWS_ENDPOINT_URL: url } as NodeJS.ProcessEnv;
    delete global.AWS_ENDPOINT_URL_S3;
    delete global.AWS_ENDPOINT_URL_SAGEMAKER;
    expect((await run('aws', ['s3', 'ls', `s3://bucket/output/${job}/output/`], { env: global })).stdout).toMatch(/\smodel\.tar\.gz\n/);
    const viaPort = join(s.root, 'via-port.tar.gz');
    await run('aws', ['s3', 'cp', described.ModelArtifacts.S3ModelArtifacts, viaPort], { env: global });
    expect((await run('tar', ['-tzf', viaPort])).stdout).toMatch(/model/);
    expect(JSON.parse((await run('aws', ['sagemaker', 'list-training-jobs'], { env: global })).stdout).TrainingJobSummaries).toHaveLength(1);
    // The channel was read from S3: a bucket that does not exist, or a prefix with nothing under it, is refused as the service refuses it.
    writeFileSync(file, JSON.stringify({ ...JSON.parse((await import('node:fs')).readFileSync(file, 'utf8')), TrainingJobName: `${job}-nb`, InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://no-such-bucket/train' } } }] }));
    const refused = await aws('sagemaker', 'create-training-job', '--cli-input-json', `file://${file}`).then(() => '', (e: { stderr: string }) => e.stderr);
    expect(refused).toContain(
      'An error occurred (ValidationException) when calling the CreateTrainingJob operation: No S3 objects found under S3 URL "s3://no-such-bucket/train" given in input data source. Please ensure that the bucket exists in the selected region (us-east-1), that objects exist under that S3 prefix, and that the role',
    );
    expect(refused).toContain('has "s3:ListBucket" permissions on bucket "no-such-bucket".');
    writeFileSync(file, JSON.stringify({ ...JSON.parse((await import('node:fs')).readFileSync(file, 'utf8')), TrainingJobName: `${job}-empty`, InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/nothing-here/' } } }] }));
    const empty = await aws('sagemaker', 'create-training-job', '--cli-input-json', `file://${file}`).then(() => '', (e: { stderr: string }) => e.stderr);
    expect(empty).toContain('No S3 objects found under S3 URL "s3://bucket/nothing-here/" given in input data source.');
  });

  it("script mode as the SageMaker Python SDK submits it: sourcedir.tar.gz uploaded to S3 and named by sagemaker_submit_directory", async () => {
    // What Estimator(entry_point="train.py", source_dir="src", image_uri=…).fit() does: pack the folder,
    // upload it under <bucket>/<job>/source/, and send the JSON-encoded sagemaker_* hyperparameters.
    const job = `sdk-script-${s.session}`;
    const src = s.dir('sdk-src');
    mkdirSync(join(src, 'lib'));
    writeFileSync(join(src, 'lib', 'helper.py'), 'VALUE = "from S3"\n');
    writeFileSync(
      join(src, 'train.py'),
      ['import json, os, sys', 'sys.path.insert(0, "lib")', 'import helper', 'print("script says", helper.VALUE)',
        'json.dump({"argv": sys.argv[1:], "helper": helper.VALUE}, open(os.path.join(os.environ["SM_MODEL_DIR"], "script.json"), "w"))', ''].join('\n'),
    );
    const archive = join(s.dir('sdk-tar'), 'sourcedir.tar.gz');
    await run('tar', ['-czf', archive, '-C', src, '.']);
    const uri = `s3://bucket/${job}/source/sourcedir.tar.gz`;
    await aws('s3', 'cp', archive, uri);
    const hyperParameters = { epochs: '2', sagemaker_program: '"train.py"', sagemaker_submit_directory: JSON.stringify(uri), sagemaker_container_log_level: '20', sagemaker_job_name: JSON.stringify(job), sagemaker_region: '"us-east-1"' };
    const file = join(s.dir('sdk-job'), 'job.json');
    writeFileSync(
      file,
      JSON.stringify({
        TrainingJobName: job,
        RoleArn: 'arn:aws:iam::000000000000:role/SageMakerRole',
        AlgorithmSpecification: { TrainingImage: fixtureTag('toolkit'), TrainingInputMode: 'File' },
        HyperParameters: hyperParameters,
        OutputDataConfig: { S3OutputPath: 's3://bucket/sdk-output' },
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 30 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      }),
    );
    await aws('sagemaker', 'create-training-job', '--cli-input-json', `file://${file}`);
    let d: { TrainingJobStatus: string; HyperParameters: Record<string, string>; FailureReason?: string; ModelArtifacts?: { S3ModelArtifacts: string } } = { TrainingJobStatus: '', HyperParameters: {} };
    for (let i = 0; i < 600 && !['Completed', 'Failed', 'Stopped'].includes(d.TrainingJobStatus); i++) {
      d = JSON.parse(await aws('sagemaker', 'describe-training-job', '--training-job-name', job));
      if (d.TrainingJobStatus === 'InProgress') await new Promise((r) => setTimeout(r, 200));
    }
    expect(d.FailureReason).toBeUndefined();
    expect(d.TrainingJobStatus).toBe('Completed');
    // DescribeTrainingJob shows what the request gave; the toolkit ran the script from the uploaded archive.
    expect(d.HyperParameters).toEqual(hyperParameters);
    const model = join(s.dir('sdk-model'), 'model.tar.gz');
    await aws('s3', 'cp', d.ModelArtifacts!.S3ModelArtifacts, model);
    expect(await tarJson<{ argv: string[]; helper: string }>(model, 'script.json')).toEqual({ argv: ['--epochs', '2'], helper: 'from S3' });
  });
});
