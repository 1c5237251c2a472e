import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  CreateTransformJobCommand,
  DescribeProcessingJobCommand,
  DescribeTransformJobCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  ListTrainingJobsCommand,
  paginateListTrainingJobs,
  ResourceInUse,
  ResourceLimitExceeded,
  SageMakerClient,
  SageMakerServiceException,
  StopTrainingJobCommand,
  UpdateEndpointCommand,
  AddTagsCommand,
  ListTagsCommand,
  DeleteTagsCommand,
  waitUntilEndpointDeleted,
  waitUntilProcessingJobCompletedOrStopped,
  waitUntilTransformJobCompletedOrStopped,
  waitUntilEndpointInService,
  waitUntilTrainingJobCompletedOrStopped,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointAsyncCommand, InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_IMAGE, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { createMemoryLogger } from '../src/log.js';
import { startApiServer, type ApiServer } from '../src/api/server.js';
import { LABEL } from '../src/docker/labels.js';
import { outputProblems } from './support/botocore-model.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'logistic-regression');
const credentials = { accessKeyId: 'sm-local', secretAccessKey: 'sm-local' };
/** The error a call must fail with. */
const rejected = <E>(p: Promise<unknown>): Promise<E> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as E,
  );

describe.skipIf(dockerUnavailable())('sm-local api: a local SageMaker the AWS SDK for JavaScript drives unmodified', () => {
  const s = useTestSession();
  let server: ApiServer;
  let sm: SageMakerClient;
  let s3Root = '';
  let lines: { line: string; source: string }[] = [];
  let apiLog: ReturnType<typeof createMemoryLogger>;
  const name = (tag: string) => `${tag}-${s.session}`;
  /** A raw call, to check the answer against botocore's output shape. */
  const raw = async (op: string, body: Record<string, unknown>) => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'x-amz-target': `SageMaker.${op}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const conforms = async (op: string, body: Record<string, unknown>) => {
    const r = await raw(op, body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(outputProblems('sagemaker', op, r.body), `${op} answer against botocore's ${op}Output`).toEqual([]);
    return r.body;
  };

  beforeAll(async () => {
    s3Root = s.dir('s3');
    mkdirSync(join(s3Root, 'bucket'), { recursive: true });
    cpSync(join(EXAMPLE, 'data', 'train'), join(s3Root, 'bucket', 'data', 'train'), { recursive: true });
    const made = s.deps();
    lines = made.lines;
    apiLog = made.log;
    const { deps } = made;
    server = await startApiServer({ port: 0, region: 'us-east-1', account: '123456789012', s3Root, outputDir: s.dir('jobs') }, deps);
    sm = new SageMakerClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    await server?.close();
  });

  const trainingRequest = (jobName: string, hyper: Record<string, string> = { epochs: '50' }) => ({
    TrainingJobName: jobName,
    RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
    AlgorithmSpecification: { TrainingImage: EXAMPLE_IMAGE, TrainingInputMode: 'File' as const },
    HyperParameters: hyper,
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: 's3://bucket/data/train' } } }],
    OutputDataConfig: { S3OutputPath: 's3://bucket/output' },
    ResourceConfig: { InstanceType: 'ml.m5.large' as const, InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  });

  it('trains, waits with the SDK waiter, makes a model of the artifact, deploys it, invokes it, and deletes it all', async () => {
    const job = name('train');
    const created = await sm.send(new CreateTrainingJobCommand(trainingRequest(job)));
    expect(created.TrainingJobArn).toBe(`arn:aws:sagemaker:us-east-1:123456789012:training-job/${job.toLowerCase()}`);
    const waited = await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 300, minDelay: 1, maxDelay: 2 }, { TrainingJobName: job });
    expect(waited.state).toBe('SUCCESS');
    const described = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: job }));
    expect(described.TrainingJobStatus).toBe('Completed');
    expect(described.SecondaryStatusTransitions?.map((t) => t.Status)).toContain('Training');
    // The artifact is where the service puts it, in the local S3, and the next call takes that URI.
    const artifact = described.ModelArtifacts!.S3ModelArtifacts!;
    expect(artifact).toBe(`s3://bucket/output/${job}/output/model.tar.gz`);
    expect(existsSync(join(s3Root, 'bucket', 'output', job, 'output', 'model.tar.gz'))).toBe(true);
    await conforms('DescribeTrainingJob', { TrainingJobName: job });
    // Its output is in CloudWatch Logs, each answer in the Logs model's shape.
    const logs = async (op: string, body: Record<string, unknown>) => {
      const res = await fetch(server.url, { method: 'POST', headers: { 'x-amz-target': `Logs_20140328.${op}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });
      const out = (await res.json()) as Record<string, unknown>;
      expect(res.status, JSON.stringify(out)).toBe(200);
      expect(outputProblems('logs', op, out, '2014-03-28')).toEqual([]);
      return out;
    };
    const streams = (await logs('DescribeLogStreams', { logGroupName: '/aws/sagemaker/TrainingJobs', logStreamNamePrefix: `${job}/` })).logStreams as { logStreamName: string }[];
    expect(streams.map((l) => l.logStreamName)).toEqual([expect.stringMatching(new RegExp(`^${job}/algo-1-\\d+$`))]);
    const got = await logs('GetLogEvents', { logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: streams[0]!.logStreamName, startFromHead: true });
    expect((got.events as { message: string }[]).some((e) => /^epoch=/.test(e.message))).toBe(true);
    const filtered = await logs('FilterLogEvents', { logGroupName: '/aws/sagemaker/TrainingJobs', logStreamNamePrefix: job, filterPattern: 'epoch=50' });
    expect((filtered.events as { message: string }[]).every((e) => e.message.includes('epoch=50'))).toBe(true);

    const model = name('model');
    await sm.send(new CreateModelCommand({ ModelName: model, ExecutionRoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole', PrimaryContainer: { Image: EXAMPLE_IMAGE, ModelDataUrl: artifact } }));
    await conforms('DescribeModel', { ModelName: model });
    const config = name('config');
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: config, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    await conforms('DescribeEndpointConfig', { EndpointConfigName: config });
    const endpoint = name('ep');
    const ep = await sm.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config }));
    expect(ep.EndpointArn).toBe(`arn:aws:sagemaker:us-east-1:123456789012:endpoint/${endpoint.toLowerCase()}`);
    expect((await sm.send(new DescribeEndpointCommand({ EndpointName: endpoint }))).EndpointStatus).toMatch(/^(Creating|InService)$/);
    expect((await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: endpoint })).state).toBe('SUCCESS');
    const inService = await conforms('DescribeEndpoint', { EndpointName: endpoint });
    expect(inService).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: config, ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 1 }] });

    // The runtime is on the same port.
    const runtime = new SageMakerRuntimeClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: endpoint, ContentType: 'text/csv', Accept: 'application/json', Body: readFileSync(join(EXAMPLE, 'sample-request.csv')) }));
    expect((JSON.parse(new TextDecoder().decode(answer.Body)) as { predictions: { default: number }[] }).predictions.map((p) => p.default)).toEqual([1, 0]);
    expect(answer.InvokedProductionVariant).toBe('AllTraffic');
    // The endpoint's container output is in its own log group, a stream per variant and instance.
    const epStreams = (await logs('DescribeLogStreams', { logGroupName: `/aws/sagemaker/Endpoints/${endpoint}` })).logStreams as { logStreamName: string }[];
    expect(epStreams.map((l) => l.logStreamName)).toEqual(['AllTraffic/instance-1']);
    const epEvents = await logs('GetLogEvents', { logGroupName: `/aws/sagemaker/Endpoints/${endpoint}`, logStreamName: 'AllTraffic/instance-1', startFromHead: true });
    expect((epEvents.events as { message: string }[]).length).toBeGreaterThan(0);

    await sm.send(new DeleteEndpointCommand({ EndpointName: endpoint }));
    expect((await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: endpoint })).state).toBe('SUCCESS');
    await sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: config }));
    await sm.send(new DeleteModelCommand({ ModelName: model }));
    expect((await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`])).map((r) => r.name)).toEqual([]);
  });

  it('answers errors as the service does, so that each SDK raises what it raises against AWS', async () => {
    const unknown = await rejected<SageMakerServiceException>(sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'no-such-job' })));
    expect(unknown).toBeInstanceOf(SageMakerServiceException);
    expect([unknown.name, unknown.message, unknown.$metadata.httpStatusCode]).toEqual(['ValidationException', 'Requested resource not found.', 400]);
    const noEndpoint = await rejected<SageMakerServiceException>(sm.send(new DescribeEndpointCommand({ EndpointName: 'nope' })));
    expect([noEndpoint.name, noEndpoint.message]).toEqual(['ValidationException', 'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/nope".']);
    // A used name: the typed exception.
    const job = name('twice');
    await sm.send(new CreateTrainingJobCommand(trainingRequest(job, { epochs: '5' })));
    const again = await rejected<ResourceInUse>(sm.send(new CreateTrainingJobCommand(trainingRequest(job, { epochs: '5' }))));
    expect(again).toBeInstanceOf(ResourceInUse);
    expect(again.message).toMatch(/^Training job names must be unique within an AWS account and region, and a training job with this name already exists \(arn:aws:sagemaker:us-east-1:123456789012:training-job\//);
    await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 300, minDelay: 1, maxDelay: 2 }, { TrainingJobName: job });
    // A request the service would refuse, refused with the field, before anything runs.
    const bad = await raw('CreateTrainingJob', { ...trainingRequest(name('bad')), ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 0, VolumeSizeInGB: 10 } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(bad.body).toMatchObject({ __type: 'ValidationException', message: expect.stringMatching(/^1 validation error detected: Value at 'ResourceConfig\.InstanceCount'/) });
    // More than the machine can run at once: the service's ResourceLimitExceeded, with the numbers.
    const huge = { ...trainingRequest(name('huge')), ResourceConfig: { InstanceType: 'ml.p4d.24xlarge' as const, InstanceCount: 5, VolumeSizeInGB: 10 } };
    const limit = await rejected<ResourceLimitExceeded>(sm.send(new CreateTrainingJobCommand(huge)));
    expect(limit).toBeInstanceOf(ResourceLimitExceeded);
    expect(limit.message).toMatch(/^sm-local's limit on this machine is [\d.]+ GiB of instance memory at once \(4 × its [\d.]+ GiB\).*\(5 × ml\.p4d\.24xlarge\)/);
    // Names are checked against the API model's constraints, as the service checks them.
    const longName = await raw('DescribeTrainingJob', { TrainingJobName: 'x'.repeat(64) });
    expect(longName.body).toEqual({ __type: 'ValidationException', message: `2 validation errors detected: Value '${'x'.repeat(64)}' at 'trainingJobName' failed to satisfy constraint: Member must have length less than or equal to 63; Value '${'x'.repeat(64)}' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}` });
    const badName = await raw('DescribeEndpoint', { EndpointName: 'under_score' });
    expect(badName.body.message).toBe("1 validation error detected: Value 'under_score' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
    // Every member of the request is checked, deep ones too, all at once.
    const deep = await raw('CreateTrainingJob', { ...trainingRequest(name('deep')), AlgorithmSpecification: { TrainingImage: 'x', TrainingInputMode: 'Stream' }, Tags: [{ Key: 'a;b', Value: 'v' }] });
    expect(deep.body).toEqual({
      __type: 'ValidationException',
      message:
        "2 validation errors detected: Value 'Stream' at 'algorithmSpecification.trainingInputMode' failed to satisfy constraint: Member must satisfy enum value set: [Pipe, File, FastFile]; " +
        "Value 'a;b' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)",
    });
    // An operation sm-local does not serve says so, by name, in the error shape.
    const other = await raw('CreateHyperParameterTuningJob', {});
    expect([other.status, other.body.__type]).toEqual([400, 'UnknownOperationException']);
    expect(other.body.message).toMatch(/SageMaker\.CreateHyperParameterTuningJob is not available in sm-local/);
  });

  it('lists training jobs with filters, sort and pages the SDK paginator follows; stops a job as StopTrainingJob does', async () => {
    const slow = name('slow');
    const before = lines.length;
    await sm.send(new CreateTrainingJobCommand(trainingRequest(slow, { epochs: '200000' })));
    // Once it trains, with its SIGTERM handler in place (a PID 1 without one ignores SIGTERM, as on SageMaker).
    for (let i = 0; i < 1000 && !lines.slice(before).some((l) => l.line.startsWith('epoch=')); i++) await new Promise((r) => setTimeout(r, 20));
    await sm.send(new StopTrainingJobCommand({ TrainingJobName: slow }));
    expect((await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { TrainingJobName: slow })).state).toBe('SUCCESS');
    const stopped1 = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: slow }));
    expect(stopped1.TrainingJobStatus).toBe('Stopped');
    // Stopped with the model it saved on SIGTERM, uploaded as the service uploads it.
    expect(stopped1.ModelArtifacts?.S3ModelArtifacts).toBe(`s3://bucket/output/${slow}/output/model.tar.gz`);
    expect(existsSync(join(s3Root, 'bucket', 'output', slow, 'output', 'model.tar.gz'))).toBe(true);
    const names: string[] = [];
    for await (const page of paginateListTrainingJobs({ client: sm, pageSize: 1 }, { NameContains: s.session })) {
      expect(page.TrainingJobSummaries!.length).toBeLessThanOrEqual(1);
      names.push(...page.TrainingJobSummaries!.map((j) => j.TrainingJobName!));
    }
    // Ascending by creation time, the operation's documented default.
    expect(names).toEqual([name('train'), name('twice'), slow]);
    const stopped = await sm.send(new ListTrainingJobsCommand({ StatusEquals: 'Stopped', NameContains: s.session }));
    expect(stopped.TrainingJobSummaries!.map((j) => j.TrainingJobName)).toEqual([slow]);
    await conforms('ListTrainingJobs', { NameContains: s.session, MaxResults: 2 });
    await conforms('ListEndpoints', {});
    await conforms('ListModels', {});
    await conforms('ListEndpointConfigs', {});
  });

  it('a multi-container endpoint through the API: CreateModel with Containers, TargetContainerHostname on the runtime', async () => {
    const model = name('direct');
    const stage = (h: string) => ({ ContainerHostname: h, Image: fixtureTag('serve-bind-to-port'), Environment: { SERVER_MODE: 'stage', STAGE: h } });
    await sm.send(new CreateModelCommand({ ModelName: model, Containers: [stage('one'), stage('two')], InferenceExecutionConfig: { Mode: 'Direct' } }));
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: model, ProductionVariants: [{ VariantName: 'v', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    await sm.send(new CreateEndpointCommand({ EndpointName: model, EndpointConfigName: model }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: model });
    const runtime = new SageMakerRuntimeClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const out = await runtime.send(new InvokeEndpointCommand({ EndpointName: model, TargetContainerHostname: 'two', Body: new TextEncoder().encode('x') }));
    expect((JSON.parse(new TextDecoder().decode(out.Body)) as { stage: string }).stage).toBe('two');
    expect(out.InvokedProductionVariant).toBe('v');
    await sm.send(new DeleteEndpointCommand({ EndpointName: model }));
    await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: model });
  });

  it('processing and transform jobs: created, waited for with the SDK waiters, described, listed; outputs in the local S3', async () => {
    mkdirSync(join(s3Root, 'bucket', 'raw'), { recursive: true });
    cpSync(join(EXAMPLE, 'sample-request.csv'), join(s3Root, 'bucket', 'raw', 'rows.csv'));
    const processing = name('proc');
    await sm.send(new CreateProcessingJobCommand({
      ProcessingJobName: processing,
      RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
      AppSpecification: { ImageUri: fixtureTag('processor') },
      ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 } },
      ProcessingInputs: [{ InputName: 'raw', S3Input: { S3Uri: 's3://bucket/raw', LocalPath: '/opt/ml/processing/input/raw', S3DataType: 'S3Prefix', S3InputMode: 'File' } }],
      ProcessingOutputConfig: { Outputs: [{ OutputName: 'out', S3Output: { S3Uri: 's3://bucket/processed', LocalPath: '/opt/ml/processing/output/out', S3UploadMode: 'EndOfJob' } }] },
      StoppingCondition: { MaxRuntimeInSeconds: 300 },
    }));
    expect((await waitUntilProcessingJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { ProcessingJobName: processing })).state).toBe('SUCCESS');
    expect((await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: processing }))).ProcessingJobStatus).toBe('Completed');
    expect(existsSync(join(s3Root, 'bucket', 'processed', 'report-algo-1.json'))).toBe(true);
    await conforms('DescribeProcessingJob', { ProcessingJobName: processing });
    await conforms('ListProcessingJobs', { NameContains: s.session });

    const model = name('echo');
    await sm.send(new CreateModelCommand({ ModelName: model, ExecutionRoleArn: 'arn:aws:iam::123456789012:role/R', PrimaryContainer: { Image: fixtureTag('transform-echo') } }));
    const transform = name('transform');
    await sm.send(new CreateTransformJobCommand({
      TransformJobName: transform,
      ModelName: model,
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/raw' } }, ContentType: 'text/csv', SplitType: 'Line' },
      TransformOutput: { S3OutputPath: 's3://bucket/scored', AssembleWith: 'Line' },
      TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
    }));
    expect((await waitUntilTransformJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { TransformJobName: transform })).state).toBe('SUCCESS');
    expect((await sm.send(new DescribeTransformJobCommand({ TransformJobName: transform }))).TransformJobStatus).toBe('Completed');
    expect(existsSync(join(s3Root, 'bucket', 'scored', 'rows.csv.out'))).toBe(true);
    await conforms('DescribeTransformJob', { TransformJobName: transform });
    await conforms('ListTransformJobs', { NameContains: s.session });
    const noModel = await raw('CreateTransformJob', { TransformJobName: name('nomodel'), ModelName: 'missing', TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/raw' } } }, TransformOutput: { S3OutputPath: 's3://bucket/x' }, TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 } });
    expect(noModel.body).toEqual({ __type: 'ValidationException', message: 'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/missing".' });
  });

  it('UpdateEndpoint: Updating while the new config starts beside the old one, which then goes; tags on the endpoint', async () => {
    const stageModel = async (tag: string) => {
      await sm.send(new CreateModelCommand({ ModelName: name(tag), PrimaryContainer: { Image: fixtureTag('serve-bind-to-port'), Environment: { SERVER_MODE: 'stage', STAGE: tag } } }));
      await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name(tag), ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name(tag), InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    };
    await stageModel('blue');
    await stageModel('green');
    const endpoint = name('bluegreen');
    const { EndpointArn } = await sm.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: name('blue'), Tags: [{ Key: 'team', Value: 'ml' }] }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: endpoint });
    const runtime = new SageMakerRuntimeClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const stageOf = async () => (JSON.parse(new TextDecoder().decode((await runtime.send(new InvokeEndpointCommand({ EndpointName: endpoint, Body: new TextEncoder().encode('x') }))).Body)) as { stage: string }).stage;
    expect(await stageOf()).toBe('blue');
    await sm.send(new UpdateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: name('green') }));
    expect((await sm.send(new DescribeEndpointCommand({ EndpointName: endpoint }))).EndpointStatus).toBe('Updating');
    // The old containers answer while the new ones start.
    expect(await stageOf()).toBe('blue');
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: endpoint });
    const after = await sm.send(new DescribeEndpointCommand({ EndpointName: endpoint }));
    expect([after.EndpointStatus, after.EndpointConfigName]).toEqual(['InService', name('green')]);
    expect(await stageOf()).toBe('green');
    for (let i = 0; i < 100 && (await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`])).filter((r) => r.kind === 'container').length > 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`])).filter((r) => r.kind === 'container')).toHaveLength(1);

    expect((await sm.send(new ListTagsCommand({ ResourceArn: EndpointArn }))).Tags).toEqual([{ Key: 'team', Value: 'ml' }]);
    await sm.send(new AddTagsCommand({ ResourceArn: EndpointArn, Tags: [{ Key: 'stage', Value: 'green' }] }));
    await conforms('ListTags', { ResourceArn: EndpointArn! });
    await sm.send(new DeleteTagsCommand({ ResourceArn: EndpointArn, TagKeys: ['team'] }));
    expect((await sm.send(new ListTagsCommand({ ResourceArn: EndpointArn }))).Tags).toEqual([{ Key: 'stage', Value: 'green' }]);
    await sm.send(new DeleteEndpointCommand({ EndpointName: endpoint }));
    await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: endpoint });
  });

  it('InvokeEndpointAsync: 202 with the InferenceId and locations at once; the answer, or the failure, lands in the local S3', async () => {
    const model = name('async');
    await sm.send(new CreateModelCommand({ ModelName: model, PrimaryContainer: { Image: fixtureTag('serve-good') } }));
    await sm.send(new CreateEndpointConfigCommand({
      EndpointConfigName: model,
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }],
      AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://bucket/async-out', S3FailurePath: 's3://bucket/async-fail' }, ClientConfig: { MaxConcurrentInvocationsPerInstance: 2 } },
    }));
    await conforms('DescribeEndpointConfig', { EndpointConfigName: model });
    await sm.send(new CreateEndpointCommand({ EndpointName: model, EndpointConfigName: model }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: model });
    mkdirSync(join(s3Root, 'bucket', 'async-in'), { recursive: true });
    writeFileSync(join(s3Root, 'bucket', 'async-in', 'req.json'), '{"x":1}');
    const runtime = new SageMakerRuntimeClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const queued = await runtime.send(new InvokeEndpointAsyncCommand({ EndpointName: model, InputLocation: 's3://bucket/async-in/req.json', ContentType: 'application/json', InferenceId: 'inf-1' }));
    expect(queued).toMatchObject({ InferenceId: 'inf-1', OutputLocation: 's3://bucket/async-out/inf-1.out', FailureLocation: 's3://bucket/async-fail/inf-1-error.out' });
    const bad = await runtime.send(new InvokeEndpointAsyncCommand({ EndpointName: model, InputLocation: 's3://bucket/async-in/req.json', ContentType: 'application/x-npy' }));
    const waitFor = async (file: string) => {
      for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
      return readFileSync(file, 'utf8');
    };
    const answer = JSON.parse(await waitFor(join(s3Root, 'bucket', 'async-out', 'inf-1.out'))) as { body_length: number; headers: Record<string, string> };
    expect([answer.body_length, answer.headers['content-type']]).toEqual([7, 'application/json']);
    const failure = JSON.parse(await waitFor(join(s3Root, 'bucket', 'async-fail', `${bad.InferenceId}-error.out`))) as { OriginalStatusCode: number };
    expect(failure.OriginalStatusCode).toBe(400);
    // The server says where each answer went and what is still queued (CloudWatch's ApproximateBacklogSize).
    expect(apiLog.messages.map((m) => m.message)).toContainEqual(expect.stringMatching(new RegExp(`^Async inference inf-1 on ${model}: answer written to s3://bucket/async-out/inf-1\\.out \\([\\d.]+ s after it was queued; backlog [01]\\)\\.$`)));
    // An endpoint without AsyncInferenceConfig refuses it.
    const sync = await fetch(`${server.url}/endpoints/${name('ep')}/async-invocations`, { method: 'POST', headers: { 'x-amzn-sagemaker-inputlocation': 's3://bucket/async-in/req.json' } });
    expect(sync.status).toBe(400);
    await sm.send(new DeleteEndpointCommand({ EndpointName: model }));
    await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { EndpointName: model });
  });
});
