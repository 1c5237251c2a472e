/**
 * `sm-local api` as users start it (the CLI), driven by Python's boto3 and the AWS CLI, unmodified
 * but for the endpoint URL: the same flow as the JS SDK's, from the clients' own code.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_IMAGE, REPO_ROOT } from '../scripts/lib/images.js';
import { LABEL } from '../src/docker/labels.js';
import { startApiCli, type ApiCli } from './support/api-cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const run = promisify(execFile);
const EXAMPLE = join(REPO_ROOT, 'examples', 'logistic-regression');

describe.skipIf(dockerUnavailable())('sm-local api driven by boto3 and the AWS CLI', () => {
  const s = useTestSession();
  let api: ApiCli;
  let url = '';
  let stderr = '';
  let s3Root = '';
  const clientEnv = () => ({ ...process.env, AWS_ACCESS_KEY_ID: 'sm-local', AWS_SECRET_ACCESS_KEY: 'sm-local', AWS_DEFAULT_REGION: 'us-east-1', AWS_ENDPOINT_URL_SAGEMAKER: url, AWS_EC2_METADATA_DISABLED: 'true' });
  /** A CreateTrainingJob file of the example, at `epochs`. */
  const jobFile = (job: string, epochs: string) => {
    const file = join(s.root, `${job}.json`);
    writeFileSync(file, JSON.stringify({
      TrainingJobName: job,
      RoleArn: 'arn:aws:iam::000000000000:role/SageMakerRole',
      AlgorithmSpecification: { TrainingImage: EXAMPLE_IMAGE, TrainingInputMode: 'File' },
      HyperParameters: { epochs },
      InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/data/train' } } }],
      OutputDataConfig: { S3OutputPath: 's3://bucket/cli-output' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 600 },
    }));
    return file;
  };
  const aws = async (...args: string[]) => JSON.parse((await run('aws', ['sagemaker', ...args, '--output', 'json'], { env: clientEnv() })).stdout || '{}') as Record<string, unknown>;

  beforeAll(async () => {
    s3Root = s.dir('s3');
    mkdirSync(join(s3Root, 'bucket'), { recursive: true });
    cpSync(join(EXAMPLE, 'data', 'train'), join(s3Root, 'bucket', 'data', 'train'), { recursive: true });
    api = await startApiCli(['--s3-root', s3Root, '--output', s.dir('jobs'), '--state', s.dir('state')], { SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_SESSION: s.session });
    url = api.url;
    stderr = api.stderr();
    api.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('prints its URL and the environment lines to paste', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stderr).toContain(`export AWS_ENDPOINT_URL_SAGEMAKER=${url}`);
    expect(stderr).toContain(`export AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=${url}`);
    expect(stderr).toContain(`export AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=${url}`);
  });

  it('boto3: train, wait, deploy the artifact, invoke, typed errors, paginate, delete', async () => {
    const { stdout } = await run('python3', [join(REPO_ROOT, 'test', 'clients', 'boto3_flow.py'), url, EXAMPLE_IMAGE, s.session], { env: clientEnv(), timeout: 300_000 });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    expect(seen).toMatchObject({
      status: 'Completed',
      artifact: `s3://bucket/boto3-output/boto3-train-${s.session}/output/model.tar.gz`,
      // botocore parsed the epoch-seconds timestamp into a datetime.
      creation_time_type: 'datetime',
      request_id: true,
      not_found: ['ValidationException', 'Requested resource not found.'],
      in_use: 'ResourceInUse',
      predictions: [1, 0],
      variant: 'AllTraffic',
      runtime_not_found: 'ValidationError',
      log_streams: [`boto3-train-${s.session}/algo-1`],
      log_lines: [expect.stringMatching(/model|epoch|saved/i)],
      log_end: [0, true],
      account: '000000000000',
      sdk_reads: { streams: 1, secondary: 'Completed', transitions: expect.arrayContaining(['Starting', 'Training', 'Completed']), messages: true, failure_reason: false },
      model_gone: `Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/boto3-model-${s.session.toLowerCase()}".`,
    });
    expect(seen.endpoints).toEqual([`boto3-model-${s.session}`]);
  });

  it('the AWS CLI: create-training-job --cli-input-json, describe, wait, list; each error as the CLI shows it', async () => {
    const job = `cli-train-${s.session}`;
    const file = jobFile(job, '20');
    expect(await aws('create-training-job', '--cli-input-json', `file://${file}`)).toEqual({ TrainingJobArn: `arn:aws:sagemaker:us-east-1:000000000000:training-job/${job.toLowerCase()}` });
    // The CLI's waiter sleeps 120 s between polls; poll with describe until done, then the waiter returns at its first poll.
    let status = '';
    for (let i = 0; i < 300 && !['Completed', 'Failed', 'Stopped'].includes(status); i++) {
      status = String((await aws('describe-training-job', '--training-job-name', job)).TrainingJobStatus);
      if (status === 'InProgress') await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe('Completed');
    await run('aws', ['sagemaker', 'wait', 'training-job-completed-or-stopped', '--training-job-name', job], { env: clientEnv() });
    const streams = JSON.parse((await run('aws', ['logs', 'describe-log-streams', '--log-group-name', '/aws/sagemaker/TrainingJobs', '--log-stream-name-prefix', `${job}/`, '--endpoint-url', url], { env: clientEnv() })).stdout) as { logStreams: { logStreamName: string }[] };
    expect(streams.logStreams.map((l) => l.logStreamName)).toEqual([expect.stringMatching(new RegExp(`^${job}/algo-1-\\d+$`))]);
    const events = JSON.parse((await run('aws', ['logs', 'get-log-events', '--log-group-name', '/aws/sagemaker/TrainingJobs', '--log-stream-name', streams.logStreams[0]!.logStreamName, '--start-from-head', '--endpoint-url', url], { env: clientEnv() })).stdout) as { events: { message: string }[] };
    expect(events.events.some((e) => /epoch=/.test(e.message))).toBe(true);
    const listed = await aws('list-training-jobs', '--name-contains', 'cli-train');
    expect((listed.TrainingJobSummaries as { TrainingJobName: string }[]).map((j) => j.TrainingJobName)).toContain(job);
    const missing = await run('aws', ['sagemaker', 'describe-endpoint', '--endpoint-name', 'no-such-endpoint'], { env: clientEnv() }).then(() => undefined, (e: { stderr: string; code: number }) => e);
    // A service error: exit 255 from AWS CLI v1, 254 from v2.
    expect([254, 255]).toContain(missing?.code);
    expect(missing?.stderr).toMatch(/An error occurred \(ValidationException\) when calling the DescribeEndpoint operation: Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint\/no-such-endpoint"\./);
  });

  it('Ctrl-C stops what it started and exits 0, leaving nothing behind', async () => {
    const slow = `cli-slow-${s.session}`;
    const file = jobFile(slow, '500000');
    await aws('create-training-job', '--cli-input-json', `file://${file}`);
    // Once it trains (its SIGTERM handler is in place: a PID 1 without one ignores SIGTERM, as on SageMaker).
    for (let i = 0; i < 1000 && !/\[algo-1\] \| epoch=/.test(stderr.split(slow).at(-1) ?? ''); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await api.stop('SIGINT')).toBe(0);
    expect(stderr).toMatch(/Local SageMaker stopped\./);
    expect(stderr).toMatch(/SIGTERM: saved the model after \d+ epochs/);
    expect((await s.docker.listManaged([`${LABEL.session}=${s.session}`])).map((r) => `${r.kind} ${r.name}`)).toEqual([]);
  });
});
